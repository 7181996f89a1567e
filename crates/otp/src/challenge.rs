//! Challenges: what a store keeps for one code sent to one subject, and the answers of its
//! operations.

use std::fmt;
use std::time::Duration;

use palisade_ratelimit::Timestamp;

use crate::error::OtpError;
use crate::pepper::CodeHash;

/// Who a challenge, a TOTP step or a set of recovery codes belongs to: a tenant (empty for a
/// single-tenant service), a purpose (`delivery`, `login`, `totp`, `recovery`, …) and a
/// subject (a user id, a phone number in E.164, an order id). A store keeps at most one live
/// challenge per key. The three parts are hashed length-prefixed, so no two keys collide.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SubjectKey {
    tenant: String,
    purpose: String,
    subject: String,
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The subject may be a phone number: not printed.
        f.debug_struct("SubjectKey")
            .field("tenant", &self.tenant)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

impl SubjectKey {
    /// The key of `subject` for `purpose` in `tenant`.
    pub fn new(
        tenant: impl Into<String>,
        purpose: impl Into<String>,
        subject: impl Into<String>,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            purpose: purpose.into(),
            subject: subject.into(),
        }
    }

    /// The same tenant and subject for another purpose.
    pub fn with_purpose(&self, purpose: impl Into<String>) -> Self {
        Self {
            tenant: self.tenant.clone(),
            purpose: purpose.into(),
            subject: self.subject.clone(),
        }
    }

    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The purpose.
    pub fn purpose(&self) -> &str {
        &self.purpose
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

/// Where a challenge is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChallengeState {
    /// Issued, not yet answered correctly, attempts left, not expired.
    Pending,
    /// Answered correctly once; never again.
    Consumed,
    /// Every attempt used on wrong answers.
    Locked,
    /// Past its expiry.
    Expired,
}

/// A challenge as a store reports it (never with its code or hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Random id (32 hex digits), for logs and support.
    pub id: String,
    /// Whose challenge it is.
    pub key: SubjectKey,
    /// When it was issued, by the store's clock.
    pub issued_at: Timestamp,
    /// When it expires, by the store's clock.
    pub expires_at: Timestamp,
    /// Attempts counted so far (wrong and right).
    pub attempts_used: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Its state at the time of the report.
    pub state: ChallengeState,
}

/// What [`ChallengeStore::issue`](crate::store::ChallengeStore::issue) stores.
#[derive(Debug, Clone)]
pub struct NewChallenge {
    /// Random id (32 hex digits).
    pub id: String,
    /// Whose challenge it is.
    pub key: SubjectKey,
    /// The keyed hash of the code.
    pub hash: CodeHash,
    /// Time to live from the store's now.
    pub ttl: Duration,
    /// Attempts allowed (at least 1).
    pub max_attempts: u32,
}

impl NewChallenge {
    /// A challenge with a fresh random id.
    ///
    /// # Errors
    ///
    /// [`OtpError::Random`]; [`OtpError::InvalidPolicy`] when `ttl` or `max_attempts` is 0.
    pub fn new(
        key: SubjectKey,
        hash: CodeHash,
        ttl: Duration,
        max_attempts: u32,
    ) -> Result<Self, OtpError> {
        if ttl.is_zero() || max_attempts == 0 {
            return Err(OtpError::InvalidPolicy(
                "expiry and max attempts must be positive",
            ));
        }
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|_| OtpError::Random)?;
        Ok(Self {
            id: data_encoding::HEXLOWER.encode(&id),
            key,
            hash,
            ttl,
            max_attempts,
        })
    }
}

/// The answer of [`ChallengeStore::check_and_count`](crate::store::ChallengeStore::check_and_count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckOutcome {
    /// The code was right: the challenge is now consumed.
    Verified,
    /// The code was wrong; `attempts_left` more may be tried (0: the challenge is now locked).
    Wrong {
        /// Attempts still allowed.
        attempts_left: u32,
    },
    /// Every attempt was already used: nothing was compared.
    Locked,
    /// The challenge expired: nothing was compared.
    Expired,
    /// The challenge was already answered correctly: nothing was compared.
    Consumed,
    /// No challenge for this key (never issued, or forgotten after expiry).
    NotFound,
}

impl CheckOutcome {
    /// Whether the code was accepted.
    pub const fn is_verified(&self) -> bool {
        matches!(self, Self::Verified)
    }
}

/// The answer of [`ChallengeStore::consume_recovery_code`](crate::store::ChallengeStore::consume_recovery_code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecoveryOutcome {
    /// The code matched an unused recovery code, now consumed; `remaining` are left.
    Consumed {
        /// Unused recovery codes left.
        remaining: usize,
    },
    /// No unused recovery code matched.
    NoMatch,
}
