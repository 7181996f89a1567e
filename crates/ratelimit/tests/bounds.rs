//! Properties over arbitrary request sequences: no algorithm admits more than its documented
//! bound in any window, a refusal charges nothing, and `retry_after` is exact.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use palisade_ratelimit::{AlgorithmKind, Limit, Quota, Timestamp};
use proptest::prelude::*;

/// One generated scenario: a quota, and requests as (time, cost).
#[derive(Debug, Clone)]
struct Scenario {
    limit: u64,
    period: u64,
    burst: Option<u64>,
    requests: Vec<(u64, u32)>,
}

fn scenario(windowed: bool) -> impl Strategy<Value = Scenario> {
    (
        1u64..=12,
        1_000u64..=10_000_000,
        0u64..=2_000_000_000_000_000_000,
        any::<bool>(),
    )
        .prop_flat_map(move |(limit, period, start, with_burst)| {
            let burst = if windowed || !with_burst {
                Just(None).boxed()
            } else {
                (1u64..=20).prop_map(Some).boxed()
            };
            let step = (2 * period / limit).max(1);
            (
                Just(limit),
                Just(period),
                burst,
                prop::collection::vec((0..=step, 1u32..=3), 1..80),
                Just(start),
            )
        })
        .prop_map(|(limit, period, burst, steps, start)| {
            let mut t = start;
            let requests = steps
                .into_iter()
                .map(|(dt, cost)| {
                    t += dt;
                    (t, cost)
                })
                .collect();
            Scenario {
                limit,
                period,
                burst,
                requests,
            }
        })
}

/// Runs the scenario; returns the admitted (time, cost) pairs. Costs above the capacity are
/// errors and skipped. Checks on the way that `decide` agrees with `apply`, and that
/// `retry_after` is exact: refused one nanosecond before it, admitted at it.
fn run(kind: AlgorithmKind, s: &Scenario) -> (Limit, Vec<(u64, u64)>) {
    let mut q = Quota::new(s.limit, Duration::from_nanos(s.period)).unwrap();
    if let Some(b) = s.burst {
        q = q.with_burst(b).unwrap();
    }
    let limit = Limit::new("p", kind, q).unwrap();
    let mut state = limit.new_state();
    let mut admitted = Vec::new();
    for &(t, cost) in &s.requests {
        let now = Timestamp::from_unix_nanos(t);
        let Ok(predicted) = limit.decide(&state, now, cost) else {
            assert!(u64::from(cost) > limit.capacity());
            continue;
        };
        let before = state.clone();
        let d = limit.apply(&mut state, now, cost).unwrap();
        assert_eq!(d, predicted, "decide and apply agree");
        if d.is_allowed() {
            admitted.push((t, u64::from(cost)));
        } else {
            if kind != AlgorithmKind::SlidingWindowLog {
                assert_eq!(state, before, "a refusal changes nothing");
            }
            let retry = u64::try_from(d.retry_after().unwrap().as_nanos()).unwrap();
            assert!(retry >= 1);
            let at = Timestamp::from_unix_nanos(t + retry);
            assert!(
                limit.decide(&state, at, cost).unwrap().is_allowed(),
                "admitted at retry_after"
            );
            let just_before = Timestamp::from_unix_nanos(t + retry - 1);
            assert!(
                !limit
                    .decide(&state, just_before, cost)
                    .unwrap()
                    .is_allowed(),
                "refused just before retry_after"
            );
            assert!(
                d.remaining() < u64::from(cost),
                "refused only when it does not fit"
            );
        }
        assert!(d.remaining() <= limit.capacity());
    }
    (limit, admitted)
}

/// Most cost admitted between any two admissions `d` ns apart, checked over every pair.
fn check_pairs(admitted: &[(u64, u64)], bound: impl Fn(u64) -> Option<u64>) {
    for i in 0..admitted.len() {
        let mut sum = 0;
        for j in i..admitted.len() {
            sum += admitted[j].1;
            if let Some(b) = bound(admitted[j].0 - admitted[i].0) {
                assert!(
                    sum <= b,
                    "{sum} admitted within {} ns, bound {b}",
                    admitted[j].0 - admitted[i].0
                );
            }
        }
    }
}

/// At most `limit` per epoch-aligned window.
fn check_aligned(admitted: &[(u64, u64)], period: u64, limit: u64) {
    let mut per_window = std::collections::HashMap::<u64, u64>::new();
    for &(t, c) in admitted {
        *per_window.entry(t / period).or_default() += c;
    }
    assert!(per_window.values().all(|&n| n <= limit), "{per_window:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// GCRA: `burst + ⌊d / T⌋` over any span `d`, with `T = ⌈period / limit⌉`.
    #[test]
    fn gcra_bound(s in scenario(false)) {
        let (limit, admitted) = run(AlgorithmKind::Gcra, &s);
        let t = s.period.div_ceil(s.limit);
        check_pairs(&admitted, |d| Some(limit.capacity() + d / t));
    }

    /// Token bucket and leaky bucket: `burst + ⌊d · limit / period⌋` over any span `d`.
    #[test]
    fn bucket_bounds(s in scenario(false)) {
        for kind in [AlgorithmKind::TokenBucket, AlgorithmKind::LeakyBucket] {
            let (limit, admitted) = run(kind, &s);
            check_pairs(&admitted, |d| {
                Some(limit.capacity() + u64::try_from(u128::from(d) * u128::from(s.limit) / u128::from(s.period)).unwrap())
            });
        }
    }

    /// Fixed window: `limit` per aligned window, `2·limit` in any span shorter than a period.
    #[test]
    fn fixed_window_bound(s in scenario(true)) {
        let (_, admitted) = run(AlgorithmKind::FixedWindow, &s);
        check_aligned(&admitted, s.period, s.limit);
        check_pairs(&admitted, |d| (d < s.period).then_some(2 * s.limit));
    }

    /// Sliding window log: `limit` in any span shorter than a period, wherever it starts.
    #[test]
    fn sliding_log_bound(s in scenario(true)) {
        let (_, admitted) = run(AlgorithmKind::SlidingWindowLog, &s);
        check_pairs(&admitted, |d| (d < s.period).then_some(s.limit));
    }

    /// Sliding window counter: `limit` per aligned window, `2·limit − 1` in any span shorter
    /// than a period.
    #[test]
    fn sliding_counter_bound(s in scenario(true)) {
        let (_, admitted) = run(AlgorithmKind::SlidingWindowCounter, &s);
        check_aligned(&admitted, s.period, s.limit);
        check_pairs(&admitted, |d| (d < s.period).then_some(2 * s.limit - 1));
    }

    /// GCRA, token bucket and leaky bucket admit the same requests when the period divides
    /// evenly by the limit (GCRA's emission interval is then exact).
    #[test]
    fn buckets_agree_with_gcra(s in scenario(false)) {
        let s = Scenario { period: s.period / s.limit * s.limit, ..s };
        let gcra = run(AlgorithmKind::Gcra, &s).1;
        prop_assert_eq!(&gcra, &run(AlgorithmKind::TokenBucket, &s).1);
        prop_assert_eq!(&gcra, &run(AlgorithmKind::LeakyBucket, &s).1);
    }
}
