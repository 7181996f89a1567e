//! Leaky bucket *as a meter*: each request pours its cost into a bucket of size `burst` that
//! drains continuously at `limit / period`; a request that would overflow it is refused.
//!
//! **Formula.** The state is the water level (exact, in scaled units) and the time of the last
//! update; a new bucket is empty. A request of cost `n` at `now`:
//!
//! ```text
//! level = max(0, level − (now − last) · limit / period)
//! admit ⇔ level + n ≤ burst           then level += n, last = now
//! remaining   = ⌊burst − level⌋
//! retry_after = ⌈(level + n − burst) · period / limit⌉ (refused)
//! reset_after = ⌈level · period / limit⌉              (until empty)
//! ```
//!
//! This is the meter of ITU-T I.371 (not the *queue* variant, which delays requests instead of
//! refusing them: a server that must answer now cannot queue).
//!
//! **Memory per key**: 16 bytes (level and last update).
//!
//! **Accuracy and bursts.** Exact. Over any closed interval of length `d`, admitted cost is at
//! most `burst + ⌊d · limit / period⌋`; the mirror image of the token bucket.

use crate::algorithm::{Eval, step};
use crate::rate::Rate;
use crate::{Decision, Quota, RateLimitError, Timestamp};

/// A leaky bucket (meter) with a prepared exact drain rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeakyBucket {
    rate: Rate,
}

/// A leaky bucket's state; the default is an empty bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LeakyBucketState {
    /// Water level, in scaled units.
    pub level: u64,
    /// Last update, ns since the epoch.
    pub last: u64,
}

impl LeakyBucket {
    /// Prepares the quota.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidQuota`] when the capacity in scaled units overflows 64 bits.
    pub fn new(quota: &Quota) -> Result<Self, RateLimitError> {
        Ok(Self {
            rate: Rate::new(quota)?,
        })
    }

    /// The rate in scaled units ([`LimitParameters`](crate::LimitParameters)'s `bucket_*`).
    pub(crate) const fn rate(&self) -> &Rate {
        &self.rate
    }

    /// The most cost admitted at once: the burst.
    pub const fn capacity(&self) -> u64 {
        self.rate.capacity
    }

    /// The decision for a request of `cost` at `now`, and the state it leaves behind.
    /// A refusal leaves the state unchanged.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 or above the burst.
    pub fn apply(
        &self,
        state: LeakyBucketState,
        now: Timestamp,
        cost: u32,
    ) -> Result<(LeakyBucketState, Decision), RateLimitError> {
        step(state, cost, self.capacity(), |s, n| {
            self.eval(s, now.as_unix_nanos(), n)
        })
    }

    pub(crate) fn eval(
        &self,
        state: LeakyBucketState,
        now: u64,
        cost: u64,
    ) -> Eval<LeakyBucketState> {
        let r = &self.rate;
        let last = state.last.max(now);
        let level = state
            .level
            .saturating_sub(r.accrued(now.saturating_sub(state.last)));
        let after = level.saturating_add(r.scaled(cost));
        let decision = if after <= r.cap {
            Decision::from_nanos(
                true,
                r.limit,
                (r.cap - after) / r.unit,
                r.time_for(after),
                0,
            )
        } else {
            Decision::from_nanos(
                false,
                r.limit,
                r.cap.saturating_sub(level) / r.unit,
                r.time_for(level),
                r.time_for(after - r.cap),
            )
        };
        Eval {
            decision,
            next: LeakyBucketState { level: after, last },
        }
    }

    /// When the bucket is empty again (ns since the epoch).
    pub fn expires_at(&self, state: &LeakyBucketState) -> u64 {
        state.last.saturating_add(self.rate.time_for(state.level))
    }
}
