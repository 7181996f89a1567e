//! One-time codes that cannot be brute-forced or raced, HOTP/TOTP with no reuse, `otpauth://`
//! Key URIs and recovery codes.
//!
//! ```
//! use std::sync::Arc;
//! use palisade_otp::{
//!     ChallengePolicy, Challenges, CheckOutcome, MemoryChallengeStore, Pepper, Peppers, SubjectKey,
//! };
//! use secrecy::ExposeSecret;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // The pepper lives outside the database (environment, KMS); its id is stored beside hashes.
//! let peppers = Arc::new(Peppers::new(Pepper::generate("2026-12")?));
//! let store = Arc::new(MemoryChallengeStore::new());
//! let challenges = Challenges::new(store, peppers, ChallengePolicy::default())?;
//!
//! // A 6-digit delivery code for an order, valid 30 minutes, 3 attempts.
//! let key = SubjectKey::new("restaurant-7", "delivery", "order-1042");
//! let issued = challenges.issue(&key).await?;
//! let code = issued.code.expose_secret(); // sent by SMS; the store holds only a keyed hash
//!
//! let wrong = if code == "000000" { "000001" } else { "000000" };
//! assert_eq!(challenges.verify(&key, wrong).await?, CheckOutcome::Wrong { attempts_left: 2 });
//! assert_eq!(challenges.verify(&key, code).await?, CheckOutcome::Verified);
//! // Used once: never again.
//! assert_eq!(challenges.verify(&key, code).await?, CheckOutcome::Consumed);
//! # Ok::<(), palisade_otp::OtpError>(())
//! # }).unwrap();
//! ```
//!
//! # One-time codes
//!
//! - [`CodePolicy`]: 4–10 digits or 11–32 Crockford base32 symbols, drawn from the OS CSPRNG
//!   by rejection sampling (no modulo bias).
//! - [`Peppers`]: the code is stored only as HMAC-SHA256 under a server-side [`Pepper`] of
//!   `tenant ‖ purpose ‖ subject ‖ code` (length-prefixed), with the pepper's id beside it
//!   ([`CodeHash`]) so peppers rotate. A bare SHA-256 of a 6-digit code is reversed in well
//!   under a second; without the pepper, a stolen table is useless (docs/threat-model/otp.md).
//! - [`ChallengeStore`]: the one atomic **check-and-count** — an expired, locked or consumed
//!   challenge is refused without a comparison; otherwise the attempt is counted, then the
//!   keyed hashes compared in constant time, and a match consumes the challenge, all in one
//!   step. 100 concurrent wrong guesses against 3 attempts compare 3 codes; two concurrent
//!   right answers, one succeeds. [`MemoryChallengeStore`] here; the trait docs say how a
//!   Redis or Postgres store does each operation in one round trip (planned in
//!   `palisade-redis` and `palisade-postgres`); every store must pass [`testing`] (feature
//!   `testing`).
//! - [`Challenges`]: issuing (a per-subject issue rate limit through `palisade-ratelimit`, a
//!   resend cooldown, one live challenge per subject and purpose) and checking.
//!
//! # HOTP / TOTP
//!
//! [`Hotp`] (RFC 4226) and [`Totp`] (RFC 6238) with SHA-1/256/512 and 6–8 digits; a skew
//! window of ± steps; [`Totp::verify`] accepts a step only if it is later than the last
//! accepted one ([`ChallengeStore::accept_step`]), so a code never works twice. Secrets are
//! [`OtpSecret`] (20 random bytes, base32 in and out); [`KeyUri`] writes and parses
//! `otpauth://` URIs (Google Authenticator's Key Uri Format).
//!
//! # Recovery codes
//!
//! [`issue_recovery_codes`] and [`use_recovery_code`]: N single-use codes stored as keyed
//! hashes and consumed atomically.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod challenge;
mod code;
mod error;
mod hotp;
mod issuer;
mod memory;
// password.rs: argon2id passwords (merged from the otp-pass branch)
mod pepper;
mod recovery;
mod store;
mod uri;

#[cfg(feature = "testing")]
pub mod testing;

pub use challenge::{
    Challenge, ChallengeState, CheckOutcome, NewChallenge, RecoveryOutcome, SubjectKey,
};
pub use code::{Alphabet, CROCKFORD, CodePolicy};
pub use error::OtpError;
pub use hotp::{
    Algorithm, DEFAULT_STEP, GENERATED_SECRET_LEN, Hotp, MIN_SECRET_LEN, OtpSecret, Totp,
    TotpOutcome,
};
pub use issuer::{
    ChallengePolicy, Challenges, DEFAULT_COOLDOWN, DEFAULT_MAX_ATTEMPTS, DEFAULT_TTL, Issued,
};
pub use memory::MemoryChallengeStore;
pub use pepper::{CodeHash, MAX_PEPPER_ID_LEN, MIN_PEPPER_LEN, Pepper, Peppers};
pub use recovery::{RECOVERY_PURPOSE, issue_recovery_codes, use_recovery_code};
pub use store::ChallengeStore;
pub use uri::{KeyUri, MAX_URI_LEN, OtpKind};
