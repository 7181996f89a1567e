//! Rate limits that keep holding behind a load balancer: every common algorithm as a pure
//! function, multi-limit policies with no partial charge, a penalty box, allow and deny lists,
//! named tiers, the IETF `RateLimit` fields, and stores: a sharded in-memory one, a fallback
//! with an over-limit shield, and the trait that Redis and Postgres stores implement.
//!
//! ```
//! use palisade_ratelimit::{
//!     AlgorithmKind, Cause, HeaderStyle, KeyBuilder, Limit, ManualClock, MemoryStore, Policy,
//!     Quota, RateLimitHeaders, Timestamp,
//! };
//! use std::net::{IpAddr, Ipv4Addr};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! // 10 per second (GCRA, bursts of 10) and 1,000 per day (a fixed window on UTC days).
//! let policy = Policy::new([
//!     Limit::gcra("per-second", Quota::per_second(10)?)?,
//!     Limit::new("per-day", AlgorithmKind::FixedWindow, Quota::per_day(1_000)?)?,
//! ])?;
//!
//! let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)));
//! let store = MemoryStore::with_clock(clock.clone());
//! let ip = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
//! let key = KeyBuilder::new("webhook").ip(ip).str("/webhook/vapi").build();
//!
//! let admitted = (0..12)
//!     .filter(|_| store.check_now(&key, &policy, 1).is_ok_and(|v| v.is_allowed()))
//!     .count();
//! assert_eq!(admitted, 10);
//!
//! let refused = store.check_now(&key, &policy, 1)?;
//! assert_eq!(refused.cause(), Cause::Limited);
//! assert_eq!(refused.retry_after(), Some(Duration::from_millis(100)));
//! // The daily limit was charged 10 times, not 13: refusals charge nothing.
//! assert_eq!(refused.decisions()[1].remaining(), 990);
//!
//! let headers = RateLimitHeaders::new(&policy, &refused).to_pairs(HeaderStyle::Draft);
//! assert_eq!(headers[0], ("RateLimit-Policy", r#""per-second";q=10;w=1, "per-day";q=1000;w=86400"#.into()));
//! assert_eq!(headers.last(), Some(&("Retry-After", "1".to_string())));
//! # Ok::<(), palisade_ratelimit::RateLimitError>(())
//! ```
//!
//! # Algorithms
//!
//! Each is a pure function of (state, now, cost) → (new state, decision), with `now` a
//! [`Timestamp`] in nanoseconds since the Unix epoch. Bounds are on admitted cost.
//!
//! | algorithm | state per key | bound in any span of one period | bursts |
//! |---|---|---|---|
//! | [`Gcra`] | 8 B (one `u64`) | `burst + limit` (`burst + ⌊d/T⌋` over any `d`) | `burst` at once, then smooth |
//! | [`TokenBucket`] | 16 B | `burst + limit` (exact rate) | `burst` at once, then smooth |
//! | [`LeakyBucket`] (meter) | 16 B | `burst + limit` (exact rate) | `burst` at once, then smooth |
//! | [`FixedWindow`] (epoch-aligned) | 16 B | `limit` per aligned window, `2·limit` across an edge | whole limit at once, twice at an edge |
//! | [`SlidingWindowLog`] | 40 B + 16 B per request in the window | `limit` (exact) | whole limit at once |
//! | [`SlidingWindowCounter`] | 24 B | `limit` per aligned window, `2·limit − 1` worst case | whole limit at once |
//!
//! GCRA, the token bucket and the leaky bucket are one admission law written three ways; GCRA
//! is the cheapest (one word, one compare-and-swap). Each module documents its formula.
//!
//! # Policies and keys
//!
//! A [`Policy`] holds one or more [`Limit`]s (name, algorithm, [`Quota`]); a request is admitted
//! only if all admit, and none is charged otherwise. [`Policy::with_block`] adds a penalty box,
//! [`AccessList`] allow and deny lists, [`Tiers`] maps [`Tier`]s to policies. A [`Key`] is at
//! most 32 bytes; [`KeyBuilder`] composes keys from typed parts and hashes long ones to 16 bytes
//! of SHA-256.
//!
//! # Stores
//!
//! [`RateLimitStore`] is the one atomic operation (`apply`: read, decide, write) that every
//! store provides, async and object safe. [`MemoryStore`] is sharded, keeps GCRA in one atomic
//! word per key, sweeps expired keys and is capped ([`CapPolicy`]). [`FallbackStore`] puts a primary (Redis)
//! in front of a secondary (memory) with an explicit [`FallbackMode`] and an over-limit shield.
//! The [`testing`] module (feature `testing`) is the conformance suite every store must pass.
//!
//! # Time
//!
//! Algorithms take `now` explicitly; stores read their own clock (a [`Clock`] for the memory
//! store, the server's clock for remote stores), and every duration they return is relative to
//! it. The memory store and the fallback store's shield count elapsed time monotonically: a
//! clock stepped back (NTP, a restored VM) is absorbed, and decisions go on as before. Retry and reset times are rounded up to whole seconds for headers, and a refusal never
//! says 0.
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
mod quota;
mod rate;
mod sip;
mod sliding_counter;
mod sliding_log;
mod store;
mod table;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
mod token_bucket;
mod verdict;

pub use algorithm::{AlgorithmKind, Limit, LimitParameters, State, UnknownAlgorithm};
pub use decision::Decision;
pub use error::RateLimitError;
pub use fallback::{DEFAULT_SHIELD_CAP, FallbackMode, FallbackStore};
pub use fixed_window::{FixedWindow, FixedWindowState};
pub use gcra::{Gcra, GcraState};
pub use headers::{HeaderStyle, RateLimitHeaders};
pub use key::{HASHED_KEY_LEN, INLINE_KEY_LEN, Key, KeyBuilder};
pub use leaky_bucket::{LeakyBucket, LeakyBucketState};
pub use memory::{DEFAULT_KEY_CAP, MemoryStore};
pub use policy::{AccessList, MAX_LIMITS, Policy, Tier, Tiers, UnknownTier};
pub use quota::Quota;
pub use sliding_counter::{SlidingWindowCounter, SlidingWindowCounterState};
pub use sliding_log::{LogEntry, SlidingWindowLog, SlidingWindowLogState};
pub use store::RateLimitStore;
pub use table::CapPolicy;
pub use time::{Clock, FastClock, ManualClock, SystemClock, Timestamp};
pub use token_bucket::{TokenBucket, TokenBucketState};
pub use verdict::{Cause, Verdict};
