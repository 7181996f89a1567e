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
    ClaimOutcome, Freshness, FullPolicy, LeaseToken, MemoryNonceStore, ReplayError,
};
use palisade_webhook::FixedClock;

const NS: &str = "memory-store-tests";
const SECOND: Duration = Duration::from_secs(1);

fn store(clock: &Arc<FixedClock>) -> MemoryNonceStore {
    MemoryNonceStore::builder()
        .shards(1)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn token(n: u8) -> LeaseToken {
    LeaseToken::from_bytes([n; 16])
}

/// A claim that expired and was swept leaves no token behind: the id recorded afterwards is a
/// completed one, not "in progress" under the dead claim.
#[test]
fn a_swept_claim_leaves_no_lease() {
    let clock = Arc::new(FixedClock::new(1_000));
    let s = store(&clock);
    assert_eq!(
        s.claim_now(NS, b"id", token(1), SECOND).unwrap(),
        ClaimOutcome::Claimed
    );
    clock.advance(2);
    s.sweep();
    assert!(s.is_empty());
    assert_eq!(
        s.insert_if_absent_now(NS, b"id", 10 * SECOND).unwrap(),
        Freshness::Fresh
    );
    assert_eq!(
        s.claim_now(NS, b"id", token(2), SECOND).unwrap(),
        ClaimOutcome::Completed
    );
    // Nor can the dead claim's holder release the new entry.
    assert!(!s.release_now(NS, b"id", token(1)).unwrap());
    assert_eq!(s.len(), 1);
}

/// A removed claim leaves no token behind either.
#[test]
fn a_removed_claim_leaves_no_lease() {
    let clock = Arc::new(FixedClock::new(1_000));
    let s = store(&clock);
    s.claim_now(NS, b"id", token(1), 60 * SECOND).unwrap();
    // A second claim keeps the lease table non-empty while the first is removed.
    s.claim_now(NS, b"other", token(3), 60 * SECOND).unwrap();
    assert!(s.remove_now(NS, b"id").unwrap(), "a live claim is removed");
    assert!(!s.remove_now(NS, b"id").unwrap(), "only once");
    assert_eq!(
        s.insert_if_absent_now(NS, b"id", 10 * SECOND).unwrap(),
        Freshness::Fresh
    );
    assert_eq!(
        s.claim_now(NS, b"id", token(2), SECOND).unwrap(),
        ClaimOutcome::Completed
    );
    assert_eq!(
        s.claim_now(NS, b"other", token(4), SECOND).unwrap(),
        ClaimOutcome::InProgress
    );
}

/// An expired entry is not "held": removing or releasing it answers false, and the id is free.
#[test]
fn expired_entries_are_not_held() {
    let clock = Arc::new(FixedClock::new(1_000));
    let s = MemoryNonceStore::builder()
        .shards(1)
        .clock(clock.clone())
        // No amortized sweep during the test: expiry alone must decide.
        .sweep_interval(Duration::from_secs(3_600))
        .build()
        .unwrap();
    s.insert_if_absent_now(NS, b"kept", SECOND).unwrap();
    s.claim_now(NS, b"leased", token(1), SECOND).unwrap();
    clock.advance(1);
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
    clock.advance_millis(999);
    assert!(s.release_now(NS, b"leased", token(2)).unwrap());
    assert!(s.remove_now(NS, b"kept").unwrap());
}

#[test]
fn the_configured_shape_is_reported() {
    let s = MemoryNonceStore::builder()
        .shards(3)
        .capacity(10)
        .full_policy(FullPolicy::EvictSoonestExpiring)
        .build()
        .unwrap();
    assert_eq!(s.capacity(), 10);
    assert!(s.is_empty());
    assert_eq!(s.len(), 0);
    let shown = format!("{s:?}");
    // Shards are rounded up to a power of two.
    assert!(shown.contains("shards: 4"), "{shown}");
    assert!(shown.contains("capacity: 10"), "{shown}");
    assert!(shown.contains("EvictSoonestExpiring"), "{shown}");
    assert_eq!(MemoryNonceStore::new().capacity(), 1_000_000);
    assert!(matches!(
        MemoryNonceStore::builder().capacity(0).build(),
        Err(ReplayError::InvalidConfig { .. })
    ));
}

/// With the default 64 shards the cap is per shard (rounded up): a full store refuses, and
/// counts every live entry across shards.
#[test]
fn the_cap_holds_across_shards() {
    let clock = Arc::new(FixedClock::new(1_000));
    let s = MemoryNonceStore::builder()
        .capacity(64)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut fresh = 0;
    let mut full = 0;
    for i in 0u32..2_000 {
        match s.insert_if_absent_now(NS, &i.to_be_bytes(), 60 * SECOND) {
            Ok(Freshness::Fresh) => fresh += 1,
            Err(ReplayError::StoreFull { capacity: 64 }) => full += 1,
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
