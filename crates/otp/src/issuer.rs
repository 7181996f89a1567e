//! The challenge lifecycle: issue a code (rate limit, cooldown, one live challenge per
//! subject and purpose) and check an answer (one atomic check-and-count).

use std::sync::Arc;
use std::time::Duration;

use palisade_ratelimit::{KeyBuilder, Policy, RateLimitStore};
use palisade_telemetry::OTP_LOCKED;
use secrecy::{ExposeSecret, SecretString};

use crate::challenge::{Challenge, CheckOutcome, NewChallenge, SubjectKey};
use crate::code::CodePolicy;
use crate::error::OtpError;
use crate::pepper::Peppers;
use crate::store::ChallengeStore;
use crate::throttle::AttemptLimit;

/// Default expiry of a challenge: 30 minutes.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 60);
/// Default attempts per challenge: 3.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default resend cooldown per subject and purpose: 60 seconds.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(60);

/// How challenges are issued: the code's shape, expiry, attempts and resend cooldown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengePolicy {
    /// The code's length and alphabet (six digits by default).
    pub code: CodePolicy,
    /// Time to live ([`DEFAULT_TTL`]).
    pub ttl: Duration,
    /// Attempts allowed, right or wrong ([`DEFAULT_MAX_ATTEMPTS`]).
    pub max_attempts: u32,
    /// No new code for the same subject and purpose within this time of the last
    /// ([`DEFAULT_COOLDOWN`]).
    pub cooldown: Duration,
}

impl Default for ChallengePolicy {
    fn default() -> Self {
        Self {
            code: CodePolicy::default(),
            ttl: DEFAULT_TTL,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            cooldown: DEFAULT_COOLDOWN,
        }
    }
}

/// A challenge just issued, with its code to send (by SMS, voice, e-mail). The code is
/// nowhere else: the store holds only its keyed hash.
#[derive(Debug)]
pub struct Issued {
    /// The challenge as stored.
    pub challenge: Challenge,
    /// The code, for the message to the subject only.
    pub code: SecretString,
}

/// Issues and checks one-time codes: generation, keyed hashing under the [`Peppers`], the
/// per-subject issue rate limit (a `palisade-ratelimit` store and policy), and the store's
/// atomic operations.
pub struct Challenges {
    store: Arc<dyn ChallengeStore>,
    peppers: Arc<Peppers>,
    policy: ChallengePolicy,
    limit: Option<AttemptLimit>,
}

impl std::fmt::Debug for Challenges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenges")
            .field("policy", &self.policy)
            .field("rate_limited", &self.limit.is_some())
            .finish_non_exhaustive()
    }
}

impl Challenges {
    /// Challenges kept in `store`, hashed under `peppers`, issued per `policy`, with no issue
    /// rate limit (add one with [`with_issue_limit`](Self::with_issue_limit)).
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidPolicy`] when the expiry or the attempt limit is 0.
    pub fn new(
        store: Arc<dyn ChallengeStore>,
        peppers: Arc<Peppers>,
        policy: ChallengePolicy,
    ) -> Result<Self, OtpError> {
        if policy.ttl.is_zero() || policy.max_attempts == 0 {
            return Err(OtpError::InvalidPolicy(
                "expiry and max attempts must be positive",
            ));
        }
        Ok(Self {
            store,
            peppers,
            policy,
            limit: None,
        })
    }

    /// Limits issues per subject (tenant and subject, across purposes) with `policy` in
    /// `limits`: each issue is charged under the key `otp-issue ‖ tenant ‖ subject`, before
    /// the cooldown is checked, so refused requests count too.
    pub fn with_issue_limit(
        mut self,
        limits: Arc<dyn RateLimitStore>,
        policy: Arc<Policy>,
    ) -> Self {
        self.limit = Some(AttemptLimit::new(limits, policy));
        self
    }

    /// The policy.
    pub fn policy(&self) -> &ChallengePolicy {
        &self.policy
    }

    /// Issues a new code for `key`, replacing any live challenge for it.
    ///
    /// # Errors
    ///
    /// [`OtpError::RateLimited`] (the issue limit), [`OtpError::Cooldown`] (a code was sent
    /// less than the cooldown ago), [`OtpError::Random`], store failures (a rate-limit store
    /// failure is [`OtpError::StoreUnavailable`]).
    pub async fn issue(&self, key: &SubjectKey) -> Result<Issued, OtpError> {
        if let Some(limit) = &self.limit {
            let rl_key = KeyBuilder::new("otp-issue")
                .str(key.tenant())
                .str(key.subject())
                .build();
            if let Some(retry_after) = limit.charge(&rl_key).await? {
                return Err(OtpError::RateLimited { retry_after });
            }
        }
        let code = self.policy.code.generate()?;
        let hash = self.peppers.hash(key, code.expose_secret().as_bytes());
        let new = NewChallenge::new(key.clone(), hash, self.policy.ttl, self.policy.max_attempts)?;
        let challenge = self.store.issue(new, self.policy.cooldown).await?;
        Ok(Issued { challenge, code })
    }

    /// Checks `typed` (normalised per the code policy) against the challenge of `key`: one
    /// atomic [`ChallengeStore::check_and_count`].
    ///
    /// # Errors
    ///
    /// Store failures only; every refusal is a [`CheckOutcome`].
    ///
    /// # Events
    ///
    /// The wrong answer that uses the last attempt (`Wrong { attempts_left: 0 }`) emits
    /// palisade-telemetry's `otp.locked` (level WARN, target `palisade_otp`) with the key's
    /// tenant and purpose; never the subject (it may be a phone number) nor the code.
    pub async fn verify(&self, key: &SubjectKey, typed: &str) -> Result<CheckOutcome, OtpError> {
        let code = self.policy.code.normalize(typed);
        let candidates = self.peppers.candidates(key, code.as_bytes());
        let outcome = self.store.check_and_count(key, &candidates).await?;
        if matches!(outcome, CheckOutcome::Wrong { attempts_left: 0 }) {
            tracing::event!(
                name: OTP_LOCKED,
                target: "palisade_otp",
                tracing::Level::WARN,
                event = OTP_LOCKED,
                tenant = key.tenant(),
                purpose = key.purpose(),
            );
        }
        Ok(outcome)
    }
}
