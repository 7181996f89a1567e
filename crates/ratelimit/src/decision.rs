//! The answer of one limit to one request.

use std::time::Duration;

/// What one limit said about one request: admitted or not, what is left, and when to come back.
///
/// All durations are measured from the instant of the decision (`now` of the algorithm, or the
/// store's clock). When refused, [`retry_after`](Self::retry_after) is at least one
/// nanosecond and [`retry_after_secs`](Self::retry_after_secs) at least 1: a refusal never tells
/// a client to retry immediately.
#[derive(Clone, Copy, Default)]
pub struct Decision {
    limit: u64,
    /// `remaining = remaining_num / remaining_den`, divided only when asked for: GCRA's
    /// remaining count is a headroom in ns over the emission interval, and a 64-bit division
    /// costs as much as the rest of a decision.
    remaining_num: u64,
    remaining_den: u64,
    reset_after_ns: u64,
    /// 0 when admitted, at least 1 when refused: the verdict needs no separate flag.
    retry_after_ns: u64,
}

impl Decision {
    fn key(&self) -> (bool, u64, u64, u64, u64) {
        (
            self.is_allowed(),
            self.limit,
            self.remaining(),
            self.reset_after_ns,
            self.retry_after_ns,
        )
    }
}

impl PartialEq for Decision {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Decision {}

impl std::hash::Hash for Decision {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decision")
            .field("allowed", &self.is_allowed())
            .field("limit", &self.limit)
            .field("remaining", &self.remaining())
            .field("reset_after", &self.reset_after())
            .field("retry_after", &self.retry_after())
            .finish()
    }
}

impl Decision {
    /// An admission: `remaining` units are left under a quota of `limit`, and the limit is back
    /// to its full capacity after `reset_after`.
    pub fn allowed(limit: u64, remaining: u64, reset_after: Duration) -> Self {
        Self::from_nanos(
            true,
            limit,
            remaining,
            crate::time::duration_nanos(reset_after),
            0,
        )
    }

    /// A refusal: the request may succeed after `retry_after` (raised to 1 ns if zero).
    /// `remaining` is what is left now, which can be more than zero when the request cost more
    /// than that.
    pub fn refused(
        limit: u64,
        remaining: u64,
        reset_after: Duration,
        retry_after: Duration,
    ) -> Self {
        Self::from_nanos(
            false,
            limit,
            remaining,
            crate::time::duration_nanos(reset_after),
            crate::time::duration_nanos(retry_after),
        )
    }

    #[inline]
    pub(crate) fn from_nanos(
        allowed: bool,
        limit: u64,
        remaining: u64,
        reset_after_ns: u64,
        retry_after_ns: u64,
    ) -> Self {
        Self::from_fraction(allowed, limit, remaining, 1, reset_after_ns, retry_after_ns)
    }

    /// As [`from_nanos`](Self::from_nanos) with `remaining = ⌊num / den⌋` (`den ≥ 1`).
    #[inline(always)]
    pub(crate) fn from_fraction(
        allowed: bool,
        limit: u64,
        remaining_num: u64,
        remaining_den: u64,
        reset_after_ns: u64,
        retry_after_ns: u64,
    ) -> Self {
        Self {
            limit,
            remaining_num,
            remaining_den: remaining_den.max(1),
            reset_after_ns,
            retry_after_ns: if allowed { 0 } else { retry_after_ns.max(1) },
        }
    }

    /// `true` when the request was admitted.
    #[inline]
    pub const fn is_allowed(&self) -> bool {
        self.retry_after_ns == 0
    }

    /// The quota's limit (units per period), as advertised in headers.
    pub const fn limit(&self) -> u64 {
        self.limit
    }

    /// Units of cost still available right after this decision.
    pub const fn remaining(&self) -> u64 {
        // The default decision (the placeholder inside a verdict) has a zero denominator:
        // comparing verdicts must not divide by it.
        match self.remaining_num.checked_div(self.remaining_den) {
            Some(r) => r,
            None => self.remaining_num,
        }
    }

    /// Time until the limit is back to full capacity (windows: the end of the current window).
    pub const fn reset_after(&self) -> Duration {
        Duration::from_nanos(self.reset_after_ns)
    }

    /// [`reset_after`](Self::reset_after) in whole seconds, rounded up.
    pub const fn reset_after_secs(&self) -> u64 {
        ceil_secs(self.reset_after_ns)
    }

    /// When refused, the time until the same request could be admitted (at least 1 ns);
    /// `None` when admitted.
    pub const fn retry_after(&self) -> Option<Duration> {
        if self.is_allowed() {
            None
        } else {
            Some(Duration::from_nanos(self.retry_after_ns))
        }
    }

    /// [`retry_after`](Self::retry_after) in whole seconds, rounded up: at least 1 when refused.
    pub const fn retry_after_secs(&self) -> Option<u64> {
        if self.is_allowed() {
            None
        } else {
            Some(ceil_secs(self.retry_after_ns))
        }
    }

    pub(crate) const fn retry_after_nanos(&self) -> u64 {
        self.retry_after_ns
    }

    pub(crate) const fn reset_after_nanos(&self) -> u64 {
        self.reset_after_ns
    }

    /// An admission that was not carried out (another limit refused): `remaining` as before
    /// the charge; `reset_after` stays that of the charged state, an upper bound.
    pub(crate) fn uncharged(self, cost: u64) -> Self {
        if self.is_allowed() {
            Self {
                remaining_num: self
                    .remaining_num
                    .saturating_add(cost.saturating_mul(self.remaining_den)),
                ..self
            }
        } else {
            self
        }
    }

    /// The same decision seen `elapsed_ns` later: both durations shortened (retry-after stays at
    /// least 1 ns when refused).
    pub(crate) fn aged(self, elapsed_ns: u64) -> Self {
        Self::from_fraction(
            self.is_allowed(),
            self.limit,
            self.remaining_num,
            self.remaining_den,
            self.reset_after_ns.saturating_sub(elapsed_ns),
            self.retry_after_ns.saturating_sub(elapsed_ns),
        )
    }
}

/// Nanoseconds to whole seconds, rounded up.
pub(crate) const fn ceil_secs(ns: u64) -> u64 {
    ns.div_ceil(1_000_000_000)
}
