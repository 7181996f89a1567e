//! Time: a nanosecond timestamp since the Unix epoch, the clock trait that reads it, the
//! operating system's clock and a clock that moves only when told to.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant, in **nanoseconds since the Unix epoch** (1970-01-01T00:00:00Z, UTC, leap seconds
/// not counted), as an unsigned 64-bit integer: it covers the years 1970 to 2554.
///
/// Every algorithm that takes `now` takes it in this unit; remote stores convert their
/// server's clock to it (Redis `TIME` gives seconds and microseconds; Postgres
/// `clock_timestamp()` gives microseconds). Webhook timestamps, which providers send as signed
/// Unix seconds, are compared with [`Clock::now_unix_secs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch itself.
    pub const EPOCH: Self = Self(0);

    /// `nanos` nanoseconds after the epoch.
    pub const fn from_unix_nanos(nanos: u64) -> Self {
        Self(nanos)
    }

    /// `millis` milliseconds after the epoch (saturating at the year 2554).
    pub const fn from_unix_millis(millis: u64) -> Self {
        Self(millis.saturating_mul(1_000_000))
    }

    /// `secs` seconds after the epoch (saturating at the year 2554).
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the epoch.
    pub const fn as_unix_nanos(self) -> u64 {
        self.0
    }

    /// Whole milliseconds since the epoch (rounded down).
    pub const fn as_unix_millis(self) -> u64 {
        self.0 / 1_000_000
    }

    /// Whole seconds since the epoch (rounded down).
    pub const fn as_unix_secs(self) -> u64 {
        self.0 / 1_000_000_000
    }

    /// This instant plus `d`, saturating at the largest representable instant.
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(duration_nanos(d)))
    }

    /// How long after `earlier` this instant is; zero when it is not later.
    pub const fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl From<SystemTime> for Timestamp {
    /// The instant `t` names; instants before the epoch become the epoch.
    fn from(t: SystemTime) -> Self {
        Self(t.duration_since(UNIX_EPOCH).map_or(0, duration_nanos))
    }
}

/// `d` in whole nanoseconds, saturating at `u64::MAX` (about 584 years).
fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A source of the current wall-clock time (UTC).
///
/// Verifiers, replay guards, local stores and caches read the time through this trait, so
/// that tests, simulations and replayed traffic can fix it ([`ManualClock`]). Implementors
/// provide [`now`](Self::now); the Unix-seconds and -milliseconds readings are derived from it
/// (rounded down). Stores that decide on a server (Redis, Postgres) use the server's clock
/// instead, so that application servers with skewed clocks still agree.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;

    /// The current time, in whole milliseconds since the Unix epoch (rounded down), signed as
    /// the timestamps it is compared with.
    fn now_unix_millis(&self) -> i64 {
        i64::try_from(self.now().as_unix_millis()).unwrap_or(i64::MAX)
    }

    /// The current time, in whole seconds since the Unix epoch (rounded down), signed as the
    /// timestamps providers send.
    fn now_unix_secs(&self) -> i64 {
        i64::try_from(self.now().as_unix_secs()).unwrap_or(i64::MAX)
    }
}

/// The operating system's wall clock (`SystemTime::now`), so that application servers whose
/// clocks are synchronised (NTP) agree on windows and timestamps. A clock set before 1970
/// reads as the epoch.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Timestamp {
        Timestamp::from(SystemTime::now())
    }
}

/// A clock that moves only when told to: for tests, simulations and re-verifying stored
/// requests.
///
/// Shared between threads (`&self` methods, atomic); clone an `Arc<ManualClock>` to hand it to
/// a verifier or a store and keep control of it.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock reading `at`.
    pub const fn new(at: Timestamp) -> Self {
        Self(AtomicU64::new(at.0))
    }

    /// Moves the clock to `at` (backwards too, as a wall clock stepped back).
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.0, Ordering::SeqCst);
    }

    /// Moves the clock forward by `d` (saturating at the largest representable instant).
    pub fn advance(&self, d: Duration) {
        let nanos = duration_nanos(d);
        // fetch_update with a saturating add: never wraps around to 1970.
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(nanos))
            });
    }

    /// Moves the clock back by `d` (saturating at the epoch), as a wall clock stepped back by
    /// NTP or an operator.
    pub fn rewind(&self, d: Duration) {
        let nanos = duration_nanos(d);
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_sub(nanos))
            });
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    #[inline]
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn units_round_down_and_saturate() {
        let t = Timestamp::from_unix_nanos(1_700_000_000_999_999_999);
        assert_eq!(t.as_unix_secs(), 1_700_000_000);
        assert_eq!(t.as_unix_millis(), 1_700_000_000_999);
        assert_eq!(
            Timestamp::from_unix_secs(u64::MAX).as_unix_nanos(),
            u64::MAX
        );
        assert_eq!(
            Timestamp::from_unix_millis(1_500).saturating_duration_since(Timestamp::EPOCH),
            Duration::from_millis(1_500)
        );
        assert_eq!(
            Timestamp::EPOCH.saturating_duration_since(Timestamp::from_unix_secs(1)),
            Duration::ZERO
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told_and_derives_unix_readings() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_millis(
            1_700_000_000_250,
        )));
        assert_eq!(clock.now_unix_secs(), 1_700_000_000);
        assert_eq!(clock.now_unix_millis(), 1_700_000_000_250);
        clock.advance(Duration::from_millis(800));
        assert_eq!(clock.now_unix_millis(), 1_700_000_001_050);
        assert_eq!(clock.now_unix_secs(), 1_700_000_001);
        clock.rewind(Duration::from_secs(2));
        assert_eq!(clock.now_unix_secs(), 1_699_999_999);
        clock.rewind(Duration::MAX);
        assert_eq!(clock.now(), Timestamp::EPOCH);
        clock.advance(Duration::MAX);
        assert_eq!(clock.now().as_unix_nanos(), u64::MAX);
        assert_eq!(
            clock.now_unix_secs(),
            i64::try_from(u64::MAX / 1_000_000_000).unwrap()
        );
        clock.set(Timestamp::from_unix_secs(5));
        let shared: &dyn Clock = &clock;
        assert_eq!(shared.now(), Timestamp::from_unix_secs(5));
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now_unix_secs() > 1_577_836_800);
    }
}
