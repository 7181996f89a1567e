//! `PostgresRateLimitStore` against a real PostgreSQL: the `palisade_ratelimit` conformance
//! suite, a differential test against `MemoryStore` at the database's instants (every
//! algorithm, and a mixed policy with a penalty box), exact admission under concurrency,
//! migrations, cleanup, validation, and typed errors when the server is unreachable.
//!
//! The server is `PALISADE_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! These tests fail, never skip, when it does not answer. Every test works in its own random
//! schema `palisade_test_<time>_<process>_<counter>` and drops it at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use palisade_postgres::sqlx::{self, postgres::PgPoolOptions};
use palisade_postgres::{DEFAULT_SCHEMA, PostgresRateLimitStore, PostgresStoreError};
use palisade_ratelimit::testing::{self, Harness, TimedStore};
use palisade_ratelimit::{
    AlgorithmKind, Cause, Key, KeyBuilder, Limit, MemoryStore, Policy, Quota, RateLimitError,
    RateLimitStore, Timestamp, Verdict,
};

mod common;
use common::{drop_schema, pool, random_schema};

/// A key no other test uses.
fn unique_key(name: &str) -> Key {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    KeyBuilder::new("palisade-postgres-test")
        .str(name)
        .u64(COUNTER.fetch_add(1, Ordering::Relaxed))
        .build()
}

/// Runs `test` on a migrated store in a fresh schema, dropped afterwards.
async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(PostgresRateLimitStore) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    common::in_fresh_schema(|pool, schema| async move {
        let store = PostgresRateLimitStore::new(pool)
            .with_schema(&schema)
            .unwrap();
        store.migrate().await.unwrap();
        test(store).await;
    })
    .await;
}

/// The conformance suite's tick on this store.
const TICK: Duration = Duration::from_millis(250);

static GATE: LazyLock<Arc<tokio::sync::RwLock<()>>> = LazyLock::new(Arc::default);

// ---------------------------------------------------------------------------------------------
// 1. The conformance suite.

/// A migrated store in its own schema; real time, a 250 ms tick (a decision takes a few
/// milliseconds, but the suite's cases make up to a dozen in a row and must stay well inside
/// one tick on a loaded CI machine). The schema is dropped when the harness is.
struct PgHarness {
    store: Arc<PostgresRateLimitStore>,
    schema: String,
    _shared: tokio::sync::OwnedRwLockReadGuard<()>,
}

async fn harness() -> PgHarness {
    let shared = Arc::clone(&GATE).read_owned().await;
    let schema = random_schema();
    let store = PostgresRateLimitStore::new(pool(16).await)
        .with_schema(&schema)
        .unwrap();
    store.migrate().await.unwrap();
    PgHarness {
        store: Arc::new(store),
        schema,
        _shared: shared,
    }
}

#[async_trait]
impl Harness for PgHarness {
    async fn store(&self) -> Arc<dyn RateLimitStore> {
        self.store.clone()
    }

    async fn advance(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn tick(&self) -> Duration {
        TICK
    }
}

impl Drop for PgHarness {
    fn drop(&mut self) {
        // Drop cannot await: a thread of its own, with its own runtime and connection.
        let schema = self.schema.clone();
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move { drop_schema(&pool(1).await, &schema).await });
        })
        .join();
        if dropped.is_err() && !std::thread::panicking() {
            panic!("could not drop the test schema");
        }
    }
}

mod conformance {
    use super::harness;
    palisade_ratelimit::conformance_suite!(harness);
}

#[async_trait]
impl palisade_ratelimit::testing::quarantine::PenaltyBoxHarness for PgHarness {
    async fn penalty_box(&self) -> Arc<dyn palisade_ratelimit::PenaltyBox> {
        self.store.clone()
    }
}

/// The penalty-box suite: listing, release, blocks that ended (each harness: its own schema).
mod quarantine {
    use super::harness;
    palisade_ratelimit::penalty_box_suite!(harness);
}

// ---------------------------------------------------------------------------------------------
// 2. Differential: the same calls, at the database's instants, on a MemoryStore.

fn quota(limit: u64, period_ms: u64, burst: Option<u64>) -> Quota {
    let q = Quota::new(limit, Duration::from_millis(period_ms)).unwrap();
    match burst {
        Some(b) => q.with_burst(b).unwrap(),
        None => q,
    }
}

/// The store as `palisade_ratelimit::testing::differential` takes it.
struct Timed(PostgresRateLimitStore);

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

/// `testing::differential`: `ops` random calls on two keys, pauses of up to 30 ms.
async fn differential(store: PostgresRateLimitStore, policy: Policy, seed: u64, ops: usize) {
    let keys = [unique_key("diff-a"), unique_key("diff-b")];
    let tally = testing::differential(
        &Timed(store),
        &policy,
        &keys,
        seed,
        ops,
        Duration::from_millis(30),
    )
    .await;
    eprintln!("{tally:?}");
    assert!(
        tally.admitted > 0 && tally.refused > 0,
        "the run exercised both answers"
    );
}

async fn differential_single(kind: AlgorithmKind, seed: u64) {
    let burst = (!kind.is_window()).then_some(3);
    for (i, q) in [quota(7, 900, burst), quota(3, 250, None)]
        .into_iter()
        .enumerate()
    {
        let mut policy = Policy::single(Limit::new("diff", kind, q).unwrap()).unwrap();
        if i == 1 {
            policy = policy.with_block(Duration::from_millis(120));
        }
        with_store(move |store| differential(store, policy, seed + i as u64, 200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_gcra() {
    differential_single(AlgorithmKind::Gcra, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_token_bucket() {
    differential_single(AlgorithmKind::TokenBucket, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_leaky_bucket() {
    differential_single(AlgorithmKind::LeakyBucket, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_fixed_window() {
    differential_single(AlgorithmKind::FixedWindow, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_sliding_window_log() {
    differential_single(AlgorithmKind::SlidingWindowLog, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_sliding_window_counter() {
    differential_single(AlgorithmKind::SlidingWindowCounter, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_mixed_policy_with_penalty_box() {
    let policy = Policy::new([
        Limit::new("gcra", AlgorithmKind::Gcra, quota(7, 900, Some(4))).unwrap(),
        Limit::new("log", AlgorithmKind::SlidingWindowLog, quota(3, 250, None)).unwrap(),
        Limit::new(
            "counter",
            AlgorithmKind::SlidingWindowCounter,
            quota(5, 400, None),
        )
        .unwrap(),
    ])
    .unwrap()
    .with_block(Duration::from_millis(90));
    with_store(move |store| differential(store, policy, 7, 300)).await;
    // And the other three algorithms together, without a penalty box.
    let policy = Policy::new([
        Limit::new("tokens", AlgorithmKind::TokenBucket, quota(7, 900, Some(3))).unwrap(),
        Limit::new("leaky", AlgorithmKind::LeakyBucket, quota(5, 300, Some(4))).unwrap(),
        Limit::new("fixed", AlgorithmKind::FixedWindow, quota(6, 500, None)).unwrap(),
    ])
    .unwrap();
    with_store(move |store| differential(store, policy, 8, 200)).await;
}

// ---------------------------------------------------------------------------------------------
// 3. Concurrency: exact admission through several pools.

async fn exact_under_concurrency(kind: AlgorithmKind) {
    let _alone = GATE.write().await;
    let schema = random_schema();
    let setup = PostgresRateLimitStore::new(pool(2).await)
        .with_schema(&schema)
        .unwrap();
    setup.migrate().await.unwrap();
    let policy = Arc::new(
        Policy::single(Limit::new("race", kind, Quota::per_hour(50).unwrap()).unwrap()).unwrap(),
    );
    if kind == AlgorithmKind::FixedWindow {
        // Not across an hour boundary: wait for the next window if this one ends soon.
        let v = setup.apply(&unique_key("probe"), &policy, 1).await.unwrap();
        let left = v.decisions()[0].reset_after();
        if left < Duration::from_secs(90) {
            tokio::time::sleep(left + Duration::from_millis(100)).await;
        }
    }
    let keys: Arc<Vec<Key>> = Arc::new((0..100).map(|_| unique_key("race")).collect());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let store = PostgresRateLimitStore::new(pool(2).await)
            .with_schema(&schema)
            .unwrap()
            .with_timeout(Duration::from_secs(30))
            .unwrap();
        let (policy, keys) = (Arc::clone(&policy), Arc::clone(&keys));
        tasks.push(tokio::spawn(async move {
            let mut rng = testing::SplitMix64::new(t);
            let mut admitted = 0u64;
            for i in 0..2_500usize {
                // Every key gets 200 requests in all, in a different order per task.
                let key = &keys[(i + usize::try_from(rng.below(100)).unwrap()) % 100];
                if store.apply(key, &policy, 1).await.unwrap().is_allowed() {
                    admitted += 1;
                }
            }
            admitted
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    eprintln!("{kind}: 20,000 decisions in {:?}", started.elapsed());
    drop_schema(setup.pool(), &schema).await;
    assert_eq!(total, 100 * 50, "{kind}: exactly the quota of every key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_gcra_admits_exactly_the_quota() {
    exact_under_concurrency(AlgorithmKind::Gcra).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_fixed_window_admits_exactly_the_quota() {
    exact_under_concurrency(AlgorithmKind::FixedWindow).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sliding_window_log_admits_exactly_the_quota() {
    exact_under_concurrency(AlgorithmKind::SlidingWindowLog).await;
}

// ---------------------------------------------------------------------------------------------
// 4. Migrations, cleanup, validation, errors.

async fn count(store: &PostgresRateLimitStore, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM \"{}\".{table}",
        store.schema()
    )))
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_are_idempotent_and_safe_to_run_concurrently() {
    let pool = pool(8).await;
    let schema = random_schema();
    let store = PostgresRateLimitStore::new(pool.clone())
        .with_schema(&schema)
        .unwrap();
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.migrate().await })
        })
        .collect();
    for r in racers {
        r.await.unwrap().unwrap();
    }
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let policy = Policy::single(Limit::gcra("m", Quota::per_hour(2).unwrap()).unwrap()).unwrap();
    let key = unique_key("migrate");
    assert!(store.apply(&key, &policy, 1).await.unwrap().is_allowed());
    // Migrating again keeps the state.
    store.migrate().await.unwrap();
    assert!(store.apply(&key, &policy, 1).await.unwrap().is_allowed());
    assert!(!store.apply(&key, &policy, 1).await.unwrap().is_allowed());
    drop_schema(&pool, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cleanup_deletes_expired_rows_only() {
    with_store(|store| async move {
        let short = Policy::single(
            Limit::gcra("short", Quota::new(1, Duration::from_millis(10)).unwrap()).unwrap(),
        )
        .unwrap();
        let long = Policy::single(
            Limit::new(
                "long",
                AlgorithmKind::SlidingWindowLog,
                Quota::per_hour(5).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        for i in 0..25 {
            let key = unique_key("cleanup-short");
            assert!(
                store.apply(&key, &short, 1).await.unwrap().is_allowed(),
                "{i}"
            );
            store.block(&key, Duration::from_millis(5)).await.unwrap();
        }
        let mut kept = Vec::new();
        for _ in 0..5 {
            let key = unique_key("cleanup-long");
            assert!(store.apply(&key, &long, 2).await.unwrap().is_allowed());
            store.block(&key, Duration::from_secs(3600)).await.unwrap();
            kept.push(key);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(count(&store, "ratelimit_state").await, 30);
        assert_eq!(count(&store, "ratelimit_blocks").await, 30);
        assert_eq!(store.cleanup(10).await.unwrap(), 50);
        assert_eq!(store.cleanup(10).await.unwrap(), 0);
        assert_eq!(count(&store, "ratelimit_state").await, 5);
        assert_eq!(count(&store, "ratelimit_blocks").await, 5);
        for key in &kept {
            assert_eq!(
                store.apply(key, &long, 1).await.unwrap().cause(),
                Cause::Blocked
            );
            store.unblock(key).await.unwrap();
            let v = store.apply(key, &long, 1).await.unwrap();
            assert_eq!(
                v.decisions()[0].remaining(),
                2,
                "the state survived cleanup"
            );
        }
        assert!(matches!(
            store.cleanup(0).await,
            Err(PostgresStoreError::InvalidConfig { .. })
        ));
        // The longest durations are accepted and saturate.
        let key = unique_key("forever");
        store.block(&key, Duration::MAX).await.unwrap();
        assert_eq!(
            store.apply(&key, &long, 1).await.unwrap().cause(),
            Cause::Blocked
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_names_timeouts_and_costs_are_validated() {
    // Port 1: nothing listens, so anything that reached the server would fail.
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(300))
        .connect_lazy("postgres://postgres@127.0.0.1:1/test")
        .unwrap();
    let store = PostgresRateLimitStore::new(pool);
    assert_eq!(store.schema(), DEFAULT_SCHEMA);
    assert_eq!(store.timeout(), Duration::from_secs(2));
    for bad in [
        "",
        "x\"; DROP SCHEMA public CASCADE; --",
        "a.b",
        "9lives",
        "pg_temp",
        "späti",
        &"x".repeat(64),
    ] {
        assert!(
            matches!(
                store.clone().with_schema(bad),
                Err(PostgresStoreError::InvalidConfig { .. })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        store.clone().with_schema("Tenant_42").unwrap().schema(),
        "Tenant_42"
    );
    assert!(matches!(
        store.clone().with_timeout(Duration::ZERO),
        Err(PostgresStoreError::InvalidConfig { .. })
    ));
    let policy = Policy::new([
        Limit::gcra("a", Quota::per_second(10).unwrap()).unwrap(),
        Limit::new(
            "b",
            AlgorithmKind::FixedWindow,
            Quota::per_second(3).unwrap(),
        )
        .unwrap(),
    ])
    .unwrap();
    let started = Instant::now();
    for (cost, capacity) in [(0, 10), (4, 3), (11, 10)] {
        assert_eq!(
            store.apply(&Key::from(1u64), &policy, cost).await,
            Err(RateLimitError::InvalidCost { cost, capacity }),
        );
    }
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "no round trip"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_function_is_a_store_failure_that_says_migrate() {
    let store = PostgresRateLimitStore::new(pool(1).await)
        .with_schema(&random_schema())
        .unwrap();
    let policy = Policy::single(Limit::gcra("x", Quota::per_second(1).unwrap()).unwrap()).unwrap();
    match store.apply(&Key::from(1u64), &policy, 1).await {
        Err(RateLimitError::Unavailable { store, reason }) => {
            assert_eq!(store, "postgres");
            assert!(reason.contains("migrate"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_gives_a_typed_error_quickly() {
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://alice:hunter2@127.0.0.1:1/test")
        .unwrap();
    let store = PostgresRateLimitStore::new(pool)
        .with_timeout(Duration::from_secs(1))
        .unwrap();
    let policy = Policy::single(Limit::gcra("x", Quota::per_second(1).unwrap()).unwrap()).unwrap();
    let key = Key::from("alice@example.com");
    let started = Instant::now();
    let e = store.apply(&key, &policy, 1).await.unwrap_err();
    eprintln!("apply: {e:?}");
    assert!(e.is_store_failure(), "{e:?}");
    assert!(
        matches!(
            &e,
            RateLimitError::Unavailable {
                store: "postgres",
                ..
            } | RateLimitError::Timeout {
                store: "postgres",
                ..
            }
        ),
        "{e:?}"
    );
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("alice"),
        "{shown}"
    );
    assert!(
        store
            .block(&key, Duration::from_secs(1))
            .await
            .unwrap_err()
            .is_store_failure()
    );
    assert!(store.unblock(&key).await.unwrap_err().is_store_failure());
    assert!(matches!(
        store.migrate().await,
        Err(PostgresStoreError::Unavailable { .. } | PostgresStoreError::Timeout { .. })
    ));
    assert!(matches!(
        store.cleanup(10).await,
        Err(PostgresStoreError::Unavailable { .. } | PostgresStoreError::Timeout { .. })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

/// Quotas at the edges of the u64 arithmetic (periods of centuries, bursts of billions, a
/// nanosecond period, blocks of `Duration::MAX`): the saturating arithmetic of the SQL matches
/// the Rust one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_at_the_edges_of_the_arithmetic() {
    const CENTURIES: Duration = Duration::from_secs(500 * 365 * 24 * 3_600);
    let big = u64::from(u32::MAX);
    let quotas = [
        Quota::new(1, CENTURIES).unwrap(),
        Quota::new(1, CENTURIES).unwrap().with_burst(big).unwrap(),
        Quota::new(big, Duration::from_nanos(1)).unwrap(),
        Quota::new(3, Duration::from_nanos(7)).unwrap(),
        Quota::new(u64::MAX / 3, CENTURIES).unwrap(),
        Quota::new(7, Duration::from_millis(1))
            .unwrap()
            .with_burst(big)
            .unwrap(),
    ];
    let mut policies = Vec::new();
    for q in quotas {
        for kind in AlgorithmKind::ALL {
            if let Ok(limit) = Limit::new("edge", kind, q) {
                policies.push(Policy::single(limit).unwrap());
            }
        }
    }
    with_store(move |store| async move {
        let memory = MemoryStore::new();
        let mut rng = testing::SplitMix64::new(99);
        for (p, policy) in policies.iter().enumerate() {
            let key = unique_key("edge");
            let capacity = policy.limits()[0].capacity().min(big);
            for op in 0..8 {
                let cost = match rng.below(3) {
                    0 => 1,
                    1 => u32::try_from(capacity).unwrap(),
                    _ => u32::try_from(1 + rng.below(capacity)).unwrap(),
                };
                let (verdict, at) = store.apply_timed(&key, policy, cost).await.unwrap();
                let expected = memory.apply_at(&key, policy, cost, at).unwrap();
                assert_eq!(
                    verdict, expected,
                    "policy {p} {policy:?}, op {op}, cost {cost}"
                );
            }
            if p % 4 == 0 {
                let at = store.block_timed(&key, Duration::MAX).await.unwrap();
                memory.block_at(&key, Duration::MAX, at).unwrap();
                let (verdict, at) = store.apply_timed(&key, policy, 1).await.unwrap();
                assert_eq!(verdict, memory.apply_at(&key, policy, 1, at).unwrap());
            }
        }
    })
    .await;
}

/// Decisions under several policies (penalty boxes included), blocks, unblocks and cleanups
/// racing on a few keys: no deadlock, no error, and blocks still hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_decisions_blocks_and_cleanups_never_fail() {
    let _alone = GATE.write().await;
    with_store(|store| async move {
        let store = Arc::new(store);
        let policies = Arc::new([
            Policy::new([
                Limit::gcra("a", quota(5, 200, Some(2))).unwrap(),
                Limit::new("b", AlgorithmKind::SlidingWindowLog, quota(4, 300, None)).unwrap(),
            ])
            .unwrap()
            .with_block(Duration::from_millis(20)),
            Policy::single(
                Limit::new("c", AlgorithmKind::TokenBucket, quota(3, 100, None)).unwrap(),
            )
            .unwrap()
            .with_block(Duration::from_millis(10)),
        ]);
        let keys: Arc<Vec<Key>> = Arc::new((0..3).map(|_| unique_key("tangle")).collect());
        let tasks: Vec<_> = (0..8u64)
            .map(|t| {
                let (store, policies, keys) =
                    (Arc::clone(&store), Arc::clone(&policies), Arc::clone(&keys));
                tokio::spawn(async move {
                    let mut rng = testing::SplitMix64::new(100 + t);
                    for _ in 0..300 {
                        let key = &keys[usize::try_from(rng.below(3)).unwrap()];
                        match rng.below(20) {
                            0 => store.block(key, Duration::from_millis(5)).await.unwrap(),
                            1 => store.unblock(key).await.unwrap(),
                            2 => {
                                store.cleanup(50).await.unwrap();
                            }
                            n => {
                                let policy = &policies[usize::from(n % 2 == 0)];
                                store.apply(key, policy, 1).await.unwrap();
                            }
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let key = &keys[0];
        store.block(key, Duration::from_secs(60)).await.unwrap();
        for policy in policies.iter() {
            assert_eq!(
                store.apply(key, policy, 1).await.unwrap().cause(),
                Cause::Blocked
            );
        }
    })
    .await;
}
