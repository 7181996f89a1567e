//! [`RedisNonceStore`]: palisade-replay's [`NonceStore`] on Redis.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use palisade_replay::{
    ClaimOutcome, Freshness, LeaseToken, NonceStore, ReplayError, check_arguments, check_namespace,
    ttl_millis,
};
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Script, Value};

use crate::RedisStoreError;
use crate::client::{self, DEFAULT_TIMEOUT};

/// The default key prefix of [`RedisNonceStore`].
pub const DEFAULT_PREFIX: &str = "palisade:replay:";

/// The longest TTL stored, 100 years in milliseconds; longer TTLs are shortened to it (Redis
/// refuses an expiry that overflows its clock).
pub const MAX_TTL_MILLIS: i64 = 100 * 365 * 24 * 3_600 * 1_000;

/// The value of a completed id: what `insert_if_absent` and `complete` write.
const COMPLETED: &str = "1";

/// `lua/claim.lua`: read the key, set the in-flight value with the lease when absent.
static CLAIM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/claim.lua")));

/// `lua/release.lua`: delete the key only if it holds the claim's in-flight value.
static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/release.lua")));

/// The value of a key in flight under `token`: `p:` and the token in lowercase hex.
fn in_flight(token: LeaseToken) -> String {
    let mut value = String::with_capacity(34);
    value.push_str("p:");
    value.push_str(&hex::encode(token.as_bytes()));
    value
}

fn unexpected(what: &str) -> ReplayError {
    ReplayError::StoreUnavailable {
        reason: format!("unexpected reply to {what}"),
    }
}

/// A [`NonceStore`] on Redis (or any server speaking its protocol: Valkey, KeyDB, Dragonfly).
///
/// # Keys
///
/// One string key per id, `<prefix>{<namespace>}:<hex id>`, for example
/// `palisade:replay:{stripe:tenant-42}:6576745f31` for the id `evt_1`. The id is lowercase hex,
/// so any bytes are a valid id. The namespace sits inside a `{…}` hash tag, so every id of one
/// namespace lives on one Redis Cluster slot; to keep that tag intact, `%`, `{` and `}` in a
/// namespace are percent-escaped (`%25`, `%7B`, `%7D`), which keeps distinct namespaces
/// distinct. The prefix (default [`DEFAULT_PREFIX`]) may not contain `{` or `}`.
///
/// The value says the id's state: `1` for a completed id (recorded by `insert_if_absent` or
/// `complete`), `p:<token in lowercase hex>` (34 bytes) for a delivery in flight under a
/// [`LeaseToken`]. Every key carries a TTL, set by the command that writes it, on the server's
/// clock: the replay TTL for a completed id, the lease for a claim, so a claim that is neither
/// completed nor released disappears when its lease runs out.
///
/// # One round trip per decision
///
/// TTLs and leases are rounded up to whole milliseconds, at most [`MAX_TTL_MILLIS`].
///
/// - [`insert_if_absent`](NonceStore::insert_if_absent): `SET <key> 1 NX PX <ttl ms>`: `OK`
///   → [`Freshness::Fresh`], nil → [`Freshness::Replayed`]. Redis sets the key and its expiry
///   atomically, so racing instances get exactly one `OK`.
/// - [`remove`](NonceStore::remove): `DEL <key>`: `1` → `true`.
/// - [`claim`](NonceStore::claim): the script `lua/claim.lua` (`EVALSHA`): `GET <key>`; when
///   absent, `SET <key> p:<token> PX <lease ms>` → [`ClaimOutcome::Claimed`]; a `p:` value →
///   [`ClaimOutcome::InProgress`]; any other value → [`ClaimOutcome::Completed`]. A script runs
///   atomically, so racing claims get exactly one `Claimed`.
/// - [`complete`](NonceStore::complete): `SET <key> 1 PX <ttl ms> GET` (Redis ≥ 6.2): the key is
///   completed whatever it held, and the old value tells whether it was our claim.
/// - [`release`](NonceStore::release): the script `lua/release.lua` (`EVALSHA`): `DEL <key>`
///   only if it still holds `p:<token>` (compare-and-delete), so neither a completed id nor
///   another claim's lease is removed.
///
/// Scripts are called by SHA and sent again (`EVAL`, which loads them) when the server answers
/// `NOSCRIPT`, after a restart or a `SCRIPT FLUSH`. Each touches only its one key, so it runs
/// on Redis Cluster.
///
/// # Timeouts and errors
///
/// Each call runs under the store's timeout ([`DEFAULT_TIMEOUT`], 1 s, unless
/// [`with_timeout`](Self::with_timeout) says otherwise): past it the call fails with
/// [`ReplayError::StoreTimeout`]. Connection and I/O errors fail with
/// [`ReplayError::StoreUnavailable`]; once connected, a [`ConnectionManager`] retries a lost
/// connection with backoff, so a server that went down shows as
/// [`ReplayError::StoreTimeout`]. Callers should refuse the request on either (fail closed). A call that timed out may still have been carried out by the server: a retry of the
/// same id then answers [`Freshness::Replayed`].
///
/// The connection is any [`ConnectionLike`] that is `Clone + Send + Sync`; the URL
/// constructors build a [`ConnectionManager`], which multiplexes concurrent calls over one
/// connection and reconnects after a failure.
#[derive(Clone)]
pub struct RedisNonceStore<C = ConnectionManager> {
    conn: C,
    prefix: String,
    timeout: Duration,
}

impl<C> fmt::Debug for RedisNonceStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisNonceStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisNonceStore<ConnectionManager> {
    /// Connects to the Redis at `url` now (`redis://[user:password@]host:port/db`, or
    /// `rediss://` when the `redis` crate is built with TLS), with `timeout` as the timeout of
    /// connecting and of each call ([`DEFAULT_TIMEOUT`] is a sensible value).
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] for a URL that does not parse or a zero timeout;
    /// [`RedisStoreError::Unavailable`] when the server refuses the connection or the
    /// credentials (one plain attempt is made first, so these are reported as such);
    /// [`RedisStoreError::Timeout`] when it does not answer in time. No error quotes the URL
    /// or its credentials.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, RedisStoreError> {
        let conn = client::connect(url, timeout).await?;
        Self::new(conn).with_timeout(timeout)
    }

    /// As [`connect`](Self::connect), but connects on the first call instead of now: a server
    /// that is down at start-up then makes calls fail instead of the constructor. Must be
    /// called inside a tokio runtime.
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] for a URL that does not parse or a zero timeout.
    pub fn connect_lazy(url: &str, timeout: Duration) -> Result<Self, RedisStoreError> {
        let conn = client::connect_lazy(url, timeout)?;
        Self::new(conn).with_timeout(timeout)
    }
}

impl<C> RedisNonceStore<C>
where
    C: ConnectionLike + Clone + Send + Sync,
{
    /// A store on a connection you built (a [`ConnectionManager`] with your own
    /// configuration, a `MultiplexedConnection`, …), with [`DEFAULT_PREFIX`] and
    /// [`DEFAULT_TIMEOUT`].
    pub fn new(conn: C) -> Self {
        Self {
            conn,
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Uses `prefix` before every key instead of [`DEFAULT_PREFIX`] (to share one database
    /// between applications or test runs).
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] when `prefix` contains `{` or `}`: it would become
    /// the Redis Cluster hash tag of every key.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Result<Self, RedisStoreError> {
        self.prefix = client::check_prefix(prefix.into())?;
        Ok(self)
    }

    /// Sets the timeout of each call (default [`DEFAULT_TIMEOUT`], 1 s). A store built by
    /// [`connect`](RedisNonceStore::connect) keeps its connection's own reply timeout, the one
    /// given there: to allow longer calls, connect with the longer timeout.
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] for a zero timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, RedisStoreError> {
        self.timeout = client::check_timeout(timeout)?;
        Ok(self)
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

    /// The Redis key of `id` under `namespace`: `<prefix>{<escaped namespace>}:<hex id>`
    /// (see the type's docs for the escaping).
    pub fn key(&self, namespace: &str, id: &[u8]) -> String {
        let mut key = String::with_capacity(self.prefix.len() + namespace.len() + 3 + 2 * id.len());
        key.push_str(&self.prefix);
        key.push('{');
        for c in namespace.chars() {
            match c {
                '%' => key.push_str("%25"),
                '{' => key.push_str("%7B"),
                '}' => key.push_str("%7D"),
                c => key.push(c),
            }
        }
        key.push_str("}:");
        key.push_str(&hex::encode(id));
        key
    }
}

#[async_trait]
impl<C> NonceStore for RedisNonceStore<C>
where
    C: ConnectionLike + Clone + Send + Sync,
{
    async fn insert_if_absent(
        &self,
        namespace: &str,
        id: &[u8],
        ttl: Duration,
    ) -> Result<Freshness, ReplayError> {
        check_arguments(namespace, ttl)?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(namespace, id))
            .arg(COMPLETED)
            .arg("NX")
            .arg("PX")
            .arg(ttl_millis(ttl).min(MAX_TTL_MILLIS));
        let mut conn = self.conn.clone();
        let reply: Value = client::call(self.timeout, cmd.query_async(&mut conn)).await?;
        match reply {
            Value::Okay => Ok(Freshness::Fresh),
            Value::SimpleString(s) if s == "OK" => Ok(Freshness::Fresh),
            Value::Nil => Ok(Freshness::Replayed),
            _ => Err(ReplayError::StoreUnavailable {
                reason: "unexpected reply to SET NX PX".to_owned(),
            }),
        }
    }

    async fn remove(&self, namespace: &str, id: &[u8]) -> Result<bool, ReplayError> {
        check_namespace(namespace)?;
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(namespace, id));
        let mut conn = self.conn.clone();
        let removed: i64 = client::call(self.timeout, cmd.query_async(&mut conn)).await?;
        Ok(removed == 1)
    }

    async fn claim(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
        lease: Duration,
    ) -> Result<ClaimOutcome, ReplayError> {
        check_arguments(namespace, lease)?;
        let mut inv = CLAIM.prepare_invoke();
        inv.key(self.key(namespace, id))
            .arg(in_flight(token))
            .arg(ttl_millis(lease).min(MAX_TTL_MILLIS));
        let mut conn = self.conn.clone();
        let reply: Value = client::call(self.timeout, inv.invoke_async(&mut conn)).await?;
        match reply {
            Value::Int(0) => Ok(ClaimOutcome::Claimed),
            Value::Int(1) => Ok(ClaimOutcome::InProgress),
            Value::Int(2) => Ok(ClaimOutcome::Completed),
            _ => Err(unexpected("the claim script")),
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
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(namespace, id))
            .arg(COMPLETED)
            .arg("PX")
            .arg(ttl_millis(ttl).min(MAX_TTL_MILLIS))
            .arg("GET");
        let mut conn = self.conn.clone();
        let reply: Value = client::call(self.timeout, cmd.query_async(&mut conn)).await?;
        match reply {
            Value::Nil => Ok(false),
            Value::BulkString(old) => Ok(old == in_flight(token).as_bytes()),
            _ => Err(unexpected("SET PX GET")),
        }
    }

    async fn release(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
    ) -> Result<bool, ReplayError> {
        check_namespace(namespace)?;
        let mut inv = RELEASE.prepare_invoke();
        inv.key(self.key(namespace, id)).arg(in_flight(token));
        let mut conn = self.conn.clone();
        let removed: i64 = client::call(self.timeout, inv.invoke_async(&mut conn)).await?;
        Ok(removed == 1)
    }
}
