//! Vapi: `x-vapi-secret`, or `x-signature` / `x-timestamp` (the default HMAC plan), from the
//! input, against the two modes (`Vapi::server_secret`, `Vapi::hmac`) and the provider's
//! default (`AnyScheme::for_provider(Provider::Vapi)`, the HMAC mode), each with and without
//! the `x-vapi-secret` header.
//!
//! Input: `x-vapi-secret \n x-signature \n x-timestamp \n body`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::{NOW, fields, fixed, header_map, pairs};
use palisade_webhook::{AnyScheme, Message, Provider, Request, Vapi, Verifier};
use secrecy::SecretString;

const SECRET: &str = "my-server-secret";

static DEFAULT: LazyLock<Verifier<AnyScheme>> = LazyLock::new(|| {
    fixed(
        Verifier::new(
            AnyScheme::for_provider(Provider::Vapi).expect("a Vapi scheme"),
            [SecretString::from(SECRET)],
        )
        .expect("valid secret"),
    )
});
static SERVER_SECRET: LazyLock<Verifier<Vapi>> = LazyLock::new(|| {
    fixed(Verifier::new(Vapi::server_secret(), [SecretString::from(SECRET)]).expect("valid secret"))
});
static HMAC: LazyLock<Verifier<Vapi>> = LazyLock::new(|| {
    fixed(
        Verifier::new(
            Vapi::hmac(Vapi::default_hmac_plan()),
            [SecretString::from(SECRET)],
        )
        .expect("valid secret"),
    )
});

const NAMES: [&str; 3] = ["x-vapi-secret", "x-signature", "x-timestamp"];

/// What `headers::optional` accepts: visible ASCII, spaces and tabs.
fn well_formed(v: &[u8]) -> bool {
    v.iter().all(|b| matches!(b, b' ' | b'\t' | 0x21..=0x7e))
}

fuzz_target!(|data: &[u8]| {
    let [secret, sig, ts, body] = fields::<4>(data);
    let body = body.unwrap_or_default();

    let with_secret = pairs(&NAMES, &[secret, sig, ts]);
    let without_secret = pairs(&NAMES, &[None, sig, ts]);
    let mut out = Vec::new();
    for headers in [&with_secret, &without_secret] {
        let req = Request::new(headers, body);
        let row = [
            DEFAULT.verify_at(&req, NOW),
            SERVER_SECRET.verify_at(&req, NOW),
            HMAC.verify_at(&req, NOW),
        ];
        for r in row.iter().flatten() {
            assert_eq!(r.provider, Provider::Vapi);
        }
        if let Some(map) = header_map(headers) {
            let req = Request::new(&map, body);
            assert_eq!(row[0], DEFAULT.verify_at(&req, NOW));
            assert_eq!(row[1], SERVER_SECRET.verify_at(&req, NOW));
            assert_eq!(row[2], HMAC.verify_at(&req, NOW));
        }
        out.push(row);
    }
    let [
        [default_with, secret_with, hmac_with],
        [default_without, secret_without, hmac_without],
    ] = <[_; 2]>::try_from(out).expect("two header sets");

    // The server-secret mode needs the header.
    assert!(secret_without.is_err());
    if let Ok(ok) = &secret_with {
        assert_eq!(ok.timestamp, None);
    }
    // The provider's default is the HMAC mode, with or without `x-vapi-secret`: it never
    // falls back to the weaker secret header.
    assert_eq!(default_without, hmac_without);
    assert_eq!(default_with, hmac_with);
    // The HMAC-only mode ignores a well-formed `x-vapi-secret`.
    if secret.is_none_or(well_formed) {
        assert_eq!(hmac_with, hmac_without);
    }

    // Sign → verify round-trips.
    let signed = DEFAULT
        .sign(&Message::new(body).timestamp(NOW))
        .expect("signing succeeds");
    DEFAULT
        .verify_at(&Request::new(&signed, body), NOW)
        .expect("own signature verifies");
    HMAC.verify_at(&Request::new(&signed, body), NOW)
        .expect("own signature verifies in HMAC-only mode");
    assert!(SERVER_SECRET.sign(&Message::new(body)).is_err());
});
