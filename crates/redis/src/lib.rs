//! Redis stores for the palisade crates: one atomic command per decision, on the server's
//! clock, with a timeout on every call.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Without a store feature only the connection helpers and the error type are left, unused.
#![cfg_attr(
    not(any(feature = "replay", feature = "ratelimit", feature = "otp")),
    allow(dead_code)
)]

mod client;
#[cfg(feature = "ratelimit")]
mod coalesce;
mod error;
#[cfg(feature = "otp")]
mod otp;
#[cfg(feature = "ratelimit")]
mod quarantine;
#[cfg(feature = "ratelimit")]
mod ratelimit;
#[cfg(feature = "replay")]
mod replay;

pub use client::{DEFAULT_TIMEOUT, connect_cluster};
#[cfg(feature = "ratelimit")]
pub use coalesce::{Coalescing, IN_FLIGHT, MAX_BATCH};
pub use error::RedisStoreError;
#[cfg(feature = "otp")]
pub use otp::{
    DEFAULT_OTP_PREFIX, DEFAULT_OTP_RETENTION, EXPIRED_CHALLENGE_RETENTION, RedisChallengeStore,
};
#[cfg(feature = "ratelimit")]
pub use quarantine::ENDED_BLOCK_RETENTION;
#[cfg(feature = "ratelimit")]
pub use ratelimit::{DEFAULT_RATELIMIT_PREFIX, MAX_EXACT, RedisRateLimitStore};
/// The `redis` crate this one is built on, for building connections.
pub use redis;
#[cfg(feature = "replay")]
pub use replay::{DEFAULT_PREFIX, MAX_TTL_MILLIS, RedisNonceStore};
