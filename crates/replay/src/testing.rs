//! The conformance suite every [`NonceStore`] must pass (feature `testing`).
//!
//! The same functions run against the memory store here and against the Redis and Postgres
//! stores in their crates. They use real time (a TTL test sleeps about 1.2 s) so that stores
//! which decide with their server's clock are tested as they run, and every call works under
//! a fresh random namespace prefix, so runs against a shared server never collide.
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

use crate::{Freshness, NonceStore, ReplayError};

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

/// Runs every check above against `store`. Call it from a multi-threaded tokio runtime
/// (`#[tokio::test(flavor = "multi_thread")]`) so the concurrent checks really race.
pub async fn run_all<S: NonceStore + ?Sized + 'static>(store: Arc<S>) {
    fresh_then_replayed(&*store).await;
    namespaces(&*store).await;
    concurrent_single_key(store.clone()).await;
    concurrent_distinct_keys(store.clone()).await;
    ttl_expiry(&*store).await;
}
