//! Quotas: how many requests (or units of cost) per period, with an optional burst.

use std::time::Duration;

use crate::RateLimitError;

/// `limit` units of cost per `period`, with an optional `burst`.
///
/// - For GCRA, the token bucket and the leaky bucket, the sustained rate is `limit / period`
///   and the capacity (the most admitted at once, after a quiet spell) is `burst`, which
///   defaults to `limit`.
/// - For the window algorithms, at most `limit` units are admitted per window of `period`;
///   a window has no separate burst, and giving one is an error when the limit is built.
///
/// A request's cost is 1 unless the caller says otherwise (a search might cost 2, a bulk
/// export 10).
///
/// ```
/// use palisade_ratelimit::Quota;
/// use std::time::Duration;
///
/// let q = Quota::per_second(10)?.with_burst(20)?;
/// assert_eq!((q.limit(), q.period(), q.burst()), (10, Duration::from_secs(1), Some(20)));
/// assert!(Quota::new(0, Duration::from_secs(1)).is_err());
/// # Ok::<(), palisade_ratelimit::RateLimitError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    limit: u64,
    period_ns: u64,
    burst: Option<u64>,
}

impl Quota {
    /// `limit` units of cost per `period`.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidQuota`] when `limit` is 0, `period` is shorter than a
    /// nanosecond, or `period` does not fit in 64-bit nanoseconds (about 584 years).
    pub fn new(limit: u64, period: Duration) -> Result<Self, RateLimitError> {
        if limit == 0 {
            return Err(RateLimitError::InvalidQuota {
                reason: "the limit must be at least 1",
            });
        }
        let period_ns =
            u64::try_from(period.as_nanos()).map_err(|_| RateLimitError::InvalidQuota {
                reason: "the period must be shorter than 584 years",
            })?;
        if period_ns == 0 {
            return Err(RateLimitError::InvalidQuota {
                reason: "the period must be at least 1 ns",
            });
        }
        Ok(Self {
            limit,
            period_ns,
            burst: None,
        })
    }

    /// `limit` per second.
    ///
    /// # Errors
    ///
    /// As [`Quota::new`].
    pub fn per_second(limit: u64) -> Result<Self, RateLimitError> {
        Self::new(limit, Duration::from_secs(1))
    }

    /// `limit` per minute.
    ///
    /// # Errors
    ///
    /// As [`Quota::new`].
    pub fn per_minute(limit: u64) -> Result<Self, RateLimitError> {
        Self::new(limit, Duration::from_secs(60))
    }

    /// `limit` per hour.
    ///
    /// # Errors
    ///
    /// As [`Quota::new`].
    pub fn per_hour(limit: u64) -> Result<Self, RateLimitError> {
        Self::new(limit, Duration::from_secs(3_600))
    }

    /// `limit` per day (86 400 s).
    ///
    /// # Errors
    ///
    /// As [`Quota::new`].
    pub fn per_day(limit: u64) -> Result<Self, RateLimitError> {
        Self::new(limit, Duration::from_secs(86_400))
    }

    /// The same quota with a capacity of `burst` units for the bucket algorithms (GCRA, token
    /// bucket, leaky bucket). A burst below the limit smooths traffic; above it, allows spikes.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidQuota`] when `burst` is 0.
    pub fn with_burst(self, burst: u64) -> Result<Self, RateLimitError> {
        if burst == 0 {
            return Err(RateLimitError::InvalidQuota {
                reason: "the burst must be at least 1",
            });
        }
        Ok(Self {
            burst: Some(burst),
            ..self
        })
    }

    /// Units of cost admitted per period.
    pub const fn limit(&self) -> u64 {
        self.limit
    }

    /// The period.
    pub const fn period(&self) -> Duration {
        Duration::from_nanos(self.period_ns)
    }

    /// The period in nanoseconds.
    pub const fn period_nanos(&self) -> u64 {
        self.period_ns
    }

    /// The burst, if one was given.
    pub const fn burst(&self) -> Option<u64> {
        self.burst
    }

    /// The capacity of the bucket algorithms: the burst, or the limit when none was given.
    pub const fn capacity(&self) -> u64 {
        match self.burst {
            Some(b) => b,
            None => self.limit,
        }
    }
}
