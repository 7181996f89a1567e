//! `PostgresApiKeyStore` against a real PostgreSQL: the `palisade_auth` conformance suite
//! (concurrency and revocation cases included), idempotent migration, revocation seen by a
//! second store instance (another pool) on its next check.
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
use std::time::Duration;

use palisade_auth::{
    ApiKeyPrefix, ApiKeyStore, ApiKeys, AuthError, ExposeSecret, KeyCheck, testing,
};
use palisade_postgres::PostgresApiKeyStore;

mod common;

/// Runs `test` on a migrated store in a fresh schema, dropped afterwards.
async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(PostgresApiKeyStore, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    common::in_fresh_schema(|pool, schema| async move {
        let store = PostgresApiKeyStore::new(pool)
            .with_schema(&schema)
            .unwrap()
            .with_timeout(Duration::from_secs(10))
            .unwrap();
        store.migrate().await.unwrap();
        test(store, schema).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_api_key_store_passes_the_suite() {
    with_store(|store, _| async move {
        testing::run_all(store).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_is_idempotent() {
    with_store(|store, _| async move {
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        testing::issue_and_verify(store).await;
    })
    .await;
}

/// Two instances (two pools) on one database: a key revoked through one is refused by the
/// other's very next check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_is_visible_to_the_next_check_on_every_instance() {
    with_store(|a, schema| async move {
        let b = PostgresApiKeyStore::new(common::pool(2).await)
            .with_schema(&schema)
            .unwrap();
        let prefix = ApiKeyPrefix::new("test").unwrap();
        let on_a = ApiKeys::new(a, testing::test_peppers(), prefix.clone());
        let on_b = ApiKeys::new(b, testing::test_peppers(), prefix);
        let issued = on_a.issue(testing::spec("instances", None)).await.unwrap();
        let text = issued.key.expose_secret();
        on_b.verify(text).await.unwrap();
        assert!(on_a.revoke(&issued.record.id).await.unwrap());
        assert_eq!(on_b.verify(text).await, Err(AuthError::RevokedApiKey));
        // An empty candidate list (no pepper held) matches nothing.
        assert_eq!(
            on_b.store().check(&issued.record.id, &[]).await.unwrap(),
            KeyCheck::Invalid
        );
    })
    .await;
}
