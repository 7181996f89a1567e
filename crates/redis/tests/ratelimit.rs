//! `RedisRateLimitStore` against a real Redis: the `palisade_ratelimit` conformance suite, a
//! differential test against `MemoryStore` (equal verdicts, to the nanosecond, at the Redis
//! `TIME` of each call), exact admission under concurrency, TTLs, key layout, `NOSCRIPT`
//! recovery and typed errors.
//!
//! The server is `PALISADE_REDIS_URL` (default `redis://127.0.0.1:6379/`; CI starts one with
//! `.ci/services`). These tests fail, never skip, when it does not answer. Every test uses its
//! own random key prefix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use palisade_ratelimit::testing::quarantine::PenaltyBoxHarness;
use palisade_ratelimit::testing::{self, Harness, Tally, TimedStore};
use palisade_ratelimit::{
    AlgorithmKind, Cause, Key, KeyBuilder, Limit, PenaltyBox, Policy, Quota, RateLimitError,
    RateLimitStore, Timestamp, Verdict,
};
use palisade_redis::redis::{self, aio::ConnectionManager};
use palisade_redis::{
    Coalescing, DEFAULT_RATELIMIT_PREFIX, DEFAULT_TIMEOUT, RedisRateLimitStore, RedisStoreError,
};

fn url() -> String {
    std::env::var("PALISADE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

fn prefix() -> String {
    format!(
        "{}:",
        palisade_replay::testing::unique_namespace("palisade-redis-ratelimit")
    )
}

/// The timeout of the test stores: generous, since the test machine may be busy building.
const TEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to the test server; panics when Redis does not answer.
async fn manager() -> ConnectionManager {
    RedisRateLimitStore::connect(&url(), TEST_TIMEOUT)
        .await
        .unwrap_or_else(|e| {
            panic!("Redis (PALISADE_REDIS_URL) must answer for these tests (.ci/services): {e}")
        })
        .connection()
        .clone()
}

/// A store on the test server under a prefix of its own.
async fn store() -> RedisRateLimitStore {
    RedisRateLimitStore::new(manager().await)
        .with_prefix(prefix())
        .unwrap()
        .with_timeout(TEST_TIMEOUT)
        .unwrap()
}

/// The same, coalescing the decisions that wait at the same time into one script call.
async fn coalescing_store() -> RedisRateLimitStore {
    store().await.with_coalescing(Coalescing::Standalone)
}

// ---------------------------------------------------------------------------------------------
// 1. The conformance suite.

struct RedisHarness {
    store: Arc<RedisRateLimitStore>,
}

#[async_trait]
impl Harness for RedisHarness {
    async fn store(&self) -> Arc<dyn RateLimitStore> {
        self.store.clone()
    }

    async fn advance(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

async fn harness() -> RedisHarness {
    RedisHarness {
        store: Arc::new(store().await),
    }
}

async fn coalescing_harness() -> RedisHarness {
    RedisHarness {
        store: Arc::new(coalescing_store().await),
    }
}

mod conformance {
    use super::harness;
    palisade_ratelimit::conformance_suite!(harness);
}

/// The same suite, its concurrent cases included, on a coalescing store.
mod conformance_coalesced {
    use super::coalescing_harness;
    palisade_ratelimit::conformance_suite!(coalescing_harness);
}

#[async_trait]
impl PenaltyBoxHarness for RedisHarness {
    async fn penalty_box(&self) -> Arc<dyn PenaltyBox> {
        self.store.clone()
    }
}

/// The penalty-box suite: listing, release, blocks that ended (each harness: its own prefix,
/// so its own index).
mod quarantine {
    use super::harness;
    palisade_ratelimit::penalty_box_suite!(harness);
}

mod quarantine_coalesced {
    use super::coalescing_harness;
    palisade_ratelimit::penalty_box_suite!(coalescing_harness);
}

// ---------------------------------------------------------------------------------------------
// 2. Differential: the same verdicts as the memory store at the Redis time of each call.

fn quota(limit: u64, period_ms: u64, burst: Option<u64>) -> Quota {
    let q = Quota::new(limit, Duration::from_millis(period_ms)).unwrap();
    match burst {
        Some(b) => q.with_burst(b).unwrap(),
        None => q,
    }
}

fn lim(name: &str, kind: AlgorithmKind, limit: u64, period_ms: u64, burst: Option<u64>) -> Limit {
    Limit::new(name, kind, quota(limit, period_ms, burst)).unwrap()
}

/// The policies compared: each algorithm alone (odd numbers, small periods), and mixes of
/// three with a penalty box.
fn differential_policies() -> Vec<(&'static str, Policy)> {
    use AlgorithmKind::*;
    let single = |l: Limit| Policy::single(l).unwrap();
    vec![
        ("gcra", single(lim("g", Gcra, 7, 900, Some(4)))),
        (
            "token-bucket",
            single(lim("t", TokenBucket, 7, 900, Some(5))),
        ),
        (
            "leaky-bucket",
            single(lim("l", LeakyBucket, 11, 1_300, Some(4))),
        ),
        ("fixed-window", single(lim("f", FixedWindow, 7, 900, None))),
        (
            "sliding-log",
            single(lim("s", SlidingWindowLog, 9, 700, None)),
        ),
        (
            "sliding-counter",
            single(lim("c", SlidingWindowCounter, 13, 1_100, None)),
        ),
        (
            "gcra-penalty",
            single(lim("gp", Gcra, 5, 300, None)).with_block(Duration::from_millis(170)),
        ),
        (
            "mixed-a",
            Policy::new([
                lim("g", Gcra, 7, 900, Some(3)),
                lim("s", SlidingWindowLog, 10, 2_000, None),
                lim("c", SlidingWindowCounter, 6, 700, None),
            ])
            .unwrap()
            .with_block(Duration::from_millis(130)),
        ),
        (
            "mixed-b",
            Policy::new([
                lim("t", TokenBucket, 9, 1_000, Some(4)),
                lim("l", LeakyBucket, 3, 200, None),
                lim("f", FixedWindow, 12, 1_700, None),
            ])
            .unwrap()
            .with_block(Duration::from_millis(90)),
        ),
    ]
}

/// The store as `palisade_ratelimit::testing::differential` takes it.
struct Timed(RedisRateLimitStore);

#[async_trait]
impl TimedStore for Timed {
    async fn apply_timed(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<(Verdict, Timestamp), RateLimitError> {
        self.0.apply_timed(key, policy, cost).await
    }

    async fn block_timed(&self, key: &Key, d: Duration) -> Result<Timestamp, RateLimitError> {
        self.0.block_timed(key, d).await
    }

    async fn unblock(&self, key: &Key) -> Result<(), RateLimitError> {
        self.0.unblock(key).await
    }
}

/// `testing::differential` on three keys of a fresh prefix, with pauses of up to `sleep_ms`.
async fn differential(name: &'static str, policy: Policy, seed: u64, ops: usize, sleep_ms: u64) {
    differential_on(Coalescing::Off, name, policy, seed, ops, sleep_ms).await;
}

async fn differential_on(
    coalescing: Coalescing,
    name: &'static str,
    policy: Policy,
    seed: u64,
    ops: usize,
    sleep_ms: u64,
) {
    let store = Timed(store().await.with_coalescing(coalescing));
    let keys: Vec<Key> = (0..3)
        .map(|i| KeyBuilder::new("differential").str(name).u64(i).build())
        .collect();
    let Tally {
        admitted,
        refused,
        blocked,
    } = testing::differential(
        &store,
        &policy,
        &keys,
        seed,
        ops,
        Duration::from_millis(sleep_ms),
    )
    .await;
    assert!(
        admitted >= 2 && refused >= 2 && (sleep_ms < 10 || admitted > 10 && refused > 10),
        "{name}: the run exercised both answers ({admitted} admitted, {refused} refused, {blocked} blocked)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verdicts_equal_the_memory_store_at_the_redis_time() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    every_differential_policy(Coalescing::Off, seed, 0x9E37_79B9, 300).await;
}

/// `differential_on` for every policy of [`differential_policies`] at once, seeds `seed + i ×
/// step`.
async fn every_differential_policy(coalescing: Coalescing, seed: u64, step: u64, ops: usize) {
    let tasks: Vec<_> = differential_policies()
        .into_iter()
        .enumerate()
        .map(|(i, (name, policy))| {
            tokio::spawn(differential_on(
                coalescing,
                name,
                policy,
                seed.wrapping_add(i as u64 * step),
                ops,
                30,
            ))
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// The differential test through the coalescing path (one decision at a time: each goes alone,
/// in the single-decision script).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn coalesced_verdicts_equal_the_memory_store_at_the_redis_time() {
    every_differential_policy(Coalescing::Standalone, 0x5EED_C0A1_E5CE_0001, 1, 200).await;
}

/// Concurrent decisions on a coalescing store (so several in one script call, at one Redis
/// `TIME`) equal the same decisions made one by one by the memory store at the instant each
/// returned. The order of the decisions within one call is the order they reached the queue,
/// which callers do not see; each key has one policy and one cost, so the verdicts of one key at
/// one instant are the same sequence whatever that order: for each key and instant, the same
/// multiset of verdicts, penalty blocks included.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_coalesced_decisions_equal_sequential_ones() {
    use AlgorithmKind::*;
    let store = Arc::new(coalescing_store().await);
    let policies = Arc::new([
        Policy::single(lim("g", Gcra, 20, 60_000, Some(20))).unwrap(),
        Policy::new([
            lim("g", Gcra, 30, 60_000, Some(15)),
            lim("f", FixedWindow, 25, 3_600_000, None),
            lim("s", SlidingWindowCounter, 28, 60_000, None),
        ])
        .unwrap()
        .with_block(Duration::from_secs(30)),
        Policy::single(lim("t", TokenBucket, 15, 60_000, Some(12))).unwrap(),
    ]);
    let keys: Arc<Vec<Key>> = Arc::new(
        (0..9u64)
            .map(|i| KeyBuilder::new("coalesced").u64(i).build())
            .collect(),
    );
    // Key k: policy k mod 3, cost 1 or 2 (k / 3 mod 2).
    let call_of = |k: usize| (k % 3, 1 + (k / 3) as u32 % 2);
    // 600 decisions from 60 tasks at once.
    let tasks: Vec<_> = (0..60usize)
        .map(|t| {
            let (store, policies, keys) = (store.clone(), policies.clone(), keys.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                for i in 0..10usize {
                    let k = (t * 7 + i) % keys.len();
                    let (p, cost) = call_of(k);
                    let (verdict, at) = store
                        .apply_timed(&keys[k], &policies[p], cost)
                        .await
                        .unwrap_or_else(|e| panic!("decision {i} of task {t}: {e}"));
                    out.push((at, k, verdict));
                }
                out
            })
        })
        .collect();
    let mut groups: std::collections::BTreeMap<(Timestamp, usize), Vec<Verdict>> =
        Default::default();
    let mut decisions = 0;
    for t in tasks {
        for (at, k, verdict) in t.await.unwrap() {
            groups.entry((at, k)).or_default().push(verdict);
            decisions += 1;
        }
    }
    let instants: std::collections::BTreeSet<Timestamp> = groups.keys().map(|g| g.0).collect();
    assert!(
        instants.len() < decisions / 2,
        "coalesced: {decisions} decisions at {} instants",
        instants.len()
    );
    let model = palisade_ratelimit::MemoryStore::new();
    let mut tally = [0usize; 3];
    for ((at, k), verdicts) in groups {
        let (p, cost) = call_of(k);
        let mut expected = Vec::new();
        for _ in 0..verdicts.len() {
            let want = model.apply_at(&keys[k], &policies[p], cost, at).unwrap();
            expected.push(format!("{want:?}"));
        }
        let mut got: Vec<String> = verdicts.iter().map(|v| format!("{v:?}")).collect();
        for v in &verdicts {
            tally[match v.cause() {
                Cause::Blocked => 2,
                _ if v.is_allowed() => 0,
                _ => 1,
            }] += 1;
        }
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "key {k} at {at:?}");
    }
    let [admitted, refused, blocked] = tally;
    assert!(
        admitted > 30 && refused > 30 && blocked > 30,
        "{admitted} admitted, {refused} refused, {blocked} blocked"
    );
}

/// Quotas close to the precision bound (2^52 ns, about 52 days), where the scripts' exact
/// modular and multiply-divide helpers take their long paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verdicts_equal_the_memory_store_near_the_precision_bound() {
    use AlgorithmKind::*;
    let days = |d: u64| Duration::from_secs(86_400 * d);
    let odd = Duration::from_nanos(3_999_999_999_999_997);
    let l = |name: &str, kind, limit, period, burst: Option<u64>| {
        let q = Quota::new(limit, period).unwrap();
        let q = burst.map_or(q, |b| q.with_burst(b).unwrap());
        Limit::new(name, kind, q).unwrap()
    };
    let single = |l: Limit| Policy::single(l).unwrap();
    let policies = vec![
        (
            "big-gcra",
            single(l("g", Gcra, 1_000, days(45), Some(1_000))),
        ),
        (
            "big-token-bucket",
            single(l("t", TokenBucket, 999, odd, Some(1))),
        ),
        (
            "big-leaky-bucket",
            single(l("l", LeakyBucket, 1_000, days(45), None)),
        ),
        (
            "big-fixed-window",
            single(l("f", FixedWindow, 1_000, odd, None)),
        ),
        (
            "big-sliding-log",
            single(l("s", SlidingWindowLog, 40, days(45), None)),
        ),
        (
            "big-sliding-counter",
            single(l("c", SlidingWindowCounter, 1_000, odd, None)),
        ),
        (
            "big-mixed",
            Policy::new([
                l("g", Gcra, 3, days(30), None),
                l("c", SlidingWindowCounter, 900, days(51), None),
                l("f", FixedWindow, 5_000, days(7), None),
            ])
            .unwrap()
            .with_block(days(400)),
        ),
    ];
    // A fixed seed: a failure replays the same operations.
    let seed = 0x5EED_0000_0000_0001_u64;
    let tasks: Vec<_> = policies
        .into_iter()
        .enumerate()
        .map(|(i, (name, policy))| {
            tokio::spawn(differential(
                name,
                policy,
                seed.wrapping_add(i as u64),
                150,
                1,
            ))
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Concurrency: exact admission across tasks, stores and connections.

async fn concurrent_exact(kind: AlgorithmKind) {
    concurrent_exact_on(kind, Coalescing::Off).await;
}

async fn concurrent_exact_on(kind: AlgorithmKind, coalescing: Coalescing) {
    // Each task has two connections of its own (16 in all) and alternates between them.
    let mut conns = Vec::new();
    for _ in 0..16 {
        conns.push(manager().await);
    }
    let prefix = prefix();
    let policy = Arc::new(
        Policy::single(Limit::new("race", kind, Quota::per_hour(50).unwrap()).unwrap()).unwrap(),
    );
    let keys: Arc<Vec<Key>> = Arc::new(
        (0..100u64)
            .map(|i| KeyBuilder::new("race").str(kind.as_str()).u64(i).build())
            .collect(),
    );
    if kind.is_window() {
        // Not across an hour boundary: wait for the next window when less than a minute is left.
        let probe = RedisRateLimitStore::new(conns[0].clone())
            .with_prefix(prefix.clone())
            .unwrap()
            .with_timeout(TEST_TIMEOUT)
            .unwrap();
        let v = probe.apply(&Key::from("probe"), &policy, 1).await.unwrap();
        let left = v.decisions()[0].reset_after();
        if left < Duration::from_secs(60) {
            tokio::time::sleep(left + Duration::from_millis(50)).await;
        }
    }
    let tasks: Vec<_> = (0..8usize)
        .map(|t| {
            let stores = [&conns[2 * t], &conns[2 * t + 1]].map(|conn| {
                RedisRateLimitStore::new(conn.clone())
                    .with_prefix(prefix.clone())
                    .unwrap()
                    .with_timeout(TEST_TIMEOUT)
                    .unwrap()
                    .with_coalescing(coalescing)
            });
            let (policy, keys) = (policy.clone(), keys.clone());
            tokio::spawn(async move {
                let mut admitted = 0u64;
                for i in 0..2_500usize {
                    let key = &keys[(i * 7 + t * 13) % keys.len()];
                    let verdict = stores[i % 2]
                        .apply(key, &policy, 1)
                        .await
                        .unwrap_or_else(|e| panic!("decision {i} of task {t}: {e}"));
                    if verdict.is_allowed() {
                        admitted += 1;
                    }
                }
                admitted
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 100 * 50, "{kind}: exactly the quota of each key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_thousand_racing_decisions_admit_exactly_the_quota_gcra() {
    concurrent_exact(AlgorithmKind::Gcra).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_thousand_racing_decisions_admit_exactly_the_quota_fixed_window() {
    concurrent_exact(AlgorithmKind::FixedWindow).await;
}

/// The same race on coalescing stores: 16 stores, each batching its own task's decisions
/// with those of the tasks that share it... one task per pair of stores, so the batches
/// come from the racing stores' queues and the keys collide across batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_coalesced_decisions_admit_exactly_the_quota() {
    concurrent_exact_on(AlgorithmKind::Gcra, Coalescing::Standalone).await;
    concurrent_exact_on(AlgorithmKind::SlidingWindowLog, Coalescing::Standalone).await;
}

/// Many tasks on one coalescing store and its clones, racing on 20 keys: exactly the quota.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_coalescing_store_shared_by_many_tasks_admits_exactly_the_quota() {
    let store = coalescing_store().await;
    let policy = Arc::new(
        Policy::single(Limit::gcra("shared", Quota::per_hour(40).unwrap()).unwrap()).unwrap(),
    );
    let tasks: Vec<_> = (0..64u64)
        .map(|t| {
            let (store, policy) = (store.clone(), policy.clone());
            tokio::spawn(async move {
                let mut admitted = 0u64;
                for i in 0..50u64 {
                    let key = Key::from((t * 7 + i) % 20);
                    if store.apply(&key, &policy, 1).await.unwrap().is_allowed() {
                        admitted += 1;
                    }
                }
                admitted
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 20 * 40);
}

// ---------------------------------------------------------------------------------------------
// 4. Keys, TTLs, scripts and errors.

/// Every key under `prefix` and its PTTL.
async fn keys_and_ttls(conn: &mut ConnectionManager, prefix: &str) -> Vec<(String, i64)> {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(conn)
        .await
        .unwrap();
    let mut out = Vec::new();
    for k in keys {
        let ttl: i64 = redis::cmd("PTTL").arg(&k).query_async(conn).await.unwrap();
        out.push((k, ttl));
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_key_written_has_a_ttl_and_the_hash_tag() {
    use AlgorithmKind::*;
    let store = store().await;
    let mut conn = store.connection().clone();
    let key = Key::from("ttl-key");
    let hex = key.to_hex();
    let mut policies = Vec::new();
    for kind in AlgorithmKind::ALL {
        let p = Policy::single(Limit::new("t", kind, Quota::per_minute(3).unwrap()).unwrap())
            .unwrap()
            .with_block(Duration::from_secs(30));
        for _ in 0..4 {
            store.apply(&key, &p, 1).await.unwrap();
            store.unblock(&key).await.unwrap();
        }
        policies.push(p);
    }
    let mixed = Policy::new([
        lim("a", Gcra, 2, 60_000, None),
        lim("b", SlidingWindowLog, 5, 120_000, None),
    ])
    .unwrap();
    store.apply(&key, &mixed, 1).await.unwrap();
    policies.push(mixed);
    store.block(&key, Duration::from_secs(45)).await.unwrap();

    let mut found = keys_and_ttls(&mut conn, store.prefix()).await;
    // The index of blocks (no hash tag: one per prefix) expires a retention after its last
    // block.
    let index = store.blocks_index_key();
    let (_, index_ttl) = found.iter().find(|(k, _)| *k == index).unwrap().clone();
    let retention = palisade_redis::ENDED_BLOCK_RETENTION.as_millis() as i64;
    assert!(
        index_ttl > retention && index_ttl <= retention + 45_000,
        "{index_ttl}"
    );
    found.retain(|(k, _)| *k != index);
    let mut expected: Vec<String> = policies.iter().map(|p| store.state_key(&key, p)).collect();
    expected.push(store.block_key(&key));
    expected.sort();
    assert_eq!(
        found.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        expected
    );
    for (k, ttl) in &found {
        assert!(
            k.starts_with(&format!("{}{{{hex}}}:", store.prefix())),
            "{k}: the hash tag"
        );
        assert!(
            *ttl > 0 && *ttl <= 120_000,
            "{k}: a TTL within the longest period, got {ttl}"
        );
    }
    let p0 = &policies[0];
    assert_eq!(
        store.state_key(&key, p0),
        format!("{}{{{hex}}}:{:016x}", store.prefix(), p0.id())
    );
    assert_eq!(
        store.block_key(&key),
        format!("{}{{{hex}}}:block", store.prefix())
    );
    let block_ttl = found.iter().find(|(k, _)| k.ends_with(":block")).unwrap().1;
    assert!(block_ttl > 44_000 && block_ttl <= 45_000, "{block_ttl}");

    // A penalty block, alone, has its TTL too.
    store.unblock(&key).await.unwrap();
    let p = &policies[0];
    let v = store.apply(&key, p, 1).await.unwrap();
    assert_eq!(v.cause(), Cause::Limited);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(store.block_key(&key))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 29_000 && ttl <= 30_000, "{ttl}");
    assert_eq!(
        store.apply(&key, p, 1).await.unwrap().cause(),
        Cause::Blocked
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blocks_extend_and_never_shorten() {
    let store = store().await;
    let key = Key::from("extend");
    let p = Policy::single(Limit::gcra("x", Quota::per_second(100).unwrap()).unwrap()).unwrap();
    store.block(&key, Duration::from_secs(100)).await.unwrap();
    store.block(&key, Duration::from_secs(10)).await.unwrap();
    let retry = store
        .apply(&key, &p, 1)
        .await
        .unwrap()
        .retry_after()
        .unwrap();
    assert!(retry > Duration::from_secs(99), "{retry:?}");
    store.block(&key, Duration::from_secs(200)).await.unwrap();
    let retry = store
        .apply(&key, &p, 1)
        .await
        .unwrap()
        .retry_after()
        .unwrap();
    assert!(retry > Duration::from_secs(199), "{retry:?}");
    // Blocks far beyond the TTL cap and u64 nanoseconds are kept exactly (saturating).
    store.block(&key, Duration::MAX).await.unwrap();
    let (v, at) = store.apply_timed(&key, &p, 1).await.unwrap();
    assert_eq!(
        v.retry_after(),
        Some(Duration::from_nanos(u64::MAX - at.as_unix_nanos()))
    );
    store.unblock(&key).await.unwrap();
    assert!(store.apply(&key, &p, 1).await.unwrap().is_allowed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn decisions_survive_a_script_flush() {
    let store = store().await;
    let mut conn = store.connection().clone();
    let key = Key::from("noscript");
    for kind in AlgorithmKind::ALL {
        let p =
            Policy::single(Limit::new("n", kind, Quota::per_minute(2).unwrap()).unwrap()).unwrap();
        let _: () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(
            store.apply(&key, &p, 1).await.unwrap().is_allowed(),
            "{kind}"
        );
        let _: () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut conn)
            .await
            .unwrap();
        store.block(&key, Duration::from_millis(1)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert!(
            store.apply(&key, &p, 1).await.unwrap().is_allowed(),
            "{kind}"
        );
        assert!(
            !store.apply(&key, &p, 1).await.unwrap().is_allowed(),
            "{kind}"
        );
    }
}

/// A store whose server does not exist: any round trip fails.
fn unreachable_store(timeout: Duration) -> RedisRateLimitStore {
    RedisRateLimitStore::connect_lazy("redis://127.0.0.1:1/", timeout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn caller_errors_come_before_any_round_trip() {
    let store = unreachable_store(Duration::from_millis(300));
    let key = Key::from("k");
    let p = Policy::new([
        lim("a", AlgorithmKind::Gcra, 10, 1_000, Some(5)),
        lim("b", AlgorithmKind::FixedWindow, 3, 1_000, None),
    ])
    .unwrap();
    for (cost, capacity) in [(0, 5), (6, 5), (4, 3)] {
        match store.apply(&key, &p, cost).await {
            Err(RateLimitError::InvalidCost {
                cost: c,
                capacity: cap,
            }) => {
                assert_eq!((c, cap), (cost, capacity));
            }
            other => panic!("cost {cost}: {other:?}"),
        }
    }
    // Huge quotas: Lua's doubles could not keep them exact.
    let day = Duration::from_secs(86_400);
    let huge = [
        Limit::new(
            "w",
            AlgorithmKind::FixedWindow,
            Quota::new(5, day * 60).unwrap(),
        )
        .unwrap(),
        Limit::gcra("g", Quota::new(1, day * 30).unwrap().with_burst(2).unwrap()).unwrap(),
        Limit::new(
            "t",
            AlgorithmKind::TokenBucket,
            Quota::new(3, day * 53).unwrap(),
        )
        .unwrap(),
        Limit::new(
            "s",
            AlgorithmKind::SlidingWindowLog,
            Quota::new(1 << 53, Duration::from_secs(1)).unwrap(),
        )
        .unwrap(),
    ];
    for l in huge {
        let p = Policy::single(l).unwrap();
        assert!(
            matches!(
                store.apply(&key, &p, 1).await,
                Err(RateLimitError::InvalidQuota { .. })
            ),
            "{}",
            p.limits()[0].name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_server_is_a_store_failure_within_the_timeout() {
    let timeout = Duration::from_millis(300);
    let store = unreachable_store(timeout);
    let key = Key::from("k");
    let p = Policy::single(Limit::gcra("x", Quota::per_second(1).unwrap()).unwrap()).unwrap();
    let started = Instant::now();
    let e = store.apply(&key, &p, 1).await.unwrap_err();
    assert!(e.is_store_failure(), "{e:?}");
    let e = store.block(&key, Duration::from_secs(1)).await.unwrap_err();
    assert!(e.is_store_failure(), "{e:?}");
    let e = store.unblock(&key).await.unwrap_err();
    assert!(e.is_store_failure(), "{e:?}");
    assert!(started.elapsed() < timeout * 3 + Duration::from_millis(500));
    match e {
        RateLimitError::Unavailable { store, .. } | RateLimitError::Timeout { store, .. } => {
            assert_eq!(store, "redis");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_script_is_a_store_failure_saying_script() {
    let store = store().await;
    let mut conn = store.connection().clone();
    let key = Key::from("wrong-type");
    // A block key of the wrong type makes the penalty's GET fail (the decision's MGET reads
    // it as absent).
    let _: i64 = redis::cmd("HSET")
        .arg(store.block_key(&key))
        .arg("f")
        .arg("v")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: i64 = redis::cmd("PEXPIRE")
        .arg(store.block_key(&key))
        .arg(60_000)
        .query_async(&mut conn)
        .await
        .unwrap();
    let p = Policy::single(Limit::gcra("x", Quota::per_hour(1).unwrap()).unwrap())
        .unwrap()
        .with_block(Duration::from_secs(60));
    assert!(store.apply(&key, &p, 1).await.unwrap().is_allowed());
    match store.apply(&key, &p, 1).await {
        Err(RateLimitError::Unavailable {
            store: "redis",
            reason,
        }) => {
            assert!(reason.starts_with("script:"), "{reason}");
            assert!(!reason.contains(&key.to_hex()), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn configuration_is_checked_and_debug_shows_no_url() {
    let conn = manager().await;
    let store = RedisRateLimitStore::new(conn.clone());
    assert_eq!(store.prefix(), DEFAULT_RATELIMIT_PREFIX);
    assert_eq!(store.timeout(), DEFAULT_TIMEOUT);
    assert!(matches!(
        store.clone().with_prefix("a{b"),
        Err(RedisStoreError::InvalidConfig { .. })
    ));
    assert!(matches!(
        store.clone().with_timeout(Duration::ZERO),
        Err(RedisStoreError::InvalidConfig { .. })
    ));
    let store = store.with_timeout(Duration::from_millis(250)).unwrap();
    assert_eq!(store.timeout(), Duration::from_millis(250));
    let secret =
        RedisRateLimitStore::connect_lazy("redis://alice:hunter2@127.0.0.1:1/", DEFAULT_TIMEOUT)
            .unwrap();
    let shown = format!("{secret:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("alice"),
        "{shown}"
    );
    let e = secret
        .apply(
            &Key::from("k"),
            &Policy::single(Limit::gcra("x", Quota::per_second(1).unwrap()).unwrap()).unwrap(),
            1,
        )
        .await
        .unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("alice"),
        "{shown}"
    );
}
