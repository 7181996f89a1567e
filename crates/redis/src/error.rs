//! The one error type of this crate.

/// Why a Redis store could not be built or could not decide.
///
/// Messages never contain keys, ids, URLs or credentials: they are safe to log. With the
/// `replay` feature it converts into the matching [`palisade_replay::ReplayError`] variant.
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
}

#[cfg(feature = "replay")]
impl From<RedisStoreError> for palisade_replay::ReplayError {
    fn from(e: RedisStoreError) -> Self {
        match e {
            RedisStoreError::InvalidConfig { reason } => Self::InvalidConfig { reason },
            RedisStoreError::Unavailable { reason } => Self::StoreUnavailable { reason },
            RedisStoreError::Timeout { millis } => Self::StoreTimeout { millis },
        }
    }
}
