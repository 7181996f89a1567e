//! Clocks and timestamp tolerance.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::WebhookError;

/// A source of the current wall-clock time (UTC, Unix epoch).
///
/// Verifiers, replay guards and stores read the time through this trait, so tests and
/// replayed traffic can fix it. Implementors provide milliseconds; seconds are derived
/// (rounded down).
pub trait Clock: Send + Sync {
    /// The current time, in milliseconds since the Unix epoch.
    fn now_unix_millis(&self) -> i64;

    /// The current time, in whole seconds since the Unix epoch (rounded down).
    fn now_unix_secs(&self) -> i64 {
        self.now_unix_millis().div_euclid(1000)
    }
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_millis(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            // A clock set before 1970: report how far before.
            Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
        }
    }
}

/// A clock that stays where it is set: for tests and for re-verifying stored requests.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock reading `unix_secs` seconds.
    pub fn new(unix_secs: i64) -> Self {
        Self(AtomicI64::new(unix_secs.saturating_mul(1000)))
    }

    /// A clock reading `unix_millis` milliseconds.
    pub fn from_millis(unix_millis: i64) -> Self {
        Self(AtomicI64::new(unix_millis))
    }

    /// Moves the clock to `unix_secs` seconds.
    pub fn set(&self, unix_secs: i64) {
        self.0
            .store(unix_secs.saturating_mul(1000), Ordering::SeqCst);
    }

    /// Moves the clock forward (or back, when negative) by `secs` seconds.
    pub fn advance(&self, secs: i64) {
        self.advance_millis(secs.saturating_mul(1000));
    }

    /// Moves the clock forward (or back, when negative) by `millis` milliseconds.
    pub fn advance_millis(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_unix_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// How far a signed timestamp may lie from `now`, in whole seconds, each way.
///
/// Both bounds are inclusive: with the default of 300 s, a request signed exactly 300 s ago
/// (or 300 s ahead) is accepted and one at 301 s is refused, as Stripe's, Slack's and the
/// Standard Webhooks libraries do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerance {
    /// Largest accepted age (`now - timestamp`), in seconds.
    pub past_secs: u64,
    /// Largest accepted lead into the future (`timestamp - now`), in seconds.
    pub future_secs: u64,
}

impl Tolerance {
    /// The providers' common default: 300 seconds (five minutes) each way.
    pub const DEFAULT: Self = Self::symmetric(300);

    /// The same bound, in seconds, for the past and the future.
    pub const fn symmetric(secs: u64) -> Self {
        Self {
            past_secs: secs,
            future_secs: secs,
        }
    }

    /// Checks `timestamp` (Unix seconds) against `now` (Unix seconds).
    ///
    /// # Errors
    /// [`WebhookError::TimestampOutsideTolerance`] with the skew when outside either bound.
    pub fn check(&self, timestamp: i64, now: i64) -> Result<(), WebhookError> {
        let skew = i128::from(now) - i128::from(timestamp);
        let (limit, exceeded) = if skew >= 0 {
            (self.past_secs, skew > i128::from(self.past_secs))
        } else {
            (self.future_secs, -skew > i128::from(self.future_secs))
        };
        if exceeded {
            let skew_secs =
                i64::try_from(skew).unwrap_or(if skew > 0 { i64::MAX } else { i64::MIN });
            return Err(WebhookError::TimestampOutsideTolerance {
                skew_secs,
                tolerance_secs: limit,
            });
        }
        Ok(())
    }
}

impl Default for Tolerance {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Parses a timestamp header in canonical decimal: ASCII digits only (no sign, no spaces, no
/// fraction), no leading zero (`0` itself excepted), at most 18 digits so it fits an `i64`.
///
/// Canonical form means one time has one spelling: `01700000000` and `+1700000000` are
/// refused rather than read as 1 700 000 000 (the text, not the number, is what is signed).
pub(crate) fn parse_unix_secs(s: &str) -> Option<i64> {
    if s.is_empty()
        || s.len() > 18
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive() {
        let t = Tolerance::DEFAULT;
        assert!(t.check(1000, 1300).is_ok());
        assert!(t.check(1300, 1000).is_ok());
        assert_eq!(
            t.check(1000, 1301),
            Err(WebhookError::TimestampOutsideTolerance {
                skew_secs: 301,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            t.check(1301, 1000),
            Err(WebhookError::TimestampOutsideTolerance {
                skew_secs: -301,
                tolerance_secs: 300
            })
        );
        // A skew that does not fit an `i64` is reported saturated, with its sign.
        assert_eq!(
            t.check(i64::MAX, i64::MIN),
            Err(WebhookError::TimestampOutsideTolerance {
                skew_secs: i64::MIN,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            t.check(i64::MIN, i64::MAX),
            Err(WebhookError::TimestampOutsideTolerance {
                skew_secs: i64::MAX,
                tolerance_secs: 300
            })
        );
    }

    #[test]
    fn timestamps_are_plain_digits() {
        assert_eq!(parse_unix_secs("1614265330"), Some(1_614_265_330));
        assert_eq!(parse_unix_secs("0"), Some(0));
        // At most 18 digits, though 19 could fit an `i64`.
        assert_eq!(
            parse_unix_secs("999999999999999999"),
            Some(999_999_999_999_999_999)
        );
        assert_eq!(parse_unix_secs("1000000000000000000"), None);
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1.5",
            "1e9",
            "9999999999999999999",
            "01700000000",
            "00",
            "+1700000000",
        ] {
            assert_eq!(parse_unix_secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn fixed_clock_moves() {
        let c = FixedClock::new(10);
        c.advance(5);
        assert_eq!(c.now_unix_secs(), 15);
        c.advance_millis(999);
        assert_eq!(c.now_unix_secs(), 15);
        assert_eq!(c.now_unix_millis(), 15_999);
        c.set(1);
        assert_eq!(c.now_unix_secs(), 1);
        c.advance_millis(-1);
        assert_eq!(c.now_unix_secs(), 0);
    }
}
