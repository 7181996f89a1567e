//! The memory store's fast wall clock, and the steady reading of a clock that may step back.
//! The timestamp and the clock trait are `palisade-core`'s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use palisade_core::{Clock, SystemClock, Timestamp};

/// `d` in whole nanoseconds, saturating at `u64::MAX` (about 584 years).
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The wall clock, read fast: the [`MemoryStore`](crate::MemoryStore)'s default.
///
/// With feature `quanta` (default) it reads the CPU's time-stamp counter through the `quanta`
/// crate (about 3 ns, where `SystemTime::now` costs 20–40 ns on a virtual machine) and adds an
/// offset to the wall clock that it refreshes from `SystemTime` once a second. So it follows
/// the system clock (and NTP) to within the counter's drift over one second, a few
/// microseconds; a refresh may step it back by that much, which the algorithms treat as time
/// standing still. Where the counter is unusable, quanta falls back to the OS monotonic clock.
/// Without the feature it is [`SystemClock`].
#[derive(Debug)]
pub struct FastClock {
    #[cfg(feature = "quanta")]
    counter: quanta::Clock,
    /// Raw counter value at construction.
    #[cfg(feature = "quanta")]
    origin: u64,
    /// Wall-clock ns minus ns since `origin`, at the last refresh (wrapping arithmetic).
    #[cfg(feature = "quanta")]
    offset: AtomicU64,
    /// Ns since `origin` at the last refresh.
    #[cfg(feature = "quanta")]
    refreshed: AtomicU64,
}

/// How often [`FastClock`] re-reads the system clock, in ns.
#[cfg(feature = "quanta")]
const REFRESH_NS: u64 = 1_000_000_000;

impl FastClock {
    /// A clock synchronised with the system clock now.
    pub fn new() -> Self {
        #[cfg(feature = "quanta")]
        {
            let counter = quanta::Clock::new();
            let origin = counter.raw();
            let clock = Self {
                counter,
                origin,
                offset: AtomicU64::new(0),
                refreshed: AtomicU64::new(0),
            };
            clock.refresh(0);
            clock
        }
        #[cfg(not(feature = "quanta"))]
        Self {}
    }

    #[cfg(feature = "quanta")]
    #[cold]
    fn refresh(&self, elapsed: u64) {
        let wall = SystemClock.now().as_unix_nanos();
        self.offset
            .store(wall.wrapping_sub(elapsed), Ordering::Relaxed);
        self.refreshed.store(elapsed, Ordering::Relaxed);
    }
}

impl Default for FastClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FastClock {
    #[inline]
    fn now(&self) -> Timestamp {
        #[cfg(feature = "quanta")]
        {
            let elapsed = self.counter.delta_as_nanos(self.origin, self.counter.raw());
            if elapsed.wrapping_sub(self.refreshed.load(Ordering::Relaxed)) > REFRESH_NS {
                self.refresh(elapsed);
            }
            Timestamp::from_unix_nanos(elapsed.wrapping_add(self.offset.load(Ordering::Relaxed)))
        }
        #[cfg(not(feature = "quanta"))]
        SystemClock.now()
    }
}

/// A backward step of the clock smaller than this is treated as jitter (the algorithms see
/// time standing still); a larger one is absorbed by [`Steady`]: 1 ms.
const STEP_NS: u64 = 1_000_000;

/// What a local store does with its [`Clock`]'s readings so that elapsed time never runs
/// backwards: the readings plus a *skew*, the sum of every backward step of the clock seen so
/// far. A wall clock stepped back by an hour (NTP, a VM restored from a snapshot, an operator)
/// then reads, for the store, as time standing still for an instant and running on from
/// there, as a monotonic clock does, instead of an hour in which every key's state lies in
/// the future and every request is refused. A forward step is followed (it grants what the
/// same time passing would grant). The time between a backward step and the store's next
/// reading of its clock is not counted (nothing, on a store that serves requests); readers
/// racing a step may move the store's time on by a few milliseconds, never by the step twice.
///
/// Cost: two relaxed loads of read-mostly words per reading, one store per millisecond.
#[derive(Debug, Default)]
pub(crate) struct Steady {
    /// The highest reading handed out, refreshed at most once per [`STEP_NS`] (ns).
    floor: AtomicU64,
    /// Sum of the backward steps absorbed so far (ns).
    skew: AtomicU64,
}

impl Steady {
    /// `clock`'s now, plus the skew; never more than [`STEP_NS`] below an earlier reading.
    #[inline]
    pub(crate) fn now<C: Clock + ?Sized>(&self, clock: &C) -> Timestamp {
        // The skew is read before the clock: a reading taken after a step was absorbed never
        // meets the skew of before it, so one step is never added twice.
        let mut skew = self.skew.load(Ordering::Acquire);
        loop {
            let t = clock.now().as_unix_nanos().saturating_add(skew);
            let floor = self.floor.load(Ordering::Relaxed);
            if t >= floor {
                if t - floor >= STEP_NS {
                    self.floor.fetch_max(t, Ordering::Relaxed);
                }
                return Timestamp::from_unix_nanos(t);
            }
            let back = floor - t;
            if back <= STEP_NS {
                return Timestamp::from_unix_nanos(t);
            }
            // The clock stepped back: add the step to the skew, once (the thread that wins the
            // exchange). A loser reads the clock again with the skew it lost to: that skew
            // absorbed this step, or only another reader's gap (a reader preempted between
            // its reading and the floor sees one of a few milliseconds), in which case the
            // step is still to absorb. Each lost exchange is another reader's progress.
            match self.skew.compare_exchange(
                skew,
                skew.saturating_add(back),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Timestamp::from_unix_nanos(floor),
                Err(now_skew) => skew = now_skew,
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use palisade_core::ManualClock;
    use std::sync::Arc;

    const HOUR: u64 = 3_600_000_000_000;

    #[test]
    fn steady_absorbs_backward_steps_and_follows_forward_ones() {
        let clock = ManualClock::new(Timestamp::from_unix_secs(1_700_000_000));
        let steady = Steady::default();
        let t0 = steady.now(&clock).as_unix_nanos();
        clock.advance(Duration::from_secs(1));
        assert_eq!(steady.now(&clock).as_unix_nanos(), t0 + 1_000_000_000);
        // Back an hour: time stands still, then runs on from there.
        clock.rewind(Duration::from_nanos(HOUR));
        assert_eq!(steady.now(&clock).as_unix_nanos(), t0 + 1_000_000_000);
        clock.advance(Duration::from_secs(2));
        assert_eq!(steady.now(&clock).as_unix_nanos(), t0 + 3_000_000_000);
        // Jitter below a millisecond is passed through (the algorithms see time stand still).
        clock.rewind(Duration::from_nanos(500_000));
        assert_eq!(
            steady.now(&clock).as_unix_nanos(),
            t0 + 3_000_000_000 - 500_000
        );
        // Forward steps are followed.
        clock.advance(Duration::from_secs(60));
        assert_eq!(
            steady.now(&clock).as_unix_nanos(),
            t0 + 63_000_000_000 - 500_000
        );
    }

    /// A clock that runs `hook` at its next reading, once: another reader's work, placed
    /// exactly between a reader's skew and its exchange.
    struct HookClock {
        at: AtomicU64,
        hook: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
    }

    impl Clock for HookClock {
        fn now(&self) -> Timestamp {
            let hook = self.hook.lock().unwrap().take();
            if let Some(hook) = hook {
                hook();
            }
            Timestamp::from_unix_nanos(self.at.load(Ordering::SeqCst))
        }
    }

    /// Found by `steady_absorbs_one_step_once_under_concurrency` under load (1 run in a few
    /// hundred): a reader lost its exchange to another reader's small gap, not to the step,
    /// and handed out the stepped-back clock, an hour below earlier readings.
    #[test]
    fn a_reader_that_loses_to_a_smaller_gap_still_absorbs_the_step() {
        let t0 = Timestamp::from_unix_secs(1_700_000_000).as_unix_nanos();
        let steady = Arc::new(Steady::default());
        let clock = Arc::new(HookClock {
            at: AtomicU64::new(t0),
            hook: std::sync::Mutex::new(None),
        });
        assert_eq!(steady.now(&*clock).as_unix_nanos(), t0);
        clock.at.store(t0 + 10 * STEP_NS, Ordering::SeqCst);
        assert_eq!(steady.now(&*clock).as_unix_nanos(), t0 + 10 * STEP_NS);
        // This reader loads the skew (0), then reads the clock: meanwhile the clock steps back
        // an hour, and another reader, preempted since its reading 5 ms below the floor,
        // absorbs its own 5 ms gap.
        let (other, hooked) = (Arc::clone(&steady), Arc::clone(&clock));
        *clock.hook.lock().unwrap() = Some(Box::new(move || {
            let late = ManualClock::new(Timestamp::from_unix_nanos(t0 + 5 * STEP_NS));
            assert_eq!(other.now(&late).as_unix_nanos(), t0 + 10 * STEP_NS);
            hooked.at.store(t0 + 10 * STEP_NS - HOUR, Ordering::SeqCst);
        }));
        let reading = steady.now(&*clock).as_unix_nanos();
        assert_eq!(
            reading,
            t0 + 10 * STEP_NS,
            "the step is absorbed, not handed out"
        );
        clock.at.fetch_add(STEP_NS, Ordering::SeqCst);
        assert_eq!(steady.now(&*clock).as_unix_nanos(), t0 + 11 * STEP_NS);
    }

    /// Threads reading while the clock steps back absorb the step once (within a few
    /// milliseconds of readings racing the step), and no reading goes back by an hour.
    #[test]
    fn steady_absorbs_one_step_once_under_concurrency() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)));
        let steady = Arc::new(Steady::default());
        let start = steady.now(&clock).as_unix_nanos();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let (clock, steady, done) =
                    (Arc::clone(&clock), Arc::clone(&steady), Arc::clone(&done));
                std::thread::spawn(move || {
                    let mut low = u64::MAX;
                    while !done.load(Ordering::Relaxed) {
                        clock.advance(Duration::from_nanos(100));
                        low = low.min(steady.now(&clock).as_unix_nanos());
                    }
                    low
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(5));
        clock.rewind(Duration::from_nanos(HOUR));
        std::thread::sleep(Duration::from_millis(5));
        done.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() >= start);
        }
        let skew = steady.now(&clock).as_unix_nanos() - clock.now().as_unix_nanos();
        // Not twice: readers preempted between reading the skew and the clock may move it on
        // by the clock's progress meanwhile (milliseconds here), never by another hour.
        assert!(
            (HOUR - 1_000 * STEP_NS..=HOUR + 1_000 * STEP_NS).contains(&skew),
            "skew {skew}"
        );
    }
}
