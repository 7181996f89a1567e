//! HOTP (RFC 4226) and TOTP (RFC 6238): secrets, code generation and verification with no
//! reuse.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use palisade_core::HmacAlgorithm;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::challenge::SubjectKey;
use crate::error::OtpError;
use crate::store::ChallengeStore;
use crate::throttle::AttemptLimit;

/// Length of a generated secret, in bytes (160 bits, RFC 4226 § 4 R6's recommendation).
pub const GENERATED_SECRET_LEN: usize = 20;
/// Shortest secret accepted, in bytes (128 bits, RFC 4226 § 4 R6's minimum).
pub const MIN_SECRET_LEN: usize = 16;
/// Default TOTP time step, in seconds (RFC 6238 § 5.2).
pub const DEFAULT_STEP: u64 = 30;

/// A shared HOTP/TOTP secret (the raw key bytes), zeroed on drop, never printed.
pub struct OtpSecret(SecretBox<[u8]>);

impl fmt::Debug for OtpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpSecret([REDACTED])")
    }
}

impl Clone for OtpSecret {
    fn clone(&self) -> Self {
        Self(SecretBox::new(Box::from(self.0.expose_secret())))
    }
}

impl OtpSecret {
    /// A new 20-byte secret from the OS CSPRNG.
    ///
    /// # Errors
    ///
    /// [`OtpError::Random`].
    pub fn generate() -> Result<Self, OtpError> {
        let mut key = vec![0u8; GENERATED_SECRET_LEN].into_boxed_slice();
        getrandom::fill(&mut key).map_err(|_| OtpError::Random)?;
        Ok(Self(SecretBox::new(key)))
    }

    /// A secret from its bytes. Any length is accepted here (the RFC vectors use 20, 32 and
    /// 64 bytes); [`Hotp::new`] refuses fewer than 16.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(SecretBox::new(Box::from(bytes)))
    }

    /// A secret from base32 (RFC 4648 § 6, as in `otpauth://` URIs): case-insensitive, with
    /// or without `=` padding, spaces and hyphens ignored.
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidBase32`].
    pub fn from_base32(text: &str) -> Result<Self, OtpError> {
        let clean: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !matches!(c, ' ' | '-' | '='))
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        );
        let bytes = Zeroizing::new(
            data_encoding::BASE32_NOPAD
                .decode(clean.as_bytes())
                .map_err(|_| OtpError::InvalidBase32)?,
        );
        if bytes.is_empty() {
            return Err(OtpError::InvalidBase32);
        }
        Ok(Self::from_bytes(&bytes))
    }

    /// The secret in base32 without padding (RFC 4648 § 6, upper case), as authenticator apps
    /// and `otpauth://` URIs take it.
    pub fn to_base32(&self) -> SecretString {
        SecretString::from(data_encoding::BASE32_NOPAD.encode(self.0.expose_secret()))
    }

    /// The key bytes.
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

/// RFC 4226 HOTP: `Truncate(HMAC(secret, counter)) mod 10^digits`, for 6–8 digits.
#[derive(Debug, Clone)]
pub struct Hotp {
    secret: OtpSecret,
    algorithm: HmacAlgorithm,
    digits: u8,
}

impl Hotp {
    /// HOTP with `secret`, `algorithm` and `digits` (6–8).
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidOtpParameter`] for digits outside 6–8 or a secret under 16 bytes.
    pub fn new(secret: OtpSecret, algorithm: HmacAlgorithm, digits: u8) -> Result<Self, OtpError> {
        if !(6..=8).contains(&digits) {
            return Err(OtpError::InvalidOtpParameter("digits must be 6 to 8"));
        }
        if secret.expose_bytes().len() < MIN_SECRET_LEN {
            return Err(OtpError::InvalidOtpParameter(
                "the secret must be at least 16 bytes",
            ));
        }
        Ok(Self {
            secret,
            algorithm,
            digits,
        })
    }

    /// The secret.
    pub fn secret(&self) -> &OtpSecret {
        &self.secret
    }

    /// The algorithm.
    pub fn algorithm(&self) -> HmacAlgorithm {
        self.algorithm
    }

    /// The number of digits.
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// The code for `counter` as a number (RFC 4226 § 5.3 dynamic truncation).
    pub fn value(&self, counter: u64) -> u32 {
        let msg = counter.to_be_bytes();
        let key = self.secret.expose_bytes();
        let mut buf = [0u8; 64];
        let len = match self.algorithm {
            HmacAlgorithm::Sha1 => mac_into::<sha1::Sha1>(key, &msg, &mut buf),
            HmacAlgorithm::Sha256 => mac_into::<sha2::Sha256>(key, &msg, &mut buf),
            HmacAlgorithm::Sha512 => mac_into::<sha2::Sha512>(key, &msg, &mut buf),
        };
        let offset = usize::from(buf.get(len.saturating_sub(1)).copied().unwrap_or(0) & 0x0f);
        let mut word = [0u8; 4];
        if let Some(w) = buf.get(offset..offset + 4) {
            word.copy_from_slice(w);
        }
        let bin = u32::from_be_bytes(word) & 0x7fff_ffff;
        bin % 10u32.pow(u32::from(self.digits))
    }

    /// The code for `counter`, zero-padded to the number of digits.
    pub fn generate(&self, counter: u64) -> String {
        format!(
            "{:0width$}",
            self.value(counter),
            width = usize::from(self.digits)
        )
    }

    /// Whether `code` is the code for `counter`, compared in constant time.
    pub fn check(&self, code: &str, counter: u64) -> bool {
        let expected = self.generate(counter);
        bool::from(expected.as_bytes().ct_eq(code.trim().as_bytes()))
    }
}

fn mac_into<D: hmac::EagerHash>(key: &[u8], msg: &[u8], out: &mut [u8; 64]) -> usize {
    let Ok(mut mac) = <Hmac<D> as KeyInit>::new_from_slice(key) else {
        return 0;
    };
    mac.update(msg);
    let tag = mac.finalize().into_bytes();
    let n = tag.len().min(out.len());
    if let (Some(dst), Some(src)) = (out.get_mut(..n), tag.get(..n)) {
        dst.copy_from_slice(src);
    }
    n
}

/// The answer of [`Totp::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TotpOutcome {
    /// The code matched this time step, later than any accepted before: accepted.
    Accepted {
        /// The time step (`(unix − t0) / step`) that matched.
        step: u64,
    },
    /// The code matched a step already accepted (or an earlier one): a reuse, refused.
    Reused,
    /// The code matched no step in the window.
    Wrong,
    /// The attempt limit ([`Totp::with_attempt_limit`]) refused the attempt before anything
    /// was compared.
    Throttled {
        /// Time before the limit admits another attempt.
        retry_after: Duration,
    },
}

/// RFC 6238 TOTP: HOTP with the counter `⌊(unix_seconds − t0) / step⌋` (t0 = 0), checked
/// over a skew window of ± `skew` steps, with no reuse of an accepted step.
#[derive(Debug, Clone)]
pub struct Totp {
    hotp: Hotp,
    step: u64,
    skew: u64,
    limit: Option<AttemptLimit>,
}

impl Totp {
    /// TOTP with a `step` in seconds (30 in RFC 6238 and authenticator apps) and a skew
    /// window of ± `skew` steps (1 is RFC 6238 § 5.2's recommendation; at most 10).
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidOtpParameter`] for a step of 0 or a skew above 10.
    pub fn new(hotp: Hotp, step: u64, skew: u64) -> Result<Self, OtpError> {
        if step == 0 {
            return Err(OtpError::InvalidOtpParameter("the step must be positive"));
        }
        if skew > 10 {
            return Err(OtpError::InvalidOtpParameter(
                "the skew must be at most 10 steps",
            ));
        }
        Ok(Self {
            hotp,
            step,
            skew,
            limit: None,
        })
    }

    /// Charges each [`verify`](Self::verify) to `limit` before anything is compared (e.g. 5
    /// attempts a minute per subject; RFC 4226 § 7.3, which RFC 6238 § 5.2 refers to).
    pub fn with_attempt_limit(mut self, limit: AttemptLimit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The HOTP underneath.
    pub fn hotp(&self) -> &Hotp {
        &self.hotp
    }

    /// The step in seconds.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The time step of `unix_seconds`.
    pub fn step_at(&self, unix_seconds: u64) -> u64 {
        unix_seconds / self.step
    }

    /// The code at `unix_seconds`.
    pub fn generate_at(&self, unix_seconds: u64) -> String {
        self.hotp.generate(self.step_at(unix_seconds))
    }

    /// The latest step in the window around `unix_seconds` whose code is `code`: every step
    /// of the window is computed and compared in constant time (no early exit).
    pub fn matching_step(&self, code: &str, unix_seconds: u64) -> Option<u64> {
        let now = self.step_at(unix_seconds);
        let mut found = None;
        for s in now.saturating_sub(self.skew)..=now.saturating_add(self.skew) {
            if self.hotp.check(code, s) {
                found = Some(s);
            }
        }
        found
    }

    /// Verifies `code` for `key` at `unix_seconds`: the matching step must be later than the
    /// last one accepted for `key` ([`ChallengeStore::accept_step`], atomic), so a code is
    /// accepted once, and a code older than one accepted never.
    ///
    /// Rate-limit the attempts ([`with_attempt_limit`](Self::with_attempt_limit), e.g. 5 a
    /// minute per subject): a 6-digit code with a ± 1 window is guessed with probability
    /// 3 × 10⁻⁶ per attempt. With a limit, the attempt is charged first and a refused one
    /// is [`TotpOutcome::Throttled`].
    ///
    /// # Errors
    ///
    /// Store failures only (the challenge store's, or the rate-limit store's as
    /// [`OtpError::StoreUnavailable`]).
    pub async fn verify(
        &self,
        store: &dyn ChallengeStore,
        key: &SubjectKey,
        code: &str,
        unix_seconds: u64,
    ) -> Result<TotpOutcome, OtpError> {
        if let Some(limit) = &self.limit
            && let Some(retry_after) = limit.charge_verify(key).await?
        {
            return Ok(TotpOutcome::Throttled { retry_after });
        }
        let Some(step) = self.matching_step(code, unix_seconds) else {
            return Ok(TotpOutcome::Wrong);
        };
        if store.accept_step(key, step).await? {
            Ok(TotpOutcome::Accepted { step })
        } else {
            Ok(TotpOutcome::Reused)
        }
    }
}
