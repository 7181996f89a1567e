//! Bytes per key, measured with dhat's heap statistics: the memory store for each algorithm
//! and governor's keyed limiter, 10 000 keys each. Run with `--nocapture` to see the table
//! (reported in docs/benchmarks.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::num::NonZeroU32;
use std::sync::Arc;

use palisade_ratelimit::{
    AlgorithmKind, Key, Limit, ManualClock, MemoryStore, Policy, Quota, Timestamp,
};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const KEYS: usize = 10_000;

/// Heap bytes held by what `build` returns, per key.
fn per_key<T>(build: impl FnOnce() -> T) -> usize {
    let before = dhat::HeapStats::get().curr_bytes;
    let held = build();
    let after = dhat::HeapStats::get().curr_bytes;
    drop(held);
    (after - before) / KEYS
}

fn ip_key(i: usize) -> String {
    format!("203.0.{}.{}|/webhook/vapi", i / 256, i % 256)
}

fn memory_store(policy: &Policy, string_keys: bool) -> MemoryStore<Arc<ManualClock>> {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)));
    let store = MemoryStore::with_clock(clock);
    for i in 0..KEYS {
        let key = if string_keys {
            Key::from(ip_key(i).as_str())
        } else {
            Key::from(i as u64)
        };
        assert!(store.check_now(&key, policy, 1).unwrap().is_allowed());
    }
    store
}

#[test]
fn bytes_per_key() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut rows = Vec::new();
    for kind in AlgorithmKind::ALL {
        let policy =
            Policy::single(Limit::new("p", kind, Quota::per_second(100).unwrap()).unwrap())
                .unwrap();
        rows.push((
            format!("MemoryStore, {kind}, u64 keys"),
            per_key(|| memory_store(&policy, false)),
        ));
    }
    let gcra = Policy::single(Limit::gcra("p", Quota::per_second(100).unwrap()).unwrap()).unwrap();
    rows.push((
        "MemoryStore, gcra, string keys".into(),
        per_key(|| memory_store(&gcra, true)),
    ));
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
    rows.push((
        "MemoryStore, gcra + fixed-window, u64 keys".into(),
        per_key(|| memory_store(&two, false)),
    ));

    let quota = governor::Quota::per_second(NonZeroU32::new(100).unwrap());
    let governor_u64 = per_key(|| {
        let l = governor::RateLimiter::keyed(quota);
        for i in 0..KEYS as u64 {
            assert!(l.check_key(&i).is_ok());
        }
        l
    });
    rows.push(("governor keyed, u64 keys".into(), governor_u64));
    let governor_str = per_key(|| {
        let l = governor::RateLimiter::keyed(quota);
        for i in 0..KEYS {
            assert!(l.check_key(&ip_key(i)).is_ok());
        }
        l
    });
    rows.push(("governor keyed, string keys".into(), governor_str));

    println!("| store | bytes per key ({KEYS} keys) |\n|---|---|");
    for (name, bytes) in &rows {
        println!("| {name} | {bytes} |");
    }
    // Bounds that catch a regression (a key cap of 1M must stay in the low hundreds of MB).
    for (name, bytes) in &rows {
        assert!(*bytes < 400, "{name}: {bytes} bytes per key");
    }
}
