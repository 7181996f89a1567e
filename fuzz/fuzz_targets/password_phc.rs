//! The PHC parser and verifier of `palisade-otp` (`Passwords::verify`, `needs_rehash`,
//! `verify_unknown_user`) on arbitrary input: they return `Ok` or `Err`, never panic; a string
//! `needs_rehash` refuses is refused by `verify` too; what `hash` makes, `verify` accepts.
//!
//! Input: a PHC string, `\n`, then the password (any bytes; lossily UTF-8). The verification
//! limits are small (m ≤ 1024 KiB, t ≤ 4, p ≤ 4) so that each run is fast; a retired pepper
//! `v1` is configured so that `pid=v1` strings reach the HMAC path.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::fields;
use palisade_otp::{PasswordError, PasswordPolicy, Passwords, Pepper};
use secrecy::{SecretBox, SecretString};

static PASSWORDS: LazyLock<Passwords> = LazyLock::new(|| {
    let policy = PasswordPolicy::new(8, 1, 1)
        .and_then(|p| p.with_verify_limits(1024, 4, 4))
        .expect("a valid small policy");
    Passwords::new(policy)
        .with_pepper(Pepper::new("v2", SecretBox::from(vec![2u8; 32])).expect("pepper v2"))
        .and_then(|p| {
            p.with_retired_pepper(
                Pepper::new("v1", SecretBox::from(vec![1u8; 32])).expect("pepper v1"),
            )
        })
        .expect("peppers")
});

fuzz_target!(|data: &[u8]| {
    let [phc, password] = fields::<2>(data);
    let phc = String::from_utf8_lossy(phc.unwrap_or_default());
    let password =
        SecretString::from(String::from_utf8_lossy(password.unwrap_or_default()).into_owned());

    let verified = PASSWORDS.verify(&password, &phc);
    let rehash = PASSWORDS.needs_rehash(&phc);
    match (&verified, &rehash) {
        (Err(PasswordError::TooLong { .. }), _) => {}
        // needs_rehash parses exactly as verify does.
        (Err(PasswordError::UnknownPepper { .. }), Ok(needs)) => assert!(*needs),
        (Err(PasswordError::Hashing { .. }), Ok(_)) => {}
        (Err(e), Ok(_)) => panic!("verify refused what needs_rehash parsed: {e}"),
        (Ok(_), Err(e)) => panic!("needs_rehash refused what verify accepted: {e}"),
        _ => {}
    }
    assert!(!PASSWORDS.verify_unknown_user(&password).unwrap_or(false));
    if let Ok(stored) = PASSWORDS.hash(&password) {
        assert_eq!(PASSWORDS.verify(&password, &stored), Ok(true));
        assert_eq!(PASSWORDS.needs_rehash(&stored), Ok(false));
    }
});
