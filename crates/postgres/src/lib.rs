//! PostgreSQL stores for the palisade crates: one statement per decision, on the database
//! clock, with tables created by shipped, idempotent migrations.
//!
//! ```no_run
//! # #[cfg(feature = "replay")]
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use palisade_postgres::PostgresNonceStore;
//! use palisade_postgres::sqlx::postgres::PgPoolOptions;
//! use palisade_replay::{Freshness, NonceStore};
//!
//! // Needs a PostgreSQL server.
//! let pool = PgPoolOptions::new()
//!     .max_connections(16)
//!     .acquire_timeout(Duration::from_secs(2))
//!     .connect("postgres://postgres@127.0.0.1:5432/test")
//!     .await?;
//! let store = PostgresNonceStore::new(pool).with_schema("palisade")?;
//! store.migrate().await?; // CREATE SCHEMA / TABLE / INDEX, ADD COLUMN IF NOT EXISTS
//!
//! let ttl = Duration::from_secs(300);
//! assert_eq!(store.insert_if_absent("stripe", b"evt_1", ttl).await?, Freshness::Fresh);
//! assert_eq!(store.insert_if_absent("stripe", b"evt_1", ttl).await?, Freshness::Replayed);
//!
//! // Every minute or so, from one background task (or pg_cron):
//! let deleted = store.cleanup(5_000).await?;
//! # let _ = deleted;
//! # Ok(())
//! # }
//! ```
//!
//! # Stores
//!
//! | feature | type | trait | statement per decision |
//! |---|---|---|---|
//! | `replay` (default) | [`PostgresNonceStore`] | [`palisade_replay::NonceStore`] | `insert_if_absent`: `INSERT … ON CONFLICT … DO UPDATE … WHERE expired`; `claim`: `INSERT … ON CONFLICT … DO UPDATE` taking over only an expired row, `RETURNING` the locked row's token; `complete`: an upsert to completed, comparing the prior row's token (a CTE); `release`: `DELETE … WHERE lease_token = $token AND unexpired` |
//! | `ratelimit` (default) | [`PostgresRateLimitStore`] | [`palisade_ratelimit::RateLimitStore`] | `SELECT … FROM ratelimit_apply(…)`: a PL/pgSQL function that locks the (key, policy) row and runs every limit |
//!
//! Every store passes its trait's conformance suite (for example `palisade_replay::testing`)
//! against a real server in this crate's tests.
//!
//! # Pools, schemas, migrations
//!
//! Stores take an sqlx [`PgPool`](sqlx::PgPool) that you configure (size, timeouts, TLS
//! through sqlx's own features); this crate enables sqlx's `postgres` and `runtime-tokio`
//! features only, and uses no compile-time-checked macros. Tables live in one schema,
//! `palisade` by default, validated as a plain identifier. Each store's `migrate()` applies its
//! SQL (shipped in `migrations/`); all of it is `IF NOT EXISTS` or `CREATE OR REPLACE`, so it
//! runs at every start-up. Errors never quote connection strings or credentials. The
//! rate-limit store needs PostgreSQL 14 or later (`extract` returning exact `numeric`).
//!
//! # MSRV
//!
//! Rust 1.94, the minimum of sqlx 0.9.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Without a store feature only the schema helpers and the error type are left, unused.
#![cfg_attr(not(any(feature = "replay", feature = "ratelimit")), allow(dead_code))]

#[cfg(any(feature = "replay", feature = "ratelimit"))]
mod calls;
mod error;
#[cfg(feature = "ratelimit")]
mod ratelimit;
#[cfg(feature = "replay")]
mod replay;
mod schema;

pub use error::PostgresStoreError;
#[cfg(feature = "ratelimit")]
pub use ratelimit::{DEFAULT_RATELIMIT_TIMEOUT, PostgresRateLimitStore};
#[cfg(feature = "replay")]
pub use replay::{DEFAULT_TIMEOUT, MAX_TTL_MILLIS, PostgresNonceStore};
pub use schema::DEFAULT_SCHEMA;
/// The `sqlx` crate this one is built on, for building pools.
pub use sqlx;
