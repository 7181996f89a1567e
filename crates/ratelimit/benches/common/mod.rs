//! Setup shared by the `ratelimit` (criterion) and `ab` (interleaved A/B) benchmarks: the
//! quota, the keys, the policy and the multi-thread runner, so both measure the same thing.

use std::time::{Duration, Instant};

use palisade_ratelimit::{Limit, Policy, Quota};

/// Number of distinct keys visited round-robin.
pub(crate) const KEYS: usize = 10_000;
/// The quota, per second (burst the same), on both sides.
pub(crate) const PER_SECOND: u32 = 1_000;

/// The string key of client `i`: `203.0.x.y|/webhook/vapi`.
pub(crate) fn ip_key(i: usize) -> String {
    format!("203.0.{}.{}|/webhook/vapi", i / 256, i % 256)
}

/// A single GCRA limit of [`PER_SECOND`].
pub(crate) fn gcra_policy() -> Policy {
    Policy::single(Limit::gcra("bench", Quota::per_second(u64::from(PER_SECOND)).unwrap()).unwrap())
        .unwrap()
}

/// Runs `decide(key)` over the keys in turn on `threads` threads at once, each from its own
/// offset; the time reported is the wall time for `iters` decisions on each thread (so equal to
/// the one-thread time when the threads do not slow each other down).
pub(crate) fn run_threads<K: Sync>(
    iters: u64,
    threads: usize,
    keys: &[K],
    decide: &(impl Fn(&K) + Sync),
) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let mut i = t * keys.len() / threads;
                for _ in 0..iters {
                    decide(&keys[i]);
                    i += 1;
                    if i == keys.len() {
                        i = 0;
                    }
                }
            });
        }
    });
    start.elapsed()
}
