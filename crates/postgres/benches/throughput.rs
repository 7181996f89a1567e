//! Rate-limit decisions per second on one PostgreSQL server, side by side in one run:
//!
//! * **palisade**: [`PostgresRateLimitStore`] deciding GCRA and fixed window from
//!   `CONNECTIONS` tasks on a pool of `CONNECTIONS` connections, keys drawn round-robin from
//!   `KEYS` distinct keys, a quota far above what the run reaches (every request admitted and
//!   written): on a pool with sqlx's default options (a ping before each statement), then on
//!   one from [`palisade_postgres::pool_options`] (no ping).
//! * **pgbench**: the same statement (`SELECT … FROM "<schema>".ratelimit_apply(…)` with the
//!   same key bytes, policy id and limit parameters, a random key of the `KEYS`), from
//!   `CONNECTIONS` connections (`-M prepared`, `-j 2`): the server's ceiling for that statement
//!   with libpq's client, so the ratio is what the Rust side (sqlx, the pool, decoding the
//!   reply into a verdict) costs on top.
//!
//! Phases of `MEASURE` alternate palisade / palisade without the ping / pgbench for `ROUNDS` rounds; the table gives the
//! best and the median round. The server is `PALISADE_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), in a schema of its own, dropped at the end.
//!
//! `cargo bench -p palisade-postgres --bench throughput`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use palisade_postgres::PostgresRateLimitStore;
use palisade_ratelimit::{AlgorithmKind, Key, Limit, Policy, Quota, RateLimitStore};

mod common;
use common::{pgbench, phases, pool, pool_unpinged, runtime, summary, unique_schema};

const CONNECTIONS: usize = 16;
const KEYS: u64 = 10_000;
const MEASURE: Duration = Duration::from_secs(4);
const ROUNDS: usize = 3;

/// Decisions per second of `CONNECTIONS` tasks calling `store.apply` back to back.
async fn drive(store: Arc<PostgresRateLimitStore>, policy: Arc<Policy>, duration: Duration) -> f64 {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (store, policy, next) = (store.clone(), policy.clone(), next.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let key = Key::from(next.fetch_add(1, Ordering::Relaxed) % KEYS);
                    let verdict = store.apply(&key, &policy, 1).await.expect("a decision");
                    assert!(verdict.is_allowed());
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

/// The pgbench script running `ratelimit_apply` as the store does for `policy` on
/// `Key::from(k)` (encoded: the length byte 0x08, then k big-endian).
fn pgbench_script(schema: &str, policy: &Policy) -> String {
    let limit = &policy.limits()[0];
    let p = limit.parameters();
    let (code, params) = match limit.kind() {
        AlgorithmKind::Gcra => (1, [p.limit, p.emission_interval_nanos, p.tolerance_nanos]),
        AlgorithmKind::FixedWindow => (4, [p.limit, p.period_nanos, 0]),
        other => panic!("no pgbench script for {other}"),
    };
    let params: Vec<String> = params.iter().map(|v| (*v as i64).to_string()).collect();
    format!(
        "\\set k random(0, {max})\n\
         SELECT decided_at, blocked_for, verdicts FROM \"{schema}\".ratelimit_apply(\
         '\\x08'::bytea || decode(lpad(to_hex(:k::bigint), 16, '0'), 'hex'), \
         {policy_id}, 1, 0, '{{{code}}}'::smallint[], '{{{params}}}'::bigint[]);\n",
        max = KEYS - 1,
        policy_id = policy.id() as i64,
        params = params.join(","),
    )
}

fn main() {
    let (measure, rounds) = phases(Duration::from_secs(1), MEASURE, ROUNDS);
    runtime().block_on(async move {
        let pool = pool(CONNECTIONS).await;
        let schema = unique_schema("palisade_bench");
        let store = PostgresRateLimitStore::new(pool.clone())
            .with_schema(&schema)
            .unwrap();
        store.migrate().await.unwrap();
        let store = Arc::new(store);
        let unpinged = Arc::new(
            PostgresRateLimitStore::new(pool_unpinged(CONNECTIONS).await)
                .with_schema(&schema)
                .unwrap(),
        );

        let mut table = Vec::new();
        for kind in [AlgorithmKind::Gcra, AlgorithmKind::FixedWindow] {
            let policy = Arc::new(
                Policy::single(
                    Limit::new(kind.as_str(), kind, Quota::per_hour(1_000_000_000).unwrap())
                        .unwrap(),
                )
                .unwrap(),
            );
            let script = pgbench_script(&schema, &policy);
            drive(store.clone(), policy.clone(), Duration::from_millis(500)).await;
            drive(unpinged.clone(), policy.clone(), Duration::from_millis(500)).await;
            let (mut ours, mut ours_np, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..rounds {
                ours.push(drive(store.clone(), policy.clone(), measure).await);
                ours_np.push(drive(unpinged.clone(), policy.clone(), measure).await);
                let script = script.clone();
                if let Some(tps) =
                    tokio::task::spawn_blocking(move || pgbench(&script, CONNECTIONS, measure))
                        .await
                        .unwrap()
                {
                    theirs.push(tps);
                }
            }
            table.push((kind, ours, ours_np, theirs));
        }

        println!(
            "\nPostgreSQL rate-limit decisions per second, {CONNECTIONS} connections, {} s phases, {rounds} rounds",
            measure.as_secs_f64()
        );
        for (kind, ours, ours_np, theirs) in &table {
            let (o, om) = summary(&format!("palisade {kind}, sqlx default pool"), ours);
            let (n, nm) = summary(&format!("palisade {kind}, pool_options()"), ours_np);
            let (t, tm) = summary(&format!("pgbench, same statement ({kind})"), theirs);
            if t > 0.0 && tm > 0.0 {
                println!(
                    "  ratio palisade / pgbench, sqlx default pool: best {:.2}, median {:.2}",
                    o / t,
                    om / tm
                );
                println!(
                    "  ratio palisade / pgbench, pool_options():    best {:.2}, median {:.2}",
                    n / t,
                    nm / tm
                );
            }
        }
        palisade_postgres::sqlx::query(palisade_postgres::sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA \"{schema}\" CASCADE"
        )))
        .execute(&pool)
        .await
        .unwrap();
    });
}
