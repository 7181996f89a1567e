//! The vocabulary every `palisade-*` crate shares, so that one concept has one name and one
//! type across the workspace: the [`Clock`] and its nanosecond [`Timestamp`], the operating
//! system's [`SystemClock`], a [`ManualClock`] for tests, the [`CapPolicy`] of a bounded
//! table, and the [`HmacAlgorithm`] that webhook signatures and HOTP/TOTP codes are computed
//! with.
//!
//! The crates that use them re-export them (`palisade_webhook::Clock`,
//! `palisade_ratelimit::Clock` and `palisade_replay::CapPolicy` are these types), so most users
//! never name this crate.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use palisade_core::{Clock, ManualClock, Timestamp};
//!
//! // A clock a test controls, shared with whatever reads it.
//! let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)));
//! let reader: Arc<dyn Clock> = clock.clone();
//! clock.advance(Duration::from_millis(1_500));
//! assert_eq!(reader.now_unix_secs(), 1_700_000_001);
//! assert_eq!(reader.now_unix_millis(), 1_700_000_001_500);
//! assert_eq!(reader.now().as_unix_nanos(), 1_700_000_001_500_000_000);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cap;
mod clock;
mod hmac;

pub use cap::CapPolicy;
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use hmac::{HmacAlgorithm, UnknownHmacAlgorithm};
