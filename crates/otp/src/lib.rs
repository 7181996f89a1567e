//! One-time codes that cannot be brute-forced or raced, HOTP/TOTP with no reuse, `otpauth://`
//! Key URIs, recovery codes, and argon2id passwords.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod challenge;
mod code;
mod error;
mod hotp;
mod issuer;
mod lookahead;
mod memory;
mod password;
mod pepper;
mod recovery;
mod store;
mod throttle;
mod uri;

#[cfg(feature = "testing")]
pub mod testing;

pub use challenge::{
    Challenge, ChallengeState, CheckOutcome, NewChallenge, RecoveryOutcome, SubjectKey,
};
pub use code::{Alphabet, CROCKFORD, CodePolicy};
pub use error::OtpError;
pub use hotp::{
    DEFAULT_STEP, GENERATED_SECRET_LEN, Hotp, MIN_SECRET_LEN, OtpSecret, Totp, TotpOutcome,
};
pub use issuer::{
    ChallengePolicy, Challenges, DEFAULT_COOLDOWN, DEFAULT_MAX_ATTEMPTS, DEFAULT_TTL, Issued,
};
pub use lookahead::{DEFAULT_LOOK_AHEAD, HotpOutcome, HotpVerifier, MAX_LOOK_AHEAD};
pub use memory::MemoryChallengeStore;
pub use palisade_core::HmacAlgorithm;
pub use password::{MAX_PASSWORD_BYTES, MAX_PHC_BYTES, PasswordError, PasswordPolicy, Passwords};
pub use pepper::{CodeHash, MAX_PEPPER_ID_LEN, MIN_PEPPER_LEN, Pepper, Peppers};
pub use recovery::{RECOVERY_PURPOSE, issue_recovery_codes, use_recovery_code};
pub use store::ChallengeStore;
pub use throttle::AttemptLimit;
pub use uri::{KeyUri, MAX_URI_LEN, OtpKind};

/// The `secrecy` types of this crate's API (codes, secrets, peppers, passwords), so a user
/// needs no direct `secrecy` dependency.
pub use secrecy::{ExposeSecret, SecretBox, SecretString};
