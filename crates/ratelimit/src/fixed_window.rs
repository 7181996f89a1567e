//! Fixed window, aligned to the Unix epoch: at most `limit` units per window
//! `[k·period, (k+1)·period)`.
//!
//! **Formula.** The state is the current window's index `k = ⌊now / period⌋` and the cost
//! counted in it. A request of cost `n` at `now`:
//!
//! ```text
//! if ⌊now / period⌋ > k: k = ⌊now / period⌋, count = 0
//! admit ⇔ count + n ≤ limit           then count += n
//! remaining   = limit − count
//! retry_after = reset_after = (k + 1)·period − now
//! ```
//!
//! Windows start at multiples of the period since the epoch (a per-minute window starts at a
//! whole UTC minute), so every server and store agrees on them without coordination.
//!
//! **Memory per key**: 16 bytes (window index and count).
//!
//! **Accuracy and bursts.** Exact per window: never more than `limit` in one aligned window.
//! But a client can spend `limit` at the end of one window and `limit` again at the start of
//! the next: up to `2·limit` in a span of one period. Use it for quotas ("1,000 per day"), and
//! GCRA or a sliding window where bursts matter.

use crate::algorithm::{Eval, step};
use crate::{Decision, Quota, RateLimitError, Timestamp};

/// A fixed window aligned to the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedWindow(Window);

/// The quota of a window algorithm: a limit per period, and no burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Window {
    pub(crate) limit: u64,
    pub(crate) period_ns: u64,
}

impl Window {
    /// # Errors
    ///
    /// [`RateLimitError::InvalidQuota`] when the quota has a burst: refused rather than
    /// ignored.
    pub(crate) fn new(quota: &Quota) -> Result<Self, RateLimitError> {
        match quota.burst() {
            Some(_) => Err(RateLimitError::InvalidQuota {
                reason: "window algorithms have no burst; use GCRA or a bucket for bursts",
            }),
            None => Ok(Self {
                limit: quota.limit(),
                period_ns: quota.period_nanos(),
            }),
        }
    }
}

/// A fixed window's state; the default is an empty window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FixedWindowState {
    /// Index of the window counted, `⌊t / period⌋`.
    pub window: u64,
    /// Cost admitted in that window.
    pub count: u64,
}

impl FixedWindow {
    /// Prepares the quota.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidQuota`] when the quota has a burst (windows have none).
    pub fn new(quota: &Quota) -> Result<Self, RateLimitError> {
        Window::new(quota).map(Self)
    }

    /// The most cost admitted at once: the limit.
    pub const fn capacity(&self) -> u64 {
        self.0.limit
    }

    /// The decision for a request of `cost` at `now`, and the state it leaves behind.
    /// A refusal leaves the count unchanged.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 or above the limit.
    pub fn apply(
        &self,
        state: FixedWindowState,
        now: Timestamp,
        cost: u32,
    ) -> Result<(FixedWindowState, Decision), RateLimitError> {
        step(state, cost, self.0.limit, |s, n| {
            self.eval(s, now.as_unix_nanos(), n)
        })
    }

    pub(crate) fn eval(
        &self,
        state: FixedWindowState,
        now: u64,
        cost: u64,
    ) -> Eval<FixedWindowState> {
        let current = now / self.0.period_ns;
        // A clock that went back stays in the window already counted.
        let (window, count) = if current > state.window {
            (current, 0)
        } else {
            (state.window, state.count)
        };
        let end = window_start(window.saturating_add(1), self.0.period_ns);
        let reset = end.saturating_sub(now);
        let allowed = count.saturating_add(cost) <= self.0.limit;
        let decision = if allowed {
            Decision::from_nanos(true, self.0.limit, self.0.limit - count - cost, reset, 0)
        } else {
            Decision::from_nanos(
                false,
                self.0.limit,
                self.0.limit.saturating_sub(count),
                reset,
                reset,
            )
        };
        Eval {
            decision,
            next: FixedWindowState {
                window,
                count: count.saturating_add(cost),
            },
        }
    }

    /// When the counted window ends (ns since the epoch); 0 for an empty state.
    pub fn expires_at(&self, state: &FixedWindowState) -> u64 {
        if state.count == 0 {
            0
        } else {
            window_start(state.window.saturating_add(1), self.0.period_ns)
        }
    }
}

/// Start of window `k`, saturating.
pub(crate) const fn window_start(k: u64, period_ns: u64) -> u64 {
    k.saturating_mul(period_ns)
}
