//! Hot-path cost of the flood quarantine and the reputation cache, side by side in one run:
//! a decision through `Arc<dyn RateLimitStore>` on the memory store bare and wrapped in
//! `Quarantine` (with a penalty box configured, no key blocked), a `CachedReputation` hit (the
//! per-request cost once an address is cached) next to a bare `Key::from(ip)`, and the cold
//! paths: listing a page of 100 from a box of 10,000 blocks, taking 1,000 ended blocks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use palisade_ratelimit::{
    CachedReputation, Key, Limit, MemoryStore, Policy, Quarantine, Quota, RateLimitStore,
    ReputationFn, Timestamp,
};

const KEYS: u64 = 10_000;

/// Polls a future that never waits (the memory store, a cache hit) once.
fn ready<T>(fut: impl Future<Output = T>) -> T {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(fut).poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("never waits"),
    }
}

fn quarantine(c: &mut Criterion) {
    let mut g = c.benchmark_group("quarantine");
    let policy = Policy::single(Limit::gcra("api", Quota::per_second(1_000_000).unwrap()).unwrap())
        .unwrap()
        .with_block(Duration::from_secs(60));
    let keys: Vec<Key> = (0..KEYS).map(Key::from).collect();
    let bare: Arc<dyn RateLimitStore> = Arc::new(MemoryStore::new());
    let wrapped: Arc<dyn RateLimitStore> = Arc::new(Quarantine::new(MemoryStore::new()));
    for (label, store) in [
        ("memory-store", &bare),
        ("quarantine(memory-store)", &wrapped),
    ] {
        g.bench_function(format!("check/{label}"), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % keys.len();
                black_box(
                    ready(store.check(&keys[i], &policy, 1))
                        .unwrap()
                        .is_allowed(),
                )
            });
        });
    }
    let full = MemoryStore::new();
    let now = Timestamp::from_unix_secs(1_700_000_000);
    for k in &keys {
        full.block_at(k, Duration::from_secs(600), now).unwrap();
    }
    g.bench_function("blocks/page-of-100-of-10000", |b| {
        b.iter(|| black_box(full.blocks_at(None, 100, now).entries.len()));
    });
    let later = Timestamp::from_unix_secs(1_700_001_000);
    g.bench_function("take-ended/1000-of-10000", |b| {
        b.iter_batched(
            || {
                let s = MemoryStore::new();
                for k in &keys {
                    s.block_at(k, Duration::from_secs(600), now).unwrap();
                }
                s
            },
            |s| black_box(s.take_ended_at(1_000, later).len()),
            BatchSize::LargeInput,
        );
    });
    g.finish();
}

fn reputation(c: &mut Criterion) {
    let mut g = c.benchmark_group("reputation");
    let ips: Vec<IpAddr> = (0..KEYS as u32)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | i)))
        .collect();
    let cache = CachedReputation::new(ReputationFn::new(|ip: IpAddr| async move {
        Ok(if ip.is_loopback() { 100 } else { 3 })
    }));
    for ip in &ips {
        ready(cache.check(*ip));
    }
    g.bench_function("cached-reputation/hit", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ips.len();
            black_box(ready(cache.check(ips[i])).is_allowed())
        });
    });
    g.bench_function("key-from-ip (baseline)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ips.len();
            black_box(Key::from(ips[i]))
        });
    });
    g.finish();
}

criterion_group!(benches, quarantine, reputation);
criterion_main!(benches);
