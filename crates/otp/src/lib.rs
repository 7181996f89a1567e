//! One-time codes that cannot be brute-forced or raced, HOTP/TOTP, and argon2id passwords.
//!
//! # Passwords
//!
//! [`Passwords`] hashes with argon2id and OWASP's parameters (m = 19456 KiB, t = 2, p = 1)
//! into PHC strings, verifies argon2id/argon2i/argon2d PHC strings of other implementations,
//! says when a stored hash [needs a rehash](Passwords::needs_rehash), peppers with rotating
//! [`Pepper`]s (`,pid=<id>` in the PHC string), caps passwords at [`MAX_PASSWORD_BYTES`] and
//! spends the same time on [unknown users](Passwords::verify_unknown_user):
//!
//! ```
//! use palisade_otp::{Passwords, PasswordPolicy, Pepper};
//! use secrecy::{SecretBox, SecretString};
//!
//! let pepper = Pepper::new("2026-12", SecretBox::from(vec![7u8; 32]))?; // from a secret manager
//! let passwords = Passwords::new(PasswordPolicy::OWASP).with_pepper(pepper)?;
//! let stored = passwords.hash(&SecretString::from("correct horse battery staple"))?;
//! assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1,pid=2026-12$"));
//!
//! // Login: the same time whether or not the account exists.
//! let typed = SecretString::from("correct horse battery staple");
//! let stored_for_user = Some(stored.as_str());
//! let valid = match stored_for_user {
//!     Some(phc) => passwords.verify(&typed, phc)?,
//!     None => passwords.verify_unknown_user(&typed)?,
//! };
//! assert!(valid);
//! assert!(!passwords.needs_rehash(&stored)?);
//! # Ok::<(), palisade_otp::PasswordError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod password;

pub use password::{
    MAX_PASSWORD_BYTES, MAX_PHC_BYTES, PasswordError, PasswordPolicy, Passwords, Pepper,
};
