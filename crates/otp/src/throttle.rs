//! Attempt limits through `palisade-ratelimit` (no second limiter): the per-subject issue
//! limit of [`Challenges`](crate::issuer::Challenges) and the per-subject verification
//! throttle of HOTP and TOTP (RFC 4226 § 7.3, "Throttling at the Server").

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use palisade_ratelimit::{Key, KeyBuilder, Policy, RateLimitStore};

use crate::challenge::SubjectKey;
use crate::error::OtpError;

/// A limit on attempts per subject: a `palisade-ratelimit` store and policy, charged one
/// attempt **before** anything is compared, so a refused attempt learns nothing and every
/// attempt, right or wrong, counts (the same order as
/// [`ChallengeStore::check_and_count`](crate::store::ChallengeStore::check_and_count)).
///
/// For HOTP and TOTP ([`HotpVerifier::with_attempt_limit`](crate::lookahead::HotpVerifier::with_attempt_limit),
/// [`Totp::with_attempt_limit`](crate::hotp::Totp::with_attempt_limit)) each verification is
/// charged under the rate-limit key `otp-verify ‖ tenant ‖ purpose ‖ subject`
/// (length-prefixed by [`KeyBuilder`]). RFC 4226 § 7.3 asks for such a throttle: with a
/// look-ahead window of `s` counters and `v` attempts admitted, an attacker's chance is at
/// most `s · v / 10^digits` (RFC 4226 § 6), e.g. 10 × 5 / 10⁶ = 5 × 10⁻⁵ per minute
/// for 6 digits, a look-ahead of 10 and 5 attempts a minute.
#[derive(Clone)]
pub struct AttemptLimit {
    store: Arc<dyn RateLimitStore>,
    policy: Arc<Policy>,
}

impl fmt::Debug for AttemptLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptLimit")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl AttemptLimit {
    /// Attempts limited by `policy` (e.g. GCRA, 5 a minute) in `store` (the memory store, or
    /// the Redis/Postgres rate-limit store shared by every instance).
    pub fn new(store: Arc<dyn RateLimitStore>, policy: Arc<Policy>) -> Self {
        Self { store, policy }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Charges one verification attempt of `key` (rate-limit key `otp-verify ‖ tenant ‖
    /// purpose ‖ subject`): `None` when admitted, `Some(retry_after)` when refused.
    pub(crate) async fn charge_verify(
        &self,
        key: &SubjectKey,
    ) -> Result<Option<Duration>, OtpError> {
        let rl_key = KeyBuilder::new("otp-verify")
            .str(key.tenant())
            .str(key.purpose())
            .str(key.subject())
            .build();
        self.charge(&rl_key).await
    }

    /// Charges one attempt under `rl_key`: `None` when admitted, `Some(retry_after)` when
    /// refused. A rate-limit store failure is [`OtpError::StoreUnavailable`].
    pub(crate) async fn charge(&self, rl_key: &Key) -> Result<Option<Duration>, OtpError> {
        let verdict = self
            .store
            .check(rl_key, &self.policy, 1)
            .await
            .map_err(|e| OtpError::StoreUnavailable(e.to_string()))?;
        if verdict.is_allowed() {
            Ok(None)
        } else {
            Ok(Some(verdict.retry_after().unwrap_or_default()))
        }
    }
}
