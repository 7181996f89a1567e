//! The keyset loaders of `palisade-pii` (`Keyring::from_json`, `from_json_unprotected`) and
//! `Kek::parse` on arbitrary input: they return `Ok` or `Err`, never panic; a keyset that
//! loads saves and loads again to the same keys, both protected and unprotected.
//!
//! Input: the keyset document (read as lossy UTF-8). Protected seeds are under the KEK below.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_pii::{Context, Kek, KeyPurpose, Keyring};
use secrecy::ExposeSecret;

/// The KEK of the protected seed (`seeds/pii_keyset/fixed-kek.json`).
const KEK_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Kek::parse(&text);
    let kek = Kek::parse(KEK_HEX).expect("fixed KEK");
    for loaded in [
        Keyring::from_json(&text, &kek),
        Keyring::from_json_unprotected(&text),
    ] {
        let Ok(keyring) = loaded else { continue };
        let again = Keyring::from_json(&keyring.to_json(&kek).expect("saves"), &kek)
            .expect("a saved keyset loads");
        let dev = keyring.to_json_unprotected().expect("saves");
        let dev = Keyring::from_json_unprotected(dev.expose_secret()).expect("loads");
        for purpose in [KeyPurpose::Encryption, KeyPurpose::Index] {
            let ids = |k: &Keyring| {
                k.keys(purpose)
                    .iter()
                    .map(|i| (i.id, i.status, i.algorithm))
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(&again), ids(&keyring));
            assert_eq!(ids(&dev), ids(&keyring));
        }
        // The loaded keys work, and agree with the reloaded ones.
        let ctx = Context::new("t", "leads", "phone", "1");
        let env = keyring.encrypt(&ctx, b"+14389007409").expect("encrypts");
        let back = again.decrypt(&ctx, &env).expect("decrypts");
        assert_eq!(back.expose_secret(), b"+14389007409");
    }
});
