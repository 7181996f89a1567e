//! `MemoryNonceStore`: nanoseconds per check (and per delivery claim + complete) with 100k live
//! keys, on 1 and 2 threads; and the same checks on `moka`'s concurrent cache, the peer.
//!
//! The store runs on a `ManualClock` that moves forward as operations happen, so that fresh
//! inserts reach a steady state of about 100,000 live entries (TTL 100 s, the clock advancing
//! 1 ms per operation) instead of growing for as long as criterion runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use palisade_replay::{ClaimOutcome, Freshness, LeaseToken, MemoryNonceStore};
use palisade_webhook::{ManualClock, Timestamp};

const LIVE: u64 = 100_000;
const TTL: Duration = Duration::from_secs(100);

fn id(thread: u64, n: u64) -> [u8; 32] {
    // A replay key is a 32-byte digest; use the same shape.
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&thread.to_le_bytes());
    id[8..16].copy_from_slice(&n.to_le_bytes());
    id
}

fn prefilled() -> (Arc<MemoryNonceStore>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)));
    let store = MemoryNonceStore::builder()
        .clock(clock.clone())
        .cap(10_000_000)
        .build()
        .unwrap();
    for n in 0..LIVE {
        assert_eq!(
            store
                .insert_if_absent_now("bench", &id(99, n), TTL)
                .unwrap(),
            Freshness::Fresh
        );
        if n.is_multiple_of(1_000) {
            clock.advance(Duration::from_millis(1_000));
        }
    }
    (Arc::new(store), clock)
}

/// Runs `iters` operations split over `threads` threads and returns the wall time.
fn run(threads: u64, iters: u64, op: impl Fn(u64, u64) + Sync) -> Duration {
    let per = iters.div_ceil(threads);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let op = &op;
            s.spawn(move || {
                for i in 0..per {
                    op(t, i);
                }
            });
        }
    });
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("memory_nonce_store_100k_live");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for threads in [1u64, 2] {
        let (store, clock) = prefilled();
        // Fresh ids: every op inserts a new id; the clock advances 1 ms per op overall, so
        // entries older than 100 s (100k ops) expire and are swept.
        let next = std::sync::atomic::AtomicU64::new(0);
        g.bench_function(
            BenchmarkId::new("fresh", format!("{threads}-thread")),
            |b| {
                b.iter_custom(|iters| {
                    run(threads, iters, |t, _| {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if n.is_multiple_of(64) {
                            clock.advance(Duration::from_millis(64 / threads));
                        }
                        black_box(store.insert_if_absent_now("bench", &id(t, n), TTL).unwrap());
                    })
                });
            },
        );
        let (store, _clock) = prefilled();
        // Replayed ids: every op hits one of the 100k live entries.
        g.bench_function(
            BenchmarkId::new("replayed", format!("{threads}-thread")),
            |b| {
                b.iter_custom(|iters| {
                    run(threads, iters, |_, i| {
                        let f = store
                            .insert_if_absent_now("bench", &id(99, i % LIVE), TTL)
                            .unwrap();
                        debug_assert_eq!(f, Freshness::Replayed);
                        black_box(f);
                    })
                });
            },
        );
        let (store, clock) = prefilled();
        // A delivery: claim a new id (60 s lease), then complete it (100 s TTL), as
        // `palisade-tower`'s `WebhookLayer` does around a handler that succeeds. The token is
        // drawn once: the OS random source is the guard's cost, not the store's.
        let token = LeaseToken::from_bytes([7; 16]);
        let next = std::sync::atomic::AtomicU64::new(0);
        g.bench_function(
            BenchmarkId::new("claim+complete", format!("{threads}-thread")),
            |b| {
                b.iter_custom(|iters| {
                    run(threads, iters, |t, _| {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if n.is_multiple_of(64) {
                            clock.advance(Duration::from_millis(64 / threads));
                        }
                        let key = id(t, n);
                        let c = store
                            .claim_now("bench", &key, token, Duration::from_secs(60))
                            .unwrap();
                        debug_assert_eq!(c, ClaimOutcome::Claimed);
                        black_box(c);
                        black_box(store.complete_now("bench", &key, token, TTL).unwrap());
                    })
                });
            },
        );
    }
    g.finish();
}

/// The peer users would pick for an in-process replay cache: `moka`'s concurrent cache with a
/// time-to-live, insert-if-absent through its entry API (`or_insert`, then `is_fresh`). Keys
/// are the 32-byte ids alone (no namespace, which favours the peer). Moka reads the real
/// clock, so the "fresh" cache uses a TTL of 100 ms, which keeps about 100,000 live entries at
/// about a million inserts a second (the order of this bench's rate), like the palisade
/// store's steady state above; the "replayed" cache holds the 100,000 ids for 100 s.
fn moka_peer(c: &mut Criterion) {
    use moka::sync::Cache;
    let mut g = c.benchmark_group("moka_sync_cache_100k_live");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let cache =
        |ttl: Duration| -> Cache<[u8; 32], ()> { Cache::builder().time_to_live(ttl).build() };
    for threads in [1u64, 2] {
        let fresh = cache(Duration::from_millis(100));
        let next = std::sync::atomic::AtomicU64::new(0);
        g.bench_function(
            BenchmarkId::new("fresh", format!("{threads}-thread")),
            |b| {
                b.iter_custom(|iters| {
                    run(threads, iters, |t, _| {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let e = fresh.entry(id(t, n)).or_insert(());
                        debug_assert!(e.is_fresh());
                        black_box(e.is_fresh());
                    })
                });
            },
        );
        let live = cache(TTL);
        for n in 0..LIVE {
            assert!(live.entry(id(99, n)).or_insert(()).is_fresh());
        }
        g.bench_function(
            BenchmarkId::new("replayed", format!("{threads}-thread")),
            |b| {
                b.iter_custom(|iters| {
                    run(threads, iters, |_, i| {
                        let e = live.entry(id(99, i % LIVE)).or_insert(());
                        debug_assert!(!e.is_fresh());
                        black_box(e.is_fresh());
                    })
                });
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench, moka_peer);
criterion_main!(benches);
