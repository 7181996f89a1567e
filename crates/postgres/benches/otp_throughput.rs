//! One-time-code checks per second on one PostgreSQL server, side by side in one run:
//!
//! * **palisade**: [`PostgresChallengeStore::check_and_count`] with a wrong answer (the
//!   attempt is counted and the keyed hashes compared: the full work of a check), from
//!   `CONNECTIONS` tasks on a pool of `CONNECTIONS`, challenges drawn round-robin from `KEYS`
//!   pending ones whose attempt limit the run never reaches.
//! * **pgbench, the same statement**: `SELECT "<schema>".otp_check(…)` on a random one of the
//!   same challenges with a wrong 32-byte MAC, from `CONNECTIONS` connections (`-M prepared`,
//!   `-j 2`): the server's cost of the statement with libpq's client, so the gap to palisade
//!   is the Rust side's (sqlx, the pool, decoding).
//! * **pgbench, a trivial statement**: `SELECT 1` from `CONNECTIONS` connections: the
//!   ceiling of one round trip per request on this server and machine.
//! * **sqlx, a trivial statement**: `SELECT 1` through sqlx on the store's pool, as many at
//!   once: the same ceiling through the Rust client.
//!
//! Phases of `MEASURE` alternate between the three for `ROUNDS` rounds; the table gives the
//! best and the median round, then the ratios. The server is `PALISADE_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), in a schema of its own, dropped at the end.
//!
//! `cargo bench -p palisade-postgres --bench otp_throughput`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;
use std::time::Duration;

use palisade_otp::testing::throughput;
use palisade_postgres::PostgresChallengeStore;

mod common;
use common::{pgbench, phases, pool, ratio, runtime, summary, unique_schema};

const CONNECTIONS: usize = 16;
const KEYS: u64 = 10_000;
const MEASURE: Duration = Duration::from_secs(4);
const ROUNDS: usize = 3;
fn main() {
    let (measure, rounds) = phases(Duration::from_secs(1), MEASURE, ROUNDS);
    runtime().block_on(async move {
        let pool = pool(CONNECTIONS).await;
        let schema = unique_schema("palisade_bench_otp");
        let store = PostgresChallengeStore::new(pool.clone())
            .with_schema(&schema)
            .unwrap();
        store.migrate().await.unwrap();
        let store = Arc::new(store);
        let wrong = throughput::issue_pending(store.clone(), KEYS, CONNECTIONS).await;
        let same = format!(
            "\\set n random(0, {max})\n\
             SELECT \"{schema}\".otp_check('bench', 'login', 'subject-' || :n::text, \
             ARRAY['p1'], ARRAY['\\x{mac}'::bytea]);\n",
            max = KEYS - 1,
            mac = "00".repeat(32),
        );
        let trivial = "SELECT 1;\n".to_owned();

        let drive = |duration| {
            throughput::checks_per_second(store.clone(), wrong.clone(), CONNECTIONS, duration)
        };
        // `SELECT 1` through sqlx on the store's pool, as many at once.
        let sqlx_trivial = {
            let pool = pool.clone();
            move |duration| {
                let pool = pool.clone();
                throughput::per_second(CONNECTIONS, duration, move |_| {
                    let pool = pool.clone();
                    async move {
                        let one: i32 = palisade_postgres::sqlx::query_scalar("SELECT 1")
                            .fetch_one(&pool)
                            .await
                            .unwrap();
                        assert_eq!(one, 1);
                    }
                })
            }
        };
        drive(Duration::from_millis(500)).await;
        sqlx_trivial(Duration::from_millis(500)).await;
        let (mut r_ours, mut r_same, mut r_trivial, mut r_sqlx) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            r_ours.push(drive(measure).await);
            r_sqlx.push(sqlx_trivial(measure).await);
            for (script, rates) in [(&same, &mut r_same), (&trivial, &mut r_trivial)] {
                let script = script.clone();
                if let Some(tps) =
                    tokio::task::spawn_blocking(move || pgbench(&script, CONNECTIONS, measure))
                        .await
                        .unwrap()
                {
                    rates.push(tps);
                }
            }
        }
        // pgbench's checks ran to the end: counted, compared, wrong.
        let (attempts, states): (i64, i64) =
            palisade_postgres::sqlx::query_as(palisade_postgres::sqlx::AssertSqlSafe(format!(
                "SELECT sum(attempts)::bigint, count(*) FILTER (WHERE state <> 'p') \
                 FROM \"{schema}\".otp_challenges"
            )))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(states, 0, "every challenge is still pending");
        assert!(attempts > 0);

        println!(
            "\nPostgreSQL one-time-code checks per second, {CONNECTIONS} connections, {} s phases, {rounds} rounds",
            measure.as_secs_f64()
        );
        let (o, om) = summary("palisade check_and_count (wrong answer)", &r_ours);
        let (s, sm) = summary("pgbench, the same statement", &r_same);
        let (t, tm) = summary("pgbench, SELECT 1 (ceiling)", &r_trivial);
        let (q, qm) = summary("SELECT 1 through sqlx, the same pool", &r_sqlx);
        println!("\nratios (best / best, median / median)");
        println!("palisade / sqlx SELECT 1       {:.2}  {:.2}", ratio(o, q), ratio(om, qm));
        println!("palisade / same statement      {:.2}  {:.2}", ratio(o, s), ratio(om, sm));
        println!("palisade / SELECT 1 ceiling    {:.2}  {:.2}", ratio(o, t), ratio(om, tm));
        println!("same statement / SELECT 1      {:.2}  {:.2}", ratio(s, t), ratio(sm, tm));
        println!("attempts counted in all: {attempts}");

        palisade_postgres::sqlx::query(palisade_postgres::sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA \"{schema}\" CASCADE"
        )))
        .execute(&pool)
        .await
        .unwrap();
    });
}
