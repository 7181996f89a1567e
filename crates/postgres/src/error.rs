//! The one error type of this crate.

use std::time::Duration;

/// Why a Postgres store could not be built or could not decide.
///
/// Messages never contain ids, connection strings or credentials: they are safe to log. With
/// the `replay` feature it converts into the matching [`palisade_replay::ReplayError`]
/// variant, with the `ratelimit` feature into `palisade_ratelimit::RateLimitError`'s store
/// failures, with the `otp` feature into `palisade_otp::OtpError::StoreUnavailable`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresStoreError {
    /// A parameter is unusable: a schema name that is not a plain identifier, a zero timeout,
    /// a zero cleanup batch.
    #[error("invalid Postgres store configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: &'static str,
    },
    /// The database could not be reached or answered with an error (connection refused, I/O,
    /// authentication, a missing table).
    #[error("Postgres unavailable: {reason}")]
    Unavailable {
        /// What went wrong, without the connection string or credentials.
        reason: String,
    },
    /// The database did not answer in time: the store's call timeout, the pool's acquire
    /// timeout, or a `statement_timeout`/`lock_timeout` on the server.
    #[error("Postgres did not answer within {millis} ms")]
    Timeout {
        /// The timeout that elapsed, in milliseconds.
        millis: u64,
    },
}

#[cfg(feature = "replay")]
impl From<PostgresStoreError> for palisade_replay::ReplayError {
    fn from(e: PostgresStoreError) -> Self {
        match e {
            PostgresStoreError::InvalidConfig { reason } => Self::InvalidConfig { reason },
            PostgresStoreError::Unavailable { reason } => Self::StoreUnavailable { reason },
            PostgresStoreError::Timeout { millis } => Self::StoreTimeout { millis },
        }
    }
}

#[cfg(feature = "ratelimit")]
impl From<PostgresStoreError> for palisade_ratelimit::RateLimitError {
    /// [`Unavailable`](PostgresStoreError::Unavailable) and
    /// [`Timeout`](PostgresStoreError::Timeout) become the store failures
    /// `RateLimitError::Unavailable { store: "postgres", .. }` and
    /// `RateLimitError::Timeout { store: "postgres", .. }`; an
    /// [`InvalidConfig`](PostgresStoreError::InvalidConfig) (which no decision returns) becomes
    /// `RateLimitError::Unavailable` too, its reason prefixed with `invalid configuration`.
    fn from(e: PostgresStoreError) -> Self {
        match e {
            PostgresStoreError::InvalidConfig { reason } => Self::Unavailable {
                store: "postgres",
                reason: format!("invalid configuration: {reason}"),
            },
            PostgresStoreError::Unavailable { reason } => Self::Unavailable {
                store: "postgres",
                reason,
            },
            PostgresStoreError::Timeout { millis } => Self::Timeout {
                store: "postgres",
                after: Duration::from_millis(millis),
            },
        }
    }
}

/// Every failure is [`OtpError::StoreUnavailable`](palisade_otp::OtpError::StoreUnavailable)
/// (never a verdict), with this error's message after `postgres: `.
#[cfg(feature = "otp")]
impl From<PostgresStoreError> for palisade_otp::OtpError {
    fn from(e: PostgresStoreError) -> Self {
        Self::StoreUnavailable(format!("postgres: {e}"))
    }
}

/// Milliseconds of a timeout, saturating.
pub(crate) fn millis(timeout: Duration) -> u64 {
    u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)
}

/// An sqlx error as a store error. `timeout` is the store's call timeout (reported for a
/// statement cancelled by the server), `acquire` the pool's acquire timeout.
pub(crate) fn map_error(
    e: sqlx::Error,
    timeout: Duration,
    acquire: Duration,
) -> PostgresStoreError {
    let reason = match e {
        sqlx::Error::PoolTimedOut => {
            return PostgresStoreError::Timeout {
                millis: millis(acquire),
            };
        }
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            match code.as_str() {
                // query_canceled (statement_timeout), lock_not_available (lock_timeout).
                "57014" | "55P03" => {
                    return PostgresStoreError::Timeout {
                        millis: millis(timeout),
                    };
                }
                // invalid_authorization_specification, invalid_password: the server's message
                // names the user, so it is left out.
                c if c.starts_with("28") => format!("authentication failed (SQLSTATE {c})"),
                // undefined_table, invalid_schema_name.
                "42P01" | "3F000" => format!(
                    "SQLSTATE {code}: {} (has migrate() been run?)",
                    db.message()
                ),
                _ => format!("SQLSTATE {code}: {}", db.message()),
            }
        }
        sqlx::Error::Io(io) => format!("I/O error: {io}"),
        sqlx::Error::Tls(tls) => format!("TLS error: {tls}"),
        sqlx::Error::Protocol(p) => format!("protocol error: {p}"),
        sqlx::Error::PoolClosed => "the connection pool is closed".to_owned(),
        // Connect options may quote the connection string: never pass them on.
        sqlx::Error::Configuration(_) => "invalid connection configuration".to_owned(),
        other => format!("driver error: {other}"),
    };
    PostgresStoreError::Unavailable { reason }
}
