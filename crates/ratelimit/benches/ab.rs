//! Interleaved A/B measurement of the memory store's GCRA against governor's keyed limiter
//! (same quota, 10 000 keys unless `AB_KEY_COUNT` says otherwise, u64 and string keys
//! (`AB_KEYS=u64|string` for one kind), 1 and 2 threads): the minimum over
//! `AB_ROUNDS` (default 15) alternating rounds of `AB_DECISIONS` (default 10⁶) decisions per
//! thread (`u64/req`: the palisade key built per decision from the `u64`, as a service would).
//! Other tenants of a shared machine can only slow a round down, so the minimum is the
//! stable figure. Run with `cargo bench -p palisade-ratelimit --bench ab`; figures in
//! `docs/benchmarks.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    missing_docs
)]

mod common;
use common::{KEYS, PER_SECOND, gcra_policy, ip_key, run_threads};

use std::hash::Hash;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use palisade_ratelimit::{Key, MemoryStore, Policy};

/// A number from the environment (`AB_KEY_COUNT`, …), or `default`.
fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `check(store, policy, key)` is palisade's decision on one of `palisade_keys` (a prebuilt
/// [`Key`], or what one is built from per request).
fn ab<K: Hash + Eq + Clone + Send + Sync, P: Sync>(
    label: &str,
    governor_keys: &[K],
    palisade_keys: &[P],
    check: &(impl Fn(&MemoryStore, &Policy, &P) -> bool + Sync),
) {
    let rounds = env("AB_ROUNDS", 15);
    let iters = env("AB_DECISIONS", 1_000_000);
    for threads in [1, 2] {
        let store = MemoryStore::new();
        let policy = gcra_policy();
        let governor = governor::RateLimiter::keyed(governor::Quota::per_second(
            NonZeroU32::new(PER_SECOND).unwrap(),
        ));
        let pal = || {
            run_threads(iters, threads, palisade_keys, &|k| {
                black_box(check(&store, &policy, k));
            })
        };
        let gov = || {
            run_threads(iters, threads, governor_keys, &|k| {
                black_box(governor.check_key(k).is_ok());
            })
        };
        // Profiling aid: AB_ONLY=palisade|governor runs one side only.
        match std::env::var("AB_ONLY").as_deref() {
            Ok("palisade") => {
                let p = (0..rounds).map(|_| pal()).min().unwrap();
                println!(
                    "{label:7} {threads} thread(s): palisade {:?}",
                    p / iters as u32
                );
                continue;
            }
            Ok("governor") => {
                let g = (0..rounds).map(|_| gov()).min().unwrap();
                println!(
                    "{label:7} {threads} thread(s): governor {:?}",
                    g / iters as u32
                );
                continue;
            }
            _ => {}
        }
        // Warm both tables (every key inserted) before timing.
        pal();
        gov();
        let (mut p, mut g) = (Duration::MAX, Duration::MAX);
        for r in 0..rounds {
            if r % 2 == 0 {
                p = p.min(pal());
                g = g.min(gov());
            } else {
                g = g.min(gov());
                p = p.min(pal());
            }
        }
        let ns = |d: Duration| d.as_secs_f64() * 1e9 / iters as f64;
        println!(
            "{label:7} {threads} thread(s): palisade {:6.1} ns  governor {:6.1} ns  ratio {:.2}",
            ns(p),
            ns(g),
            ns(p) / ns(g)
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let which = std::env::var("AB_KEYS").unwrap_or_default();
    let n = usize::try_from(env("AB_KEY_COUNT", KEYS as u64)).unwrap();
    if which != "string" {
        let u64_keys: Vec<u64> = (0..n as u64).collect();
        let palisade: Vec<Key> = u64_keys.iter().map(|&k| Key::from(k)).collect();
        ab("u64", &u64_keys, &palisade, &|s, p, k| {
            s.check_now(k, p, 1).unwrap().is_allowed()
        });
        // The key built per request (`Key::from(u64)`), as a service would.
        ab("u64/req", &u64_keys, &u64_keys, &|s, p, &k| {
            s.check_now(&Key::from(k), p, 1).unwrap().is_allowed()
        });
    }
    if which != "u64" {
        let string_keys: Vec<String> = (0..n).map(ip_key).collect();
        let palisade: Vec<Key> = string_keys.iter().map(|k| Key::from(k.as_str())).collect();
        ab("string", &string_keys, &palisade, &|s, p, k| {
            s.check_now(k, p, 1).unwrap().is_allowed()
        });
    }
}
