//! [`PostgresNonceStore`]: palisade-replay's [`NonceStore`] on PostgreSQL.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use palisade_replay::{
    ClaimOutcome, Freshness, LeaseToken, NonceStore, ReplayError, check_arguments, check_namespace,
    ttl_millis,
};
use sqlx::{AssertSqlSafe, PgPool};

use crate::PostgresStoreError;
use crate::calls::{Calls, check_timeout};
use crate::schema::{DEFAULT_SCHEMA, NONCES_SQL, check_schema, render};

/// The default timeout of one store call, 2 seconds (waiting for a pooled connection
/// included).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest TTL stored, 100 years in milliseconds; longer TTLs are shortened to it.
pub const MAX_TTL_MILLIS: i64 = 100 * 365 * 24 * 3_600 * 1_000;

/// The statements of one schema, built once.
struct Statements {
    migrate: Arc<str>,
    insert: Arc<str>,
    remove: Arc<str>,
    claim: Arc<str>,
    complete: Arc<str>,
    release: Arc<str>,
    cleanup: Arc<str>,
}

impl Statements {
    fn new(schema: &str) -> Self {
        let table = format!("\"{schema}\".nonces");
        Self {
            migrate: render(NONCES_SQL, schema).into(),
            insert: format!(
                "INSERT INTO {table} AS n (namespace, id, expires_at) \
                 VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond') \
                 ON CONFLICT (namespace, id) \
                 DO UPDATE SET expires_at = EXCLUDED.expires_at, lease_token = NULL \
                 WHERE n.expires_at <= clock_timestamp()"
            )
            .into(),
            claim: format!(
                "WITH now AS (SELECT clock_timestamp() AS t) \
                 INSERT INTO {table} AS n (namespace, id, expires_at, lease_token) \
                 VALUES ($1, $2, (SELECT t FROM now) + $3 * interval '1 millisecond', $4) \
                 ON CONFLICT (namespace, id) DO UPDATE SET (expires_at, lease_token) = (\
                     SELECT CASE WHEN n.expires_at <= now.t \
                                 THEN EXCLUDED.expires_at ELSE n.expires_at END, \
                            CASE WHEN n.expires_at <= now.t \
                                 THEN EXCLUDED.lease_token ELSE n.lease_token END \
                     FROM now) \
                 RETURNING COALESCE(n.lease_token = $4 AND \
                     n.expires_at = (SELECT t FROM now) + $3 * interval '1 millisecond', false), \
                     n.lease_token IS NOT NULL"
            )
            .into(),
            complete: format!(
                "WITH prior AS (\
                     SELECT lease_token FROM {table} \
                     WHERE namespace = $1 AND id = $2 AND expires_at > clock_timestamp()) \
                 INSERT INTO {table} AS n (namespace, id, expires_at) \
                 VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond') \
                 ON CONFLICT (namespace, id) \
                 DO UPDATE SET expires_at = EXCLUDED.expires_at, lease_token = NULL \
                 RETURNING COALESCE((SELECT lease_token = $4 FROM prior), false)"
            )
            .into(),
            release: format!(
                "DELETE FROM {table} \
                 WHERE namespace = $1 AND id = $2 AND lease_token = $3 \
                 AND expires_at > clock_timestamp()"
            )
            .into(),
            remove: format!(
                "DELETE FROM {table} \
                 WHERE namespace = $1 AND id = $2 AND expires_at > clock_timestamp()"
            )
            .into(),
            cleanup: format!(
                "DELETE FROM {table} \
                 WHERE (namespace, id) IN (\
                     SELECT namespace, id FROM {table} \
                     WHERE expires_at <= clock_timestamp() \
                     LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 AND expires_at <= clock_timestamp()"
            )
            .into(),
        }
    }
}

/// A [`NonceStore`] on PostgreSQL, through an sqlx [`PgPool`] you build.
///
/// # Table
///
/// `"<schema>".nonces (namespace text, id bytea, expires_at timestamptz, lease_token bytea,
/// PRIMARY KEY (namespace, id))` with an index on `expires_at`, in the schema `palisade`
/// unless [`with_schema`](Self::with_schema) says otherwise. A row with a `NULL`
/// `lease_token` is a completed id; a row with a token is a delivery in flight under that
/// [`LeaseToken`] until `expires_at` (its lease). [`migrate`](Self::migrate) creates them
/// (idempotent SQL shipped in the crate, `migrations/0001_nonces.sql` then
/// `migrations/0003_nonce_leases.sql`, which adds `lease_token` to a table created by an
/// earlier version); call it once at start-up, with a role allowed to create schemas, or run
/// those files yourself. Rows written before the upgrade count as completed.
///
/// # One statement per decision, on the database clock
///
/// [`insert_if_absent`](NonceStore::insert_if_absent) runs
///
/// ```sql
/// INSERT INTO "<schema>".nonces AS n (namespace, id, expires_at)
/// VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
/// ON CONFLICT (namespace, id) DO UPDATE SET expires_at = EXCLUDED.expires_at, lease_token = NULL
/// WHERE n.expires_at <= clock_timestamp()
/// ```
///
/// with `$3` the TTL in milliseconds, and reads the affected-row count: `1` (a new row, or
/// an expired row reclaimed) → [`Freshness::Fresh`], `0` (an unexpired row is there) →
/// [`Freshness::Replayed`]. Expiry is decided on the database server's clock, so application
/// servers with skewed clocks agree.
///
/// This is race-free at PostgreSQL's default isolation, READ COMMITTED, with no explicit
/// transaction: the primary key lets one of several concurrent inserters of an id insert; the
/// others wait for it to commit and take the `ON CONFLICT` path. That path locks the
/// conflicting row (its latest committed version, not the one in the statement's snapshot)
/// and evaluates the `DO UPDATE … WHERE` on that locked version. So when several instances
/// race on an expired row, the first to lock it rewrites `expires_at` into the future and the
/// others, re-evaluating the `WHERE` after its commit, see an unexpired row and update
/// nothing: exactly one `1`. PostgreSQL documents this as the atomic
/// INSERT-or-UPDATE outcome of `ON CONFLICT DO UPDATE`.
///
/// [`remove`](NonceStore::remove) runs `DELETE FROM "<schema>".nonces WHERE namespace = $1
/// AND id = $2 AND expires_at > clock_timestamp()` and answers whether it deleted a row.
///
/// [`claim`](NonceStore::claim) runs one statement that always takes the row lock (`$3` the
/// lease in milliseconds, `$4` the 16-byte token):
///
/// ```sql
/// WITH now AS (SELECT clock_timestamp() AS t)
/// INSERT INTO "<schema>".nonces AS n (namespace, id, expires_at, lease_token)
/// VALUES ($1, $2, (SELECT t FROM now) + $3 * interval '1 millisecond', $4)
/// ON CONFLICT (namespace, id) DO UPDATE SET (expires_at, lease_token) = (
///     SELECT CASE WHEN n.expires_at <= now.t THEN EXCLUDED.expires_at ELSE n.expires_at END,
///            CASE WHEN n.expires_at <= now.t THEN EXCLUDED.lease_token ELSE n.lease_token END
///     FROM now)
/// RETURNING COALESCE(n.lease_token = $4
///                    AND n.expires_at = (SELECT t FROM now) + $3 * interval '1 millisecond', false),
///           n.lease_token IS NOT NULL
/// ```
///
/// A new or expired row becomes our claim ([`ClaimOutcome::Claimed`]: the row holds our token
/// and our expiry); an unexpired row is rewritten unchanged, and its state is returned from the
/// locked, latest version: a token → [`ClaimOutcome::InProgress`], none →
/// [`ClaimOutcome::Completed`]. Racing claims serialise on the row lock as above: exactly one
/// `Claimed`. The clock is read once per statement, so both columns change together.
///
/// [`complete`](NonceStore::complete) upserts the row as completed and compares the token of
/// the row as it was before the statement (the statement's snapshot), if unexpired:
///
/// ```sql
/// WITH prior AS (SELECT lease_token FROM "<schema>".nonces
///                WHERE namespace = $1 AND id = $2 AND expires_at > clock_timestamp())
/// INSERT INTO "<schema>".nonces AS n (namespace, id, expires_at)
/// VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
/// ON CONFLICT (namespace, id) DO UPDATE SET expires_at = EXCLUDED.expires_at, lease_token = NULL
/// RETURNING COALESCE((SELECT lease_token = $4 FROM prior), false)
/// ```
///
/// [`release`](NonceStore::release) runs `DELETE FROM "<schema>".nonces WHERE namespace = $1
/// AND id = $2 AND lease_token = $3 AND expires_at > clock_timestamp()` (compare-and-delete:
/// never a completed row, never another claim's) and answers whether it deleted a row.
///
/// # Expired rows
///
/// An expired row is reclaimed by the next insert of its id, but otherwise stays until
/// [`cleanup`](Self::cleanup) deletes it. Run `cleanup` every minute or so, from one
/// background task per service (or from `pg_cron` with the same `DELETE`), so the table holds
/// about one TTL's worth of ids.
///
/// # Timeouts and errors
///
/// Each call runs under the store's timeout ([`DEFAULT_TIMEOUT`], 2 s, unless
/// [`with_timeout`](Self::with_timeout) says otherwise): past it, or past the pool's acquire
/// timeout, or when the server cancels the statement (`statement_timeout`), the call fails
/// with [`ReplayError::StoreTimeout`]. Connection, I/O and database errors fail with
/// [`ReplayError::StoreUnavailable`]. sqlx retries a refused connection until the pool's
/// acquire timeout, so a server that is down shows as [`ReplayError::StoreTimeout`] after
/// `min(acquire timeout, store timeout)`; set the pool's acquire timeout accordingly. Callers
/// should refuse the request on either (fail closed). A call that timed out may still have
/// been committed: a retry of the same id then answers [`Freshness::Replayed`].
///
/// Namespaces are stored as `text`: one containing a NUL character cannot be stored, and
/// such calls fail with [`ReplayError::StoreUnavailable`].
///
/// Give the pool enough connections for the expected concurrency (every call holds one
/// connection for one statement).
#[derive(Clone)]
pub struct PostgresNonceStore {
    pool: PgPool,
    schema: Arc<str>,
    sql: Arc<Statements>,
    timeout: Duration,
}

impl fmt::Debug for PostgresNonceStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresNonceStore")
            .field("schema", &self.schema)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresNonceStore {
    /// A store on `pool`, with its table in the schema [`DEFAULT_SCHEMA`] (`palisade`) and
    /// [`DEFAULT_TIMEOUT`]. Connects to nothing: the first call does.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            schema: DEFAULT_SCHEMA.into(),
            sql: Arc::new(Statements::new(DEFAULT_SCHEMA)),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Puts the table in `schema` instead of `palisade`.
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] unless `schema` is a plain identifier: 1 to 63
    /// ASCII letters, digits and underscores, not starting with a digit nor with `pg_`. The
    /// name is used double-quoted, so it is case-sensitive; this check is what keeps it from
    /// carrying SQL.
    pub fn with_schema(mut self, schema: &str) -> Result<Self, PostgresStoreError> {
        check_schema(schema)?;
        self.schema = schema.into();
        self.sql = Arc::new(Statements::new(schema));
        Ok(self)
    }

    /// Sets the timeout of each call (default [`DEFAULT_TIMEOUT`], 2 s).
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] for a zero timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, PostgresStoreError> {
        self.timeout = check_timeout(timeout)?;
        Ok(self)
    }

    /// The schema of the table.
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

    /// Creates the schema, the table and its index if they do not exist
    /// (`migrations/0001_nonces.sql`). Idempotent, and safe to run from several instances at
    /// once: it runs in one transaction under an advisory lock. Not bounded by the store's
    /// timeout.
    ///
    /// # Errors
    /// [`PostgresStoreError::Unavailable`] when the database cannot be reached or refuses
    /// (for example a role without the `CREATE` privilege on the database);
    /// [`PostgresStoreError::Timeout`] when no pooled connection came in time.
    pub async fn migrate(&self) -> Result<(), PostgresStoreError> {
        self.calls().migrate(&self.sql.migrate).await
    }

    /// Deletes expired rows, `batch` rows per statement, until fewer than `batch` remain;
    /// returns how many it deleted. Each batch is
    ///
    /// ```sql
    /// DELETE FROM "<schema>".nonces
    /// WHERE (namespace, id) IN (SELECT namespace, id FROM "<schema>".nonces
    ///                           WHERE expires_at <= clock_timestamp()
    ///                           LIMIT $1 FOR UPDATE SKIP LOCKED)
    /// AND expires_at <= clock_timestamp()
    /// ```
    ///
    /// which skips rows another session holds and never deletes a row that an insert has just
    /// reclaimed. Run it every minute or so (see the type's docs); 1,000 to 10,000 is a good
    /// batch. Each batch runs under the store's timeout.
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] for a zero `batch`; otherwise as
    /// [`insert_if_absent`](NonceStore::insert_if_absent). Batches deleted before an error
    /// stay deleted.
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

/// A TTL or lease in milliseconds, rounded up, at most [`MAX_TTL_MILLIS`]: exact as a float,
/// and far from the interval's range limit.
#[allow(clippy::cast_precision_loss)]
fn millis_f64(ttl: Duration) -> f64 {
    ttl_millis(ttl).min(MAX_TTL_MILLIS) as f64
}

#[async_trait]
impl NonceStore for PostgresNonceStore {
    async fn claim(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
        lease: Duration,
    ) -> Result<ClaimOutcome, ReplayError> {
        check_arguments(namespace, lease)?;
        let query = sqlx::query_as::<_, (bool, bool)>(AssertSqlSafe(self.sql.claim.clone()))
            .bind(namespace)
            .bind(id)
            .bind(millis_f64(lease))
            .bind(&token.as_bytes()[..]);
        match self.calls().run(query.fetch_one(&self.pool)).await? {
            (true, _) => Ok(ClaimOutcome::Claimed),
            (false, true) => Ok(ClaimOutcome::InProgress),
            (false, false) => Ok(ClaimOutcome::Completed),
        }
    }

    async fn complete(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
        ttl: Duration,
    ) -> Result<bool, ReplayError> {
        check_arguments(namespace, ttl)?;
        let query = sqlx::query_scalar::<_, bool>(AssertSqlSafe(self.sql.complete.clone()))
            .bind(namespace)
            .bind(id)
            .bind(millis_f64(ttl))
            .bind(&token.as_bytes()[..]);
        Ok(self.calls().run(query.fetch_one(&self.pool)).await?)
    }

    async fn release(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
    ) -> Result<bool, ReplayError> {
        check_namespace(namespace)?;
        let query = sqlx::query(AssertSqlSafe(self.sql.release.clone()))
            .bind(namespace)
            .bind(id)
            .bind(&token.as_bytes()[..]);
        Ok(self
            .calls()
            .run(query.execute(&self.pool))
            .await?
            .rows_affected()
            > 0)
    }

    async fn insert_if_absent(
        &self,
        namespace: &str,
        id: &[u8],
        ttl: Duration,
    ) -> Result<Freshness, ReplayError> {
        check_arguments(namespace, ttl)?;
        let query = sqlx::query(AssertSqlSafe(self.sql.insert.clone()))
            .bind(namespace)
            .bind(id)
            .bind(millis_f64(ttl));
        match self
            .calls()
            .run(query.execute(&self.pool))
            .await?
            .rows_affected()
        {
            0 => Ok(Freshness::Replayed),
            _ => Ok(Freshness::Fresh),
        }
    }

    async fn remove(&self, namespace: &str, id: &[u8]) -> Result<bool, ReplayError> {
        check_namespace(namespace)?;
        let query = sqlx::query(AssertSqlSafe(self.sql.remove.clone()))
            .bind(namespace)
            .bind(id);
        Ok(self
            .calls()
            .run(query.execute(&self.pool))
            .await?
            .rows_affected()
            > 0)
    }
}
