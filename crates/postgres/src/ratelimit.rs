//! [`PostgresRateLimitStore`]: palisade-ratelimit's [`RateLimitStore`] on PostgreSQL.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use palisade_postgres::PostgresRateLimitStore;
//! use palisade_postgres::sqlx::postgres::PgPoolOptions;
//! use palisade_ratelimit::{AlgorithmKind, Key, Limit, Policy, Quota, RateLimitStore};
//!
//! // Needs a PostgreSQL server (14 or later).
//! let pool = PgPoolOptions::new()
//!     .max_connections(16)
//!     .acquire_timeout(Duration::from_secs(2))
//!     .connect("postgres://postgres@127.0.0.1:5432/test")
//!     .await?;
//! let store = PostgresRateLimitStore::new(pool).with_schema("palisade")?;
//! store.migrate().await?; // tables and functions, IF NOT EXISTS / CREATE OR REPLACE
//!
//! let policy = Policy::new([
//!     Limit::gcra("per-second", Quota::per_second(10)?)?,
//!     Limit::new("per-day", AlgorithmKind::FixedWindow, Quota::per_day(1_000)?)?,
//! ])?
//! .with_block(Duration::from_secs(60));
//! let verdict = store.check(&Key::from("client-42"), &policy, 1).await?;
//! assert!(verdict.is_allowed());
//!
//! // Every minute or so, from one background task (or pg_cron):
//! let deleted = store.cleanup(5_000).await?;
//! # let _ = deleted;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use palisade_ratelimit::{
    AlgorithmKind, Decision, Key, Limit, Policy, RateLimitError, RateLimitStore, Timestamp, Verdict,
};
use sqlx::{AssertSqlSafe, PgPool};

use crate::PostgresStoreError;
use crate::calls::{Calls, check_timeout};
use crate::schema::{DEFAULT_SCHEMA, RATELIMIT_SQL, check_schema, render};

/// The default timeout of one rate-limit store call, 2 seconds (waiting for a pooled
/// connection included), as for the nonce store.
pub const DEFAULT_RATELIMIT_TIMEOUT: Duration = Duration::from_secs(2);

/// The name stores report in [`RateLimitError::Unavailable`] and [`RateLimitError::Timeout`].
const STORE: &str = "postgres";

/// The statements of one schema, built once.
pub(crate) struct Statements {
    migrate: Arc<str>,
    apply: Arc<str>,
    block: Arc<str>,
    unblock: Arc<str>,
    cleanup_state: Arc<str>,
    cleanup_blocks: Arc<str>,
    /// The penalty box ([`PenaltyBox`](palisade_ratelimit::PenaltyBox), in `quarantine.rs`).
    pub(crate) list_blocks: Arc<str>,
    pub(crate) release: Arc<str>,
    pub(crate) take_ended: Arc<str>,
}

impl Statements {
    fn new(schema: &str) -> Self {
        let s = format!("\"{schema}\"");
        let now = format!("(SELECT {s}.ratelimit_now())");
        Self {
            migrate: render(RATELIMIT_SQL, schema).into(),
            apply: format!(
                "SELECT decided_at, blocked_for, verdicts \
                 FROM {s}.ratelimit_apply($1, $2, $3, $4, $5, $6)"
            )
            .into(),
            block: format!("SELECT {s}.ratelimit_block($1, $2)").into(),
            unblock: format!("DELETE FROM {s}.ratelimit_blocks WHERE key = $1").into(),
            cleanup_state: format!(
                "DELETE FROM {s}.ratelimit_state \
                 WHERE (key, policy_id) IN (\
                     SELECT key, policy_id FROM {s}.ratelimit_state \
                     WHERE expires_at_ns <= {now} \
                     LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 AND expires_at_ns <= {now}"
            )
            .into(),
            cleanup_blocks: format!(
                "DELETE FROM {s}.ratelimit_blocks \
                 WHERE key IN (\
                     SELECT key FROM {s}.ratelimit_blocks \
                     WHERE until_ns <= {now} \
                     LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 AND until_ns <= {now}"
            )
            .into(),
            list_blocks: format!(
                "SELECT b.key, {s}.ratelimit_i64(b.until_ns - n.now) \
                 FROM {s}.ratelimit_blocks b, (SELECT {s}.ratelimit_now() AS now) n \
                 WHERE b.key > $1 AND b.until_ns > n.now \
                 ORDER BY b.key LIMIT $2"
            )
            .into(),
            release: format!(
                "WITH d AS (DELETE FROM {s}.ratelimit_blocks WHERE key = $1 RETURNING until_ns) \
                 SELECT COALESCE(bool_or(d.until_ns > {now}), false) FROM d"
            )
            .into(),
            take_ended: format!(
                "DELETE FROM {s}.ratelimit_blocks \
                 WHERE key IN (\
                     SELECT key FROM {s}.ratelimit_blocks \
                     WHERE until_ns <= {now} \
                     ORDER BY until_ns LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 AND until_ns <= {now} \
                 RETURNING key"
            )
            .into(),
        }
    }
}

/// A [`RateLimitStore`] on PostgreSQL (14 or later), through an sqlx [`PgPool`] you build.
///
/// Its verdicts are exactly those of palisade-ratelimit's
/// [`MemoryStore`](palisade_ratelimit::MemoryStore) for the same calls at the same instants
/// (the same algorithms, in exact integer arithmetic), with the instant read from the
/// database server's clock, so that every application server shares one state and one clock.
///
/// # Tables
///
/// In the schema `palisade` unless [`with_schema`](Self::with_schema) says otherwise:
///
/// - `ratelimit_state (key bytea, policy_id bigint, states numeric[], expires_at_ns numeric,
///   PRIMARY KEY (key, policy_id))`, indexed on `expires_at_ns`: one row per key and
///   [`Policy::id`], holding every limit's state as a segment `[algorithm code, n, v1 … vn]`
///   (GCRA: the TAT; buckets: level or tokens in scaled units, and the last update; fixed
///   window: index and count; sliding log: `(at, cost)` pairs; sliding counter: index, current
///   and previous counts), and the instant those states are all back to new. A sliding
///   window log keeps up to `limit` pairs, rewritten on every admission: as in memory, keep it
///   for small limits.
/// - `ratelimit_blocks (key bytea PRIMARY KEY, until_ns numeric)`, indexed on `until_ns`: the
///   blocked keys (explicit or penalty box), across policies.
///
/// The key column holds [`Key::encoded`]. Every instant is in **nanoseconds since the Unix
/// epoch** and every duration in nanoseconds, as exact integers (`numeric`: the whole `u64`
/// range of the Rust types). The clock is `clock_timestamp()`, microseconds, times 1,000.
///
/// [`migrate`](Self::migrate) creates the tables and the PL/pgSQL functions that decide
/// (idempotent SQL shipped in the crate, `migrations/0002_ratelimit.sql`); call it at
/// start-up with a role allowed to create schemas, or run that file yourself.
///
/// # One statement per decision
///
/// [`apply`](RateLimitStore::apply) checks the cost against every limit in Rust (a bad cost
/// never reaches the server), then runs
///
/// ```sql
/// SELECT decided_at, blocked_for, verdicts
/// FROM "<schema>".ratelimit_apply($1 key, $2 policy id, $3 cost, $4 penalty ns,
///                                 $5 algorithm codes smallint[], $6 parameters bigint[])
/// ```
///
/// The function locks the (key, policy) row (`SELECT … FOR UPDATE`, after an
/// `INSERT … ON CONFLICT DO NOTHING` for a new key), reads `clock_timestamp()` once, refuses a
/// key blocked until later ([`Cause::Blocked`](palisade_ratelimit::Cause::Blocked), nothing
/// charged), otherwise runs every limit on its state, charges them all only if all admit, and
/// on a refusal with [`Policy::block_for`] upserts the block to
/// `GREATEST(old, now + block)`. Concurrent decisions on one (key, policy) are serialised
/// by the row lock at READ COMMITTED, so no admission is lost or doubled; a call locks its
/// state row and then its block row, always in that order, so calls cannot deadlock. The
/// [`Verdict`] is built in Rust from the returned numbers. sqlx prepares each statement
/// once per connection.
///
/// **Asynchronous commit.** `ratelimit_apply` sets `synchronous_commit = off` for its own
/// transaction (`set_config(…, true)`): the commit does not wait for the WAL flush, which
/// makes a decision about twice as fast at 16 connections and three times as fast on one
/// connection on this project's machines (`docs/benchmarks.md`). The cost: a crash of the
/// PostgreSQL server can forget the decisions of its last few hundred milliseconds (up to
/// 3 × `wal_writer_delay`), so right after a crash a client may be admitted slightly more
/// than its quota. Nothing else is affected: the rest of your transactions, and the nonce
/// store, keep the server's setting.
///
/// [`block`](RateLimitStore::block) runs `SELECT "<schema>".ratelimit_block($1, $2)` (one
/// upsert of `GREATEST(old, now + duration)`); [`unblock`](RateLimitStore::unblock) runs
/// `DELETE FROM "<schema>".ratelimit_blocks WHERE key = $1`.
///
/// # The penalty box
///
/// [`PenaltyBox`](palisade_ratelimit::PenaltyBox) runs one statement per call on
/// `ratelimit_blocks` (no SQL objects beyond `0002_ratelimit.sql`): a page of the blocks not
/// ended by the database clock in key order (`WHERE key > $cursor … ORDER BY key LIMIT`, on the
/// primary key), a `DELETE … RETURNING` to release one, and a `DELETE … FOR UPDATE SKIP
/// LOCKED … RETURNING key` taking ended blocks once each. [`cleanup`](Self::cleanup) deletes
/// ended blocks too, unreported: with a `palisade_ratelimit::Quarantine`, call its
/// `release_ended` before `cleanup`.
///
/// # Expired rows
///
/// A state row is back to new at `expires_at_ns` and a block is over at `until_ns`; they are
/// overwritten by the next call on their key, but otherwise stay until
/// [`cleanup`](Self::cleanup) deletes them. Run `cleanup` every minute or so, from one
/// background task per service (or `pg_cron` with the same `DELETE`s), so the tables hold
/// about one period's worth of keys.
///
/// # Timeouts and errors
///
/// Each call runs under the store's timeout ([`DEFAULT_RATELIMIT_TIMEOUT`], 2 s, unless
/// [`with_timeout`](Self::with_timeout) says otherwise): past it, or past the pool's acquire
/// timeout, or when the server cancels the statement (`statement_timeout`, `lock_timeout`),
/// the call fails with [`RateLimitError::Timeout`] (`store: "postgres"`). Connection, I/O and
/// database errors (a missing function: run [`migrate`](Self::migrate)) fail with
/// [`RateLimitError::Unavailable`] (`store: "postgres"`). Both are store failures
/// ([`RateLimitError::is_store_failure`]): a
/// [`FallbackStore`](palisade_ratelimit::FallbackStore) fails open, closed or over as you
/// chose. sqlx retries a refused connection until the pool's acquire timeout, so a server
/// that is down shows as a timeout after `min(acquire timeout, store timeout)`. A call that
/// timed out may still have been committed. Errors never carry keys, connection strings or
/// credentials.
///
/// Give the pool enough connections for the expected concurrency: every call holds one
/// connection for one statement.
#[derive(Clone)]
pub struct PostgresRateLimitStore {
    pool: PgPool,
    schema: Arc<str>,
    sql: Arc<Statements>,
    timeout: Duration,
}

impl fmt::Debug for PostgresRateLimitStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresRateLimitStore")
            .field("schema", &self.schema)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The reply of `ratelimit_apply`: the instant, the rest of a block, the decisions.
type ApplyRow = (i64, Option<i64>, Option<Vec<i64>>);

impl PostgresRateLimitStore {
    /// A store on `pool`, with its tables in the schema [`DEFAULT_SCHEMA`] (`palisade`) and
    /// [`DEFAULT_RATELIMIT_TIMEOUT`]. Connects to nothing: the first call does.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            schema: DEFAULT_SCHEMA.into(),
            sql: Arc::new(Statements::new(DEFAULT_SCHEMA)),
            timeout: DEFAULT_RATELIMIT_TIMEOUT,
        }
    }

    /// Puts the tables and functions in `schema` instead of `palisade`.
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

    /// Sets the timeout of each call (default [`DEFAULT_RATELIMIT_TIMEOUT`], 2 s).
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] for a zero timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, PostgresStoreError> {
        self.timeout = check_timeout(timeout)?;
        Ok(self)
    }

    /// The schema of the tables.
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

    /// Creates the schema, the tables, their indexes and the functions if they do not exist
    /// (`migrations/0002_ratelimit.sql`: `IF NOT EXISTS` and `CREATE OR REPLACE`). Idempotent,
    /// and safe to run from several instances at once: it runs in one transaction under a
    /// transaction-scoped advisory lock (the same as the nonce store's). Not bounded by the
    /// store's timeout.
    ///
    /// # Errors
    /// [`PostgresStoreError::Unavailable`] when the database cannot be reached or refuses
    /// (for example a role without the `CREATE` privilege on the database);
    /// [`PostgresStoreError::Timeout`] when no pooled connection came in time.
    pub async fn migrate(&self) -> Result<(), PostgresStoreError> {
        self.calls().migrate(&self.sql.migrate).await
    }

    /// Deletes expired state rows (`expires_at_ns` reached: the key's states are back to new)
    /// and expired blocks (`until_ns` reached), `batch` rows per statement, until fewer than
    /// `batch` remain in each table; returns how many rows it deleted. Each batch is
    ///
    /// ```sql
    /// DELETE FROM "<schema>".ratelimit_state
    /// WHERE (key, policy_id) IN (SELECT key, policy_id FROM "<schema>".ratelimit_state
    ///                            WHERE expires_at_ns <= now_ns
    ///                            LIMIT $1 FOR UPDATE SKIP LOCKED)
    /// AND expires_at_ns <= now_ns
    /// ```
    ///
    /// (and the same on `ratelimit_blocks` with `until_ns`), `now_ns` being the server's
    /// clock in ns: it skips rows a decision holds and never deletes a row a decision has just
    /// renewed. Deleting an expired row changes no decision. Run it every minute or so (see the
    /// type's docs); 1,000 to 10,000 is a good batch. Each batch runs under the store's
    /// timeout.
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] for a zero `batch`;
    /// [`PostgresStoreError::Unavailable`] or [`PostgresStoreError::Timeout`] as for a
    /// decision. Batches deleted before an error stay deleted.
    pub async fn cleanup(&self, batch: u32) -> Result<u64, PostgresStoreError> {
        self.calls()
            .delete_in_batches(&[&self.sql.cleanup_state, &self.sql.cleanup_blocks], batch)
            .await
    }

    /// [`apply`](RateLimitStore::apply), also returning the database instant the verdict was
    /// decided at (`clock_timestamp()`, ns since the Unix epoch, a multiple of 1,000): the
    /// verdict is the one [`MemoryStore::apply_at`](palisade_ratelimit::MemoryStore::apply_at)
    /// gives for the same call at that instant.
    ///
    /// # Errors
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 or above a limit's capacity (checked
    /// before any round trip; nothing is charged); [`RateLimitError::InvalidPolicy`] for an
    /// algorithm this store does not know; store failures
    /// ([`RateLimitError::Unavailable`], [`RateLimitError::Timeout`]) otherwise, as the type's
    /// docs describe.
    pub async fn apply_timed(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<(Verdict, Timestamp), RateLimitError> {
        policy.check_cost(cost)?;
        let mut kinds = Vec::with_capacity(policy.limits().len());
        let mut params = Vec::with_capacity(policy.limits().len() * 3);
        for limit in policy.limits() {
            let (code, p) = encode(limit)?;
            kinds.push(code);
            params.extend(p.map(bits));
        }
        let block_ns = policy.block_for().map_or(0, nanos);
        let query = sqlx::query_as::<_, ApplyRow>(AssertSqlSafe(self.sql.apply.clone()))
            .bind(key.encoded())
            .bind(bits(policy.id()))
            .bind(i64::from(cost))
            .bind(bits(block_ns))
            .bind(kinds)
            .bind(params);
        let (at, blocked, verdicts) = self.calls().run(query.fetch_one(&self.pool)).await?;
        let at = Timestamp::from_unix_nanos(unbits(at));
        if let Some(left) = blocked {
            return Ok((Verdict::blocked(Duration::from_nanos(unbits(left))), at));
        }
        let verdict = decode(policy, cost, verdicts.as_deref().unwrap_or_default())?;
        Ok((verdict, at))
    }

    /// [`block`](RateLimitStore::block), also returning the database instant it was decided
    /// at (ns since the Unix epoch): the block is the one
    /// [`MemoryStore::block_at`](palisade_ratelimit::MemoryStore::block_at) sets at that
    /// instant.
    ///
    /// # Errors
    /// Store failures, as [`apply_timed`](Self::apply_timed).
    pub async fn block_timed(
        &self,
        key: &Key,
        duration: Duration,
    ) -> Result<Timestamp, RateLimitError> {
        let query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(self.sql.block.clone()))
            .bind(key.encoded())
            .bind(bits(nanos(duration)));
        let at = self.calls().run(query.fetch_one(&self.pool)).await?;
        Ok(Timestamp::from_unix_nanos(unbits(at)))
    }

    pub(crate) fn statements(&self) -> &Statements {
        &self.sql
    }

    pub(crate) fn calls(&self) -> Calls<'_> {
        Calls {
            pool: &self.pool,
            timeout: self.timeout,
        }
    }
}

#[async_trait]
impl RateLimitStore for PostgresRateLimitStore {
    async fn apply(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        Ok(self.apply_timed(key, policy, cost).await?.0)
    }

    async fn block(&self, key: &Key, duration: Duration) -> Result<(), RateLimitError> {
        self.block_timed(key, duration).await.map(drop)
    }

    async fn unblock(&self, key: &Key) -> Result<(), RateLimitError> {
        let query = sqlx::query(AssertSqlSafe(self.sql.unblock.clone())).bind(key.encoded());
        self.calls().run(query.execute(&self.pool)).await?;
        Ok(())
    }
}

/// A limit's algorithm code ([`AlgorithmKind::code`]) and its three parameters
/// ([`Limit::parameters`]), as `ratelimit_apply` takes them: GCRA `(limit, T, τ)`; the buckets
/// `(unit, per_ns, cap)`; the windows `(limit, period, 0)`. Times in ns.
fn encode(limit: &Limit) -> Result<(i16, [u64; 3]), RateLimitError> {
    let p = limit.parameters();
    let params = match p.kind {
        AlgorithmKind::Gcra => [p.limit, p.emission_interval_nanos, p.tolerance_nanos],
        AlgorithmKind::TokenBucket | AlgorithmKind::LeakyBucket => {
            [p.bucket_unit, p.bucket_rate, p.bucket_cap]
        }
        AlgorithmKind::FixedWindow
        | AlgorithmKind::SlidingWindowLog
        | AlgorithmKind::SlidingWindowCounter => [p.limit, p.period_nanos, 0],
        _ => {
            return Err(RateLimitError::InvalidPolicy {
                reason: "an algorithm the Postgres store does not implement",
            });
        }
    };
    Ok((i16::from(p.kind.code()), params))
}

/// The verdict of the limits from `ratelimit_apply`'s four numbers per limit: admitted,
/// remaining, reset after, retry after.
fn decode(policy: &Policy, cost: u32, numbers: &[i64]) -> Result<Verdict, RateLimitError> {
    let limits = policy.limits();
    if numbers.len() != limits.len() * 4 {
        return Err(RateLimitError::Unavailable {
            store: STORE,
            reason: "unexpected reply from ratelimit_apply (has migrate() been run?)".to_owned(),
        });
    }
    let decisions = limits
        .iter()
        .zip(numbers.chunks_exact(4))
        .map(|(limit, d)| match *d {
            [allowed, remaining, reset, retry] => {
                let (quota, remaining) = (limit.quota().limit(), unbits(remaining));
                let reset = Duration::from_nanos(unbits(reset));
                if allowed == 1 {
                    Decision::allowed(quota, remaining, reset)
                } else {
                    Decision::refused(quota, remaining, reset, Duration::from_nanos(unbits(retry)))
                }
            }
            _ => Decision::default(),
        })
        .collect();
    Ok(policy.verdict_from(decisions, cost))
}

/// The 64 bits of a `u64` as the `bigint` that carries them.
pub(crate) fn bits(x: u64) -> i64 {
    i64::from_ne_bytes(x.to_ne_bytes())
}

/// The `u64` whose 64 bits a `bigint` carries.
pub(crate) fn unbits(x: i64) -> u64 {
    u64::from_ne_bytes(x.to_ne_bytes())
}

/// A duration in whole nanoseconds, saturating at `u64::MAX`.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
