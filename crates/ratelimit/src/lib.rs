//! Rate limits that keep holding behind a load balancer: every common algorithm as a pure
//! function, multi-limit policies with no partial charge, a penalty box, allow and deny lists,
//! named tiers, the IETF `RateLimit` fields, and stores: a sharded in-memory one, a fallback
//! with an over-limit shield, and the traits that Redis and Postgres stores implement; a flood
//! quarantine over the penalty box (list, release, events) and cached IP reputation.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod algorithm;
mod decision;
mod error;
mod fallback;
mod fixed_window;
mod gcra;
mod headers;
mod key;
mod leaky_bucket;
mod memory;
mod policy;
mod quarantine;
mod quota;
mod rate;
mod reputation;
mod sip;
mod sliding_counter;
mod sliding_log;
mod store;
mod table;
#[cfg(feature = "testing")]
pub mod testing;
mod tier;
mod time;
mod token_bucket;
mod verdict;

pub use algorithm::{AlgorithmKind, Limit, LimitParameters, State, UnknownAlgorithm};
pub use decision::Decision;
pub use error::RateLimitError;
pub use fallback::{DEFAULT_SHIELD_CAP, FallbackMode, FallbackStore};
pub use fixed_window::{FixedWindow, FixedWindowState};
pub use gcra::{Gcra, GcraState};
pub use headers::{HeaderField, HeaderStyle, RateLimitHeaders};
pub use key::{HASHED_KEY_LEN, INLINE_KEY_LEN, Key, KeyBuilder};
pub use leaky_bucket::{LeakyBucket, LeakyBucketState};
pub use memory::{DEFAULT_CAP_POLICY, DEFAULT_KEY_CAP, MemoryStore};
pub use palisade_core::{CapPolicy, Clock, ManualClock, SystemClock, Timestamp};
pub use policy::{AccessList, MAX_LIMITS, Policy};
pub use quarantine::{BlockCursor, BlockEntry, BlockPage, MAX_BLOCK_PAGE, PenaltyBox, Quarantine};
pub use quota::Quota;
pub use reputation::{
    CachedReputation, DEFAULT_BAD_TTL, DEFAULT_CLEAN_TTL, DEFAULT_REPUTATION_CACHE,
    DEFAULT_REPUTATION_THRESHOLD, Reputation, ReputationError, ReputationFailure, ReputationFn,
    ReputationVerdict, StaticReputation,
};
pub use sliding_counter::{SlidingWindowCounter, SlidingWindowCounterState};
pub use sliding_log::{LogEntry, SlidingWindowLog, SlidingWindowLogState};
pub use store::RateLimitStore;
pub use tier::{Tier, TierLimit, Tiers, UnknownTier};
pub use time::FastClock;
pub use token_bucket::{TokenBucket, TokenBucketState};
pub use verdict::{Cause, Verdict};
