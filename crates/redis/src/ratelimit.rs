//! [`RedisRateLimitStore`]: palisade-ratelimit's [`RateLimitStore`] on Redis, one Lua script
//! per decision.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use palisade_ratelimit::{AlgorithmKind, Key, Limit, Policy, Quota, RateLimitStore};
//! use palisade_redis::{DEFAULT_TIMEOUT, RedisRateLimitStore};
//!
//! // Needs a Redis server: `redis-server --port 6379`.
//! let store = RedisRateLimitStore::connect("redis://127.0.0.1:6379/", DEFAULT_TIMEOUT).await?;
//! // 10 per second (GCRA) and 1,000 per day (a fixed window on UTC days); refused once:
//! // blocked for a minute.
//! let policy = Policy::new([
//!     Limit::gcra("per-second", Quota::per_second(10)?)?,
//!     Limit::new("per-day", AlgorithmKind::FixedWindow, Quota::per_day(1_000)?)?,
//! ])?
//! .with_block(Duration::from_secs(60));
//!
//! let key = Key::from("client-42");
//! let verdict = store.check(&key, &policy, 1).await?;
//! assert!(verdict.is_allowed());
//!
//! // The verdict and the Redis time it was decided at (ns since the epoch):
//! let (verdict, at) = store.apply_timed(&key, &policy, 1).await?;
//! # let _ = (verdict, at);
//!
//! // Shared by every instance of the service, as a trait object:
//! let shared: Arc<dyn RateLimitStore> = Arc::new(store);
//! # let _ = shared;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use palisade_ratelimit::{
    AlgorithmKind, Cause, Decision, Key, Limit, Policy, RateLimitError, RateLimitStore, Timestamp,
    Verdict,
};
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Script, Value};

use crate::RedisStoreError;
use crate::client::{self, DEFAULT_TIMEOUT};
use crate::coalesce::{Call, Coalescer, Coalescing, invoke};
#[cfg(doc)]
use crate::coalesce::{IN_FLIGHT, MAX_BATCH};

/// The default key prefix of [`RedisRateLimitStore`].
pub const DEFAULT_RATELIMIT_PREFIX: &str = "palisade:ratelimit:";

/// The bound (exclusive) on every time and count the scripts compute with: 2⁵² (about
/// 52.1 days in nanoseconds). Lua numbers are doubles, exact for integers below 2⁵³.
pub const MAX_EXACT: u64 = 1 << 52;

const E9: u64 = 1_000_000_000;

/// The Lua sources: a prelude (helpers, `TIME`), one function per algorithm, a driver.
macro_rules! lua {
    ($($file:literal),*) => {
        concat!($(include_str!(concat!("../lua/", $file)), "\n"),*)
    };
}

/// The prelude, every algorithm and `decide`, then `driver`: for policies that mix
/// algorithms (`driver.lua`) and for coalesced decisions of any policies (`batch.lua`).
macro_rules! every_algorithm {
    ($driver:literal) => {
        lua!(
            "prelude.lua",
            "modular.lua",
            "gcra.lua",
            "token_bucket.lua",
            "leaky_bucket.lua",
            "fixed_window.lua",
            "sliding_log.lua",
            "sliding_counter.lua",
            "decide.lua",
            $driver
        )
    };
}

/// The scripts, built (and hashed) once per process.
struct Scripts {
    gcra: Script,
    token_bucket: Script,
    leaky_bucket: Script,
    fixed_window: Script,
    sliding_log: Script,
    sliding_counter: Script,
    /// Every algorithm, for policies that mix them.
    combined: Script,
    block: Script,
    /// Coalesced decisions of any policies ([`Coalescing`]).
    pub(crate) batch: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    gcra: Script::new(lua!("prelude.lua", "gcra.lua", "decide.lua", "driver.lua")),
    token_bucket: Script::new(lua!(
        "prelude.lua",
        "token_bucket.lua",
        "decide.lua",
        "driver.lua"
    )),
    leaky_bucket: Script::new(lua!(
        "prelude.lua",
        "leaky_bucket.lua",
        "decide.lua",
        "driver.lua"
    )),
    fixed_window: Script::new(lua!(
        "prelude.lua",
        "modular.lua",
        "fixed_window.lua",
        "decide.lua",
        "driver.lua"
    )),
    sliding_log: Script::new(lua!(
        "prelude.lua",
        "sliding_log.lua",
        "decide.lua",
        "driver.lua"
    )),
    sliding_counter: Script::new(lua!(
        "prelude.lua",
        "modular.lua",
        "sliding_counter.lua",
        "decide.lua",
        "driver.lua"
    )),
    combined: Script::new(every_algorithm!("driver.lua")),
    block: Script::new(lua!("prelude.lua", "block.lua")),
    batch: Script::new(every_algorithm!("batch.lua")),
});

/// A [`RateLimitStore`] on Redis (or a server speaking its protocol and its Lua: Valkey,
/// KeyDB), deciding with the server's clock (`TIME`), one script call per decision.
///
/// # Same decisions as the memory store
///
/// For any sequence of calls, [`apply`](RateLimitStore::apply) returns the [`Verdict`] that
/// `palisade_ratelimit::MemoryStore::apply_at` returns for the same calls at the same instants,
/// to the nanosecond, where each instant is the Redis `TIME` of the call (seconds and
/// microseconds, as ns since the epoch; [`apply_timed`](Self::apply_timed) returns it). The
/// order is the trait's: a blocked key is refused and nothing is charged; otherwise every limit
/// decides and either all are charged or none ([`Policy::apply`]); a refusal by the limits with
/// [`Policy::block_for`] set blocks the key (extending, never shortening, a block in place).
///
/// # Keys
///
/// With `<key>` the lowercase hex of [`Key::encoded`] ([`Key::to_hex`]) and `<policy>` the
/// [`Policy::id`] as 16 lowercase hex digits:
///
/// - `<prefix>{<key>}:<policy>`: a string, the states of the policy's limits in order,
///   separated by `|`, each as text, with absolute instants as decimal nanoseconds since the epoch (the numbers of
///   [`State`](palisade_ratelimit::State)'s fields): GCRA `<tat>`; token bucket
///   `<tokens> <last>`; leaky bucket `<level> <last>` (tokens and level in the scaled units
///   of the rate); fixed window `<window start> <count>`; sliding window log
///   `<at>:<cost>,…` (oldest first, admissions at one instant merged); sliding window counter
///   `<window start> <current> <previous>`.
/// - `<prefix>{<key>}:block`: a string, the end of the key's block in decimal ns since the
///   epoch.
///
/// - `<prefix>blocks`: a sorted set, the index of the penalty box: every blocked key's hex,
///   scored by the end of its block in ms since the epoch (rounded up), for
///   [`PenaltyBox`](palisade_ratelimit::PenaltyBox) (listing, release, blocks that ended).
///   It is written after the block (`ZADD … GT`, one more command when a key is blocked, none
///   while it stays blocked): best effort after a penalty (a failed write hides the block from
///   the listing, never lifts it), an error after an explicit [`block`](RateLimitStore::block).
///
/// Both keys of a rate-limit key share the hash tag `{<key>}`, so each script touches one Redis
/// Cluster slot: the store works unchanged on a `redis::cluster_async::ClusterConnection`. The
/// prefix (default [`DEFAULT_RATELIMIT_PREFIX`]) may not contain `{` or `}`.
///
/// Every key written carries a TTL (`PX`, in milliseconds rounded up, at least 1), set by the
/// same `SET` that writes it: the state until its newest state is indistinguishable from a new one
/// ([`Limit::expires_at`]), the block until its end (at most 100 years). States are written
/// only when the request is admitted; a refusal writes nothing but a penalty block.
///
/// # Scripts
///
/// The Lua sources are in the crate's `lua/` directory: a prelude (helpers and the server's
/// clock), one function per algorithm, `decide` (`lua/decide.lua`: reads the block and the
/// state with one `MGET`, decides, and writes with one `SET … PX` when admitted) and a driver
/// (`lua/driver.lua`, one decision per call: three Redis commands with `TIME`). With
/// [`with_coalescing`](Self::with_coalescing), decisions that wait at the same time run in one
/// call of `lua/batch.lua` (every algorithm, one `TIME`, then `decide` for each). A policy whose limits share one algorithm runs that algorithm's script
/// (prelude + algorithm + driver); a policy mixing algorithms runs the combined script.
/// [`block`](RateLimitStore::block) runs a script of its own (a compare, then `SET … PX`);
/// [`unblock`](RateLimitStore::unblock) is `DEL` of the block, then `ZREM` from the index. Scripts are called by SHA (`EVALSHA`) and
/// sent again (`EVAL`, which loads them) when the server answers `NOSCRIPT`, after a restart
/// or a `SCRIPT FLUSH`.
///
/// # Precision
///
/// Lua numbers are doubles, exact for integers below 2⁵³. The scripts keep absolute instants
/// as decimal strings and compute relative to now, in nanoseconds, so every quantity stays
/// below 2⁵³ when each of these is below [`MAX_EXACT`] (2⁵², about 52.1 days in ns): a
/// limit's `limit` and capacity; a window's period; GCRA's tolerance `burst × ⌈period /
/// limit⌉`; a bucket's capacity in scaled units `burst × period / gcd(period, limit)`. Other
/// limits are refused with [`RateLimitError::InvalidQuota`] before any round trip. Blocks of
/// any length are kept exactly (their TTL is capped at 100 years).
///
/// # Timeouts and errors
///
/// Each call runs under the store's timeout ([`DEFAULT_TIMEOUT`], 1 s, unless
/// [`with_timeout`](Self::with_timeout) says otherwise). Store failures, on which a
/// `FallbackStore` acts: [`RateLimitError::Timeout`] (`store: "redis"`) past the timeout;
/// [`RateLimitError::Unavailable`] (`store: "redis"`) for connection and server errors, with a
/// reason beginning `script:` when a script failed or answered with an unexpected reply. A call
/// that timed out may still have been carried out. Caller errors, before any round trip:
/// [`RateLimitError::InvalidCost`] (cost 0 or above a limit's capacity) and
/// [`RateLimitError::InvalidQuota`] (see Precision). No error quotes a key, a URL or
/// credentials.
#[derive(Clone)]
pub struct RedisRateLimitStore<C = ConnectionManager> {
    conn: C,
    prefix: String,
    timeout: Duration,
    coalescing: Coalescing,
    /// The queue of coalesced decisions, shared by the store's clones (`None` when off).
    coalescer: Option<Arc<Coalescer<C>>>,
}

impl<C> fmt::Debug for RedisRateLimitStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimitStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("coalescing", &self.coalescing)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimitStore<ConnectionManager> {
    /// Connects to the Redis at `url` now (`redis://[user:password@]host:port/db`), with
    /// `timeout` as the timeout of connecting and of each call ([`DEFAULT_TIMEOUT`] is a
    /// sensible value).
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] for a URL that does not parse or a zero timeout;
    /// [`RedisStoreError::Unavailable`] when the server refuses the connection or the
    /// credentials; [`RedisStoreError::Timeout`] when it does not answer in time. No error
    /// quotes the URL or its credentials.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, RedisStoreError> {
        let conn = client::connect(url, timeout).await?;
        Self::new(conn).with_timeout(timeout)
    }

    /// As [`connect`](Self::connect), but connects on the first call instead of now. Must be
    /// called inside a tokio runtime.
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] for a URL that does not parse or a zero timeout.
    pub fn connect_lazy(url: &str, timeout: Duration) -> Result<Self, RedisStoreError> {
        let conn = client::connect_lazy(url, timeout)?;
        Self::new(conn).with_timeout(timeout)
    }
}

impl<C> RedisRateLimitStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// A store on a connection you built (a [`ConnectionManager`], a `MultiplexedConnection`,
    /// a `ClusterConnection`, …), with [`DEFAULT_RATELIMIT_PREFIX`] and [`DEFAULT_TIMEOUT`].
    pub fn new(conn: C) -> Self {
        Self {
            conn,
            prefix: DEFAULT_RATELIMIT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            coalescing: Coalescing::Off,
            coalescer: None,
        }
    }

    /// Uses `prefix` before every key instead of [`DEFAULT_RATELIMIT_PREFIX`].
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] when `prefix` contains `{` or `}`: it would become
    /// the Redis Cluster hash tag of every key.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Result<Self, RedisStoreError> {
        self.prefix = client::check_prefix(prefix.into())?;
        Ok(self)
    }

    /// Sets the timeout of each call (default [`DEFAULT_TIMEOUT`], 1 s).
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] for a zero timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, RedisStoreError> {
        self.timeout = client::check_timeout(timeout)?;
        let coalescing = self.coalescing;
        Ok(self.with_coalescing(coalescing))
    }

    /// Sends the decisions that wait for the server at the same time as one script call
    /// ([`Coalescing::Standalone`], for a standalone Redis) or one per Redis Cluster slot
    /// ([`Coalescing::PerSlot`]), instead of one call per decision ([`Coalescing::Off`], the
    /// default).
    ///
    /// Each decision stays atomic and independent, with the verdict it would have alone at
    /// the server instant of its call ([`apply_timed`](Self::apply_timed) returns it): the
    /// decisions of one call run one after the other at one `TIME`. A lone decision is sent at
    /// once in a call of its own; only decisions that would otherwise queue behind calls in
    /// flight are coalesced (at most [`IN_FLIGHT`] calls in flight per store and its clones,
    /// at most [`MAX_BATCH`] decisions per call). On a standalone server this takes the
    /// per-call work (the `EVALSHA` round, `TIME`, the script's set-up, the client's request
    /// and reply) off every decision but one per call: `docs/benchmarks.md` measures about
    /// twice the decisions per second at 50 in flight. [`block`](RateLimitStore::block),
    /// [`unblock`](RateLimitStore::unblock) and the penalty box are never coalesced.
    ///
    /// Why it is an option and not the default: a failed call (a timeout, a lost connection,
    /// a script error) fails every decision in it, where one call per decision fails one; a
    /// store on a `ClusterConnection` must not use [`Coalescing::Standalone`]
    /// (`CROSSSLOT`), and [`Coalescing::PerSlot`] only helps with hot keys. The coalescing
    /// task is spawned on the tokio runtime of the first coalesced call; with no runtime
    /// running, or after that runtime shut down, decisions are sent one per call.
    pub fn with_coalescing(mut self, coalescing: Coalescing) -> Self {
        self.coalescing = coalescing;
        self.coalescer = (coalescing != Coalescing::Off)
            .then(|| Arc::new(Coalescer::new(self.conn.clone(), self.timeout, coalescing)));
        self
    }

    /// How decisions waiting at the same time are sent ([`with_coalescing`](Self::with_coalescing)).
    pub fn coalescing(&self) -> Coalescing {
        self.coalescing
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The timeout of each call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connection the store uses.
    pub fn connection(&self) -> &C {
        &self.conn
    }

    /// The Redis key of `key`'s states under `policy`: `<prefix>{<key hex>}:<policy id, 16
    /// hex digits>`.
    pub fn state_key(&self, key: &Key, policy: &Policy) -> String {
        format!("{}{{{}}}:{:016x}", self.prefix, key.to_hex(), policy.id())
    }

    /// The Redis key of `key`'s block: `<prefix>{<key hex>}:block`.
    pub fn block_key(&self, key: &Key) -> String {
        format!("{}{{{}}}:block", self.prefix, key.to_hex())
    }

    /// [`apply`](RateLimitStore::apply), also returning the Redis server time the verdict was
    /// decided at (`TIME`: ns since the epoch, a multiple of 1,000).
    ///
    /// # Errors
    /// As [`apply`](RateLimitStore::apply): [`RateLimitError::InvalidQuota`] and
    /// [`RateLimitError::InvalidCost`] before any round trip, store failures after.
    pub async fn apply_timed(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<(Verdict, Timestamp), RateLimitError> {
        let params = policy
            .limits()
            .iter()
            .map(params)
            .collect::<Result<Vec<_>, _>>()?;
        policy.check_cost(cost)?;
        let call = Call {
            script: script_for(policy),
            state_key: self.state_key(key, policy),
            block_key: self.block_key(key),
            cost,
            block_ns: policy.block_for().map_or(0, nanos),
            params,
        };
        let (at, numbers) = match &self.coalescer {
            Some(coalescer) => {
                match tokio::time::timeout(self.timeout, coalescer.submit(call)).await {
                    Ok(Ok(reply)) => reply?,
                    Ok(Err(call)) => self.alone(&call).await?,
                    Err(_) => {
                        return Err(RedisStoreError::Timeout {
                            millis: client::millis(self.timeout),
                        }
                        .into());
                    }
                }
            }
            None => self.alone(&call).await?,
        };
        let verdict = match numbers.as_slice() {
            [1, secs, sub] => {
                let secs = unsigned(*secs)?;
                let sub = u32::try_from(*sub).map_err(|_| unexpected())?;
                Verdict::blocked(Duration::new(secs, sub))
            }
            [0, decisions @ ..] => verdict_of(policy, cost, decisions)?,
            _ => return Err(unexpected()),
        };
        // A refusal under a penalty blocked the key (or left a longer block in place): list
        // it in the index of blocks. Best effort: the block holds whether or not this write
        // succeeds, and a failed one only hides it from `PenaltyBox::blocks`.
        if let Some(block) = policy.block_for()
            && verdict.cause() == Cause::Limited
        {
            let _ = self.index_block(key, at.saturating_add(block)).await;
        }
        Ok((verdict, at))
    }

    /// [`block`](RateLimitStore::block), also returning the Redis server time the block was
    /// counted from (`TIME`: ns since the epoch).
    ///
    /// # Errors
    /// Store failures.
    pub async fn block_timed(
        &self,
        key: &Key,
        duration: Duration,
    ) -> Result<Timestamp, RateLimitError> {
        let mut inv = SCRIPTS.block.prepare_invoke();
        inv.key(self.block_key(key))
            .arg(nanos(duration).to_string());
        let mut conn = self.conn.clone();
        let reply: Value = self.run(inv.invoke_async(&mut conn)).await?;
        let reply = integers(reply)?;
        match time_of(&reply)? {
            (at, []) => {
                self.index_block(key, at.saturating_add(duration)).await?;
                Ok(at)
            }
            _ => Err(unexpected()),
        }
    }

    /// One decision in a script call of its own: the server instant and the decision's
    /// numbers.
    async fn alone(&self, call: &Call) -> Result<(Timestamp, Vec<i64>), RateLimitError> {
        let cmd = call.alone();
        let mut conn = self.conn.clone();
        let reply = self.run(invoke(call.script, &cmd, &mut conn)).await?;
        let reply = integers(reply)?;
        let (at, rest) = time_of(&reply)?;
        Ok((at, rest.to_vec()))
    }

    /// Runs a script call under the timeout ([`client::call_script`]).
    async fn run<T>(
        &self,
        fut: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, RedisStoreError> {
        client::call_script(self.timeout, fut).await
    }
}

#[async_trait]
impl<C> RateLimitStore for RedisRateLimitStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn apply(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        self.apply_timed(key, policy, cost).await.map(|(v, _)| v)
    }

    async fn block(&self, key: &Key, duration: Duration) -> Result<(), RateLimitError> {
        self.block_timed(key, duration).await.map(|_| ())
    }

    async fn unblock(&self, key: &Key) -> Result<(), RateLimitError> {
        palisade_ratelimit::PenaltyBox::release(self, key)
            .await
            .map(|_| ())
    }
}

/// A limit's parameters as the scripts take them: an algorithm code and four integers.
type Params = [u64; 5];

const TOO_LARGE: RateLimitError = RateLimitError::InvalidQuota {
    reason: "too large for the Redis store: limit, capacity, period, GCRA tolerance and bucket \
             capacity in scaled units must each be below 2^52 (about 52 days in ns)",
};

/// Checks the precision bound and prepares a limit's parameters ([`Limit::parameters`]):
/// GCRA `(limit, T, τ)`, buckets `(limit, unit, per_ns, cap)`, windows `(limit, period)`.
fn params(limit: &Limit) -> Result<Params, RateLimitError> {
    let p = limit.parameters();
    let bounded = |x: u64| if x < MAX_EXACT { Ok(x) } else { Err(TOO_LARGE) };
    bounded(p.limit)?;
    bounded(p.capacity)?;
    let code = u64::from(p.kind.code());
    Ok(match p.kind {
        AlgorithmKind::Gcra => [
            code,
            p.limit,
            p.emission_interval_nanos,
            bounded(p.tolerance_nanos)?,
            0,
        ],
        AlgorithmKind::TokenBucket | AlgorithmKind::LeakyBucket => [
            code,
            p.limit,
            p.bucket_unit,
            p.bucket_rate,
            bounded(p.bucket_cap)?,
        ],
        _ => [code, p.limit, bounded(p.period_nanos)?, 0, 0],
    })
}

/// The script of one algorithm when every limit shares it, else the combined one.
fn script_for(policy: &Policy) -> &'static Script {
    let s = &*SCRIPTS;
    let mut kinds = policy.limits().iter().map(Limit::kind);
    let Some(first) = kinds.next() else {
        return &s.combined;
    };
    if !kinds.all(|k| k == first) {
        return &s.combined;
    }
    match first {
        AlgorithmKind::Gcra => &s.gcra,
        AlgorithmKind::TokenBucket => &s.token_bucket,
        AlgorithmKind::LeakyBucket => &s.leaky_bucket,
        AlgorithmKind::FixedWindow => &s.fixed_window,
        AlgorithmKind::SlidingWindowLog => &s.sliding_log,
        AlgorithmKind::SlidingWindowCounter => &s.sliding_counter,
        _ => &s.combined,
    }
}

/// The verdict of the limits' decisions, `[allowed, remaining, reset ns, retry ns]` per limit,
/// as [`Policy::apply`] builds it.
fn verdict_of(policy: &Policy, cost: u32, raw: &[i64]) -> Result<Verdict, RateLimitError> {
    let limits = policy.limits();
    if raw.len() != 4 * limits.len() {
        return Err(unexpected());
    }
    let mut decisions = Vec::with_capacity(limits.len());
    for (limit, d) in limits.iter().zip(raw.chunks_exact(4)) {
        let [allowed, remaining, reset, retry] =
            <[i64; 4]>::try_from(d).map_err(|_| unexpected())?;
        let (lim, remaining) = (limit.quota().limit(), unsigned(remaining)?);
        let reset = Duration::from_nanos(unsigned(reset)?);
        decisions.push(match allowed {
            1 => Decision::allowed(lim, remaining, reset),
            0 => Decision::refused(
                lim,
                remaining,
                reset,
                Duration::from_nanos(unsigned(retry)?),
            ),
            _ => return Err(unexpected()),
        });
    }
    Ok(policy.verdict_from(decisions, cost))
}

/// The script of coalesced decisions ([`Coalescing`]).
pub(crate) fn batch_script() -> &'static Script {
    &SCRIPTS.batch
}

/// The reply as integers.
pub(crate) fn integers(reply: Value) -> Result<Vec<i64>, RateLimitError> {
    let Value::Array(items) = reply else {
        return Err(unexpected());
    };
    items
        .into_iter()
        .map(|v| match v {
            Value::Int(i) => Ok(i),
            _ => Err(unexpected()),
        })
        .collect()
}

/// The leading `TIME` (seconds, microseconds) of a reply as a timestamp, and the rest.
pub(crate) fn time_of(reply: &[i64]) -> Result<(Timestamp, &[i64]), RateLimitError> {
    let [secs, micros, rest @ ..] = reply else {
        return Err(unexpected());
    };
    let (secs, micros) = (unsigned(*secs)?, unsigned(*micros)?);
    if micros >= 1_000_000 {
        return Err(unexpected());
    }
    let ns = secs
        .checked_mul(E9)
        .and_then(|s| s.checked_add(micros * 1_000))
        .ok_or_else(unexpected)?;
    Ok((Timestamp::from_unix_nanos(ns), rest))
}

fn unsigned(x: i64) -> Result<u64, RateLimitError> {
    u64::try_from(x).map_err(|_| unexpected())
}

pub(crate) fn unexpected() -> RateLimitError {
    RedisStoreError::Script {
        reason: "unexpected reply".to_owned(),
    }
    .into()
}

/// `d` in ns, saturating at `u64::MAX`.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_ratelimit::Quota;

    #[test]
    fn scripts_are_distinct() {
        let s = &*SCRIPTS;
        let all = [
            &s.gcra,
            &s.token_bucket,
            &s.leaky_bucket,
            &s.fixed_window,
            &s.sliding_log,
            &s.sliding_counter,
            &s.combined,
            &s.block,
            &s.batch,
        ];
        let hashes: std::collections::HashSet<_> = all.iter().map(|s| s.get_hash()).collect();
        assert_eq!(hashes.len(), all.len());
    }

    #[test]
    fn precision_bound_is_enforced() {
        let day = Duration::from_secs(86_400);
        let window = |period| {
            params(
                &Limit::new(
                    "w",
                    AlgorithmKind::FixedWindow,
                    Quota::new(5, period).unwrap(),
                )
                .unwrap(),
            )
        };
        assert!(window(day * 52).is_ok());
        assert_eq!(window(day * 53), Err(TOO_LARGE));
        // GCRA: tolerance = burst × ⌈period / limit⌉.
        let gcra = |limit, period, burst| {
            let q = Quota::new(limit, period)
                .unwrap()
                .with_burst(burst)
                .unwrap();
            params(&Limit::gcra("g", q).unwrap())
        };
        assert!(gcra(10, day * 10, 50).is_ok());
        assert_eq!(gcra(10, day * 10, 100), Err(TOO_LARGE));
        assert_eq!(gcra(MAX_EXACT, day, 1), Err(TOO_LARGE));
        // Buckets: capacity in scaled units = burst × period / gcd(period, limit).
        let bucket = |limit, period| {
            let q = Quota::new(limit, period).unwrap();
            params(&Limit::new("b", AlgorithmKind::TokenBucket, q).unwrap())
        };
        assert_eq!(
            bucket(7, Duration::from_millis(900)),
            Ok([2, 7, 900_000_000, 7, 6_300_000_000])
        );
        assert!(bucket(1_000_000, day * 40).is_ok()); // unit = period / limit
        assert_eq!(bucket(7, day * 40), Err(TOO_LARGE)); // unit = period, cap = 7 × period
    }
}
