//! One-time-code checks per second on one Redis server, side by side in one run:
//!
//! * **palisade**: [`RedisChallengeStore::check_and_count`] with a wrong answer (the attempt
//!   is counted and the keyed hashes compared: the full work of a check), `CONCURRENCY`
//!   requests in flight on one multiplexed connection, challenges drawn round-robin from
//!   `KEYS` pending ones whose attempt limit the run never reaches.
//! * **the same script, from redis-benchmark**: `EVALSHA` of the store's own check script
//!   (`otp_prelude.lua` + `otp_check.lua`) on one pending challenge with the same kind of
//!   wrong answer, from `CONCURRENCY` connections: the server's cost of the script with a C
//!   client, so the gap to palisade is the Rust client's.
//! * **the ceiling**: `EVALSHA` of `return 1` with one key, from `CONCURRENCY` connections,
//!   as for the rate-limit store: the server's ceiling for one script call per request.
//!
//! Phases of `MEASURE` alternate between the three for `ROUNDS` rounds so that drift on a
//! shared machine hits each alike; the table gives the best and the median round, then the
//! ratios. The server is `PALISADE_REDIS_URL` (default `redis://127.0.0.1:6379/`); every key
//! written has a prefix of its own and a TTL of at most two hours.
//!
//! `cargo bench -p palisade-redis --bench otp_throughput`
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
use palisade_redis::{DEFAULT_TIMEOUT, RedisChallengeStore};

mod common;
use common::{ratio, redis_benchmark, run_id, summary, url};

const CONCURRENCY: usize = 50;
const KEYS: u64 = 10_000;
const MEASURE: Duration = Duration::from_secs(4);
const WARM_UP: Duration = Duration::from_millis(500);
const ROUNDS: usize = 3;
/// More attempts than any run makes: every check is counted and compared, none locks.
const MAX_ATTEMPTS: u32 = 1_000_000_000;

/// The store's check script, as the store builds it.
const CHECK_LUA: &str = concat!(
    include_str!("../lua/otp_prelude.lua"),
    "\n",
    include_str!("../lua/otp_check.lua")
);

fn key(i: u64) -> SubjectKey {
    SubjectKey::new("bench", "login", format!("subject-{i}"))
}

/// Checks per second of `CONCURRENCY` tasks calling `check_and_count` back to back with
/// `wrong` (the candidates of a wrong code, per key) for `duration`.
async fn drive(
    store: Arc<RedisChallengeStore>,
    wrong: Arc<Vec<Vec<CodeHash>>>,
    duration: Duration,
) -> f64 {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..CONCURRENCY)
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
        (Duration::from_millis(300), 1)
    } else {
        (MEASURE, ROUNDS)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let run = run_id();
        let store = RedisChallengeStore::connect(&url(), DEFAULT_TIMEOUT)
            .await
            .expect("Redis (PALISADE_REDIS_URL) must answer (.ci/services)")
            .with_prefix(format!("palisade-bench-otp-{run}:"))
            .unwrap();
        let store = Arc::new(store);
        let peppers = Peppers::new(
            Pepper::new("p1", SecretBox::new(Box::from([7u8; 32].as_slice()))).unwrap(),
        );

        // KEYS pending challenges of one hour, issued 50 at a time.
        let ttl = Duration::from_secs(3_600);
        for chunk in (0..KEYS).collect::<Vec<_>>().chunks(CONCURRENCY) {
            let issues = chunk.iter().map(|&i| {
                let new = NewChallenge::new(key(i), peppers.hash(&key(i), b"493817"), ttl, MAX_ATTEMPTS)
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

        let mut conn = store.connection().clone();
        let load = |text: &'static str| {
            let mut conn = conn.clone();
            async move {
                palisade_redis::redis::cmd("SCRIPT")
                    .arg("LOAD")
                    .arg(text)
                    .query_async::<String>(&mut conn)
                    .await
                    .unwrap()
            }
        };
        let ceiling_sha = load("return 1").await;
        let check_sha = load(CHECK_LUA).await;
        // The redis-benchmark contender's challenge, and its wrong answer (a 32-byte MAC).
        let bench_key = store.challenge_key(&key(KEYS));
        let new = NewChallenge::new(key(KEYS), peppers.hash(&key(KEYS), b"493817"), ttl, MAX_ATTEMPTS)
            .unwrap();
        store.issue(new, Duration::ZERO).await.unwrap();
        let wrong_mac = "x".repeat(32);

        drive(store.clone(), wrong.clone(), WARM_UP).await;

        let (mut r_ours, mut r_same, mut r_ceiling) = (Vec::new(), Vec::new(), Vec::new());
        let mut sent = 0u64;
        for _ in 0..rounds {
            r_ours.push(drive(store.clone(), wrong.clone(), measure).await);
            let requests = (r_ours.last().unwrap() * measure.as_secs_f64()).max(10_000.0) as u64;
            let (sha, k, mac) = (check_sha.clone(), bench_key.clone(), wrong_mac.clone());
            if let Some(rps) = tokio::task::spawn_blocking(move || {
                redis_benchmark(CONCURRENCY, requests, None, &["EVALSHA", &sha, "1", &k, "p1", &mac])
            })
            .await
            .unwrap()
            {
                r_same.push(rps);
                sent += requests;
            }
            let sha = ceiling_sha.clone();
            if let Some(rps) = tokio::task::spawn_blocking(move || {
                redis_benchmark(
                    CONCURRENCY,
                    requests,
                    Some(KEYS),
                    &["EVALSHA", &sha, "1", "palisade-bench:key:__rand_int__"],
                )
            })
            .await
            .unwrap()
            {
                r_ceiling.push(rps);
            }
        }
        // Every check redis-benchmark sent ran the script to its end: counted, compared, wrong.
        let att: u64 = palisade_redis::redis::cmd("HGET")
            .arg(&bench_key)
            .arg("att")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(att, sent, "redis-benchmark's checks were all counted");

        println!(
            "\nRedis one-time-code checks per second, {CONCURRENCY} in flight, {} s phases, {rounds} rounds",
            measure.as_secs_f64()
        );
        let (o, om) = summary("palisade check_and_count (wrong answer)", &r_ours);
        let (s, sm) = summary("redis-benchmark, the same check script", &r_same);
        let (c, cm) = summary("redis-benchmark EVALSHA `return 1` (ceiling)", &r_ceiling);
        println!("\nratios (best / best, median / median)");
        println!("palisade / EVALSHA ceiling       {:.2}  {:.2}", ratio(o, c), ratio(om, cm));
        println!("palisade / same script (C)       {:.2}  {:.2}", ratio(o, s), ratio(om, sm));
        println!("same script / EVALSHA ceiling    {:.2}  {:.2}", ratio(s, c), ratio(sm, cm));
    });
}
