//! What every store of this crate does the same way: per-call timeouts and error mapping,
//! migrations under one advisory lock, and batched deletion of expired rows.

use std::future::Future;
use std::time::Duration;

use sqlx::{AssertSqlSafe, PgPool};

use crate::PostgresStoreError;
use crate::error::{map_error, millis};

/// The longest duration stored (100 years, in µs); longer ones are shortened to it.
#[cfg(any(feature = "otp", feature = "auth"))]
pub(crate) const MAX_MICROS: i64 = 100 * 365 * 86_400 * 1_000_000;

/// `d` in whole µs (rounded up), at most [`MAX_MICROS`].
#[cfg(any(feature = "otp", feature = "auth"))]
pub(crate) fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_nanos().div_ceil(1_000))
        .unwrap_or(i64::MAX)
        .min(MAX_MICROS)
}

/// An instant in µs since the epoch (as the migrations' `*_micros` functions return it) as a
/// timestamp; `None` before the epoch or past `u64` nanoseconds.
#[cfg(any(feature = "otp", feature = "auth"))]
pub(crate) fn timestamp_from_micros(us: i64) -> Option<palisade_ratelimit::Timestamp> {
    u64::try_from(us)
        .ok()
        .and_then(|us| us.checked_mul(1_000))
        .map(palisade_ratelimit::Timestamp::from_unix_nanos)
}

/// Refuses a zero timeout (every call would time out).
pub(crate) fn check_timeout(timeout: Duration) -> Result<Duration, PostgresStoreError> {
    if timeout.is_zero() {
        return Err(PostgresStoreError::InvalidConfig {
            reason: "zero timeout",
        });
    }
    Ok(timeout)
}

/// A pool and the timeout of each call on it.
#[derive(Clone, Copy)]
pub(crate) struct Calls<'a> {
    pub(crate) pool: &'a PgPool,
    pub(crate) timeout: Duration,
}

impl Calls<'_> {
    /// An sqlx error as a store error (the pool's acquire timeout names pool timeouts).
    pub(crate) fn error(&self, e: sqlx::Error) -> PostgresStoreError {
        map_error(e, self.timeout, self.pool.options().get_acquire_timeout())
    }

    /// Runs one call under the timeout.
    pub(crate) async fn run<T>(
        &self,
        fut: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, PostgresStoreError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(result) => result.map_err(|e| self.error(e)),
            Err(_) => Err(PostgresStoreError::Timeout {
                millis: millis(self.timeout),
            }),
        }
    }

    /// Runs a migration's SQL in one transaction under the crate's advisory lock, so that
    /// instances starting together apply it one after the other. Not bounded by the timeout.
    pub(crate) async fn migrate(&self, sql: &str) -> Result<(), PostgresStoreError> {
        let run = async {
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('palisade-postgres migrate'))")
                .execute(&mut *tx)
                .await?;
            sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        run.await.map_err(|e| self.error(e))
    }

    /// Runs each `DELETE … LIMIT $1` statement of `statements` with `batch` until it deletes
    /// fewer than `batch` rows; returns how many rows were deleted in all.
    // The API-key store deletes nothing (revoked keys stay listed).
    #[cfg_attr(
        not(any(feature = "replay", feature = "ratelimit", feature = "otp")),
        allow(dead_code)
    )]
    pub(crate) async fn delete_in_batches(
        &self,
        statements: &[&str],
        batch: u32,
    ) -> Result<u64, PostgresStoreError> {
        if batch == 0 {
            return Err(PostgresStoreError::InvalidConfig {
                reason: "zero cleanup batch",
            });
        }
        let mut total = 0u64;
        for sql in statements {
            loop {
                let query = sqlx::query(AssertSqlSafe((*sql).to_owned())).bind(i64::from(batch));
                let deleted = self.run(query.execute(self.pool)).await?.rows_affected();
                total = total.saturating_add(deleted);
                if deleted < u64::from(batch) {
                    break;
                }
            }
        }
        Ok(total)
    }
}
