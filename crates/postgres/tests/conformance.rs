//! `PostgresNonceStore` against a real PostgreSQL: the `palisade_replay` conformance suite,
//! migrations, the reclaim race, cleanup, schema validation, and typed errors when the server
//! is unreachable.
//!
//! The server is `PALISADE_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`;
//! CI starts one with `.ci/services`). These tests fail, never skip, when it does not answer.
//! Every test works in its own schema `palisade_test_<time>_<process>_<counter>` and drops it at
//! the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_postgres::sqlx::{self, postgres::PgPoolOptions};
use palisade_postgres::{DEFAULT_SCHEMA, PostgresNonceStore, PostgresStoreError};
use palisade_replay::{ClaimOutcome, Freshness, LeaseToken, NonceStore, ReplayError, testing};

mod common;
use common::{pool, random_schema, url};

const TTL: Duration = Duration::from_secs(60);

/// Runs `test` on a migrated store (migrated twice: idempotent) in a fresh schema, dropped
/// afterwards.
async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(PostgresNonceStore) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    common::in_fresh_schema(|pool, schema| async move {
        let store = PostgresNonceStore::new(pool).with_schema(&schema).unwrap();
        store.migrate().await.unwrap();
        store.migrate().await.unwrap(); // idempotent
        test(store).await;
    })
    .await;
}

async fn count_rows(store: &PostgresNonceStore) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM \"{}\".nonces",
        store.schema()
    )))
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_store_passes_the_suite() {
    with_store(|store| async move {
        let store: Arc<dyn NonceStore> = Arc::new(store);
        testing::run_all(store).await;
    })
    .await;
}

/// palisade-replay's `Outbox` across instances sharing Postgres: each message sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_sends_each_message_once_across_instances() {
    with_store(|store| async move {
        testing::outbox_sends_once(Arc::new(store)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_racers_through_one_pool_get_one_fresh_every_round() {
    with_store(|store| async move {
        let store = Arc::new(store);
        for _ in 0..10 {
            testing::concurrent_single_key(store.clone()).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_racers_on_an_expired_row_get_one_fresh() {
    // The reclaim path: the row exists but has expired, so every racer takes ON CONFLICT and
    // only the WHERE re-evaluated on the locked row decides.
    with_store(|store| async move {
        let store = Arc::new(store);
        for round in 0..5u8 {
            let ns = testing::unique_namespace("reclaim");
            let id = [round];
            store
                .insert_if_absent(&ns, &id, Duration::from_millis(1))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(
                testing::race(store.clone(), &ns, &id, 64).await,
                1,
                "round {round}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expiry_is_on_the_database_clock_and_cleanup_deletes_only_expired_rows() {
    with_store(|store| async move {
        let ns = testing::unique_namespace("cleanup");
        for i in 0..25u8 {
            store
                .insert_if_absent(&ns, &[i], Duration::from_millis(5))
                .await
                .unwrap();
        }
        for i in 100..105u8 {
            store.insert_if_absent(&ns, &[i], TTL).await.unwrap();
        }
        // expires_at = the server's clock + TTL.
        let left: f64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT extract(epoch FROM expires_at - clock_timestamp())::float8 \
             FROM \"{}\".nonces WHERE namespace = $1 AND id = $2",
            store.schema()
        )))
        .bind(&ns)
        .bind(&[100u8][..])
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert!((55.0..=60.0).contains(&left), "{left}");

        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(count_rows(&store).await, 30);
        // An expired row no longer counts for remove.
        assert!(!store.remove(&ns, &[0]).await.unwrap());
        assert_eq!(store.cleanup(10).await.unwrap(), 25);
        assert_eq!(store.cleanup(10).await.unwrap(), 0);
        assert_eq!(count_rows(&store).await, 5);
        for i in 100..105u8 {
            assert_eq!(
                store.insert_if_absent(&ns, &[i], TTL).await.unwrap(),
                Freshness::Replayed
            );
        }
        assert!(matches!(
            store.cleanup(0).await,
            Err(PostgresStoreError::InvalidConfig { .. })
        ));
        // The longest TTLs are accepted too.
        assert_eq!(
            store
                .insert_if_absent(&ns, b"max", Duration::MAX)
                .await
                .unwrap(),
            Freshness::Fresh
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_names_are_validated() {
    let pool = PgPoolOptions::new().connect_lazy(&url()).unwrap();
    let store = PostgresNonceStore::new(pool);
    assert_eq!(store.schema(), DEFAULT_SCHEMA);
    for bad in [
        "",
        "x\"; DROP SCHEMA public CASCADE; --",
        "a.b",
        "9lives",
        "pg_temp",
        "späti",
        "a b",
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
    assert!(matches!(
        store.remove("", b"x").await,
        Err(ReplayError::InvalidConfig { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_table_is_a_store_failure_that_says_migrate() {
    let store = PostgresNonceStore::new(pool(16).await)
        .with_schema(&random_schema())
        .unwrap();
    let e = store.insert_if_absent("ns", b"id", TTL).await.unwrap_err();
    match e {
        ReplayError::StoreUnavailable { reason } => assert!(reason.contains("migrate"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_not_quoted() {
    let mut options: sqlx::postgres::PgConnectOptions = url().parse().unwrap();
    options = options
        .username("palisade_nobody")
        .password("hunter2-s3cret");
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy_with(options);
    let store = PostgresNonceStore::new(pool);
    let e = store.insert_if_absent("ns", b"id", TTL).await.unwrap_err();
    eprintln!("wrong credentials: {e:?}");
    assert!(e.is_store_failure(), "{e:?}");
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("hunter2-s3cret") && !shown.contains("palisade_nobody"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_gives_a_typed_error_quickly() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://alice:hunter2@127.0.0.1:1/test")
        .unwrap();
    let store = PostgresNonceStore::new(pool)
        .with_timeout(Duration::from_secs(1))
        .unwrap();
    let started = Instant::now();
    let e = store.insert_if_absent("ns", b"id", TTL).await.unwrap_err();
    assert!(
        e.is_store_failure() && !matches!(e, ReplayError::StoreFull { .. }),
        "{e:?}"
    );
    assert!(!e.to_string().contains("hunter2"), "{e}");
    eprintln!("insert: {e:?}");
    let e = store.remove("ns", b"id").await.unwrap_err();
    assert!(e.is_store_failure(), "{e:?}");
    // Delivery claims fail closed the same way.
    let token = LeaseToken::from_bytes([1; 16]);
    let e = store.claim("ns", b"id", token, TTL).await.unwrap_err();
    assert!(e.is_store_failure(), "claim: {e:?}");
    let e = store.complete("ns", b"id", token, TTL).await.unwrap_err();
    assert!(e.is_store_failure(), "complete: {e:?}");
    let e = store.release("ns", b"id", token).await.unwrap_err();
    assert!(e.is_store_failure(), "release: {e:?}");
    let e = store.migrate().await.unwrap_err();
    assert!(
        matches!(
            e,
            PostgresStoreError::Unavailable { .. } | PostgresStoreError::Timeout { .. }
        ),
        "{e:?}"
    );
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_claims_on_an_expired_claim_get_one_claimed() {
    // The takeover path: the row is an expired claim, so every racer takes ON CONFLICT and
    // only the row-locked re-evaluation of the expiry decides.
    with_store(|store| async move {
        let store = Arc::new(store);
        for round in 0..5u8 {
            let ns = testing::unique_namespace("takeover");
            let id = [round];
            let first = LeaseToken::random().unwrap();
            assert_eq!(
                store
                    .claim(&ns, &id, first, Duration::from_millis(1))
                    .await
                    .unwrap(),
                ClaimOutcome::Claimed
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(
                testing::claim_race(store.clone(), &ns, &id, 64).await,
                (1, 63),
                "round {round}"
            );
            assert!(!store.release(&ns, &id, first).await.unwrap());
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claim_row_holds_its_token_and_a_completed_row_none() {
    with_store(|store| async move {
        let ns = testing::unique_namespace("claim-rows");
        let token = LeaseToken::from_bytes([0x5a; 16]);
        let row = |id: &'static [u8]| {
            let store = store.clone();
            let ns = ns.clone();
            async move {
                sqlx::query_as::<_, (Option<Vec<u8>>, f64)>(sqlx::AssertSqlSafe(format!(
                    "SELECT lease_token, \
                     extract(epoch FROM expires_at - clock_timestamp())::float8 \
                     FROM \"{}\".nonces WHERE namespace = $1 AND id = $2",
                    store.schema()
                )))
                .bind(&ns)
                .bind(id)
                .fetch_one(store.pool())
                .await
                .unwrap()
            }
        };
        let lease = Duration::from_secs(30);
        assert_eq!(
            store.claim(&ns, b"id", token, lease).await.unwrap(),
            ClaimOutcome::Claimed
        );
        let (held, left) = row(b"id").await;
        assert_eq!(held.as_deref(), Some(&[0x5a; 16][..]));
        assert!((25.0..=30.0).contains(&left), "lease left {left}");
        assert!(store.complete(&ns, b"id", token, TTL).await.unwrap());
        let (held, left) = row(b"id").await;
        assert_eq!(held, None);
        assert!((55.0..=60.0).contains(&left), "TTL left {left}");
        // A released claim leaves no row.
        store.claim(&ns, b"gone", token, lease).await.unwrap();
        assert!(store.release(&ns, b"gone", token).await.unwrap());
        assert_eq!(count_rows(&store).await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_adds_the_lease_column_to_a_table_of_an_earlier_version() {
    common::in_fresh_schema(|pool, schema| async move {
        // The table as the first release created it, with an id already recorded.
        sqlx::raw_sql(sqlx::AssertSqlSafe(
            include_str!("../migrations/0001_nonces.sql").replace("__SCHEMA__", &schema),
        ))
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO \"{schema}\".nonces (namespace, id, expires_at) \
             VALUES ('ns', 'old', clock_timestamp() + interval '1 minute')"
        )))
        .execute(&pool)
        .await
        .unwrap();
        let store = PostgresNonceStore::new(pool).with_schema(&schema).unwrap();
        let token = LeaseToken::random().unwrap();
        assert!(
            store
                .claim("ns", b"new", token, TTL)
                .await
                .unwrap_err()
                .is_store_failure(),
            "claims need the migration"
        );
        store.migrate().await.unwrap();
        assert_eq!(
            store.claim("ns", b"old", token, TTL).await.unwrap(),
            ClaimOutcome::Completed,
            "an id recorded before the upgrade is completed"
        );
        assert_eq!(
            store.claim("ns", b"new", token, TTL).await.unwrap(),
            ClaimOutcome::Claimed
        );
    })
    .await;
}
