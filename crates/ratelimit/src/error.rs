//! The one error type of this crate.

use std::time::Duration;

/// Why a rate-limit decision could not be made, or a quota, limit or policy could not be built.
///
/// Two families, and [`RateLimitError::is_store_failure`] tells them apart:
///
/// - **store failures** ([`Unavailable`](Self::Unavailable), [`Timeout`](Self::Timeout)): the
///   state could not be reached. Nothing is known about the request; a
///   [`FallbackStore`](crate::FallbackStore) fails open, fails closed or asks its secondary.
/// - **caller errors** (everything else): the same call would fail on any store, so a
///   `FallbackStore` passes them through unchanged.
///
/// No variant carries a key: keys may hold phone numbers or addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitError {
    /// A quota cannot be used: zero limit, zero or too long a period, a burst of zero, a
    /// burst given to a window algorithm, or numbers whose product overflows 64-bit
    /// nanosecond arithmetic.
    #[error("invalid quota: {reason}")]
    InvalidQuota {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A policy cannot be used: no limits, too many, two limits with one name, or a name that
    /// is not 1–64 characters of `A-Z a-z 0-9 _ - .`.
    #[error("invalid policy: {reason}")]
    InvalidPolicy {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A request's cost is 0, or larger than what the limit can ever admit at once
    /// (its burst for GCRA and the buckets, its limit for the windows): such a request would be
    /// refused forever, so it is an error rather than a refusal.
    #[error("invalid cost {cost}: must be between 1 and {capacity}")]
    InvalidCost {
        /// The cost asked for.
        cost: u32,
        /// The most the limit admits in one request.
        capacity: u64,
    },
    /// No policy is configured for this tier.
    #[error("no policy for tier `{tier}`")]
    UnknownTier {
        /// The tier's name (`free`, `basic`, `pro`, `enterprise`).
        tier: &'static str,
    },
    /// A [`MemoryStore`](crate::MemoryStore) with [`CapPolicy::Refuse`](crate::CapPolicy::Refuse)
    /// holds as many keys as allowed and none has expired: a new key cannot be tracked.
    #[error("key cap reached ({cap} keys)")]
    KeyCapReached {
        /// The configured cap, in keys.
        cap: usize,
    },
    /// The store could not be reached or answered with an error (connection refused, script
    /// error, pool exhausted). A store failure.
    #[error("rate-limit store `{store}` unavailable: {reason}")]
    Unavailable {
        /// Which store (`redis`, `postgres`, …).
        store: &'static str,
        /// What went wrong, without credentials or keys.
        reason: String,
    },
    /// The store did not answer in time. A store failure.
    #[error("rate-limit store `{store}` timed out after {} ms", after.as_millis())]
    Timeout {
        /// Which store.
        store: &'static str,
        /// How long the caller waited.
        after: Duration,
    },
}

impl RateLimitError {
    /// `true` for [`Unavailable`](Self::Unavailable) and [`Timeout`](Self::Timeout): the
    /// state could not be reached, and another store might answer. `false` for errors that any
    /// store would return for the same call.
    pub fn is_store_failure(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Timeout { .. })
    }
}
