//! Shopify: `X-Shopify-Hmac-Sha256` (base64) from the input.
//!
//! Input: `X-Shopify-Hmac-Sha256 value \n body`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::{NOW, fields, fixed, header_map, pairs};
use palisade_webhook::{Message, Provider, Request, Shopify, Verifier};
use secrecy::SecretString;

static VERIFIER: LazyLock<Verifier<Shopify>> = LazyLock::new(|| {
    fixed(
        Verifier::new(
            Shopify,
            [
                SecretString::from("shpss_0123456789abcdef"),
                SecretString::from("old-shopify-client-secret"),
            ],
        )
        .expect("valid secrets"),
    )
});

fuzz_target!(|data: &[u8]| {
    let [sig, body] = fields::<2>(data);
    let body = body.unwrap_or_default();
    let v = &*VERIFIER;

    let headers = pairs(&["X-Shopify-Hmac-Sha256"], &[sig]);
    let result = v.verify_at(&Request::new(&headers, body), NOW);
    if let Ok(ok) = &result {
        assert_eq!(ok.provider, Provider::Shopify);
        assert_eq!(ok.timestamp, None);
        assert!(ok.secret_index < 2);
    }
    if let Some(map) = header_map(&headers) {
        assert_eq!(result, v.verify_at(&Request::new(&map, body), NOW));
    }

    let signed = v.sign(&Message::new(body)).expect("signing succeeds");
    v.verify_at(&Request::new(&signed, body), NOW)
        .expect("a freshly signed body verifies");
});
