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
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use palisade_otp::{
    ChallengeStore, CheckOutcome, CodeHash, NewChallenge, Pepper, Peppers, SecretBox, SubjectKey,
};
use palisade_postgres::PostgresChallengeStore;
use palisade_postgres::sqlx::postgres::PgPoolOptions;

mod common;
use common::{pgbench, ratio, summary, unique_schema, url};

const CONNECTIONS: usize = 16;
const KEYS: u64 = 10_000;
const MEASURE: Duration = Duration::from_secs(4);
const ROUNDS: usize = 3;
/// More attempts than any run makes: every check is counted and compared, none locks.
const MAX_ATTEMPTS: u32 = 1_000_000_000;

fn key(i: u64) -> SubjectKey {
    SubjectKey::new("bench", "login", format!("subject-{i}"))
}

/// Checks per second of `CONNECTIONS` tasks calling `check_and_count` back to back with
/// `wrong` (the candidates of a wrong code, per key) for `duration`.
async fn drive(
    store: Arc<PostgresChallengeStore>,
    wrong: Arc<Vec<Vec<CodeHash>>>,
    duration: Duration,
) -> f64 {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (store, wrong, next) = (store.clone(), wrong.clone(), next.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed) % KEYS;
                    let out = store
                        .check_and_count(&key(i), &wrong[i as usize])
                        .await
                        .expect("a check");
                    assert!(matches!(out, CheckOutcome::Wrong { .. }), "{out:?}");
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
        let schema = unique_schema("palisade_bench_otp");
        let store = PostgresChallengeStore::new(pool.clone())
            .with_schema(&schema)
            .unwrap();
        store.migrate().await.unwrap();
        let store = Arc::new(store);
        let peppers = Peppers::new(
            Pepper::new("p1", SecretBox::new(Box::from([7u8; 32].as_slice()))).unwrap(),
        );

        // KEYS pending challenges of one hour, issued 16 at a time.
        let ttl = Duration::from_secs(3_600);
        for chunk in (0..KEYS).collect::<Vec<_>>().chunks(CONNECTIONS) {
            let issues = chunk.iter().map(|&i| {
                let new = NewChallenge::new(
                    key(i),
                    peppers.hash(&key(i), b"493817"),
                    ttl,
                    MAX_ATTEMPTS,
                )
                .unwrap();
                let store = store.clone();
                async move { store.issue(new, Duration::ZERO).await.unwrap() }
            });
            for t in issues.map(tokio::spawn).collect::<Vec<_>>() {
                t.await.unwrap();
            }
        }
        let wrong: Arc<Vec<Vec<CodeHash>>> = Arc::new(
            (0..KEYS)
                .map(|i| peppers.candidates(&key(i), b"000000"))
                .collect(),
        );
        let same = format!(
            "\\set n random(0, {max})\n\
             SELECT \"{schema}\".otp_check('bench', 'login', 'subject-' || :n::text, \
             ARRAY['p1'], ARRAY['\\x{mac}'::bytea]);\n",
            max = KEYS - 1,
            mac = "00".repeat(32),
        );
        let trivial = "SELECT 1;\n".to_owned();

        drive(store.clone(), wrong.clone(), Duration::from_millis(500)).await;
        let (mut r_ours, mut r_same, mut r_trivial) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            r_ours.push(drive(store.clone(), wrong.clone(), measure).await);
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
        println!("\nratios (best / best, median / median)");
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
