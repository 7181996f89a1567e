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
//! * **the same ceiling on palisade's connection**: `EVALSHA` of `return 1` sent by redis-rs
//!   on the store's multiplexed connection with `CONCURRENCY` in flight, so that the ratio
//!   compares the check with a trivial script through the same client and pipelining.
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
use std::time::Duration;

use palisade_otp::testing::throughput;
use palisade_redis::{DEFAULT_TIMEOUT, RedisChallengeStore};

mod common;
use common::{evalsha_ceiling, phases, ratio, redis_benchmark, run_id, runtime, summary, url};

const CONCURRENCY: usize = 50;
const KEYS: u64 = 10_000;
const MEASURE: Duration = Duration::from_secs(4);
const QUICK: Duration = Duration::from_millis(300);
const WARM_UP: Duration = Duration::from_millis(500);
const ROUNDS: usize = 3;
/// The store's check script, as the store builds it.
const CHECK_LUA: &str = concat!(
    include_str!("../lua/otp_prelude.lua"),
    "\n",
    include_str!("../lua/otp_check.lua")
);

fn main() {
    let (measure, rounds) = phases(QUICK, MEASURE, ROUNDS);
    runtime().block_on(async move {
        let run = run_id();
        let store = RedisChallengeStore::connect(&url(), DEFAULT_TIMEOUT)
            .await
            .expect("Redis (PALISADE_REDIS_URL) must answer (.ci/services)")
            .with_prefix(format!("palisade-bench-otp-{run}:"))
            .unwrap();
        let store = Arc::new(store);
        let wrong = throughput::issue_pending(store.clone(), KEYS, CONCURRENCY).await;

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
        // redis-benchmark's challenge (key 0, one of palisade's, checked in another phase)
        // and its wrong answer (a 32-byte MAC).
        let bench_key = store.challenge_key(&throughput::bench_key(0));
        let wrong_mac = "x".repeat(32);
        let drive = |duration| {
            throughput::checks_per_second(store.clone(), wrong.clone(), CONCURRENCY, duration)
        };
        let att = async |conn: &mut palisade_redis::redis::aio::ConnectionManager| -> u64 {
            palisade_redis::redis::cmd("HGET")
                .arg(&bench_key)
                .arg("att")
                .query_async(conn)
                .await
                .unwrap()
        };

        // `EVALSHA return 1` on palisade's own connection, as many in flight.
        let trivial = {
            let (conn, sha) = (conn.clone(), ceiling_sha.clone());
            move |duration| {
                let (conn, sha) = (conn.clone(), sha.clone());
                throughput::per_second(CONCURRENCY, duration, move |i| {
                    let (mut conn, sha) = (conn.clone(), sha.clone());
                    async move {
                        let one: i64 = palisade_redis::redis::cmd("EVALSHA")
                            .arg(&sha)
                            .arg(1)
                            .arg(format!("palisade-bench:key:{}", i % KEYS))
                            .query_async(&mut conn)
                            .await
                            .unwrap();
                        assert_eq!(one, 1);
                    }
                })
            }
        };

        drive(WARM_UP).await;
        trivial(WARM_UP).await;

        let (mut r_ours, mut r_same, mut r_ceiling, mut r_trivial) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            r_ours.push(drive(measure).await);
            r_trivial.push(trivial(measure).await);
            let counted = att(&mut conn).await;
            let requests = (r_ours.last().unwrap() * measure.as_secs_f64()).max(10_000.0) as u64;
            let (sha, k, mac) = (check_sha.clone(), bench_key.clone(), wrong_mac.clone());
            if let Some(rps) = tokio::task::spawn_blocking(move || {
                redis_benchmark(CONCURRENCY, requests, None, &["EVALSHA", &sha, "1", &k, "p1", &mac])
            })
            .await
            .unwrap()
            {
                r_same.push(rps);
                let sent = att(&mut conn).await - counted;
                assert_eq!(sent, requests, "every check redis-benchmark sent was counted");
            }
            if let Some(rps) = evalsha_ceiling(CONCURRENCY, requests, KEYS, ceiling_sha.clone()).await {
                r_ceiling.push(rps);
            }
        }

        println!(
            "\nRedis one-time-code checks per second, {CONCURRENCY} in flight, {} s phases, {rounds} rounds",
            measure.as_secs_f64()
        );
        let (o, om) = summary("palisade check_and_count (wrong answer)", &r_ours);
        let (s, sm) = summary("redis-benchmark, the same check script", &r_same);
        let (c, cm) = summary("redis-benchmark EVALSHA `return 1` (ceiling)", &r_ceiling);
        let (t, tm) = summary("EVALSHA `return 1`, palisade's connection", &r_trivial);
        println!("\nratios (best / best, median / median)");
        println!("palisade / `return 1` same conn  {:.2}  {:.2}", ratio(o, t), ratio(om, tm));
        println!("palisade / EVALSHA ceiling       {:.2}  {:.2}", ratio(o, c), ratio(om, cm));
        println!("palisade / same script (C)       {:.2}  {:.2}", ratio(o, s), ratio(om, sm));
        println!("same script / EVALSHA ceiling    {:.2}  {:.2}", ratio(s, c), ratio(sm, cm));
    });
}
