//! The memory store against a wall clock that steps back, and its penalty box against a flood
//! of newly blocked keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use palisade_ratelimit::{
    AlgorithmKind, Cause, DEFAULT_CAP_POLICY, FallbackMode, FallbackStore, Key, Limit, ManualClock,
    MemoryStore, Policy, Quota, RateLimitStore, Timestamp,
};

const START: u64 = 1_700_000_000;

/// The single-GCRA fast path, a locked multi-limit policy and a windowed algorithm.
fn policies() -> Vec<Policy> {
    vec![
        Policy::single(Limit::gcra("gcra", Quota::per_minute(3).unwrap()).unwrap()).unwrap(),
        Policy::new([
            Limit::new(
                "bucket",
                AlgorithmKind::TokenBucket,
                Quota::per_minute(5).unwrap(),
            )
            .unwrap(),
            Limit::new(
                "window",
                AlgorithmKind::SlidingWindowCounter,
                Quota::per_hour(40).unwrap(),
            )
            .unwrap(),
        ])
        .unwrap(),
    ]
}

/// Decisions (allowed or not, and the retry time) of a store whose clock steps back by an
/// hour in the middle of a sequence equal those of a store whose clock does not.
#[tokio::test]
async fn wall_clock_stepping_back_an_hour_changes_no_decision() {
    for policy in policies() {
        let steady_clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(START)));
        let stepped_clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(START)));
        let steady = MemoryStore::with_clock(Arc::clone(&steady_clock));
        let stepped = MemoryStore::with_clock(Arc::clone(&stepped_clock));
        let key = Key::from("203.0.113.9");
        let mut refused_after_step = 0;
        for step in 0..300u64 {
            if step == 100 {
                // The store counts the time up to its last reading before the step (a busy
                // store reads its clock all the time): a request of another client now.
                let other = Key::from("198.51.100.1");
                steady.check(&other, &policy, 1).await.unwrap();
                stepped.check(&other, &policy, 1).await.unwrap();
                // Then NTP steps the wall clock back by an hour.
                let now = stepped_clock.now_secs();
                stepped_clock.set(Timestamp::from_unix_secs(now - 3_600));
            }
            let a = steady.check(&key, &policy, 1).await.unwrap();
            let b = stepped.check(&key, &policy, 1).await.unwrap();
            assert_eq!(
                (a.is_allowed(), a.retry_after_secs()),
                (b.is_allowed(), b.retry_after_secs()),
                "step {step}"
            );
            if step > 100 && !b.is_allowed() {
                refused_after_step += 1;
            }
            // Bursts of requests, then quiet: both admissions and refusals happen.
            let pause = if step % 10 == 9 { 30_000 } else { 500 };
            steady_clock.advance(Duration::from_millis(pause));
            stepped_clock.advance(Duration::from_millis(pause));
        }
        assert!(refused_after_step > 0, "the sequence must reach the limits");
    }
}

/// The fallback store's over-limit shield, whose clock steps back an hour while the primary's
/// does not: the shield stops answering for the key once the primary's retry time has passed,
/// not an hour later.
#[tokio::test]
async fn shield_is_not_stretched_by_a_clock_stepping_back() {
    let primary_clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(START)));
    let shield_clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(START)));
    let store = FallbackStore::new(
        MemoryStore::with_clock(Arc::clone(&primary_clock)),
        MemoryStore::new(),
        FallbackMode::FailClosed,
    )
    .with_shield(1_000)
    .with_clock(Arc::clone(&shield_clock));
    let policy =
        Policy::single(Limit::gcra("otp", Quota::per_minute(1).unwrap()).unwrap()).unwrap();
    let key = Key::from("+14155550123");
    assert!(store.check(&key, &policy, 1).await.unwrap().is_allowed());
    let refused = store.check(&key, &policy, 1).await.unwrap();
    assert_eq!(refused.retry_after_secs(), Some(60));
    // Answered by the shield while the primary would refuse too.
    assert!(!store.check(&key, &policy, 1).await.unwrap().is_allowed());
    let now = shield_clock.now_secs();
    shield_clock.set(Timestamp::from_unix_secs(now - 3_600));
    // The store's next reading, at once (a busy store reads its clock all the time): the
    // time between the step and that reading is not counted.
    let other = Key::from("+14155550199");
    assert!(store.check(&other, &policy, 1).await.unwrap().is_allowed());
    for clock in [&primary_clock, &shield_clock] {
        clock.advance(Duration::from_secs(61));
    }
    assert!(store.check(&key, &policy, 1).await.unwrap().is_allowed());
}

trait Secs {
    fn now_secs(&self) -> u64;
}

impl Secs for ManualClock {
    fn now_secs(&self) -> u64 {
        use palisade_ratelimit::Clock;
        self.now().as_unix_nanos() / 1_000_000_000
    }
}

/// A penalty box full of blocked keys keeps them blocked while a flood of new keys gets
/// itself refused (and would be blocked): nothing evicts a block before it expires.
#[tokio::test]
async fn penalty_box_is_not_flushed_by_newly_blocked_keys() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(START)));
    // One shard, 8 keys of state and 8 blocks.
    let store = MemoryStore::with_config(Arc::clone(&clock), 1, 8, DEFAULT_CAP_POLICY);
    let policy = Policy::single(Limit::gcra("login", Quota::per_minute(1).unwrap()).unwrap())
        .unwrap()
        .with_block(Duration::from_secs(600));
    let victims: Vec<Key> = (0..8u64).map(Key::from).collect();
    for k in &victims {
        assert!(store.check(k, &policy, 1).await.unwrap().is_allowed());
        let refused = store.check(k, &policy, 1).await.unwrap();
        assert_eq!(refused.cause(), Cause::Limited);
    }
    clock.advance(Duration::from_secs(1));
    // The flood: many new keys, each spending its one request and getting refused.
    for i in 0..2_000u64 {
        let k = Key::from(1_000_000 + i);
        let _ = store.check(&k, &policy, 1).await.unwrap();
        let v = store.check(&k, &policy, 1).await.unwrap();
        assert!(!v.is_allowed(), "a refused newcomer stays refused");
        clock.advance(Duration::from_millis(10));
    }
    // Well past the limits' own refill (one per minute), inside the 10-minute block.
    clock.advance(Duration::from_secs(120));
    for k in &victims {
        let v = store.check(k, &policy, 1).await.unwrap();
        assert_eq!(v.cause(), Cause::Blocked, "{k:?} was let out of the box");
    }
    // Once the blocks expire, the victims are admitted again.
    clock.advance(Duration::from_secs(600));
    for k in &victims {
        assert!(store.check(k, &policy, 1).await.unwrap().is_allowed());
    }
}

/// An explicit block on a full penalty box is refused with `KeyCapReached`; earlier blocks
/// stay.
#[tokio::test]
async fn explicit_block_on_a_full_box_is_refused() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(START)));
    let store = MemoryStore::with_config(Arc::clone(&clock), 1, 4, DEFAULT_CAP_POLICY);
    let policy =
        Policy::single(Limit::gcra("api", Quota::per_minute(100).unwrap()).unwrap()).unwrap();
    for i in 0..4u64 {
        store
            .block(&Key::from(i), Duration::from_secs(60))
            .await
            .unwrap();
    }
    assert!(
        store
            .block(&Key::from(99u64), Duration::from_secs(60))
            .await
            .is_err()
    );
    // Extending a block already held is no new entry.
    store
        .block(&Key::from(0u64), Duration::from_secs(120))
        .await
        .unwrap();
    for i in 0..4u64 {
        let v = store.check(&Key::from(i), &policy, 1).await.unwrap();
        assert_eq!(v.cause(), Cause::Blocked);
    }
}

/// `FastClock` reads the wall clock (a counter synchronised with the system clock), and
/// `Timestamp` arithmetic saturates instead of wrapping.
#[test]
fn the_fast_clock_reads_wall_time_and_timestamps_saturate() {
    use palisade_ratelimit::{Clock, FastClock, SystemClock};
    let fast = FastClock::new();
    let (a, b) = (
        fast.now().as_unix_nanos(),
        SystemClock.now().as_unix_nanos(),
    );
    assert!(a.abs_diff(b) < 1_000_000_000, "fast {a}, system {b}");
    let t = Timestamp::from_unix_secs(1);
    assert_eq!(
        t.saturating_add(Duration::from_secs(2)),
        Timestamp::from_unix_secs(3)
    );
    assert_eq!(
        Timestamp::from_unix_nanos(u64::MAX - 1).saturating_add(Duration::from_secs(1)),
        Timestamp::from_unix_nanos(u64::MAX)
    );
}
