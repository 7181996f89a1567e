//! `MemoryNonceStore` through its public API: a claim's token never outlives its entry (swept,
//! removed or expired), the configured shape (shards, capacity, policy) is what `Debug` and the
//! accessors report, and a cap spread over many shards still holds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use palisade_replay::{
    CapPolicy, ClaimOutcome, Freshness, LeaseToken, MemoryNonceStore, ReplayError,
};
use palisade_webhook::{ManualClock, Timestamp};

const NS: &str = "memory-store-tests";
const SECOND: Duration = Duration::from_secs(1);

fn store(clock: &Arc<ManualClock>) -> MemoryNonceStore {
    MemoryNonceStore::builder()
        .shards(1)
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// One shard and no amortized sweep during a test: expiry alone decides.
fn unswept_store(clock: &Arc<ManualClock>) -> MemoryNonceStore {
    MemoryNonceStore::builder()
        .shards(1)
        .clock(clock.clone())
        .sweep_interval(Duration::from_secs(3_600))
        .build()
        .unwrap()
}

/// `b"id"`, whose claim under `token(1)` is gone, is recorded again: a completed entry that
/// the dead claim's holder cannot release.
fn recorded_again_as_completed(s: &MemoryNonceStore) {
    assert_eq!(
        s.insert_if_absent_now(NS, b"id", 10 * SECOND).unwrap(),
        Freshness::Fresh
    );
    assert_eq!(
        s.claim_now(NS, b"id", token(2), SECOND).unwrap(),
        ClaimOutcome::Completed
    );
    assert!(!s.release_now(NS, b"id", token(1)).unwrap());
}

fn token(n: u8) -> LeaseToken {
    LeaseToken::from_bytes([n; 16])
}

/// A claim that expired and was swept leaves no token behind: the id recorded afterwards is a
/// completed one, not "in progress" under the dead claim.
#[test]
fn a_swept_claim_leaves_no_lease() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let s = store(&clock);
    assert_eq!(
        s.claim_now(NS, b"id", token(1), SECOND).unwrap(),
        ClaimOutcome::Claimed
    );
    clock.advance(Duration::from_secs(2));
    s.sweep();
    assert!(s.is_empty());
    recorded_again_as_completed(&s);
    assert_eq!(s.len(), 1);
    assert!(!s.is_empty());
}

/// A removed claim leaves no token behind either.
#[test]
fn a_removed_claim_leaves_no_lease() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let s = store(&clock);
    s.claim_now(NS, b"id", token(1), 60 * SECOND).unwrap();
    // A second claim keeps the lease table non-empty while the first is removed.
    s.claim_now(NS, b"other", token(3), 60 * SECOND).unwrap();
    assert!(s.remove_now(NS, b"id").unwrap(), "a live claim is removed");
    assert!(!s.remove_now(NS, b"id").unwrap(), "only once");
    recorded_again_as_completed(&s);
    assert_eq!(
        s.claim_now(NS, b"other", token(4), SECOND).unwrap(),
        ClaimOutcome::InProgress
    );
}

/// An expired entry is not "held": removing or releasing it answers false, and the id is free.
#[test]
fn expired_entries_are_not_held() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let s = unswept_store(&clock);
    s.insert_if_absent_now(NS, b"kept", SECOND).unwrap();
    s.claim_now(NS, b"leased", token(1), SECOND).unwrap();
    clock.advance(Duration::from_secs(1));
    assert!(!s.remove_now(NS, b"kept").unwrap());
    assert!(!s.release_now(NS, b"leased", token(1)).unwrap());
    assert_eq!(
        s.insert_if_absent_now(NS, b"kept", SECOND).unwrap(),
        Freshness::Fresh
    );
    assert_eq!(
        s.claim_now(NS, b"leased", token(2), SECOND).unwrap(),
        ClaimOutcome::Claimed
    );
    // One millisecond before expiry both are still held.
    clock.advance(Duration::from_millis(999));
    assert!(s.release_now(NS, b"leased", token(2)).unwrap());
    assert!(s.remove_now(NS, b"kept").unwrap());
}

#[test]
fn the_configured_shape_is_reported() {
    let s = MemoryNonceStore::builder()
        .shards(3)
        .cap(10)
        .cap_policy(CapPolicy::EvictSoonestExpiring)
        .build()
        .unwrap();
    assert_eq!(s.cap(), 10);
    assert!(s.is_empty());
    assert_eq!(s.len(), 0);
    let shown = format!("{s:?}");
    // Shards are rounded up to a power of two.
    assert!(shown.contains("shards: 4"), "{shown}");
    assert!(shown.contains("cap: 10"), "{shown}");
    assert!(shown.contains("EvictSoonestExpiring"), "{shown}");
    assert_eq!(
        MemoryNonceStore::new().cap(),
        palisade_replay::DEFAULT_NONCE_CAP
    );
    assert!(matches!(
        MemoryNonceStore::builder().cap(0).build(),
        Err(ReplayError::InvalidConfig { .. })
    ));
}

/// With the default 64 shards the cap is per shard (rounded up): a full store refuses, and
/// counts every live entry across shards.
#[test]
fn the_cap_holds_across_shards() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let s = MemoryNonceStore::builder()
        .cap(64)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut fresh = 0;
    let mut full = 0;
    for i in 0u32..2_000 {
        match s.insert_if_absent_now(NS, &i.to_be_bytes(), 60 * SECOND) {
            Ok(Freshness::Fresh) => fresh += 1,
            Err(ReplayError::StoreFull { cap: 64 }) => full += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(s.len(), fresh);
    assert_eq!(fresh, 64, "one entry per shard of 64");
    assert_eq!(full, 2_000 - 64);
    // Every accepted id is still a replay.
    let replays = (0u32..2_000)
        .filter(|i| {
            matches!(
                s.insert_if_absent_now(NS, &i.to_be_bytes(), 60 * SECOND),
                Ok(Freshness::Replayed)
            )
        })
        .count();
    assert_eq!(replays, 64);
}

/// Every shard takes entries, beyond the 256th too: with a cap of one entry per shard, enough
/// distinct ids fill all 1024 shards (a shard index built from one byte of the fingerprint
/// would reach only 256 of them and refuse three quarters of the capacity).
#[test]
fn every_shard_is_used() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let s = MemoryNonceStore::builder()
        .shards(1_024)
        .cap(1_024)
        .clock(clock.clone())
        .build()
        .unwrap();
    // 30 000 random fingerprints leave a given shard empty with probability e^-29.
    for i in 0u32..30_000 {
        match s.insert_if_absent_now(NS, &i.to_be_bytes(), 60 * SECOND) {
            Ok(Freshness::Fresh) | Err(ReplayError::StoreFull { cap: 1_024 }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(s.len(), 1_024);
}

/// An expired claim recorded again by `insert_if_absent` (no sweep in between) becomes a
/// completed entry: the dead claim's token does not survive into it.
#[test]
fn an_expired_claim_recorded_again_leaves_no_lease() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let s = unswept_store(&clock);
    s.claim_now(NS, b"id", token(1), SECOND).unwrap();
    // Another live claim keeps the lease table non-empty.
    s.claim_now(NS, b"other", token(3), 60 * SECOND).unwrap();
    clock.advance(Duration::from_secs(2));
    recorded_again_as_completed(&s);
}

/// Claims sweep their shard once the sweep interval has passed (the amortized sweep), so
/// expired claims do not pile up in a store that only sees claims.
#[test]
fn claims_sweep_expired_entries_after_the_interval() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let s = store(&clock); // sweep interval: 1 s
    s.claim_now(NS, b"old", token(1), SECOND).unwrap();
    clock.advance(Duration::from_secs(2));
    s.claim_now(NS, b"new", token(2), SECOND).unwrap();
    assert_eq!(s.len(), 1, "the expired claim was swept");
}
