//! [`RedisNonceStore`]: palisade-replay's [`NonceStore`] on Redis.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use palisade_replay::{Freshness, NonceStore, ReplayError, check_arguments, ttl_millis};
use redis::Value;
use redis::aio::{ConnectionLike, ConnectionManager};

use crate::RedisStoreError;
use crate::client::{self, DEFAULT_TIMEOUT};

/// The default key prefix of [`RedisNonceStore`].
pub const DEFAULT_PREFIX: &str = "palisade:replay:";

/// The longest TTL stored, 100 years in milliseconds; longer TTLs are shortened to it (Redis
/// refuses an expiry that overflows its clock).
pub const MAX_TTL_MILLIS: i64 = 100 * 365 * 24 * 3_600 * 1_000;

/// A [`NonceStore`] on Redis (or any server speaking its protocol: Valkey, KeyDB, Dragonfly).
///
/// # Keys
///
/// One string key per id, `<prefix>{<namespace>}:<hex id>` with value `1`, for example
/// `palisade:replay:{stripe:tenant-42}:6576745f31` for the id `evt_1`. The id is lowercase hex,
/// so any bytes are a valid id. The namespace sits inside a `{…}` hash tag, so every id of one
/// namespace lives on one Redis Cluster slot; to keep that tag intact, `%`, `{` and `}` in a
/// namespace are percent-escaped (`%25`, `%7B`, `%7D`), which keeps distinct namespaces
/// distinct. The prefix (default [`DEFAULT_PREFIX`]) may not contain `{` or `}`.
///
/// # One command per decision
///
/// - [`insert_if_absent`](NonceStore::insert_if_absent): `SET <key> 1 NX PX <ttl ms>` (the
///   TTL rounded up to whole milliseconds, at most [`MAX_TTL_MILLIS`]): `OK`
///   → [`Freshness::Fresh`], nil → [`Freshness::Replayed`]. Redis sets the key and its expiry
///   atomically, on the server's clock, so every key carries a TTL and racing instances get
///   exactly one `OK`.
/// - [`remove`](NonceStore::remove): `DEL <key>`: `1` → `true`.
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
            .arg(1)
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
        if namespace.is_empty() {
            return Err(ReplayError::InvalidConfig {
                reason: "empty namespace",
            });
        }
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(namespace, id));
        let mut conn = self.conn.clone();
        let removed: i64 = client::call(self.timeout, cmd.query_async(&mut conn)).await?;
        Ok(removed == 1)
    }
}
