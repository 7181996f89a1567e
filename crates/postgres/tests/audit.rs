//! `PostgresAuditSink` against a real PostgreSQL: the `palisade_audit` conformance suite (8
//! concurrent appenders make one chain), two sink instances (two processes) appending to one
//! tenant at once, key rotation across instances, the append-only trigger, and idempotent
//! migration.
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

use std::sync::Arc;
use std::time::Duration;

use palisade_audit::{AuditSink, Head, Sealer, testing, verify};
use palisade_postgres::PostgresAuditSink;
use palisade_postgres::sqlx::{self, AssertSqlSafe, PgPool};

mod common;

fn sink(pool: &PgPool, schema: &str, sealer: Sealer) -> PostgresAuditSink {
    PostgresAuditSink::new(pool.clone(), sealer)
        .with_schema(schema)
        .unwrap()
        .with_timeout(Duration::from_secs(10))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_audit_sink_passes_the_suite() {
    common::in_fresh_schema(|pool, schema| async move {
        let s = sink(&pool, &schema, testing::test_sealer());
        s.migrate().await.unwrap();
        s.migrate().await.unwrap();
        testing::run_all(Arc::new(s)).await;
    })
    .await;
}

/// Two sink instances (as two processes would) with 4 appenders each on one tenant: the
/// database's head-row lock and the resealing give one chain of 200 without gaps.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_appending_at_once_make_one_chain() {
    common::in_fresh_schema(|pool, schema| async move {
        let a = Arc::new(sink(&pool, &schema, testing::test_sealer()));
        let b = Arc::new(sink(&pool, &schema, testing::test_sealer()));
        a.migrate().await.unwrap();
        let tenant = testing::unique_tenant("two-instances");
        let tasks: Vec<_> = (0..8u64)
            .map(|w| {
                let s: Arc<PostgresAuditSink> = if w % 2 == 0 { a.clone() } else { b.clone() };
                let tenant = tenant.clone();
                tokio::spawn(async move {
                    for i in 0..25 {
                        s.append(testing::draft(&tenant, "u-1", w * 100 + i, i))
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let events = testing::read_all(&*a, &tenant).await;
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
        verify(&testing::test_keys(), &tenant, Head::GENESIS, &events).unwrap();
        assert_eq!(b.head(&tenant).await.unwrap().seq, 200);
    })
    .await;
}

/// A sink with the rotated keys continues the chain written by one with the old key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_across_instances_continues_the_chain() {
    common::in_fresh_schema(|pool, schema| async move {
        let old = sink(&pool, &schema, testing::test_sealer());
        old.migrate().await.unwrap();
        let new = sink(&pool, &schema, testing::rotated_sealer());
        testing::rotation_continues_the_chain(&old, &new).await;
    })
    .await;
}

/// UPDATE, DELETE and TRUNCATE of events are refused by the trigger; the purge function's
/// own deletion is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_table_is_append_only() {
    common::in_fresh_schema(|pool, schema| async move {
        let s = sink(&pool, &schema, testing::test_sealer());
        s.migrate().await.unwrap();
        let tenant = testing::unique_tenant("append-only");
        for i in 1..=3 {
            s.append(testing::draft(&tenant, "u-1", i, i))
                .await
                .unwrap();
        }
        for sql in [
            format!("UPDATE \"{schema}\".audit_events SET reason = 'x'"),
            format!("DELETE FROM \"{schema}\".audit_events WHERE seq = 2"),
            format!("TRUNCATE \"{schema}\".audit_events"),
            // Setting the purge mark by hand in another statement's transaction is not enough
            // (it must hold the current transaction id).
            format!(
                "DO $$ BEGIN PERFORM set_config('palisade.audit_purge', '1', true); \
                 DELETE FROM \"{schema}\".audit_events; END $$"
            ),
        ] {
            let err = sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                .execute(&pool)
                .await
                .unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        let events = testing::read_all(&s, &tenant).await;
        assert_eq!(events.len(), 3);
        verify(&testing::test_keys(), &tenant, Head::GENESIS, &events).unwrap();
        testing::export_then_purge_leaves_a_verifiable_rest(&s).await;
    })
    .await;
}

/// Without `migrate()`, appends are a sink error, never a success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_tables_are_a_sink_error() {
    common::in_fresh_schema(|pool, schema| async move {
        let s = sink(&pool, &schema, testing::test_sealer());
        let tenant = testing::unique_tenant("nomigrate");
        match s.append(testing::draft(&tenant, "u-1", 1, 1)).await {
            Err(palisade_audit::AuditError::SinkUnavailable(reason)) => {
                assert!(reason.starts_with("postgres:"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    })
    .await;
}
