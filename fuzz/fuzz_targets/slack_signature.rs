//! Slack: `X-Slack-Signature` and `X-Slack-Request-Timestamp` from the input, verified at a
//! fixed `now`.
//!
//! Input: `X-Slack-Signature value \n X-Slack-Request-Timestamp value \n body`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::{NOW, fields, fixed, header_map, pairs};
use palisade_webhook::{Message, Provider, Request, Slack, Verifier};
use secrecy::SecretString;

static VERIFIER: LazyLock<Verifier<Slack>> = LazyLock::new(|| {
    fixed(
        Verifier::new(
            Slack,
            [SecretString::from("8f742231b10e8888abcd99yyyzzz85a5")],
        )
        .expect("valid secret"),
    )
});

const NAMES: [&str; 2] = ["X-Slack-Signature", "X-Slack-Request-Timestamp"];

fuzz_target!(|data: &[u8]| {
    let [sig, ts, body] = fields::<3>(data);
    let body = body.unwrap_or_default();
    let v = &*VERIFIER;

    let headers = pairs(&NAMES, &[sig, ts]);
    let result = v.verify_at(&Request::new(&headers, body), NOW);
    if let Ok(ok) = &result {
        assert_eq!(ok.provider, Provider::Slack);
        let t = ok.timestamp.expect("Slack signs a timestamp");
        assert!(
            (t - NOW).abs() <= 300,
            "accepted a timestamp {t} outside the tolerance"
        );
    }
    if let Some(map) = header_map(&headers) {
        assert_eq!(result, v.verify_at(&Request::new(&map, body), NOW));
    }

    let signed = v
        .sign(&Message::new(body).timestamp(NOW))
        .expect("signing succeeds");
    v.verify_at(&Request::new(&signed, body), NOW)
        .expect("a freshly signed body verifies");
});
