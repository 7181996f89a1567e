//! What the tests against the shared PostgreSQL have in common: its URL, pools, a fresh schema
//! per test and dropping it afterwards.
#![allow(
    dead_code,
    reason = "each test file uses its own part of these helpers"
)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use palisade_postgres::sqlx::{self, PgPool, postgres::PgPoolOptions};

/// `PALISADE_POSTGRES_URL`, by default `postgres://postgres@127.0.0.1:5432/test`.
pub(crate) fn url() -> String {
    std::env::var("PALISADE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A pool of `size` connections to the test server; panics when it does not answer.
pub(crate) async fn pool(size: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&url())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL (PALISADE_POSTGRES_URL) must answer for these tests (.ci/services): {e}"
            )
        })
}

/// A schema name no other test or run uses: `palisade_test_<time>_<process>_<counter>`.
pub(crate) fn random_schema() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "palisade_test_{nanos:x}_{:x}_{:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Drops `schema` and everything in it.
pub(crate) async fn drop_schema(pool: &PgPool, schema: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(pool)
    .await
    .unwrap();
}

/// Runs `test` on a pool of 16 connections and a fresh schema name (the test creates what it
/// needs there), then drops the schema, even when the test panicked (the panic is then
/// re-raised).
pub(crate) async fn in_fresh_schema<F, Fut>(test: F)
where
    F: FnOnce(PgPool, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let pool = pool(16).await;
    let schema = random_schema();
    let outcome = tokio::spawn(test(pool.clone(), schema.clone())).await;
    drop_schema(&pool, &schema).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
