//! The memory store's cap, eviction and sweeping; the fallback store's modes and shield.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use palisade_ratelimit::testing::FailingStore;
use palisade_ratelimit::{
    AlgorithmKind, CapPolicy, Cause, Clock, DEFAULT_CAP_POLICY, FallbackMode, FallbackStore, Key,
    Limit, ManualClock, MemoryStore, Policy, Quota, RateLimitError, RateLimitStore, Timestamp,
    Verdict,
};

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)))
}

fn gcra(per_minute: u64) -> Policy {
    Policy::single(Limit::gcra("g", Quota::per_minute(per_minute).unwrap()).unwrap()).unwrap()
}

#[test]
fn refuse_at_the_cap_keeps_existing_keys() {
    let clock = clock();
    let store = MemoryStore::with_config(clock.clone(), 1, 10, CapPolicy::Refuse);
    let p = gcra(1);
    for i in 0..10u64 {
        assert!(store.check_now(&Key::from(i), &p, 1).unwrap().is_allowed());
    }
    assert_eq!(
        store.check_now(&Key::from(99u64), &p, 1),
        Err(RateLimitError::KeyCapReached { cap: 10 })
    );
    assert!(
        !store
            .check_now(&Key::from(3u64), &p, 1)
            .unwrap()
            .is_allowed(),
        "tracked keys still limited"
    );
    clock.advance(Duration::from_secs(1));
    assert!(
        store.check_now(&Key::from(98u64), &p, 1).is_err(),
        "nothing has expired yet"
    );
    clock.advance(Duration::from_secs(59));
    assert!(
        store
            .check_now(&Key::from(99u64), &p, 1)
            .unwrap()
            .is_allowed(),
        "expired keys make room"
    );
}

#[test]
fn a_flood_of_new_keys_evicts_new_keys_not_the_limited_one() {
    let clock = clock();
    let store = MemoryStore::with_config(clock.clone(), 1, 64, CapPolicy::EvictSoonestExpiring);
    let p = gcra(10);
    let victim = Key::from("limited");
    for _ in 0..10 {
        store.check_now(&victim, &p, 1).unwrap();
    }
    for i in 0..10_000u64 {
        store.check_now(&Key::from(i), &p, 1).unwrap();
        clock.advance(Duration::from_micros(1));
    }
    assert!(store.len() <= 64);
    assert!(
        !store.check_now(&victim, &p, 1).unwrap().is_allowed(),
        "the limited key kept its state"
    );
}

#[test]
fn expired_keys_are_swept() {
    let clock = clock();
    let store = MemoryStore::with_config(clock.clone(), 4, 1_000_000, DEFAULT_CAP_POLICY);
    let windows = Policy::single(
        Limit::new(
            "w",
            AlgorithmKind::SlidingWindowLog,
            Quota::per_second(5).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    for i in 0..5_000u64 {
        store.check_now(&Key::from(i), &gcra(60), 1).unwrap();
        store.check_now(&Key::from(i), &windows, 1).unwrap();
    }
    store
        .block_at(&Key::from(1u64), Duration::from_secs(10), clock.now())
        .unwrap();
    assert_eq!(store.len(), 10_000);
    clock.advance(Duration::from_millis(999));
    assert_eq!(store.sweep(), 0, "nothing has expired yet");
    clock.advance(Duration::from_secs(10));
    assert_eq!(store.sweep(), 10_001);
    assert!(store.is_empty());
}

#[test]
fn shards_sweep_themselves_as_they_grow() {
    let clock = clock();
    let store = MemoryStore::with_config(clock.clone(), 1, 1_000_000, DEFAULT_CAP_POLICY);
    let p = gcra(60_000); // each key expires 1 ms after its request
    for i in 0..100_000u64 {
        store.check_now(&Key::from(i), &p, 1).unwrap();
        clock.advance(Duration::from_micros(10));
    }
    // 100 keys are live at any time; without sweeping the shard would hold 100 000.
    assert!(store.len() < 3_000, "{} keys held", store.len());
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn the_background_sweeper_runs_and_stops() {
    let clock = clock();
    let store = Arc::new(MemoryStore::with_clock(clock.clone()));
    store.check_now(&Key::from(1u64), &gcra(60), 1).unwrap();
    let task = store.spawn_sweeper(Duration::from_millis(5));
    clock.advance(Duration::from_secs(2));
    for _ in 0..200 {
        if store.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(store.is_empty());
    drop(store);
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn stores_are_usable_as_trait_objects() {
    let stores: Vec<Arc<dyn RateLimitStore>> = vec![
        Arc::new(MemoryStore::new()),
        Arc::new(FallbackStore::new(
            FailingStore,
            MemoryStore::new(),
            FallbackMode::Secondary,
        )),
    ];
    for s in stores {
        assert!(
            s.check(&Key::from("k"), &gcra(1), 1)
                .await
                .unwrap()
                .is_allowed()
        );
        assert!(
            !s.check(&Key::from("k"), &gcra(1), 1)
                .await
                .unwrap()
                .is_allowed()
        );
    }
}

#[tokio::test]
async fn fail_open_and_fail_closed() {
    let p = gcra(1);
    let open = FallbackStore::new(FailingStore, FailingStore, FallbackMode::FailOpen);
    let v = open.check(&Key::from("k"), &p, 1).await.unwrap();
    assert_eq!((v.cause(), v.is_allowed()), (Cause::FailedOpen, true));
    let closed = FallbackStore::new(FailingStore, FailingStore, FallbackMode::FailClosed)
        .with_fail_closed_retry(Duration::from_secs(5));
    let v = closed.check(&Key::from("k"), &p, 1).await.unwrap();
    assert_eq!(
        (v.cause(), v.retry_after_secs()),
        (Cause::FailedClosed, Some(5))
    );
    // A caller error is not a store failure: passed through, not failed open.
    assert!(matches!(
        open.check(&Key::from("k"), &p, 2).await,
        Err(RateLimitError::InvalidCost { .. })
    ));
    // Blocking through a failed primary reaches the secondary in Secondary mode only.
    assert!(
        open.block(&Key::from("k"), Duration::from_secs(1))
            .await
            .is_err()
    );
    let failover = FallbackStore::new(FailingStore, MemoryStore::new(), FallbackMode::Secondary);
    failover
        .block(&Key::from("k"), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        failover
            .check(&Key::from("k"), &p, 1)
            .await
            .unwrap()
            .cause(),
        Cause::Blocked
    );
}

/// A primary that counts the calls it receives.
struct Counting {
    inner: MemoryStore<Arc<ManualClock>>,
    calls: AtomicUsize,
}

#[async_trait]
impl RateLimitStore for Counting {
    async fn apply(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.apply(key, policy, cost).await
    }

    async fn block(&self, key: &Key, d: Duration) -> Result<(), RateLimitError> {
        self.inner.block(key, d).await
    }

    async fn unblock(&self, key: &Key) -> Result<(), RateLimitError> {
        self.inner.unblock(key).await
    }
}

#[tokio::test]
async fn the_shield_answers_refused_keys_without_the_primary() {
    let clock = clock();
    let primary = Counting {
        inner: MemoryStore::with_clock(clock.clone()),
        calls: AtomicUsize::new(0),
    };
    let store = FallbackStore::new(primary, MemoryStore::new(), FallbackMode::FailClosed)
        .with_shield(100)
        .with_clock(clock.clone());
    let p = Policy::single(
        Limit::gcra("g", Quota::per_minute(10).unwrap().with_burst(4).unwrap()).unwrap(),
    )
    .unwrap();
    let key = Key::from("flooder");
    assert!(store.check(&key, &p, 3).await.unwrap().is_allowed());
    assert!(!store.check(&key, &p, 3).await.unwrap().is_allowed());
    let calls = || store.primary().calls.load(Ordering::SeqCst);
    assert_eq!(calls(), 2);
    // A flood of the same request: answered locally, with the wait counting down.
    clock.advance(Duration::from_secs(1));
    for _ in 0..1_000 {
        let v = store.check(&key, &p, 3).await.unwrap();
        assert_eq!(v.cause(), Cause::Limited);
        assert_eq!(v.retry_after(), Some(Duration::from_secs(11)));
    }
    assert_eq!(calls(), 2);
    assert_eq!(store.shielded(), 1);
    // A cheaper request might fit: it goes to the primary (and fits).
    assert!(store.check(&key, &p, 1).await.unwrap().is_allowed());
    assert_eq!(calls(), 3);
    // Once the retry time has passed, the primary decides again.
    clock.advance(Duration::from_secs(30));
    assert!(store.check(&key, &p, 3).await.unwrap().is_allowed());
    assert_eq!(calls(), 4);
    // Unblocking forgets the key in the shield.
    assert!(!store.check(&key, &p, 3).await.unwrap().is_allowed());
    store.unblock(&key).await.unwrap();
    assert_eq!(store.shielded(), 0);
}

/// A primary that never answers in time.
#[cfg(feature = "tokio")]
struct Slow;

#[cfg(feature = "tokio")]
#[async_trait]
impl RateLimitStore for Slow {
    async fn apply(&self, _: &Key, _: &Policy, _: u32) -> Result<Verdict, RateLimitError> {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(Verdict::failed_open())
    }

    async fn block(&self, _: &Key, _: Duration) -> Result<(), RateLimitError> {
        Ok(())
    }

    async fn unblock(&self, _: &Key) -> Result<(), RateLimitError> {
        Ok(())
    }
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn a_slow_primary_times_out_to_the_secondary() {
    let store = FallbackStore::new(Slow, MemoryStore::new(), FallbackMode::Secondary)
        .with_timeout(Duration::from_millis(20));
    let v = store.check(&Key::from("k"), &gcra(1), 1).await.unwrap();
    assert_eq!(
        v.cause(),
        Cause::Admitted,
        "answered by the memory secondary"
    );
    let closed = FallbackStore::new(Slow, MemoryStore::new(), FallbackMode::FailClosed)
        .with_timeout(Duration::from_millis(20));
    assert_eq!(
        closed
            .check(&Key::from("k"), &gcra(1), 1)
            .await
            .unwrap()
            .cause(),
        Cause::FailedClosed
    );
}

/// A full shield evicts the refusals that end soonest, an eighth of a shard at a time, and
/// keeps the rest: it stays close to its capacity under a flood of refused keys.
#[tokio::test]
async fn a_full_shield_evicts_an_eighth_not_everything() {
    let clock = clock();
    let store = FallbackStore::new(
        MemoryStore::with_clock(clock.clone()),
        MemoryStore::new(),
        FallbackMode::FailClosed,
    )
    .with_shield(800)
    .with_clock(clock.clone());
    let p = gcra(1);
    for i in 0..2_000u64 {
        let key = Key::from(i);
        assert!(store.check(&key, &p, 1).await.unwrap().is_allowed());
        assert!(!store.check(&key, &p, 1).await.unwrap().is_allowed());
    }
    let held = store.shielded();
    // Every shard received more keys than it holds; each keeps at least 7/8 of its share.
    assert!((700..=1_100).contains(&held), "{held} refusals shielded");
    assert_eq!(
        format!("{store:?}"),
        format!("FallbackStore {{ mode: FailClosed, shielded: Some({held}), .. }}")
    );
}

/// The shield answers with the primary's own refusal: only a limit's refusal under a penalty
/// box becomes a block; any other refusal with a retry time (here a fail-closed answer of a
/// primary that is itself a fallback store) is repeated as it was.
#[tokio::test]
async fn the_shield_repeats_a_refusal_that_is_not_a_limit_as_it_was() {
    let clock = clock();
    let failing = FallbackStore::new(FailingStore, FailingStore, FallbackMode::FailClosed)
        .with_fail_closed_retry(Duration::from_secs(30));
    let store = FallbackStore::new(failing, MemoryStore::new(), FallbackMode::FailOpen)
        .with_shield(100)
        .with_clock(clock.clone());
    let p = gcra(1).with_block(Duration::from_secs(600));
    let key = Key::from("k");
    for _ in 0..2 {
        let v = store.check(&key, &p, 1).await.unwrap();
        assert_eq!(v.cause(), Cause::FailedClosed);
    }
    assert_eq!(
        store.shielded(),
        1,
        "the second answer came from the shield"
    );
}

/// An error of the primary that is not a store failure (here a memory primary refusing a new
/// key at its cap) is returned as it is: the fallback mode is for a primary that cannot be
/// reached, not a licence to admit what the primary refused to track.
#[tokio::test]
async fn a_primary_error_that_is_not_a_store_failure_is_returned() {
    let primary = MemoryStore::with_config(clock(), 1, 1, CapPolicy::Refuse);
    let store = FallbackStore::new(primary, MemoryStore::new(), FallbackMode::FailOpen);
    let p = gcra(10);
    assert!(
        store
            .check(&Key::from(1u64), &p, 1)
            .await
            .unwrap()
            .is_allowed()
    );
    assert_eq!(
        store.check(&Key::from(2u64), &p, 1).await,
        Err(RateLimitError::KeyCapReached { cap: 1 })
    );
}

/// The memory store's `Debug` counts the keys of both its tables (single-GCRA policies kept
/// as one word, every other policy under a lock) and its blocks, never naming a key.
#[tokio::test]
async fn a_memory_stores_debug_counts_keys_and_blocks() {
    let store = MemoryStore::with_clock(clock());
    let bucket = Policy::single(
        Limit::new(
            "b",
            AlgorithmKind::TokenBucket,
            Quota::per_minute(5).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    store
        .check_now(&Key::from("gcra-key"), &gcra(5), 1)
        .unwrap();
    store
        .check_now(&Key::from("bucket-key"), &bucket, 1)
        .unwrap();
    store
        .check_now(&Key::from("bucket-key-2"), &bucket, 1)
        .unwrap();
    store
        .block(&Key::from("blocked"), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        format!("{store:?}"),
        "MemoryStore { keys: 3, blocks: 1, .. }"
    );
}

/// The penalty box on a policy the memory store keeps under a lock (anything but one GCRA
/// limit): only a refusal by a limit blocks the key, for the whole block time.
#[test]
fn the_penalty_box_on_a_locked_policy() {
    let clock = clock();
    let store = MemoryStore::with_clock(clock.clone());
    assert!(store.is_empty());
    let p = Policy::single(
        Limit::new(
            "b",
            AlgorithmKind::TokenBucket,
            Quota::per_minute(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
    .with_block(Duration::from_secs(600));
    let key = Key::from("k");
    let cause =
        |store: &MemoryStore<Arc<ManualClock>>| store.check_now(&key, &p, 1).unwrap().cause();
    assert_eq!(cause(&store), Cause::Admitted);
    assert!(!store.is_empty());
    assert_eq!(cause(&store), Cause::Limited);
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        cause(&store),
        Cause::Blocked,
        "refilled, but in the penalty box"
    );
    clock.advance(Duration::from_secs(540));
    assert_eq!(cause(&store), Cause::Admitted);
}

/// A full shard that evicts drops the eighth of its keys whose states expire soonest (8 of
/// 64 here, one shard), and keeps the others with their states.
#[test]
fn a_full_shard_evicts_the_soonest_expiring_eighth() {
    let clock = clock();
    let store = MemoryStore::with_config(clock.clone(), 1, 64, CapPolicy::EvictSoonestExpiring);
    let p = Policy::single(Limit::gcra("g", Quota::per_hour(1).unwrap()).unwrap()).unwrap();
    // Key i is seen at +i ms, so its state expires i ms after key 0's.
    for i in 0..64u64 {
        assert!(store.check_now(&Key::from(i), &p, 1).unwrap().is_allowed());
        clock.advance(Duration::from_millis(1));
    }
    assert_eq!(store.len(), 64);
    assert!(
        store
            .check_now(&Key::from(64u64), &p, 1)
            .unwrap()
            .is_allowed()
    );
    assert_eq!(store.len(), 57, "8 evicted, 1 added");
    assert!(
        !store
            .check_now(&Key::from(8u64), &p, 1)
            .unwrap()
            .is_allowed(),
        "kept"
    );
    assert!(
        store
            .check_now(&Key::from(7u64), &p, 1)
            .unwrap()
            .is_allowed(),
        "evicted"
    );
}

/// A full shard that refuses new keys sweeps again when its soonest state has expired (at
/// exactly that instant), but at most once a millisecond: in between, new keys are refused
/// without a sweep, so a flood of new keys cannot make every request scan the shard.
#[test]
fn a_full_refusing_shard_sweeps_at_most_once_a_millisecond() {
    let clock = clock();
    let store = MemoryStore::with_config(clock.clone(), 1, 2, CapPolicy::Refuse);
    let p = Policy::single(Limit::gcra("g", Quota::per_second(1).unwrap()).unwrap()).unwrap();
    let check = |k: &str| store.check_now(&Key::from(k), &p, 1);
    let full = Err(RateLimitError::KeyCapReached { cap: 2 });
    let at_ms = |ms: u64| {
        clock.set(Timestamp::from_unix_nanos(
            1_700_000_000_000_000_000 + ms * 1_000_000,
        ))
    };
    at_ms(0);
    assert!(check("a").unwrap().is_allowed()); // a's state expires at +1,000 ms
    at_ms(500);
    assert!(check("b").unwrap().is_allowed()); // b's at +1,500 ms
    at_ms(600);
    assert_eq!(check("c"), full);
    // a expires at +1,000 ms exactly, more than 1 ms after the last sweep: room for d.
    at_ms(1_000);
    assert!(check("d").unwrap().is_allowed());
    // Full again (b, d); refused just before b expires, which sets the 1 ms pause.
    clock.set(Timestamp::from_unix_nanos(1_700_000_001_499_800_000));
    assert_eq!(check("e"), full);
    // b has expired, but within 1 ms of that sweep: refused without a sweep.
    clock.set(Timestamp::from_unix_nanos(1_700_000_001_500_300_000));
    assert_eq!(check("f"), full);
    // Exactly 1 ms after that sweep: swept again, room for g.
    clock.set(Timestamp::from_unix_nanos(1_700_000_001_500_800_000));
    assert!(check("g").unwrap().is_allowed());
}
