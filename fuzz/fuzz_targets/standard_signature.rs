//! Standard Webhooks (Svix): `webhook-id`, `webhook-timestamp` and `webhook-signature` from the
//! input, verified with a fixed `whsec_` secret (and a `whsk_` Ed25519 key, so `v1a` entries
//! are decoded and checked too) at a fixed `now`.
//!
//! Input: `id \n timestamp \n signature \n body`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::{NOW, fields, fixed, header_map, pairs};
use palisade_webhook::{Message, Provider, Request, StandardWebhooks, Verifier};
use secrecy::SecretString;

static VERIFIER: LazyLock<Verifier<StandardWebhooks>> = LazyLock::new(|| {
    fixed(
        Verifier::new(
            StandardWebhooks,
            [
                SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                // 32-byte Ed25519 seed 0x01..=0x20.
                SecretString::from("whsk_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="),
            ],
        )
        .expect("fixed secrets are valid"),
    )
});

const WEBHOOK: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];
const SVIX: [&str; 3] = ["svix-id", "svix-timestamp", "svix-signature"];

fuzz_target!(|data: &[u8]| {
    let [id, ts, sig, body] = fields::<4>(data);
    let body = body.unwrap_or_default();
    let v = &*VERIFIER;

    let webhook = pairs(&WEBHOOK, &[id, ts, sig]);
    let result = v.verify_at(&Request::new(&webhook, body), NOW);
    if let Ok(ok) = &result {
        assert_eq!(ok.provider, Provider::Standard);
        assert!(ok.secret_index < 2);
        let t = ok.timestamp.expect("Standard Webhooks signs a timestamp");
        assert!(
            (t - NOW).abs() <= 300,
            "accepted a timestamp {t} outside the tolerance"
        );
    }

    // The same headers under their `svix-` names verify the same way.
    let svix = pairs(&SVIX, &[id, ts, sig]);
    let svix_result = v.verify_at(&Request::new(&svix, body), NOW);
    assert_eq!(result.as_ref().ok(), svix_result.as_ref().ok());

    // An `http::HeaderMap` holding the same bytes gives the same answer.
    if let Some(map) = header_map(&webhook) {
        assert_eq!(result, v.verify_at(&Request::new(&map, body), NOW));
    }

    // Signing with the input's id and body, then verifying, round-trips.
    if let Some(id) = id.and_then(|b| std::str::from_utf8(b).ok()) {
        let usable = !id.is_empty() && id.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if usable {
            let signed = v
                .sign(&Message::new(body).id(id).timestamp(NOW))
                .expect("signing with an HMAC key succeeds");
            let ok = v
                .verify_at(&Request::new(&signed, body), NOW)
                .expect("a freshly signed message verifies");
            assert_eq!(ok.secret_index, 0);
        }
    }
});
