//! Stripe: the `Stripe-Signature` header value from the input, verified at a fixed `now`, and
//! parsed on its own with `StripeSignatureHeader::parse`.
//!
//! Input: `Stripe-Signature value \n body`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::{NOW, fields, fixed, header_map, pairs};
use palisade_webhook::{Message, Provider, Request, Stripe, StripeSignatureHeader, Verifier};
use secrecy::SecretString;

static VERIFIER: LazyLock<Verifier<Stripe>> = LazyLock::new(|| {
    fixed(
        Verifier::new(
            Stripe,
            [
                SecretString::from("whsec_test_secret_0123456789"),
                SecretString::from("whsec_old_secret_0123456789"),
            ],
        )
        .expect("fixed secrets are valid"),
    )
});

fuzz_target!(|data: &[u8]| {
    let [header, body] = fields::<2>(data);
    let body = body.unwrap_or_default();
    let v = &*VERIFIER;

    // The parser alone, on the raw text and on the text as the verifier sees it (trimmed).
    if let Some(text) = header.and_then(|h| std::str::from_utf8(h).ok()) {
        for candidate in [text, text.trim_matches([' ', '\t'])] {
            if let Ok(parsed) = StripeSignatureHeader::parse(candidate) {
                assert!(!parsed.v1.is_empty(), "parse accepted a header without v1");
                assert!(candidate.contains(parsed.timestamp));
                for sig in &parsed.v1 {
                    assert!(candidate.contains(sig));
                }
            }
        }
    }

    let headers = pairs(&["Stripe-Signature"], &[header]);
    let result = v.verify_at(&Request::new(&headers, body), NOW);
    if let Ok(ok) = &result {
        assert_eq!(ok.provider, Provider::Stripe);
        assert!(ok.secret_index < 2);
        let t = ok.timestamp.expect("Stripe signs a timestamp");
        assert!(
            (t - NOW).abs() <= 300,
            "accepted a timestamp {t} outside the tolerance"
        );
        // What verified must also parse, with the same timestamp.
        let text = std::str::from_utf8(header.unwrap_or_default())
            .expect("a verified header is ASCII")
            .trim_matches([' ', '\t']);
        let parsed = StripeSignatureHeader::parse(text).expect("a verified header parses");
        assert_eq!(parsed.timestamp.parse::<i64>().ok(), Some(t));
    }

    if let Some(map) = header_map(&headers) {
        assert_eq!(result, v.verify_at(&Request::new(&map, body), NOW));
    }

    // Sign → verify round-trips for any body.
    let signed = v
        .sign(&Message::new(body).timestamp(NOW))
        .expect("signing succeeds");
    let value = signed
        .get("Stripe-Signature")
        .expect("Stripe-Signature is set");
    let parsed = StripeSignatureHeader::parse(value).expect("own header parses");
    assert_eq!(parsed.v1.len(), 1);
    v.verify_at(&Request::new(&signed, body), NOW)
        .expect("a freshly signed body verifies");
});
