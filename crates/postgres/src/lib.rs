//! PostgreSQL stores for the palisade crates: one statement per decision, on the database
//! clock, with tables created by shipped, idempotent migrations.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Without a store feature only the schema helpers and the error type are left, unused.
#![cfg_attr(
    not(any(
        feature = "replay",
        feature = "ratelimit",
        feature = "otp",
        feature = "rbac",
        feature = "auth",
        feature = "audit"
    )),
    allow(dead_code)
)]

#[cfg(feature = "audit")]
mod audit;
#[cfg(feature = "auth")]
mod auth;
#[cfg(any(
    feature = "replay",
    feature = "ratelimit",
    feature = "otp",
    feature = "rbac",
    feature = "auth",
    feature = "audit"
))]
mod calls;
mod error;
#[cfg(feature = "otp")]
mod otp;
mod pool;
#[cfg(feature = "ratelimit")]
mod quarantine;
#[cfg(feature = "ratelimit")]
mod ratelimit;
#[cfg(feature = "rbac")]
mod rbac;
#[cfg(feature = "replay")]
mod replay;
mod schema;

#[cfg(feature = "audit")]
pub use audit::{DEFAULT_AUDIT_TIMEOUT, PostgresAuditSink};
#[cfg(feature = "auth")]
pub use auth::{DEFAULT_AUTH_TIMEOUT, PostgresApiKeyStore};
pub use error::PostgresStoreError;
#[cfg(feature = "otp")]
pub use otp::{DEFAULT_OTP_TIMEOUT, PostgresChallengeStore};
pub use pool::pool_options;
#[cfg(feature = "ratelimit")]
pub use ratelimit::{DEFAULT_RATELIMIT_TIMEOUT, PostgresRateLimitStore};
#[cfg(feature = "rbac")]
pub use rbac::{
    DEFAULT_RBAC_TIMEOUT, PostgresAssignmentStore, PostgresRbacTables, PostgresRelationStore,
};
#[cfg(feature = "replay")]
pub use replay::{DEFAULT_TIMEOUT, MAX_TTL_MILLIS, PostgresNonceStore};
pub use schema::DEFAULT_SCHEMA;
/// The `sqlx` crate this one is built on, for building pools.
pub use sqlx;
