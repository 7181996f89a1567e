//! Token bucket: a bucket of `burst` tokens, refilled continuously at `limit / period`.
//!
//! **Formula.** The state is the number of tokens (exact, in scaled units: see below) and the
//! time of the last update; a new bucket is full. A request of cost `n` at `now`:
//!
//! ```text
//! tokens = min(burst, tokens + (now − last) · limit / period)
//! admit ⇔ tokens ≥ n                  then tokens −= n, last = now
//! remaining   = ⌊tokens⌋
//! retry_after = ⌈(n − tokens) · period / limit⌉     (refused)
//! reset_after = ⌈(burst − tokens) · period / limit⌉ (until full)
//! ```
//!
//! Tokens are kept as integers in units of `1 / (period / gcd(period, limit))` of a token, so
//! refill is exact: no rounding drift, no floating point.
//!
//! **Memory per key**: 16 bytes (tokens and last update).
//!
//! **Accuracy and bursts.** Exact. Over any closed interval of length `d`, admitted cost is at
//! most `burst + ⌊d · limit / period⌋`. Admits the same traffic as GCRA and the leaky bucket
//! with the same quota (they are one law written three ways), except that its rate is exact
//! where GCRA rounds `period / limit` up to a whole nanosecond.

use crate::algorithm::{Eval, step};
use crate::rate::Rate;
use crate::{Decision, Quota, RateLimitError, Timestamp};

/// A token bucket with a prepared exact rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenBucket {
    rate: Rate,
}

/// A token bucket's state. Build a new one with [`TokenBucket::full`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenBucketState {
    /// Tokens in the bucket, in scaled units.
    pub tokens: u64,
    /// Last update, ns since the epoch.
    pub last: u64,
}

impl TokenBucket {
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

    /// A full bucket: the state of a key never seen.
    pub const fn full(&self) -> TokenBucketState {
        TokenBucketState {
            tokens: self.rate.cap,
            last: 0,
        }
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
        state: TokenBucketState,
        now: Timestamp,
        cost: u32,
    ) -> Result<(TokenBucketState, Decision), RateLimitError> {
        step(state, cost, self.capacity(), |s, n| {
            self.eval(s, now.as_unix_nanos(), n)
        })
    }

    pub(crate) fn eval(
        &self,
        state: TokenBucketState,
        now: u64,
        cost: u64,
    ) -> Eval<TokenBucketState> {
        let r = &self.rate;
        let last = state.last.max(now);
        let tokens = state
            .tokens
            .saturating_add(r.accrued(now.saturating_sub(state.last)))
            .min(r.cap);
        let need = r.scaled(cost);
        let decision = if tokens >= need {
            let left = tokens - need;
            Decision::from_nanos(true, r.limit, left / r.unit, r.time_for(r.cap - left), 0)
        } else {
            Decision::from_nanos(
                false,
                r.limit,
                tokens / r.unit,
                r.time_for(r.cap - tokens),
                r.time_for(need - tokens),
            )
        };
        Eval {
            decision,
            next: TokenBucketState {
                tokens: tokens.saturating_sub(need),
                last,
            },
        }
    }

    /// When the bucket is full again (ns since the epoch).
    pub fn expires_at(&self, state: &TokenBucketState) -> u64 {
        state.last.saturating_add(
            self.rate
                .time_for(self.rate.cap.saturating_sub(state.tokens)),
        )
    }
}
