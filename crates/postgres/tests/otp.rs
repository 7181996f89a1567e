//! `PostgresChallengeStore` against a real PostgreSQL: the `palisade_otp` conformance suite
//! (its concurrency cases included), idempotent migration, cleanup, typed errors, and a
//! throughput figure (ignored by default).
//!
//! The server is `PALISADE_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! These tests fail, never skip, when it does not answer. Every test works in its own random
//! schema and drops it at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_otp::{ChallengeStore, NewChallenge, OtpError, testing};
use palisade_postgres::sqlx::postgres::PgPoolOptions;
use palisade_postgres::{PostgresChallengeStore, PostgresStoreError};

mod common;

/// Runs `test` on a migrated store in a fresh schema, dropped afterwards.
async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(PostgresChallengeStore) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    common::in_fresh_schema(|pool, schema| async move {
        let store = PostgresChallengeStore::new(pool)
            .with_schema(&schema)
            .unwrap()
            .with_timeout(Duration::from_secs(10))
            .unwrap();
        store.migrate().await.unwrap();
        test(store).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_challenge_store_passes_the_suite() {
    with_store(|store| async move {
        testing::run_all(Arc::new(store)).await;
    })
    .await;
}

/// `migrate()` twice, and from 4 instances at once: no error, and the store still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migration_is_idempotent_and_safe_to_race() {
    with_store(|store| async move {
        store.migrate().await.unwrap();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move { s.migrate().await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        testing::right_answer_consumes(&store).await;
    })
    .await;
}

/// `cleanup` deletes challenges past expiry and cooldown, and only those.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_deletes_only_challenges_past_expiry_and_cooldown() {
    with_store(|store| async move {
        let p = testing::test_peppers();
        let issue = async |label: &str, ttl_ms: u64, cooldown_ms: u64| {
            let key = testing::unique_key(label, "login");
            let new = NewChallenge::new(
                key.clone(),
                p.hash(&key, b"123456"),
                Duration::from_millis(ttl_ms),
                3,
            )
            .unwrap();
            store
                .issue(new, Duration::from_millis(cooldown_ms))
                .await
                .unwrap();
            key
        };
        let mut gone = Vec::new();
        for i in 0..5 {
            gone.push(issue(&format!("old{i}"), 100, 0).await);
        }
        let live = issue("live", 60_000, 0).await;
        let cooling = issue("cooling", 100, 60_000).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(store.cleanup(2).await.unwrap(), 5);
        for k in &gone {
            assert!(store.get(k).await.unwrap().is_none());
        }
        assert!(store.get(&live).await.unwrap().is_some());
        assert!(store.get(&cooling).await.unwrap().is_some());
        assert!(matches!(
            store.cleanup(0).await,
            Err(PostgresStoreError::InvalidConfig { .. })
        ));
    })
    .await;
}

/// Without `migrate()`, every operation is a store error (naming the missing migration),
/// never a verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_tables_are_a_store_error() {
    common::in_fresh_schema(|pool, schema| async move {
        let store = PostgresChallengeStore::new(pool)
            .with_schema(&schema)
            .unwrap();
        let p = testing::test_peppers();
        let key = testing::unique_key("nomigrate", "login");
        match store
            .check_and_count(&key, &p.candidates(&key, b"123456"))
            .await
        {
            Err(OtpError::StoreUnavailable(reason)) => {
                assert!(reason.starts_with("postgres:"), "{reason}");
                assert!(reason.contains("migrate()"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    })
    .await;
}

/// An unreachable server: every operation is `OtpError::StoreUnavailable`, never a success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_store_error_never_a_success() {
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_millis(300))
        .connect_lazy("postgres://postgres:hunter2@127.0.0.1:1/test")
        .unwrap();
    let store = PostgresChallengeStore::new(pool)
        .with_timeout(Duration::from_millis(500))
        .unwrap();
    let p = testing::test_peppers();
    let key = testing::unique_key("down", "login");
    let cands = p.candidates(&key, b"123456");
    let new = NewChallenge::new(
        key.clone(),
        p.hash(&key, b"123456"),
        Duration::from_secs(60),
        3,
    )
    .unwrap();
    let started = Instant::now();
    let errors = [
        store.issue(new, Duration::ZERO).await.err(),
        store.check_and_count(&key, &cands).await.err(),
        store.get(&key).await.err(),
        store.accept_step(&key, 1).await.err(),
        store.replace_recovery_codes(&key, Vec::new()).await.err(),
        store.consume_recovery_code(&key, &cands).await.err(),
    ];
    for e in errors {
        match e {
            Some(OtpError::StoreUnavailable(reason)) => {
                assert!(reason.starts_with("postgres:"), "{reason}");
                assert!(!reason.contains("hunter2"), "{reason}");
            }
            other => panic!("expected a store error, got {other:?}"),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(8));
}
