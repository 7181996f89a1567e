//! Decision cost of `palisade-ratelimit` next to governor's keyed limiter, side by side in one
//! run: the memory store's GCRA against governor with the same quota over 10 000 keys (u64 and
//! string keys, 1 and 2 threads), then every algorithm alone and in the store, the trait-object
//! path, key building and the clocks. Figures and ratios: `docs/benchmarks.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;
use common::{KEYS, PER_SECOND, gcra_policy, ip_key, run_threads};

use std::hash::Hash;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use governor::clock::Clock as _;
use palisade_ratelimit::{
    AlgorithmKind, Clock as _, FastClock, Key, KeyBuilder, Limit, MemoryStore, Policy, Quota,
    RateLimitStore, SystemClock, Timestamp,
};

fn side_by_side<K: Hash + Eq + Clone + Send + Sync>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    label: &str,
    governor_keys: &[K],
    palisade_keys: &[Key],
) {
    for threads in [1, 2] {
        let store = MemoryStore::new();
        let policy = gcra_policy();
        g.bench_function(format!("{label}/{threads}-thread/palisade"), |b| {
            b.iter_custom(|iters| {
                run_threads(iters, threads, palisade_keys, &|k| {
                    black_box(store.check_now(k, &policy, 1).unwrap().is_allowed());
                })
            });
        });
        let governor = governor::RateLimiter::keyed(governor::Quota::per_second(
            NonZeroU32::new(PER_SECOND).unwrap(),
        ));
        g.bench_function(format!("{label}/{threads}-thread/governor"), |b| {
            b.iter_custom(|iters| {
                run_threads(iters, threads, governor_keys, &|k| {
                    black_box(governor.check_key(k).is_ok());
                })
            });
        });
    }
}

fn vs_governor(c: &mut Criterion) {
    let mut g = c.benchmark_group("vs_governor");
    let u64_keys: Vec<u64> = (0..KEYS as u64).collect();
    let palisade_u64: Vec<Key> = u64_keys.iter().map(|&k| Key::from(k)).collect();
    side_by_side(&mut g, "u64-keys", &u64_keys, &palisade_u64);
    let string_keys: Vec<String> = (0..KEYS).map(ip_key).collect();
    let palisade_strings: Vec<Key> = string_keys.iter().map(|k| Key::from(k.as_str())).collect();
    side_by_side(&mut g, "string-keys", &string_keys, &palisade_strings);
    g.finish();
}

/// `period / limit / 2` between requests: about half are refused once the burst is spent.
fn algorithms(c: &mut Criterion) {
    let mut g = c.benchmark_group("algorithm");
    let quota = Quota::per_second(100).unwrap();
    let step = 5_000_000; // ns
    for kind in AlgorithmKind::ALL {
        let limit = Limit::new("a", kind, quota).unwrap();
        g.bench_function(format!("pure/{kind}"), |b| {
            let mut state = limit.new_state();
            let mut now = 1_700_000_000_000_000_000u64;
            b.iter(|| {
                now += step;
                black_box(
                    limit
                        .apply(&mut state, Timestamp::from_unix_nanos(now), 1)
                        .unwrap(),
                )
            });
        });
    }
    for kind in AlgorithmKind::ALL {
        let policy = Policy::single(Limit::new("a", kind, quota).unwrap()).unwrap();
        let store = MemoryStore::new();
        let keys: Vec<Key> = (0..KEYS as u64).map(Key::from).collect();
        g.bench_function(format!("memory-store/{kind}"), |b| {
            let mut now = 1_700_000_000_000_000_000u64;
            let mut i = 0;
            b.iter(|| {
                now += step / KEYS as u64 + 1;
                i = if i + 1 == KEYS { 0 } else { i + 1 };
                black_box(
                    store
                        .check_at(&keys[i], &policy, 1, Timestamp::from_unix_nanos(now))
                        .unwrap(),
                )
            });
        });
    }
    let two = Policy::new([
        Limit::gcra("second", Quota::per_second(10).unwrap()).unwrap(),
        Limit::new(
            "day",
            AlgorithmKind::FixedWindow,
            Quota::per_day(1_000).unwrap(),
        )
        .unwrap(),
    ])
    .unwrap();
    let store = MemoryStore::new();
    let keys: Vec<Key> = (0..KEYS as u64).map(Key::from).collect();
    g.bench_function("memory-store/gcra+fixed-window", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == KEYS { 0 } else { i + 1 };
            black_box(store.check_now(&keys[i], &two, 1).unwrap())
        });
    });
    g.finish();
}

/// The async trait through `Arc<dyn RateLimitStore>` (one boxed future per call), polled once:
/// the memory store never waits.
fn trait_object(c: &mut Criterion) {
    let mut g = c.benchmark_group("trait-object");
    let store: Arc<dyn RateLimitStore> = Arc::new(MemoryStore::new());
    let policy = gcra_policy();
    let keys: Vec<Key> = (0..KEYS as u64).map(Key::from).collect();
    let mut cx = Context::from_waker(Waker::noop());
    g.bench_function("memory-store/gcra", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == KEYS { 0 } else { i + 1 };
            let fut = pin!(store.check(&keys[i], &policy, 1));
            match fut.poll(&mut cx) {
                Poll::Ready(v) => black_box(v.unwrap().is_allowed()),
                Poll::Pending => unreachable!("the memory store never waits"),
            }
        });
    });
    g.finish();
}

fn keys_and_clocks(c: &mut Criterion) {
    let mut g = c.benchmark_group("misc");
    let ip = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
    g.bench_function("key/ip+endpoint (inline)", |b| {
        b.iter(|| {
            KeyBuilder::new("webhook")
                .ip(black_box(ip))
                .str(black_box("/webhook/vapi"))
                .build()
        });
    });
    g.bench_function("key/ip+signature+endpoint (hashed)", |b| {
        let sig = [7u8; 32];
        b.iter(|| {
            KeyBuilder::new("webhook")
                .ip(black_box(ip))
                .bytes(black_box(&sig))
                .str(black_box("/webhook/vapi"))
                .build()
        });
    });
    g.bench_function("clock/palisade SystemClock", |b| {
        b.iter(|| black_box(SystemClock.now()))
    });
    let fast = FastClock::new();
    g.bench_function("clock/palisade FastClock", |b| {
        b.iter(|| black_box(fast.now()))
    });
    let quanta = governor::clock::DefaultClock::default();
    g.bench_function("clock/governor DefaultClock (quanta)", |b| {
        b.iter(|| black_box(quanta.now()))
    });
    g.finish();
}

fn config() -> Criterion {
    // Short runs: the machine is shared.
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = vs_governor, algorithms, trait_object, keys_and_clocks
}
criterion_main!(benches);
