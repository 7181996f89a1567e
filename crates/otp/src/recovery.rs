//! Recovery codes: N single-use codes, stored as keyed hashes, consumed atomically.

use secrecy::{ExposeSecret, SecretString};

use crate::challenge::{RecoveryOutcome, SubjectKey};
use crate::code::CodePolicy;
use crate::error::OtpError;
use crate::pepper::Peppers;
use crate::store::ChallengeStore;

/// The purpose under which recovery codes are hashed and stored.
pub const RECOVERY_PURPOSE: &str = "recovery";

/// Generates `count` recovery codes of `policy` (e.g. Crockford base32 of 12 symbols, 60
/// bits each) for the tenant and subject of `key`, stores their keyed hashes (under purpose
/// [`RECOVERY_PURPOSE`]), replacing any previous set, and returns the codes to show once.
///
/// # Errors
///
/// [`OtpError::InvalidPolicy`] when `count` is 0 or above 100; [`OtpError::Random`]; store
/// failures.
pub async fn issue_recovery_codes(
    store: &dyn ChallengeStore,
    peppers: &Peppers,
    key: &SubjectKey,
    policy: CodePolicy,
    count: usize,
) -> Result<Vec<SecretString>, OtpError> {
    if count == 0 || count > 100 {
        return Err(OtpError::InvalidPolicy("1 to 100 recovery codes"));
    }
    let key = key.with_purpose(RECOVERY_PURPOSE);
    let mut codes = Vec::with_capacity(count);
    let mut hashes = Vec::with_capacity(count);
    for _ in 0..count {
        let code = policy.generate()?;
        hashes.push(peppers.hash(&key, code.expose_secret().as_bytes()));
        codes.push(code);
    }
    store.replace_recovery_codes(&key, hashes).await?;
    Ok(codes)
}

/// Uses the recovery code `typed` (normalised per `policy`) of the subject of `key`: removed
/// atomically when it matches, so it works once.
///
/// # Errors
///
/// Store failures only.
pub async fn use_recovery_code(
    store: &dyn ChallengeStore,
    peppers: &Peppers,
    key: &SubjectKey,
    policy: CodePolicy,
    typed: &str,
) -> Result<RecoveryOutcome, OtpError> {
    let key = key.with_purpose(RECOVERY_PURPOSE);
    let code = policy.normalize(typed);
    let candidates = peppers.candidates(&key, code.as_bytes());
    store.consume_recovery_code(&key, &candidates).await
}
