//! The one error type of this crate.

/// Why a Redis store could not be built or could not decide.
///
/// Messages never contain keys, ids, URLs or credentials: they are safe to log. With the
/// `replay` feature it converts into the matching [`palisade_replay::ReplayError`] variant,
/// with `ratelimit` into a store failure of `palisade_ratelimit::RateLimitError`, and with
/// `otp` into `palisade_otp::OtpError::StoreUnavailable`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// A parameter is unusable: a URL that does not parse, a key prefix containing `{` or `}`,
    /// a zero timeout.
    #[error("invalid Redis store configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: &'static str,
    },
    /// Redis could not be reached or answered with an error (connection refused, I/O,
    /// authentication, an unexpected reply).
    #[error("Redis unavailable: {reason}")]
    Unavailable {
        /// What went wrong, without the URL or its credentials.
        reason: String,
    },
    /// Redis did not answer within the store's timeout.
    #[error("Redis did not answer within {millis} ms")]
    Timeout {
        /// The timeout that elapsed, in milliseconds.
        millis: u64,
    },
    /// A Lua script of this crate failed on the server or answered with a reply of the wrong
    /// shape (a server that is not Redis-compatible, a key of the wrong type).
    #[error("Redis script failed: {reason}")]
    Script {
        /// What went wrong, without keys, URLs or credentials.
        reason: String,
    },
}

#[cfg(feature = "replay")]
impl From<RedisStoreError> for palisade_replay::ReplayError {
    fn from(e: RedisStoreError) -> Self {
        match e {
            RedisStoreError::InvalidConfig { reason } => Self::InvalidConfig { reason },
            RedisStoreError::Unavailable { reason } => Self::StoreUnavailable { reason },
            RedisStoreError::Timeout { millis } => Self::StoreTimeout { millis },
            RedisStoreError::Script { reason } => Self::StoreUnavailable {
                reason: format!("script: {reason}"),
            },
        }
    }
}

/// Store failures ([`RateLimitError::is_store_failure`](palisade_ratelimit::RateLimitError::is_store_failure)),
/// so that a `FallbackStore` acts on them: `Timeout` becomes
/// [`RateLimitError::Timeout`](palisade_ratelimit::RateLimitError::Timeout), everything else
/// [`RateLimitError::Unavailable`](palisade_ratelimit::RateLimitError::Unavailable) (a script
/// failure with a reason beginning `script:`), both with `store: "redis"`.
#[cfg(feature = "ratelimit")]
impl From<RedisStoreError> for palisade_ratelimit::RateLimitError {
    fn from(e: RedisStoreError) -> Self {
        const STORE: &str = "redis";
        match e {
            RedisStoreError::InvalidConfig { reason } => Self::Unavailable {
                store: STORE,
                reason: format!("invalid configuration: {reason}"),
            },
            RedisStoreError::Unavailable { reason } => Self::Unavailable {
                store: STORE,
                reason,
            },
            RedisStoreError::Timeout { millis } => Self::Timeout {
                store: STORE,
                after: std::time::Duration::from_millis(millis),
            },
            RedisStoreError::Script { reason } => Self::Unavailable {
                store: STORE,
                reason: format!("script: {reason}"),
            },
        }
    }
}

/// Every failure is [`OtpError::StoreUnavailable`](palisade_otp::OtpError::StoreUnavailable)
/// (never a verdict), with this error's message after `redis: `.
#[cfg(feature = "otp")]
impl From<RedisStoreError> for palisade_otp::OtpError {
    fn from(e: RedisStoreError) -> Self {
        Self::StoreUnavailable(format!("redis: {e}"))
    }
}
