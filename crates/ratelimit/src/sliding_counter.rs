//! Sliding window counter: two fixed-window counters, the previous one weighted by how much of
//! it still overlaps the sliding window (the approximation Cloudflare and many gateways use).
//!
//! **Formula.** Windows are aligned to the epoch as in the fixed window; `e = now − start` of
//! the current window. The state is the current window's index and the cost counted in it and
//! in the previous window. A request of cost `n` at `now`:
//!
//! ```text
//! estimate = ⌈previous · (period − e) / period⌉ + current
//! admit ⇔ estimate + n ≤ limit        then current += n
//! remaining   = limit − estimate
//! retry_after = the first instant the estimate leaves room for n (solved exactly; refused)
//! reset_after = end of the window after the newest count − now
//! ```
//!
//! The weight is rounded *up*, so the estimate never undercounts the assumption it rests on.
//!
//! **Memory per key**: 24 bytes (window index and two counts).
//!
//! **Accuracy and bursts.** Never more than `limit` in one aligned window. The estimate assumes
//! the previous window's requests were spread evenly; when they were not, a span of one period
//! can hold up to `2·limit − 1` units (all of the previous window's cost at its very end, then
//! the room the weight leaves). On ordinary traffic the error is small, and it needs only two
//! counters where the log needs one entry per request.

use crate::algorithm::{Eval, step};
use crate::fixed_window::{Window, window_start};
use crate::{Decision, Quota, RateLimitError, Timestamp};

/// A sliding window counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlidingWindowCounter(Window);

/// A sliding window counter's state; the default is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SlidingWindowCounterState {
    /// Index of the current window, `⌊t / period⌋`.
    pub window: u64,
    /// Cost admitted in the current window.
    pub current: u64,
    /// Cost admitted in the window before it.
    pub previous: u64,
}

impl SlidingWindowCounter {
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
    /// A refusal leaves the counts unchanged.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 or above the limit.
    pub fn apply(
        &self,
        state: SlidingWindowCounterState,
        now: Timestamp,
        cost: u32,
    ) -> Result<(SlidingWindowCounterState, Decision), RateLimitError> {
        step(state, cost, self.0.limit, |s, n| {
            self.eval(s, now.as_unix_nanos(), n)
        })
    }

    /// `⌈previous · (period − e) / period⌉`.
    fn weighted(&self, previous: u64, e: u64) -> u64 {
        let p = u128::from(self.0.period_ns);
        let w = (u128::from(previous) * (p - u128::from(e.min(self.0.period_ns)))).div_ceil(p);
        u64::try_from(w).unwrap_or(u64::MAX)
    }

    /// The smallest offset `e` into a window where `⌈previous · (period − e) / period⌉ ≤ room`.
    fn first_offset_with_room(&self, previous: u64, room: u64) -> u64 {
        if previous == 0 {
            return 0;
        }
        let p = u128::from(self.0.period_ns);
        let k = u128::from(room) * p / u128::from(previous);
        u64::try_from(p.saturating_sub(k)).unwrap_or(0)
    }

    pub(crate) fn eval(
        &self,
        state: SlidingWindowCounterState,
        now: u64,
        cost: u64,
    ) -> Eval<SlidingWindowCounterState> {
        let p = self.0.period_ns;
        let w = now / p;
        // Roll the counters forward; a clock that went back stays at the start of the window
        // already counted (the most conservative weight).
        let (window, current, previous, e) = if w == state.window {
            (w, state.current, state.previous, now - window_start(w, p))
        } else if w == state.window.saturating_add(1) {
            (w, 0, state.current, now - window_start(w, p))
        } else if w > state.window {
            (w, 0, 0, now - window_start(w, p))
        } else {
            (state.window, state.current, state.previous, 0)
        };
        let start = window_start(window, p);
        let estimate = self.weighted(previous, e).saturating_add(current);
        let next_current = current.saturating_add(cost);
        let allowed = estimate.saturating_add(cost) <= self.0.limit;
        let (reset_at, retry_at) = if allowed {
            // This request's count is the newest (cost ≥ 1): it leaves the sliding window at
            // the end of the next window.
            (window_start(window.saturating_add(2), p), 0)
        } else {
            let reset_at = if current > 0 {
                window_start(window.saturating_add(2), p)
            } else {
                window_start(window.saturating_add(1), p)
            };
            let retry_at = match self.0.limit.checked_sub(current.saturating_add(cost)) {
                // Room in this window once the previous one's weight has shrunk enough.
                Some(room) => start.saturating_add(self.first_offset_with_room(previous, room)),
                // Only in the next window, where this window's count becomes the previous one.
                None => window_start(window.saturating_add(1), p)
                    .saturating_add(self.first_offset_with_room(current, self.0.limit - cost)),
            };
            (reset_at, retry_at)
        };
        let decision = Decision::from_nanos(
            allowed,
            self.0.limit,
            self.0
                .limit
                .saturating_sub(estimate)
                .saturating_sub(if allowed { cost } else { 0 }),
            reset_at.saturating_sub(now),
            retry_at.saturating_sub(now),
        );
        Eval {
            decision,
            next: SlidingWindowCounterState {
                window,
                current: next_current,
                previous,
            },
        }
    }

    /// When both counts have left the sliding window (ns since the epoch); 0 for an empty state.
    pub fn expires_at(&self, state: &SlidingWindowCounterState) -> u64 {
        let k = if state.current > 0 {
            2
        } else if state.previous > 0 {
            1
        } else {
            return 0;
        };
        window_start(state.window.saturating_add(k), self.0.period_ns)
    }
}
