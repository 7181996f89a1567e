//! The envelope parsers and `Keyring::decrypt*` of `palisade-pii` on arbitrary input: they
//! return `Ok` or `Err`, never panic; the text form is canonical (what parses re-encodes to
//! the same text); what decrypts re-encrypts and decrypts to the same plaintext.
//!
//! Input: a context `tenant/table/column/row`, `\n`, then the envelope (text or bytes).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::fields;
use palisade_pii::{Context, Envelope, Keyring, PiiError};
use secrecy::ExposeSecret;

/// A development keyring with fixed keys (the seeds are encrypted under it): key 1
/// AES-256-GCM, key 2 AES-256-GCM-SIV (primary), key 3 retired.
static KEYRING: LazyLock<Keyring> = LazyLock::new(|| {
    Keyring::from_json_unprotected(include_str!("../seeds/pii_keyset/fixed-dev.json"))
        .expect("the fixed keyring loads")
});

fuzz_target!(|data: &[u8]| {
    let [ctx, payload] = fields::<2>(data);
    let ctx_text = String::from_utf8_lossy(ctx.unwrap_or_default());
    let ctx = Context::parse(&ctx_text).unwrap_or(Context::new("t", "leads", "phone", "1"));
    let payload = payload.unwrap_or_default();

    if let Ok(env) = Envelope::from_bytes(payload) {
        assert_eq!(env.as_bytes(), payload);
        assert_eq!(Envelope::parse(&env.to_text()).as_ref(), Ok(&env));
        check_decrypt(&ctx, KEYRING.decrypt(&ctx, &env), &env);
    }
    let _ = KEYRING.decrypt_bytes(&ctx, payload);

    if let Ok(text) = std::str::from_utf8(payload) {
        let parsed = Envelope::parse(text);
        if let Ok(env) = &parsed {
            assert_eq!(env.to_text(), text, "the text form is canonical");
        }
        let result = KEYRING.decrypt_text(&ctx, text);
        assert_eq!(
            result.is_ok(),
            parsed
                .as_ref()
                .is_ok_and(|e| KEYRING.decrypt(&ctx, e).is_ok())
        );
        if let Ok(env) = &parsed {
            check_decrypt(&ctx, result, env);
        }
    }
});

fn check_decrypt(
    ctx: &Context<'_>,
    result: Result<secrecy::SecretBox<[u8]>, PiiError>,
    env: &Envelope,
) {
    match result {
        Ok(plaintext) => {
            let again = KEYRING.reencrypt(ctx, env).expect("re-encrypts");
            assert!(!KEYRING.needs_reencrypt(&again));
            let back = KEYRING.decrypt(ctx, &again).expect("decrypts");
            assert_eq!(back.expose_secret(), plaintext.expose_secret());
        }
        Err(e) => {
            // Errors never carry the input.
            let shown = e.to_string();
            assert!(shown.len() < 200, "{shown}");
        }
    }
}
