//! The conformance suite every [`NonceStore`] must pass (feature `testing`).
//!
//! The same functions run against the memory store here and against the Redis and Postgres
//! stores in their crates: [`NonceStore::insert_if_absent`] and `remove`, and the delivery
//! claims ([`NonceStore::claim`], [`NonceStore::complete`], [`NonceStore::release`]), each
//! alone and under concurrency. They use real time (the TTL and lease checks sleep about 1.3 s,
//! together) so that stores which decide with their server's clock are tested as they run,
//! and every call works under a fresh random namespace prefix, so runs against a shared server
//! never collide.
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! use palisade_replay::{MemoryNonceStore, testing};
//!
//! testing::run_all(Arc::new(MemoryNonceStore::new())).await;
//! # }
//! ```
//!
//! Each check panics with a message naming what failed, like any test assertion.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::{ClaimOutcome, Freshness, LeaseToken, NonceStore, ReplayError};

const TTL: Duration = Duration::from_secs(60);

/// A namespace unique to this call: `test:<label>:<random hex>`.
pub fn unique_namespace(label: &str) -> String {
    use std::hash::{BuildHasher, RandomState};
    let a = RandomState::new().hash_one(label);
    let b = RandomState::new().hash_one(std::time::SystemTime::now());
    format!("test:{label}:{a:016x}{b:016x}")
}

async fn insert<S: NonceStore + ?Sized>(
    store: &S,
    ns: &str,
    id: &[u8],
    ttl: Duration,
) -> Freshness {
    match store.insert_if_absent(ns, id, ttl).await {
        Ok(f) => f,
        Err(e) => panic!("insert_if_absent({ns}, {id:?}) failed: {e}"),
    }
}

/// A new id is `Fresh`, the same id again is `Replayed`, a different id is `Fresh`; `remove`
/// forgets an id once.
pub async fn fresh_then_replayed<S: NonceStore + ?Sized>(store: &S) {
    let ns = unique_namespace("fresh");
    assert_eq!(
        insert(store, &ns, b"id-1", TTL).await,
        Freshness::Fresh,
        "first insert"
    );
    assert_eq!(
        insert(store, &ns, b"id-1", TTL).await,
        Freshness::Replayed,
        "second insert"
    );
    assert_eq!(
        insert(store, &ns, b"id-2", TTL).await,
        Freshness::Fresh,
        "other id"
    );
    // Ids are bytes: non-UTF-8 and empty ids are ids like any other.
    assert_eq!(insert(store, &ns, b"\xff\x00", TTL).await, Freshness::Fresh);
    assert_eq!(insert(store, &ns, b"", TTL).await, Freshness::Fresh);
    assert_eq!(insert(store, &ns, b"", TTL).await, Freshness::Replayed);
    assert!(
        store.remove(&ns, b"id-1").await.unwrap(),
        "remove of a held id"
    );
    assert!(!store.remove(&ns, b"id-1").await.unwrap(), "second remove");
    assert_eq!(
        insert(store, &ns, b"id-1", TTL).await,
        Freshness::Fresh,
        "after remove"
    );
}

/// An id expires after its TTL (1 s here) and is then `Fresh` again; before that it is
/// `Replayed`.
pub async fn ttl_expiry<S: NonceStore + ?Sized>(store: &S) {
    let ns = unique_namespace("ttl");
    let ttl = Duration::from_secs(1);
    assert_eq!(insert(store, &ns, b"short", ttl).await, Freshness::Fresh);
    assert_eq!(insert(store, &ns, b"long", TTL).await, Freshness::Fresh);
    assert_eq!(insert(store, &ns, b"short", ttl).await, Freshness::Replayed);
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert_eq!(
        insert(store, &ns, b"short", ttl).await,
        Freshness::Fresh,
        "after expiry"
    );
    assert_eq!(
        insert(store, &ns, b"long", TTL).await,
        Freshness::Replayed,
        "long TTL kept"
    );
}

/// The same id in two namespaces is two ids; an empty namespace and a zero TTL are refused.
pub async fn namespaces<S: NonceStore + ?Sized>(store: &S) {
    let a = unique_namespace("ns-a");
    let b = unique_namespace("ns-b");
    assert_eq!(insert(store, &a, b"same", TTL).await, Freshness::Fresh);
    assert_eq!(insert(store, &b, b"same", TTL).await, Freshness::Fresh);
    assert_eq!(insert(store, &a, b"same", TTL).await, Freshness::Replayed);
    // A namespace that is a prefix of another must not alias it.
    let prefix = format!("{a}:x");
    assert_eq!(insert(store, &prefix, b"same", TTL).await, Freshness::Fresh);
    assert!(matches!(
        store.insert_if_absent("", b"x", TTL).await,
        Err(ReplayError::InvalidConfig { .. })
    ));
    assert!(matches!(
        store.insert_if_absent(&a, b"x", Duration::ZERO).await,
        Err(ReplayError::InvalidConfig { .. })
    ));
}

/// Starts `racers` tasks that insert `id` in `namespace` at the same moment (behind a barrier)
/// and returns how many saw `Fresh`. A correct store returns 1 whenever `id` is absent or
/// expired when the race starts.
pub async fn race<S: NonceStore + ?Sized + 'static>(
    store: Arc<S>,
    namespace: &str,
    id: &[u8],
    racers: usize,
) -> usize {
    let ns: Arc<str> = Arc::from(namespace);
    let id: Arc<[u8]> = Arc::from(id);
    let fresh = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(tokio::sync::Barrier::new(racers));
    let tasks: Vec<_> = (0..racers)
        .map(|_| {
            let (store, ns, id, fresh, barrier) = (
                store.clone(),
                ns.clone(),
                id.clone(),
                fresh.clone(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                if insert(&*store, &ns, &id, TTL).await == Freshness::Fresh {
                    fresh.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task panicked");
    }
    fresh.load(Ordering::SeqCst)
}

/// 64 tasks insert one id at the same moment: exactly one sees `Fresh`.
pub async fn concurrent_single_key<S: NonceStore + ?Sized + 'static>(store: Arc<S>) {
    let ns = unique_namespace("race");
    assert_eq!(
        race(store, &ns, b"contended", 64).await,
        1,
        "exactly one Fresh among 64 racers"
    );
}

/// 64 tasks each insert 1,000 distinct ids at once: all 64,000 are `Fresh`.
pub async fn concurrent_distinct_keys<S: NonceStore + ?Sized + 'static>(store: Arc<S>) {
    let ns = Arc::new(unique_namespace("distinct"));
    let tasks: Vec<_> = (0..64u32)
        .map(|t| {
            let (store, ns) = (store.clone(), ns.clone());
            tokio::spawn(async move {
                let mut fresh = 0usize;
                for i in 0..1_000u32 {
                    let id = [t.to_be_bytes(), i.to_be_bytes()].concat();
                    if insert(&*store, &ns, &id, TTL).await == Freshness::Fresh {
                        fresh += 1;
                    }
                }
                fresh
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task panicked");
    }
    assert_eq!(total, 64_000, "every distinct id is Fresh");
}

fn token() -> LeaseToken {
    LeaseToken::random().expect("OS random source")
}

async fn claim<S: NonceStore + ?Sized>(
    store: &S,
    ns: &str,
    id: &[u8],
    token: LeaseToken,
    lease: Duration,
) -> ClaimOutcome {
    match store.claim(ns, id, token, lease).await {
        Ok(o) => o,
        Err(e) => panic!("claim({ns}, {id:?}) failed: {e}"),
    }
}

async fn complete<S: NonceStore + ?Sized>(
    store: &S,
    ns: &str,
    id: &[u8],
    token: LeaseToken,
) -> bool {
    match store.complete(ns, id, token, TTL).await {
        Ok(o) => o,
        Err(e) => panic!("complete({ns}, {id:?}) failed: {e}"),
    }
}

async fn release<S: NonceStore + ?Sized>(
    store: &S,
    ns: &str,
    id: &[u8],
    token: LeaseToken,
) -> bool {
    match store.release(ns, id, token).await {
        Ok(o) => o,
        Err(e) => panic!("release({ns}, {id:?}) failed: {e}"),
    }
}

/// A claim holds the id in flight (a second claim is `InProgress`, `insert_if_absent` is
/// `Replayed`); completing it makes later claims `Completed` and `insert_if_absent`
/// `Replayed`; a completed entry is never released; an id recorded by `insert_if_absent`
/// is `Completed` for claims; `complete` without a claim records the id and answers false.
pub async fn claim_then_complete<S: NonceStore + ?Sized>(store: &S) {
    let ns = unique_namespace("claim");
    let (a, b) = (token(), token());
    assert_eq!(
        claim(store, &ns, b"d-1", a, TTL).await,
        ClaimOutcome::Claimed,
        "first claim"
    );
    assert_eq!(
        claim(store, &ns, b"d-1", b, TTL).await,
        ClaimOutcome::InProgress,
        "second claim while in flight"
    );
    assert_eq!(
        claim(store, &ns, b"d-1", a, TTL).await,
        ClaimOutcome::InProgress,
        "the same token does not claim twice"
    );
    assert_eq!(
        insert(store, &ns, b"d-1", TTL).await,
        Freshness::Replayed,
        "insert_if_absent of an id in flight"
    );
    assert!(
        complete(store, &ns, b"d-1", a).await,
        "complete by the claim's token"
    );
    assert_eq!(
        claim(store, &ns, b"d-1", b, TTL).await,
        ClaimOutcome::Completed,
        "claim after complete"
    );
    assert_eq!(
        insert(store, &ns, b"d-1", TTL).await,
        Freshness::Replayed,
        "insert_if_absent after complete"
    );
    assert!(
        !release(store, &ns, b"d-1", a).await,
        "release of a completed entry by its own token"
    );
    assert_eq!(
        claim(store, &ns, b"d-1", b, TTL).await,
        ClaimOutcome::Completed,
        "a completed entry is never released"
    );
    assert!(
        !complete(store, &ns, b"d-1", a).await,
        "a second complete reports no claim in flight"
    );
    assert_eq!(
        claim(store, &ns, b"d-1", b, TTL).await,
        ClaimOutcome::Completed
    );

    // An id recorded by insert_if_absent is a completed delivery.
    assert_eq!(insert(store, &ns, b"d-2", TTL).await, Freshness::Fresh);
    assert_eq!(
        claim(store, &ns, b"d-2", a, TTL).await,
        ClaimOutcome::Completed,
        "claim of an id recorded by insert_if_absent"
    );
    assert!(!release(store, &ns, b"d-2", a).await);
    assert_eq!(insert(store, &ns, b"d-2", TTL).await, Freshness::Replayed);

    // Complete with no claim at all still records the delivery.
    assert!(
        !complete(store, &ns, b"d-3", a).await,
        "complete without a claim"
    );
    assert_eq!(
        claim(store, &ns, b"d-3", b, TTL).await,
        ClaimOutcome::Completed
    );

    // remove forgets a claim like any entry.
    assert_eq!(
        claim(store, &ns, b"d-4", a, TTL).await,
        ClaimOutcome::Claimed
    );
    assert!(
        store.remove(&ns, b"d-4").await.unwrap(),
        "remove of a claim"
    );
    assert_eq!(
        claim(store, &ns, b"d-4", b, TTL).await,
        ClaimOutcome::Claimed
    );

    // Ids are bytes, and claims are per namespace.
    let other = unique_namespace("claim-other");
    assert_eq!(
        claim(store, &ns, b"\xff\x00", a, TTL).await,
        ClaimOutcome::Claimed
    );
    assert_eq!(claim(store, &ns, b"", a, TTL).await, ClaimOutcome::Claimed);
    assert_eq!(
        claim(store, &other, b"d-1", a, TTL).await,
        ClaimOutcome::Claimed
    );
}

/// A release by the claim's token removes it and the id is claimable again; a release by
/// another token removes nothing.
pub async fn claim_then_release<S: NonceStore + ?Sized>(store: &S) {
    let ns = unique_namespace("release");
    let (a, b) = (token(), token());
    assert_eq!(claim(store, &ns, b"d", a, TTL).await, ClaimOutcome::Claimed);
    assert!(
        !release(store, &ns, b"d", b).await,
        "release with a wrong token"
    );
    assert_eq!(
        claim(store, &ns, b"d", b, TTL).await,
        ClaimOutcome::InProgress,
        "a wrong token's release removes nothing"
    );
    assert!(
        release(store, &ns, b"d", a).await,
        "release by the claim's token"
    );
    assert!(!release(store, &ns, b"d", a).await, "second release");
    assert!(
        !release(store, &ns, b"never", a).await,
        "release of an absent id"
    );
    assert_eq!(
        claim(store, &ns, b"d", b, TTL).await,
        ClaimOutcome::Claimed,
        "claimable again after release"
    );
    assert!(
        !complete(store, &ns, b"d", a).await,
        "complete by the released token"
    );
    assert_eq!(
        claim(store, &ns, b"d", a, TTL).await,
        ClaimOutcome::Completed
    );
}

/// A claim whose lease (1 s here) ran out is claimable again, by another token; the first
/// holder's release then removes nothing, and its late complete answers false but still
/// records the delivery as completed. An expired claim recorded again by `insert_if_absent`
/// is a completed id.
pub async fn lease_expiry<S: NonceStore + ?Sized>(store: &S) {
    let ns = unique_namespace("lease");
    let lease = Duration::from_secs(1);
    let (a, b) = (token(), token());
    assert_eq!(
        claim(store, &ns, b"d", a, lease).await,
        ClaimOutcome::Claimed
    );
    assert_eq!(
        claim(store, &ns, b"e", a, lease).await,
        ClaimOutcome::Claimed
    );
    assert_eq!(
        claim(store, &ns, b"long", a, TTL).await,
        ClaimOutcome::Claimed
    );
    assert_eq!(
        claim(store, &ns, b"d", b, lease).await,
        ClaimOutcome::InProgress,
        "before the lease runs out"
    );
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert_eq!(
        claim(store, &ns, b"long", b, TTL).await,
        ClaimOutcome::InProgress,
        "long lease kept"
    );
    assert!(
        !release(store, &ns, b"d", a).await,
        "release after the lease ran out"
    );
    assert_eq!(
        claim(store, &ns, b"d", b, TTL).await,
        ClaimOutcome::Claimed,
        "claimable after the lease ran out"
    );
    assert!(
        !release(store, &ns, b"d", a).await,
        "the lost lease cannot release the new claim"
    );
    assert_eq!(
        claim(store, &ns, b"d", a, TTL).await,
        ClaimOutcome::InProgress
    );
    assert!(
        !complete(store, &ns, b"d", a).await,
        "complete after losing the lease answers false"
    );
    assert_eq!(
        claim(store, &ns, b"d", a, TTL).await,
        ClaimOutcome::Completed,
        "complete after losing the lease still completes"
    );
    assert!(
        !release(store, &ns, b"d", b).await,
        "the new holder cannot release a completed entry"
    );
    // An expired claim taken over by insert_if_absent is a completed id: no token survives.
    assert_eq!(
        insert(store, &ns, b"e", TTL).await,
        Freshness::Fresh,
        "insert_if_absent of an expired claim"
    );
    assert!(
        !release(store, &ns, b"e", a).await,
        "the expired claim's token cannot release the inserted id"
    );
    assert_eq!(
        claim(store, &ns, b"e", b, TTL).await,
        ClaimOutcome::Completed,
        "an id inserted over an expired claim is completed"
    );
}

/// Empty namespaces and zero leases and TTLs are refused by every claim operation.
pub async fn claim_arguments<S: NonceStore + ?Sized>(store: &S) {
    let ns = unique_namespace("claim-args");
    let t = token();
    assert!(matches!(
        store.claim("", b"x", t, TTL).await,
        Err(ReplayError::InvalidConfig { .. })
    ));
    assert!(matches!(
        store.claim(&ns, b"x", t, Duration::ZERO).await,
        Err(ReplayError::InvalidConfig { .. })
    ));
    assert!(matches!(
        store.complete("", b"x", t, TTL).await,
        Err(ReplayError::InvalidConfig { .. })
    ));
    assert!(matches!(
        store.complete(&ns, b"x", t, Duration::ZERO).await,
        Err(ReplayError::InvalidConfig { .. })
    ));
    assert!(matches!(
        store.release("", b"x", t).await,
        Err(ReplayError::InvalidConfig { .. })
    ));
    // Nothing was recorded by the refused calls.
    assert_eq!(claim(store, &ns, b"x", t, TTL).await, ClaimOutcome::Claimed);
}

/// Starts `racers` tasks that claim `id` in `namespace` at the same moment (behind a barrier),
/// each with its own token, and returns how many saw `Claimed` and how many `InProgress`. A
/// correct store returns `(1, racers - 1)` whenever `id` is absent or expired when the race
/// starts.
pub async fn claim_race<S: NonceStore + ?Sized + 'static>(
    store: Arc<S>,
    namespace: &str,
    id: &[u8],
    racers: usize,
) -> (usize, usize) {
    let ns: Arc<str> = Arc::from(namespace);
    let id: Arc<[u8]> = Arc::from(id);
    let claimed = Arc::new(AtomicUsize::new(0));
    let in_progress = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(tokio::sync::Barrier::new(racers));
    let tasks: Vec<_> = (0..racers)
        .map(|_| {
            let (store, ns, id, claimed, in_progress, barrier) = (
                store.clone(),
                ns.clone(),
                id.clone(),
                claimed.clone(),
                in_progress.clone(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                let t = token();
                barrier.wait().await;
                match claim(&*store, &ns, &id, t, TTL).await {
                    ClaimOutcome::Claimed => claimed.fetch_add(1, Ordering::SeqCst),
                    ClaimOutcome::InProgress => in_progress.fetch_add(1, Ordering::SeqCst),
                    ClaimOutcome::Completed => 0,
                };
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task panicked");
    }
    (
        claimed.load(Ordering::SeqCst),
        in_progress.load(Ordering::SeqCst),
    )
}

/// 64 tasks claim one delivery at the same moment: exactly one `Claimed`, 63 `InProgress`.
/// After a release, another 64 race again with the same result; after a complete, all 64
/// see `Completed`.
pub async fn concurrent_claims<S: NonceStore + ?Sized + 'static>(store: Arc<S>) {
    let ns = unique_namespace("claim-race");
    assert_eq!(
        claim_race(store.clone(), &ns, b"delivery", 64).await,
        (1, 63),
        "exactly one Claimed among 64 racers, the others InProgress"
    );
    // The winner's token is not known here: forget its claim, then race again after a
    // claim of ours was released.
    assert!(store.remove(&ns, b"delivery").await.unwrap());
    let held = token();
    assert_eq!(
        claim(&*store, &ns, b"delivery", held, TTL).await,
        ClaimOutcome::Claimed
    );
    assert!(release(&*store, &ns, b"delivery", held).await);
    assert_eq!(
        claim_race(store.clone(), &ns, b"delivery", 64).await,
        (1, 63),
        "after a release: exactly one Claimed again"
    );
    assert!(store.remove(&ns, b"delivery").await.unwrap());
    assert!(!complete(&*store, &ns, b"delivery", held).await);
    assert_eq!(
        claim_race(store, &ns, b"delivery", 64).await,
        (0, 0),
        "after a complete: every racer sees Completed"
    );
}

/// Runs every check above against `store`. Call it from a multi-threaded tokio runtime
/// (`#[tokio::test(flavor = "multi_thread")]`) so the concurrent checks really race.
pub async fn run_all<S: NonceStore + ?Sized + 'static>(store: Arc<S>) {
    fresh_then_replayed(&*store).await;
    namespaces(&*store).await;
    concurrent_single_key(store.clone()).await;
    concurrent_distinct_keys(store.clone()).await;
    claim_then_complete(&*store).await;
    claim_then_release(&*store).await;
    claim_arguments(&*store).await;
    concurrent_claims(store.clone()).await;
    // The two checks that sleep, at once.
    tokio::join!(ttl_expiry(&*store), lease_expiry(&*store));
}

/// Runs the delivery-claim checks ([`NonceStore::claim`], [`NonceStore::complete`],
/// [`NonceStore::release`]) against `store`; [`run_all`] includes them.
pub async fn run_claims<S: NonceStore + ?Sized + 'static>(store: Arc<S>) {
    claim_then_complete(&*store).await;
    claim_then_release(&*store).await;
    claim_arguments(&*store).await;
    concurrent_claims(store.clone()).await;
    lease_expiry(&*store).await;
}

/// [`Outbox`](crate::Outbox) on `store`, as instances sharing it: 8 senders, each its own
/// `Outbox` over the store, race through 10 messages; each message is sent exactly once, later
/// sends answer [`Sent::Already`](crate::Sent::Already), and a message whose send failed is
/// sent by the next attempt. Not part of [`run_all`]: the outbox is a client of the store's
/// claims, run by the store crates' tests next to the suite.
pub async fn outbox_sends_once<S: NonceStore + ?Sized + 'static>(store: Arc<S>) {
    use crate::{IdempotencyKey, Outbox, OutboxError, Sent};
    let scope = unique_namespace("outbox");
    let keys: Vec<IdempotencyKey> = (0..10)
        .map(|_| IdempotencyKey::generate().unwrap())
        .collect();
    let sends = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let outbox = Outbox::new(Arc::clone(&store), &scope);
            let (keys, sends) = (keys.clone(), Arc::clone(&sends));
            tokio::spawn(async move {
                for key in keys.iter().cycle().skip(i).take(keys.len()) {
                    let sends = Arc::clone(&sends);
                    outbox
                        .send(key, |_| async move {
                            sends.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(2)).await;
                            Ok::<_, ()>(())
                        })
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        sends.load(Ordering::Relaxed),
        keys.len(),
        "one send per message"
    );
    let outbox = Outbox::new(Arc::clone(&store), &scope);
    for key in &keys {
        let again = outbox
            .send(key, |_| async { Ok::<_, ()>(()) })
            .await
            .unwrap();
        assert_eq!(again, Sent::Already);
    }
    let key = IdempotencyKey::generate().unwrap();
    let failed = outbox.send(&key, |_| async { Err::<(), _>("down") }).await;
    assert!(matches!(failed, Err(OutboxError::Send("down"))));
    let retried = outbox
        .send(&key, |_| async { Ok::<_, ()>(7) })
        .await
        .unwrap();
    assert_eq!(
        retried,
        Sent::Now(7),
        "a failed send is sent by the next attempt"
    );
}
