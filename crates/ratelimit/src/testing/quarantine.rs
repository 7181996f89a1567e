//! The conformance suite of [`PenaltyBox`]: listing the keys blocked now in bounded pages,
//! releasing one, and taking the blocks that ended, each exactly once, under concurrency.
//!
//! Run it with [`penalty_box_suite!`](crate::penalty_box_suite) and a [`PenaltyBoxHarness`]
//! whose store is the harness's own (a fresh key prefix or schema): the cases list and take
//! every block of the store, and check their own keys among them.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Harness, MemoryHarness, RealTimeHarness, limit, policy, unique_key};
use crate::{
    AlgorithmKind, BlockCursor, Cause, Key, MemoryStore, PenaltyBox, RateLimitStore, SystemClock,
};

/// A [`Harness`] whose store also manages its penalty box.
#[async_trait]
pub trait PenaltyBoxHarness: Harness {
    /// The store to run one case on, as a [`PenaltyBox`]. Stores of one harness may share
    /// state; no other harness's keys may be in it.
    async fn penalty_box(&self) -> Arc<dyn PenaltyBox>;
}

#[async_trait]
impl PenaltyBoxHarness for MemoryHarness {
    async fn penalty_box(&self) -> Arc<dyn PenaltyBox> {
        Arc::new(MemoryStore::with_clock(self.clock()))
    }
}

#[async_trait]
impl PenaltyBoxHarness for RealTimeHarness {
    async fn penalty_box(&self) -> Arc<dyn PenaltyBox> {
        Arc::new(MemoryStore::with_clock(SystemClock))
    }
}

/// Every key listed by walking the pages of `limit` entries from the start; checks that each
/// page is bounded and lists no key twice, and each entry's remaining time is in `(0, most]`.
async fn walk(store: &dyn PenaltyBox, limit: usize, most: Duration) -> Vec<Key> {
    let mut seen = Vec::new();
    let mut cursor: Option<BlockCursor> = None;
    for _ in 0..10_000 {
        let page = store.blocks(cursor.as_ref(), limit).await.unwrap();
        assert!(
            page.entries.len() <= limit.max(1),
            "a page of {} entries for a limit of {limit}",
            page.entries.len()
        );
        for e in &page.entries {
            assert!(
                e.remaining > Duration::ZERO && e.remaining <= most,
                "remaining {:?} out of (0, {most:?}]",
                e.remaining
            );
            seen.push(e.key);
        }
        match page.next {
            Some(next) => {
                assert!(!page.entries.is_empty(), "a cursor after an empty page");
                cursor = Some(next);
            }
            None => {
                let unique: HashSet<_> = seen.iter().collect();
                assert_eq!(unique.len(), seen.len(), "a key listed twice");
                return seen;
            }
        }
    }
    panic!("the walk did not end");
}

/// Every block taken by calling `take_ended(limit)` until it returns nothing; checks each
/// answer is bounded.
async fn take_all(store: &dyn PenaltyBox, limit: usize) -> Vec<Key> {
    let mut taken = Vec::new();
    loop {
        let got = store.take_ended(limit).await.unwrap();
        assert!(
            got.len() <= limit.max(1),
            "{} taken for a limit of {limit}",
            got.len()
        );
        if got.is_empty() {
            return taken;
        }
        taken.extend(got);
    }
}

/// 25 explicit blocks and 3 penalty blocks are listed, each once, in pages of 7 (and of 1, and
/// of 0, cut to 1); a released key, an expired block and an unblocked key are not.
pub async fn lists_blocks_in_pages(h: &dyn PenaltyBoxHarness) {
    let tick = h.tick();
    let store = h.penalty_box().await;
    let explicit: Vec<Key> = (0..25).map(|_| unique_key("listed")).collect();
    for k in &explicit {
        store.block(k, tick * 100).await.unwrap();
    }
    let p = policy(limit(
        "listing",
        AlgorithmKind::Gcra,
        1,
        tick * 10_000,
        None,
    ))
    .with_block(tick * 100);
    let penalized: Vec<Key> = (0..3).map(|_| unique_key("penalized")).collect();
    for k in &penalized {
        assert!(store.check(k, &p, 1).await.unwrap().is_allowed());
        assert_eq!(store.check(k, &p, 1).await.unwrap().cause(), Cause::Limited);
    }
    let (gone, expired, unblocked) = (
        unique_key("gone"),
        unique_key("expired"),
        unique_key("unblocked"),
    );
    store.block(&gone, tick * 100).await.unwrap();
    store.block(&unblocked, tick * 100).await.unwrap();
    store.block(&expired, tick).await.unwrap();
    assert!(store.release(&gone).await.unwrap());
    store.unblock(&unblocked).await.unwrap();
    h.advance(tick * 2).await;

    let want: HashSet<Key> = explicit.iter().chain(&penalized).copied().collect();
    for page in [7, 1, 0, 1_000] {
        let listed = walk(&*store, page, tick * 100).await;
        let ours: HashSet<Key> = listed
            .iter()
            .copied()
            .filter(|k| want.contains(k))
            .collect();
        assert_eq!(ours, want, "pages of {page}: every blocked key, once");
        for k in [gone, expired, unblocked] {
            assert!(
                !listed.contains(&k),
                "pages of {page}: a key no longer blocked is listed"
            );
        }
    }
}

/// `release` lifts one block and says whether there was one: not for a key never blocked, a
/// block already released, or one that expired; other blocks stay.
pub async fn release_lifts_one_block(h: &dyn PenaltyBoxHarness) {
    let tick = h.tick();
    let store = h.penalty_box().await;
    let p = policy(limit(
        "release",
        AlgorithmKind::Gcra,
        1,
        tick * 10_000,
        None,
    ));
    let (a, b, never, short) = (
        unique_key("release-a"),
        unique_key("release-b"),
        unique_key("never"),
        unique_key("short"),
    );
    store.block(&a, tick * 100).await.unwrap();
    store.block(&b, tick * 100).await.unwrap();
    store.block(&short, tick).await.unwrap();
    assert!(store.release(&a).await.unwrap(), "a was blocked");
    assert!(!store.release(&a).await.unwrap(), "a is released already");
    assert!(!store.release(&never).await.unwrap(), "never blocked");
    assert!(
        store.check(&a, &p, 1).await.unwrap().is_allowed(),
        "a is free"
    );
    assert_eq!(
        store.check(&b, &p, 1).await.unwrap().cause(),
        Cause::Blocked,
        "b stays blocked"
    );
    h.advance(tick * 2).await;
    assert!(
        !store.release(&short).await.unwrap(),
        "an expired block is no block"
    );
}

/// Blocks that end are taken once each, in bounded batches, by 8 concurrent callers; running
/// blocks and released ones are never taken.
pub async fn take_ended_once_each(h: &dyn PenaltyBoxHarness) {
    let tick = h.tick();
    let store = h.penalty_box().await;
    let ending: Vec<Key> = (0..40).map(|_| unique_key("ending")).collect();
    // Long enough that none ends while the case sets the others up on a busy machine.
    let ends = tick * 20;
    for k in &ending {
        store.block(k, ends).await.unwrap();
    }
    let p = policy(limit("ending", AlgorithmKind::Gcra, 1, tick * 10_000, None)).with_block(ends);
    let penalized = unique_key("ending-penalty");
    assert!(store.check(&penalized, &p, 1).await.unwrap().is_allowed());
    assert_eq!(
        store.check(&penalized, &p, 1).await.unwrap().cause(),
        Cause::Limited
    );
    let (running, released) = (unique_key("running"), unique_key("released"));
    store.block(&running, tick * 100).await.unwrap();
    store.block(&released, ends).await.unwrap();
    assert!(store.release(&released).await.unwrap());
    assert!(
        take_all(&*store, 1_000)
            .await
            .iter()
            .all(|k| !ending.contains(k)),
        "nothing ended yet"
    );
    h.advance(ends + tick).await;

    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { take_all(&*store, 3).await })
        })
        .collect();
    let mut taken = Vec::new();
    for t in tasks {
        taken.extend(t.await.unwrap());
    }
    let unique: HashSet<Key> = taken.iter().copied().collect();
    assert_eq!(unique.len(), taken.len(), "an ended block taken twice");
    for k in ending.iter().chain([&penalized]) {
        assert!(unique.contains(k), "an ended block was not taken");
    }
    assert!(!unique.contains(&running), "a running block was taken");
    assert!(!unique.contains(&released), "a released block was taken");
    assert!(take_all(&*store, 1_000).await.is_empty(), "taken once only");
    assert_eq!(
        store.check(&running, &p, 1).await.unwrap().cause(),
        Cause::Blocked
    );
    assert!(walk(&*store, 1_000, tick * 100).await.contains(&running));
}

/// Every case, in order.
pub async fn run_all(h: &dyn PenaltyBoxHarness) {
    lists_blocks_in_pages(h).await;
    release_lifts_one_block(h).await;
    take_ended_once_each(h).await;
}

/// Writes one `#[test]` per [`PenaltyBox`] case (module
/// [`testing::quarantine`](crate::testing::quarantine)), each building its harness with `$make`
/// (a path to an `async fn() -> impl PenaltyBoxHarness`) on its own tokio runtime.
///
/// ```ignore
/// async fn harness() -> palisade_ratelimit::testing::MemoryHarness {
///     palisade_ratelimit::testing::MemoryHarness::new()
/// }
/// palisade_ratelimit::penalty_box_suite!(harness);
/// ```
#[macro_export]
macro_rules! penalty_box_suite {
    ($make:path) => {
        $crate::penalty_box_suite!(@cases $make;
            lists_blocks_in_pages,
            release_lifts_one_block,
            take_ended_once_each,
        );
    };
    (@cases $make:path; $($case:ident,)*) => {
        $(
            #[test]
            fn $case() {
                $crate::testing::runtime().block_on(async {
                    let harness = $make().await;
                    $crate::testing::quarantine::$case(&harness).await;
                });
            }
        )*
    };
}
