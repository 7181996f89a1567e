//! Timestamp tolerance, and the parsing of signed Unix timestamps. The clock is
//! `palisade-core`'s.

use std::time::Duration;

use crate::WebhookError;

/// How far a signed timestamp may lie from `now`, in whole seconds, each way.
///
/// Both bounds are inclusive: with the default of 300 s, a request signed exactly 300 s ago
/// (or 300 s ahead) is accepted and one at 301 s is refused, as Stripe's, Slack's and the
/// Standard Webhooks libraries do.
///
/// The one tolerance type of the workspace: a [`Verifier`](crate::Verifier) checks signed
/// timestamps against it, and `palisade-replay`'s guard checks the timestamps it is handed
/// and derives from it how long an id is remembered ([`ttl`](Self::ttl)).
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

    /// How long an id must be remembered so that it cannot be forgotten while its timestamp
    /// is still accepted: a timestamp `future_secs` ahead stays acceptable for
    /// `past_secs + future_secs`, plus one second for the rounding of timestamps to seconds
    /// (601 s for the default).
    pub const fn ttl(&self) -> Duration {
        Duration::from_secs(
            self.past_secs
                .saturating_add(self.future_secs)
                .saturating_add(1),
        )
    }

    /// Checks `timestamp` (Unix seconds) against `now` (Unix seconds).
    ///
    /// # Errors
    /// [`OutsideTolerance`] with the skew and the bound exceeded, when outside either bound
    /// (it converts into [`WebhookError::TimestampOutsideTolerance`] with `?`).
    pub fn check(&self, timestamp: i64, now: i64) -> Result<(), OutsideTolerance> {
        let skew = i128::from(now) - i128::from(timestamp);
        let (limit, exceeded) = if skew >= 0 {
            (self.past_secs, skew > i128::from(self.past_secs))
        } else {
            (self.future_secs, -skew > i128::from(self.future_secs))
        };
        if exceeded {
            let skew_secs =
                i64::try_from(skew).unwrap_or(if skew > 0 { i64::MAX } else { i64::MIN });
            return Err(OutsideTolerance {
                skew_secs,
                tolerance_secs: limit,
            });
        }
        Ok(())
    }
}

/// A timestamp outside a [`Tolerance`]: what [`Tolerance::check`] refuses with. Each crate
/// turns it into its own error (`WebhookError::TimestampOutsideTolerance`,
/// `ReplayError::TimestampOutsideTolerance`) with the same two fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutsideTolerance {
    /// `now - timestamp`, in seconds (negative for a timestamp in the future), saturated to
    /// the `i64` range.
    pub skew_secs: i64,
    /// The bound that was exceeded in that direction, in seconds.
    pub tolerance_secs: u64,
}

impl From<OutsideTolerance> for WebhookError {
    fn from(e: OutsideTolerance) -> Self {
        Self::TimestampOutsideTolerance {
            skew_secs: e.skew_secs,
            tolerance_secs: e.tolerance_secs,
        }
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
        assert_eq!(t.ttl(), std::time::Duration::from_secs(601));
        assert_eq!(
            Tolerance::symmetric(u64::MAX).ttl(),
            std::time::Duration::from_secs(u64::MAX)
        );
        assert!(t.check(1000, 1300).is_ok());
        assert!(t.check(1300, 1000).is_ok());
        assert_eq!(
            t.check(1000, 1301).map_err(WebhookError::from),
            Err(WebhookError::TimestampOutsideTolerance {
                skew_secs: 301,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            t.check(1301, 1000),
            Err(OutsideTolerance {
                skew_secs: -301,
                tolerance_secs: 300
            })
        );
        // A skew that does not fit an `i64` is reported saturated, with its sign.
        assert_eq!(
            t.check(i64::MAX, i64::MIN),
            Err(OutsideTolerance {
                skew_secs: i64::MIN,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            t.check(i64::MIN, i64::MAX),
            Err(OutsideTolerance {
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
}
