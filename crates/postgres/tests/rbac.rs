//! `PostgresAssignmentStore` and `PostgresRelationStore` against a real PostgreSQL: the
//! palisade-rbac conformance and cross-tenant suites (concurrent cases included), idempotent
//! migration, cascades on tenant deletion, one query per lookup.
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
use std::time::Duration;

use palisade_postgres::sqlx::{self, AssertSqlSafe};
use palisade_postgres::{PostgresRbacTables, PostgresStoreError};
use palisade_rbac::{
    AssignmentStore, RelationStore, ResourceRef, RoleName, StoreError, SubjectId, TenantId, testing,
};

mod common;

/// Runs `test` on migrated tables in a fresh schema, dropped afterwards.
async fn with_tables<F, Fut>(test: F)
where
    F: FnOnce(PostgresRbacTables) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    common::in_fresh_schema(|pool, schema| async move {
        let tables = PostgresRbacTables::new(pool)
            .with_schema(&schema)
            .unwrap()
            .with_timeout(Duration::from_secs(10))
            .unwrap();
        tables.migrate().await.unwrap();
        test(tables).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stores_pass_the_suites() {
    with_tables(|tables| async move {
        testing::run_all(
            Arc::new(tables.assignment_store()),
            Arc::new(tables.relation_store()),
        )
        .await;
    })
    .await;
}

/// `migrate()` twice, and from 4 instances at once: no error, and the stores still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migration_is_idempotent_and_safe_to_race() {
    with_tables(|tables| async move {
        tables.migrate().await.unwrap();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let t = tables.clone();
                tokio::spawn(async move { t.migrate().await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        testing::assignments_per_tenant(&tables.assignment_store()).await;
    })
    .await;
}

/// Deleting the tenant's row (as an application deleting the tenant would) removes its
/// assignments and relations through the foreign keys, and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_tenant_row_cascades() {
    common::in_fresh_schema(|pool, schema| async move {
        let tables = PostgresRbacTables::new(pool.clone())
            .with_schema(&schema)
            .unwrap();
        tables.migrate().await.unwrap();
        let (a, b) = (
            TenantId::new("tenant-a").unwrap(),
            TenantId::new("tenant-b").unwrap(),
        );
        let user = SubjectId::new("u").unwrap();
        let agent = RoleName::new("agent").unwrap();
        let assignments = tables.assignment_store();
        let relations = tables.relation_store();
        assignments.assign(&a, &user, &agent).await.unwrap();
        assignments.assign(&b, &user, &agent).await.unwrap();
        let call = ResourceRef::new("calls", "c1").unwrap();
        relations.set_owner(&call, &a, &user).await.unwrap();
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM \"{schema}\".rbac_tenants WHERE tenant = 'tenant-a'"
        )))
        .execute(&pool)
        .await
        .unwrap();
        assert!(
            assignments
                .assignments(&a, &user)
                .await
                .unwrap()
                .tenant_roles
                .is_empty()
        );
        assert_eq!(relations.owner(&call).await.unwrap(), None);
        assert_eq!(
            assignments
                .assignments(&b, &user)
                .await
                .unwrap()
                .tenant_roles,
            vec![agent]
        );
        // An assignment cannot exist without its tenant row.
        let orphan = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO \"{schema}\".rbac_assignments VALUES ('nowhere', 'u', 'agent')"
        )))
        .execute(&pool)
        .await;
        assert!(orphan.is_err(), "foreign key");
    })
    .await;
}

/// Without the migration: a typed store error (refuse the request), never a verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_table_is_a_store_error() {
    common::in_fresh_schema(|pool, schema| async move {
        let tables = PostgresRbacTables::new(pool).with_schema(&schema).unwrap();
        let e = tables
            .assignment_store()
            .assignments(&TenantId::new("t").unwrap(), &SubjectId::new("s").unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Unavailable { store: "postgres", ref reason } if reason.contains("migrate()")),
            "{e:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn configuration_is_checked() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://postgres@127.0.0.1:5432/test")
        .unwrap();
    let tables = PostgresRbacTables::new(pool);
    assert!(matches!(
        tables.clone().with_schema("x\"; drop"),
        Err(PostgresStoreError::InvalidConfig { .. })
    ));
    assert!(matches!(
        tables.with_timeout(Duration::ZERO),
        Err(PostgresStoreError::InvalidConfig { .. })
    ));
}
