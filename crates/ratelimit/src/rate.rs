//! Exact integer arithmetic for a continuous rate of `limit` units per `period` ns.
//!
//! One unit of cost is `unit = period / g` scaled units and the rate is `per_ns = limit / g`
//! scaled units per nanosecond, with `g = gcd(period, limit)`: both are integers, so refill
//! and drain are exact, with no rounding and no floating point.

use crate::{Quota, RateLimitError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Rate {
    /// Scaled units in one unit of cost.
    pub(crate) unit: u64,
    /// Scaled units gained (token bucket) or drained (leaky bucket) per nanosecond.
    pub(crate) per_ns: u64,
    /// The capacity in scaled units.
    pub(crate) cap: u64,
    pub(crate) limit: u64,
    pub(crate) capacity: u64,
}

impl Rate {
    pub(crate) fn new(quota: &Quota) -> Result<Self, RateLimitError> {
        let g = gcd(quota.period_nanos(), quota.limit());
        let unit = quota.period_nanos() / g;
        let per_ns = quota.limit() / g;
        let cap = quota
            .capacity()
            .checked_mul(unit)
            .ok_or(RateLimitError::InvalidQuota {
                reason: "burst × period / limit overflows 64-bit arithmetic",
            })?;
        Ok(Self {
            unit,
            per_ns,
            cap,
            limit: quota.limit(),
            capacity: quota.capacity(),
        })
    }

    /// Scaled units accrued over `elapsed_ns`, capped at the capacity.
    pub(crate) fn accrued(&self, elapsed_ns: u64) -> u64 {
        elapsed_ns.saturating_mul(self.per_ns).min(self.cap)
    }

    /// Nanoseconds needed to accrue `amount` scaled units, rounded up.
    pub(crate) fn time_for(&self, amount: u64) -> u64 {
        amount.div_ceil(self.per_ns)
    }

    /// `cost` in scaled units (`cost ≤ capacity`, so it fits).
    pub(crate) fn scaled(&self, cost: u64) -> u64 {
        cost.saturating_mul(self.unit)
    }
}

const fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}
