//! [`PostgresChallengeStore`]: palisade-otp's [`ChallengeStore`] on PostgreSQL, one statement
//! or one PL/pgSQL function call per operation.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use palisade_otp::{
    Challenge, ChallengeState, ChallengeStore, CheckOutcome, CodeHash, NewChallenge, OtpError,
    RecoveryOutcome, SubjectKey,
};
use palisade_ratelimit::Timestamp;
use sqlx::{AssertSqlSafe, PgPool};

use crate::PostgresStoreError;
use crate::calls::{Calls, check_timeout};
use crate::schema::{DEFAULT_SCHEMA, OTP_SQL, check_schema, render};

/// The default timeout of one [`PostgresChallengeStore`] call (2 seconds).
pub const DEFAULT_OTP_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest TTL or cooldown stored (100 years, in µs); longer ones are shortened to it.
const MAX_MICROS: i64 = 100 * 365 * 86_400 * 1_000_000;

/// The SQL of each operation, rendered once for the store's schema.
struct Statements {
    migrate: Arc<str>,
    issue: Arc<str>,
    check: Arc<str>,
    get: Arc<str>,
    step: Arc<str>,
    last_step: Arc<str>,
    replace_recovery: Arc<str>,
    consume_recovery: Arc<str>,
    cleanup: Arc<str>,
}

impl Statements {
    fn new(schema: &str) -> Self {
        let s = format!("\"{schema}\"");
        Self {
            migrate: render(OTP_SQL, schema).into(),
            issue: format!(
                "SELECT issued, issued_at_us, expires_at_us, retry_us \
                 FROM {s}.otp_issue($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            )
            .into(),
            check: format!("SELECT {s}.otp_check($1, $2, $3, $4, $5)").into(),
            get: format!(
                "SELECT id, {s}.otp_micros(issued_at), {s}.otp_micros(expires_at), attempts, \
                 max_attempts, \
                 CASE WHEN state = 'p' AND expires_at <= clock_timestamp() THEN 'e' \
                      ELSE state END \
                 FROM {s}.otp_challenges \
                 WHERE tenant = $1 AND purpose = $2 AND subject = $3"
            )
            .into(),
            step: format!(
                "INSERT INTO {s}.otp_steps AS t (tenant, purpose, subject, step) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant, purpose, subject) \
                 DO UPDATE SET step = EXCLUDED.step WHERE t.step < EXCLUDED.step"
            )
            .into(),
            last_step: format!(
                "SELECT step FROM {s}.otp_steps \
                 WHERE tenant = $1 AND purpose = $2 AND subject = $3"
            )
            .into(),
            replace_recovery: format!("SELECT {s}.otp_replace_recovery($1, $2, $3, $4, $5)").into(),
            consume_recovery: format!("SELECT {s}.otp_consume_recovery($1, $2, $3, $4, $5)").into(),
            cleanup: format!(
                "DELETE FROM {s}.otp_challenges \
                 WHERE (tenant, purpose, subject) IN (\
                     SELECT tenant, purpose, subject FROM {s}.otp_challenges \
                     WHERE expires_at <= clock_timestamp() \
                       AND cooldown_until <= clock_timestamp() \
                     LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 AND expires_at <= clock_timestamp() AND cooldown_until <= clock_timestamp()"
            )
            .into(),
        }
    }
}

/// A [`ChallengeStore`] on PostgreSQL (14 or later), deciding with the database's clock
/// (`clock_timestamp()`), one statement or one function call per operation.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use palisade_otp::{ChallengeStore, CheckOutcome, NewChallenge, Pepper, Peppers, SubjectKey};
/// use palisade_postgres::PostgresChallengeStore;
/// use palisade_postgres::sqlx::postgres::PgPoolOptions;
///
/// // Needs a PostgreSQL server.
/// let pool = PgPoolOptions::new()
///     .max_connections(16)
///     .connect("postgres://postgres@127.0.0.1:5432/test")
///     .await?;
/// let store = PostgresChallengeStore::new(pool).with_schema("palisade")?;
/// store.migrate().await?; // tables and functions, IF NOT EXISTS / CREATE OR REPLACE
///
/// let peppers = Peppers::new(Pepper::generate("2026-01")?);
/// let key = SubjectKey::new("tenant-1", "login", "+15550100");
/// let ttl = Duration::from_secs(30 * 60);
/// let new = NewChallenge::new(key.clone(), peppers.hash(&key, b"493817"), ttl, 3)?;
/// store.issue(new, Duration::from_secs(60)).await?;
/// let outcome = store.check_and_count(&key, &peppers.candidates(&key, b"493817")).await?;
/// assert_eq!(outcome, CheckOutcome::Verified);
///
/// // Every minute or so, from one background task (or pg_cron):
/// let deleted = store.cleanup(5_000).await?;
/// # let _ = deleted;
/// # Ok(())
/// # }
/// ```
///
/// # Tables
///
/// Created by [`migrate`](Self::migrate) (`migrations/0004_otp.sql`) in the store's schema:
/// `otp_challenges` (one row per tenant, purpose and subject: the challenge's id, pepper id,
/// 32-byte MAC, issue, expiry and cooldown instants, attempts, maximum, state),
/// `otp_steps` (the last accepted step, stored as `step − 2⁶³` so a `bigint` keeps the
/// `u64`'s order) and `otp_recovery_codes` (one row per unused code: MAC and pepper id).
/// Never a code.
///
/// # One round trip per operation
///
/// - [`issue`](ChallengeStore::issue): `otp_issue(…)`: one `INSERT … ON CONFLICT … DO
///   UPDATE … WHERE cooldown_until <= now` (the conflicting row is locked even when the
///   cooldown refuses the update), then, when refused, the time left.
/// - [`check_and_count`](ChallengeStore::check_and_count): `otp_check(…)`: `SELECT … FOR
///   UPDATE` of the row (the lock the memory store's mutex stands for: concurrent answers
///   queue there), refusal without comparing of a consumed, locked or expired challenge, then
///   one `UPDATE` counting the attempt with the state the comparison gives.
/// - [`get`](ChallengeStore::get): one `SELECT`.
/// - [`accept_step`](ChallengeStore::accept_step): one `INSERT … ON CONFLICT … DO UPDATE SET
///   step = EXCLUDED.step WHERE step < EXCLUDED.step` (a row written: accepted).
/// - [`last_step`](ChallengeStore::last_step): one `SELECT step` (no function: a read
///   decides nothing).
/// - [`replace_recovery_codes`](ChallengeStore::replace_recovery_codes):
///   `otp_replace_recovery(…)`: `DELETE`, then `INSERT … SELECT FROM unnest(…)`.
/// - [`consume_recovery_code`](ChallengeStore::consume_recovery_code):
///   `otp_consume_recovery(…)`: `DELETE … WHERE (pepper_id, mac) IN (unnest(…))`, then the
///   count left.
///
/// Comparisons are SQL equality on `bytea`, not constant-time: the values are 32-byte
/// HMAC-SHA256 outputs under a pepper the database never sees, so their timing reveals
/// nothing an attacker can use.
///
/// # Cleanup
///
/// Challenges past both their expiry and their cooldown are deleted by
/// [`cleanup`](Self::cleanup), in batches, as the nonce store does; until then an answer
/// reads [`CheckOutcome::Expired`]. Steps and recovery codes are kept until replaced.
///
/// # Timeouts and errors
///
/// Each call runs under the store's timeout ([`DEFAULT_OTP_TIMEOUT`], 2 s, unless
/// [`with_timeout`](Self::with_timeout) says otherwise). Every failure is
/// [`OtpError::StoreUnavailable`] with a reason beginning `postgres:`, never a verdict. A call
/// that timed out may still have been carried out. No error quotes a key or a connection
/// string.
#[derive(Clone)]
pub struct PostgresChallengeStore {
    pool: PgPool,
    schema: Arc<str>,
    sql: Arc<Statements>,
    timeout: Duration,
}

impl fmt::Debug for PostgresChallengeStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresChallengeStore")
            .field("schema", &self.schema)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresChallengeStore {
    /// A store on `pool` in [`DEFAULT_SCHEMA`], with [`DEFAULT_OTP_TIMEOUT`].
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            schema: DEFAULT_SCHEMA.into(),
            sql: Arc::new(Statements::new(DEFAULT_SCHEMA)),
            timeout: DEFAULT_OTP_TIMEOUT,
        }
    }

    /// Uses the tables in `schema` instead of [`DEFAULT_SCHEMA`].
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] unless `schema` is a plain identifier (1–63 ASCII
    /// letters, digits and underscores, not starting with a digit or `pg_`).
    pub fn with_schema(mut self, schema: &str) -> Result<Self, PostgresStoreError> {
        check_schema(schema)?;
        self.schema = schema.into();
        self.sql = Arc::new(Statements::new(schema));
        Ok(self)
    }

    /// Sets the timeout of each call (default [`DEFAULT_OTP_TIMEOUT`]).
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] for a zero timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, PostgresStoreError> {
        self.timeout = check_timeout(timeout)?;
        Ok(self)
    }

    /// The schema of the store's tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The timeout of each call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The pool the store uses.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the schema, tables and functions if they do not exist (`CREATE … IF NOT
    /// EXISTS`, `CREATE OR REPLACE FUNCTION`), in one transaction under the crate's advisory
    /// lock: safe at every start-up of every instance. Not bounded by the call timeout.
    ///
    /// # Errors
    /// [`PostgresStoreError::Unavailable`] when the database refuses (permissions, …).
    pub async fn migrate(&self) -> Result<(), PostgresStoreError> {
        self.calls().migrate(&self.sql.migrate).await
    }

    /// Deletes challenges past both their expiry and their resend cooldown, `batch` rows per
    /// statement (rows locked by a running operation are skipped), until none is left;
    /// returns how many were deleted.
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] for a zero batch; store failures.
    pub async fn cleanup(&self, batch: u32) -> Result<u64, PostgresStoreError> {
        self.calls()
            .delete_in_batches(&[&self.sql.cleanup], batch)
            .await
    }

    fn calls(&self) -> Calls<'_> {
        Calls {
            pool: &self.pool,
            timeout: self.timeout,
        }
    }
}

/// The pepper ids and MACs of `hashes`, as two parallel arrays.
fn split(hashes: &[CodeHash]) -> (Vec<String>, Vec<Vec<u8>>) {
    hashes
        .iter()
        .map(|h| (h.pepper_id().to_owned(), h.mac().to_vec()))
        .unzip()
}

/// `d` in whole µs (rounded up), at most 100 years.
fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_nanos().div_ceil(1_000))
        .unwrap_or(i64::MAX)
        .min(MAX_MICROS)
}

/// A step as stored: `step − 2⁶³`, which keeps the order of `u64` in a `bigint`.
fn biased(step: u64) -> i64 {
    i64::from_ne_bytes((step ^ (1 << 63)).to_ne_bytes())
}

/// The step a stored `bigint` stands for (the inverse of [`biased`]).
fn unbiased(stored: i64) -> u64 {
    u64::from_ne_bytes(stored.to_ne_bytes()) ^ (1 << 63)
}

/// An instant in µs since the epoch as a timestamp.
fn instant(us: i64) -> Result<Timestamp, OtpError> {
    u64::try_from(us)
        .ok()
        .and_then(|us| us.checked_mul(1_000))
        .map(Timestamp::from_unix_nanos)
        .ok_or_else(unexpected)
}

fn unexpected() -> OtpError {
    OtpError::StoreUnavailable("postgres: unexpected reply".to_owned())
}

type IssueRow = (bool, i64, i64, i64);
type GetRow = (String, i64, i64, i32, i32, String);

#[async_trait]
impl ChallengeStore for PostgresChallengeStore {
    async fn issue(
        &self,
        challenge: NewChallenge,
        cooldown: Duration,
    ) -> Result<Challenge, OtpError> {
        let max = i32::try_from(challenge.max_attempts).unwrap_or(i32::MAX);
        let query = sqlx::query_as::<_, IssueRow>(AssertSqlSafe(self.sql.issue.clone()))
            .bind(challenge.key.tenant())
            .bind(challenge.key.purpose())
            .bind(challenge.key.subject())
            .bind(&challenge.id)
            .bind(challenge.hash.pepper_id())
            .bind(&challenge.hash.mac()[..])
            .bind(micros(challenge.ttl))
            .bind(micros(cooldown))
            .bind(max);
        let (issued, at, expires, retry) = self.calls().run(query.fetch_one(&self.pool)).await?;
        if !issued {
            return Err(OtpError::Cooldown {
                retry_after: Duration::from_micros(u64::try_from(retry).unwrap_or(0)),
            });
        }
        Ok(Challenge {
            id: challenge.id,
            key: challenge.key,
            issued_at: instant(at)?,
            expires_at: instant(expires)?,
            attempts_used: 0,
            max_attempts: u32::try_from(max).map_err(|_| unexpected())?,
            state: ChallengeState::Pending,
        })
    }

    async fn check_and_count(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<CheckOutcome, OtpError> {
        let (ids, macs) = split(candidates);
        let query = sqlx::query_scalar::<_, Vec<i32>>(AssertSqlSafe(self.sql.check.clone()))
            .bind(key.tenant())
            .bind(key.purpose())
            .bind(key.subject())
            .bind(ids)
            .bind(macs);
        match self
            .calls()
            .run(query.fetch_one(&self.pool))
            .await?
            .as_slice()
        {
            [0] => Ok(CheckOutcome::Verified),
            [1, left] => Ok(CheckOutcome::Wrong {
                attempts_left: u32::try_from(*left).map_err(|_| unexpected())?,
            }),
            [2] => Ok(CheckOutcome::Locked),
            [3] => Ok(CheckOutcome::Expired),
            [4] => Ok(CheckOutcome::Consumed),
            [5] => Ok(CheckOutcome::NotFound),
            _ => Err(unexpected()),
        }
    }

    async fn get(&self, key: &SubjectKey) -> Result<Option<Challenge>, OtpError> {
        let query = sqlx::query_as::<_, GetRow>(AssertSqlSafe(self.sql.get.clone()))
            .bind(key.tenant())
            .bind(key.purpose())
            .bind(key.subject());
        let Some((id, issued, expires, used, max, state)) =
            self.calls().run(query.fetch_optional(&self.pool)).await?
        else {
            return Ok(None);
        };
        let state = match state.as_str() {
            "p" => ChallengeState::Pending,
            "c" => ChallengeState::Consumed,
            "l" => ChallengeState::Locked,
            "e" => ChallengeState::Expired,
            _ => return Err(unexpected()),
        };
        Ok(Some(Challenge {
            id,
            key: key.clone(),
            issued_at: instant(issued)?,
            expires_at: instant(expires)?,
            attempts_used: u32::try_from(used).map_err(|_| unexpected())?,
            max_attempts: u32::try_from(max).map_err(|_| unexpected())?,
            state,
        }))
    }

    async fn accept_step(&self, key: &SubjectKey, step: u64) -> Result<bool, OtpError> {
        let query = sqlx::query(AssertSqlSafe(self.sql.step.clone()))
            .bind(key.tenant())
            .bind(key.purpose())
            .bind(key.subject())
            .bind(biased(step));
        let done = self.calls().run(query.execute(&self.pool)).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn last_step(&self, key: &SubjectKey) -> Result<Option<u64>, OtpError> {
        let query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(self.sql.last_step.clone()))
            .bind(key.tenant())
            .bind(key.purpose())
            .bind(key.subject());
        let stored = self.calls().run(query.fetch_optional(&self.pool)).await?;
        Ok(stored.map(unbiased))
    }

    async fn replace_recovery_codes(
        &self,
        key: &SubjectKey,
        hashes: Vec<CodeHash>,
    ) -> Result<(), OtpError> {
        let (ids, macs) = split(&hashes);
        let query = sqlx::query(AssertSqlSafe(self.sql.replace_recovery.clone()))
            .bind(key.tenant())
            .bind(key.purpose())
            .bind(key.subject())
            .bind(ids)
            .bind(macs);
        self.calls().run(query.execute(&self.pool)).await?;
        Ok(())
    }

    async fn consume_recovery_code(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<RecoveryOutcome, OtpError> {
        let (ids, macs) = split(candidates);
        let query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(self.sql.consume_recovery.clone()))
            .bind(key.tenant())
            .bind(key.purpose())
            .bind(key.subject())
            .bind(ids)
            .bind(macs);
        let left = self.calls().run(query.fetch_one(&self.pool)).await?;
        if left < 0 {
            return Ok(RecoveryOutcome::NoMatch);
        }
        Ok(RecoveryOutcome::Consumed {
            remaining: usize::try_from(left).map_err(|_| unexpected())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn biased_steps_keep_the_order_of_u64() {
        let steps = [
            0,
            1,
            5,
            1 << 62,
            (1 << 63) - 1,
            1 << 63,
            u64::MAX - 1,
            u64::MAX,
        ];
        for w in steps.windows(2) {
            if let [a, b] = w {
                assert!(biased(*a) < biased(*b), "{a} < {b}");
            }
        }
        assert_eq!(biased(0), i64::MIN);
        assert_eq!(biased(u64::MAX), i64::MAX);
        for step in steps {
            assert_eq!(unbiased(biased(step)), step);
        }
    }

    #[test]
    fn durations_are_rounded_up_and_capped() {
        assert_eq!(micros(Duration::from_nanos(1)), 1);
        assert_eq!(micros(Duration::from_secs(3)), 3_000_000);
        assert_eq!(micros(Duration::MAX), MAX_MICROS);
    }
}
