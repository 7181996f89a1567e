//! Sliding window log: remembers every admitted request of the last period and admits a new
//! one only if the cost inside `(now − period, now]` stays within `limit`.
//!
//! **Formula.** The state is the list of admitted `(time, cost)` pairs, oldest first, and their
//! sum. A request of cost `n` at `now`:
//!
//! ```text
//! drop every entry with time ≤ now − period
//! admit ⇔ sum + n ≤ limit             then push (now, n)
//! remaining   = limit − sum
//! retry_after = time of the entry whose expiry frees enough cost, + period − now  (refused)
//! reset_after = time of the newest entry + period − now
//! ```
//!
//! **Memory per key**: 40 bytes plus 16 bytes per admitted request still in the window (up to
//! `limit` entries; entries at the same instant are merged): the most accurate algorithm and the
//! most expensive one. Keep it for small limits (login attempts, OTP sends).
//!
//! **Accuracy and bursts.** Exact: in every half-open interval of length `period`, the admitted
//! cost is at most `limit`, wherever the interval starts. The whole limit may be spent at once.

use std::collections::VecDeque;

use crate::algorithm::check_cost;
use crate::fixed_window::Window;
use crate::{Decision, Quota, RateLimitError, Timestamp};

/// A sliding window log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlidingWindowLog(Window);

/// One admitted request in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogEntry {
    /// When it was admitted, ns since the epoch.
    pub at: u64,
    /// Its cost (merged for requests at the same instant).
    pub cost: u64,
}

/// A sliding window log's state; the default is an empty log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SlidingWindowLogState {
    entries: VecDeque<LogEntry>,
    sum: u64,
}

impl SlidingWindowLogState {
    /// The admitted requests still remembered, oldest first.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &LogEntry> {
        self.entries.iter()
    }

    /// The total cost of [`entries`](Self::entries).
    pub const fn sum(&self) -> u64 {
        self.sum
    }
}

impl SlidingWindowLog {
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

    /// The decision for a request of `cost` at `now`, applied to `state` in place: an
    /// admission is recorded; a refusal changes nothing but forgetting expired entries.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 or above the limit.
    pub fn apply(
        &self,
        state: &mut SlidingWindowLogState,
        now: Timestamp,
        cost: u32,
    ) -> Result<Decision, RateLimitError> {
        let n = check_cost(cost, self.0.limit)?;
        let now = now.as_unix_nanos();
        self.prune(state, now);
        let d = self.decide_pruned(state, now, n);
        if d.is_allowed() {
            self.record(state, now, n);
        }
        Ok(d)
    }

    /// Forgets entries that left the window.
    pub(crate) fn prune(&self, state: &mut SlidingWindowLogState, now: u64) {
        while let Some(front) = state.entries.front() {
            if front.at.saturating_add(self.0.period_ns) > now {
                break;
            }
            state.sum = state.sum.saturating_sub(front.cost);
            state.entries.pop_front();
        }
    }

    /// The decision on a state already pruned at `now`.
    pub(crate) fn decide_pruned(
        &self,
        state: &SlidingWindowLogState,
        now: u64,
        cost: u64,
    ) -> Decision {
        let newest = state.entries.back().map_or(now, |e| e.at.max(now));
        if state.sum.saturating_add(cost) <= self.0.limit {
            let reset = newest.saturating_add(self.0.period_ns).saturating_sub(now);
            return Decision::from_nanos(
                true,
                self.0.limit,
                self.0.limit - state.sum - cost,
                reset,
                0,
            );
        }
        let reset = state.entries.back().map_or(0, |e| {
            e.at.saturating_add(self.0.period_ns).saturating_sub(now)
        });
        // Walk from the oldest entry until enough cost has expired.
        let need = state.sum + cost - self.0.limit;
        let mut freed = 0u64;
        let mut retry = reset;
        for e in &state.entries {
            freed = freed.saturating_add(e.cost);
            if freed >= need {
                retry = e.at.saturating_add(self.0.period_ns).saturating_sub(now);
                break;
            }
        }
        Decision::from_nanos(
            false,
            self.0.limit,
            self.0.limit.saturating_sub(state.sum),
            reset,
            retry,
        )
    }

    /// Records an admission of `cost` at `now` (kept in order if the clock went back).
    pub(crate) fn record(&self, state: &mut SlidingWindowLogState, now: u64, cost: u64) {
        state.sum = state.sum.saturating_add(cost);
        match state.entries.back_mut() {
            Some(last) if last.at >= now => last.cost = last.cost.saturating_add(cost),
            _ => state.entries.push_back(LogEntry { at: now, cost }),
        }
    }

    /// When the newest entry leaves the window (ns since the epoch); 0 for an empty log.
    pub fn expires_at(&self, state: &SlidingWindowLogState) -> u64 {
        state
            .entries
            .back()
            .map_or(0, |e| e.at.saturating_add(self.0.period_ns))
    }
}
