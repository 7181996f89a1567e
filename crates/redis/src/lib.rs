//! Redis stores for the palisade crates: one atomic command per decision, on the server's
//! clock, with a timeout on every call.
//!
//! ```no_run
//! # #[cfg(feature = "replay")]
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use palisade_redis::{DEFAULT_TIMEOUT, RedisNonceStore};
//! use palisade_replay::{Freshness, NonceStore};
//!
//! // Needs a Redis server: `redis-server --port 6379`.
//! let store = RedisNonceStore::connect("redis://127.0.0.1:6379/", DEFAULT_TIMEOUT).await?;
//! let ttl = Duration::from_secs(300);
//! assert_eq!(store.insert_if_absent("stripe", b"evt_1", ttl).await?, Freshness::Fresh);
//! assert_eq!(store.insert_if_absent("stripe", b"evt_1", ttl).await?, Freshness::Replayed);
//!
//! // Shared by every instance of the service, e.g. behind a `ReplayGuard`:
//! let guard = palisade_replay::ReplayGuard::new(Arc::new(store));
//! # let _ = guard;
//! # Ok(())
//! # }
//! ```
//!
//! # Stores
//!
//! | feature | type | trait | command per decision |
//! |---|---|---|---|
//! | `replay` (default) | [`RedisNonceStore`] | [`palisade_replay::NonceStore`] | `insert_if_absent`: `SET <key> 1 NX PX <ttl ms>`; `claim`: a Lua script (`EVALSHA`: `GET`, then `SET <key> p:<token> PX <lease ms>` when absent); `complete`: `SET <key> 1 PX <ttl ms> GET`; `release`: a Lua compare-and-delete (`GET`, `DEL`) |
//! | `ratelimit` (default) | [`RedisRateLimitStore`] | [`palisade_ratelimit::RateLimitStore`] | one Lua script per algorithm (`EVALSHA`): `TIME`, `MGET` of the block and the state, decide, `SET … PX` on admission |
//!
//! Every store passes its trait's conformance suite (for example `palisade_replay::testing`)
//! against a real server in this crate's tests.
//!
//! # Connections
//!
//! Stores take any [`redis::aio::ConnectionLike`] that is `Clone + Send + Sync`. The URL
//! constructors build a [`redis::aio::ConnectionManager`]: one multiplexed connection that
//! reconnects by itself, with connection and reply timeouts equal to the store's timeout.
//! Errors never quote the URL or its credentials.
//!
//! # Redis Cluster
//!
//! [`connect_cluster`] connects to a Redis Cluster from a few seed nodes; every store takes
//! the connection it returns (`RedisNonceStore::new(conn)`). Each store's keys carry a `{…}`
//! hash tag, so every command or script of one decision touches a single slot, and different
//! namespaces and keys spread over the masters.
//!
//! # Durability
//!
//! A Redis without persistence (no AOF, no RDB snapshots) forgets every key when it restarts,
//! and so forgets which ids it has seen: requests captured before the restart can be replayed
//! until their signed timestamps leave the replay window. `docs/threat-model/stores.md`
//! in the repository says more.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Without a store feature only the connection helpers and the error type are left, unused.
#![cfg_attr(not(any(feature = "replay", feature = "ratelimit")), allow(dead_code))]

mod client;
mod error;
#[cfg(feature = "ratelimit")]
mod ratelimit;
#[cfg(feature = "replay")]
mod replay;

pub use client::{DEFAULT_TIMEOUT, connect_cluster};
pub use error::RedisStoreError;
#[cfg(feature = "ratelimit")]
pub use ratelimit::{DEFAULT_RATELIMIT_PREFIX, MAX_EXACT, RedisRateLimitStore};
/// The `redis` crate this one is built on, for building connections.
pub use redis;
#[cfg(feature = "replay")]
pub use replay::{DEFAULT_PREFIX, MAX_TTL_MILLIS, RedisNonceStore};
