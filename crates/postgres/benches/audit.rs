//! Audit appends per second, side by side in one run:
//!
//! * **memory**: `MemorySink::append` back to back from one task (the chain's own cost: policy
//!   check, canonical encoding, HMAC-SHA256, store).
//! * **palisade postgres**: [`PostgresAuditSink::append`] from `CONNECTIONS` tasks on a pool of
//!   `CONNECTIONS` connections, one tenant per task (tenants' chains are independent; one
//!   tenant's appends are serialized by design), and the same with every task on **one**
//!   tenant (the contended case).
//! * **pgbench**: a plain single-row `INSERT` of the same width into a table of the same
//!   columns and indexes (`LIKE audit_events INCLUDING INDEXES`), without the head row, the
//!   function or the trigger, from `CONNECTIONS` connections (`-M prepared`, `-j 2`), one
//!   tenant per connection. The ratio is what the chain costs over storing the row. Target
//!   ≥ 0.7.
//! * **sqlx plain INSERT**: the same row through sqlx from `CONNECTIONS` tasks (the sink's
//!   client library without the chain), to tell the chain's cost from the client's.
//! * the sink and the sqlx plain INSERT again on a pool from
//!   [`palisade_postgres::pool_options`] (no ping before each statement, where sqlx's default
//!   pings every connection it hands out).
//! * **verify**: the chain of the contended run read back and verified (events per second of
//!   `verify` alone, in memory).
//!
//! Phases of `MEASURE` alternate palisade / pgbench for `ROUNDS` rounds; the table gives the
//! best and the median round. The pgbench script is `benches/audit_plain_insert.sql`
//! (`__SCHEMA__` replaced). The server is `PALISADE_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), in a schema of its own, dropped at the end.
//!
//! `cargo bench -p palisade-postgres --bench audit`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_audit::{AuditSink, Head, MemorySink, testing, verify};
use palisade_postgres::PostgresAuditSink;
use palisade_postgres::sqlx::postgres::PgPoolOptions;
use palisade_postgres::sqlx::{self, AssertSqlSafe};

mod common;
use common::{pgbench, summary, url};

const CONNECTIONS: usize = 16;
const MEASURE: Duration = Duration::from_secs(3);
const ROUNDS: usize = 3;

/// Appends per second of `CONNECTIONS` tasks appending back to back, task `i` to tenant
/// `tenants[i % tenants.len()]`.
async fn drive(
    sink: Arc<dyn AuditSink>,
    tenants: &[palisade_audit::TenantId],
    duration: Duration,
) -> f64 {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let sink = sink.clone();
            let tenant = tenants[i % tenants.len()].clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    sink.append(testing::draft(&tenant, "u-7", n, 1_764_972_000_000 + n))
                        .await
                        .expect("an append");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Plain INSERTs per second through sqlx (the sink's client library) from `CONNECTIONS`
/// tasks: the same row as the pgbench script, no chain.
async fn drive_plain(pool: &sqlx::PgPool, schema: &str, duration: Duration) -> f64 {
    let sql: Arc<str> = format!(
        "INSERT INTO \"{schema}\".audit_plain (tenant, seq, epoch, time_ms, actor, role, \
         action, resource_type, resource_id, reason, outcome, client, prev, mac) \
         VALUES ($1, $2, 1, 1764972000000, 'u-7', 'agent', 'read', 'lead', $3, NULL, 0, NULL, \
         $4, $5)"
    )
    .into();
    // Tenants of this call only: (tenant, seq) never repeats across calls and pools.
    let call = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let (pool, sql) = (pool.clone(), sql.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                let tenant = format!("sqlx-plain-{call:x}-{i}");
                let base = (started.elapsed().as_nanos() as i64) << 8;
                while Instant::now() < deadline {
                    sqlx::query(AssertSqlSafe(sql.to_string()))
                        .bind(&tenant)
                        .bind(base + n as i64)
                        .bind(format!("lead-{n}"))
                        .bind([0xa7u8; 32].as_slice())
                        .bind([0x37u8; 32].as_slice())
                        .execute(&pool)
                        .await
                        .expect("an insert");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run briefly then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (measure, rounds) = if quick {
        (Duration::from_secs(1), 1)
    } else {
        (MEASURE, ROUNDS)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS as u32)
            .min_connections(CONNECTIONS as u32)
            .connect(&url())
            .await
            .expect("PostgreSQL (PALISADE_POSTGRES_URL) must answer (.ci/services)");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let schema = format!("palisade_bench_audit_{nanos:x}");
        let sink = PostgresAuditSink::new(pool.clone(), testing::test_sealer())
            .with_schema(&schema)
            .unwrap()
            .with_timeout(Duration::from_secs(30))
            .unwrap();
        sink.migrate().await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE TABLE \"{schema}\".audit_plain \
             (LIKE \"{schema}\".audit_events INCLUDING DEFAULTS INCLUDING INDEXES)"
        )))
        .execute(&pool)
        .await
        .unwrap();
        let script =
            include_str!("audit_plain_insert.sql").replace("__SCHEMA__", &schema);
        let pool_np = palisade_postgres::pool_options()
            .max_connections(CONNECTIONS as u32)
            .min_connections(CONNECTIONS as u32)
            .connect(&url())
            .await
            .unwrap();
        let sink_np: Arc<dyn AuditSink> = Arc::new(
            PostgresAuditSink::new(pool_np.clone(), testing::test_sealer())
                .with_schema(&schema)
                .unwrap()
                .with_timeout(Duration::from_secs(30))
                .unwrap(),
        );
        let sink: Arc<dyn AuditSink> = Arc::new(sink);
        let per_task: Vec<_> = (0..CONNECTIONS)
            .map(|i| testing::unique_tenant(&format!("bench-{i}")))
            .collect();
        let per_task_np: Vec<_> = (0..CONNECTIONS)
            .map(|i| testing::unique_tenant(&format!("bench-np-{i}")))
            .collect();
        let one = vec![testing::unique_tenant("bench-one")];

        // Memory sink: one task.
        let memory = MemorySink::new(testing::test_sealer());
        let tenant = testing::unique_tenant("bench-memory");
        let mut mem = Vec::new();
        for _ in 0..rounds {
            let started = Instant::now();
            let mut n = 0u64;
            while started.elapsed() < measure {
                memory
                    .append(testing::draft(&tenant, "u-7", n, n))
                    .await
                    .unwrap();
                n += 1;
            }
            mem.push(n as f64 / started.elapsed().as_secs_f64());
        }

        drive(sink.clone(), &per_task, Duration::from_millis(500)).await;
        let (mut ours, mut contended, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
        drive(sink_np.clone(), &per_task_np, Duration::from_millis(500)).await;
        let mut plain = Vec::new();
        let (mut ours_np, mut plain_np) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(drive(sink.clone(), &per_task, measure).await);
            plain.push(drive_plain(&pool, &schema, measure).await);
            ours_np.push(drive(sink_np.clone(), &per_task_np, measure).await);
            plain_np.push(drive_plain(&pool_np, &schema, measure).await);
            contended.push(drive(sink.clone(), &one, measure).await);
            let script = script.clone();
            if let Some(tps) = tokio::task::spawn_blocking(move || pgbench(&script, CONNECTIONS, measure))
                .await
                .unwrap()
            {
                theirs.push(tps);
            }
        }

        // Verify: the contended tenant's whole chain, read back, verified in memory.
        let events = testing::read_all(&*sink, &one[0]).await;
        let keys = testing::test_keys();
        let mut ver = Vec::new();
        for _ in 0..rounds.max(3) {
            let started = Instant::now();
            let head = verify(&keys, &one[0], Head::GENESIS, &events).unwrap();
            assert_eq!(head.seq, events.len() as u64);
            ver.push(events.len() as f64 / started.elapsed().as_secs_f64());
        }

        println!(
            "\nAudit appends per second ({CONNECTIONS} connections for Postgres), {} s phases, {rounds} rounds",
            measure.as_secs_f64()
        );
        summary("memory sink, 1 task", &mem);
        let (o, om) = summary("palisade postgres, 1 tenant per task", &ours);
        summary("palisade postgres, all tasks on 1 tenant", &contended);
        let (p, pm) = summary("sqlx plain INSERT, same width", &plain);
        let (t, tm) = summary("pgbench plain INSERT, same width", &theirs);
        let (o2, o2m) = summary("palisade postgres, pool_options()", &ours_np);
        let (p2, p2m) = summary("sqlx plain INSERT, pool_options()", &plain_np);
        if t > 0.0 && tm > 0.0 {
            println!(
                "  ratio palisade (pool_options()) / plain INSERT: best {:.2}, median {:.2}",
                o2 / t,
                o2m / tm
            );
            println!(
                "  ratio sqlx plain INSERT (pool_options()) / pgbench: best {:.2}, median {:.2}",
                p2 / t,
                p2m / tm
            );
        }
        if t > 0.0 && tm > 0.0 {
            println!(
                "  ratio palisade / plain INSERT: best {:.2}, median {:.2}",
                o / t,
                om / tm
            );
        }
        if p > 0.0 && pm > 0.0 {
            println!(
                "  ratio palisade / sqlx plain INSERT: best {:.2}, median {:.2}",
                o / p,
                om / pm
            );
        }
        summary(&format!("verify ({} events), events", events.len()), &ver);

        sqlx::query(AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
            .execute(&pool)
            .await
            .unwrap();
    });
}
