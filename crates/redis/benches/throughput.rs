//! Rate-limit decisions per second on one Redis server, side by side in one run:
//!
//! * **palisade**: [`RedisRateLimitStore`] deciding GCRA and fixed window, `CONCURRENCY`
//!   requests in flight on one multiplexed connection (redis-rs pipelines them), keys drawn
//!   round-robin from `KEYS` distinct keys, a quota far above what the run reaches (every
//!   request is admitted and written); then the same store with
//!   [`Coalescing::Standalone`] (the decisions waiting at the same time sent as one script
//!   call).
//! * **redis-benchmark**: `EVALSHA` of the trivial script `return 1` with one key, from
//!   `CONCURRENCY` connections: the server's ceiling for one script call per request.
//! * **rate-limiter-flexible** (Node, `RateLimiterRedis` on ioredis, its fixed window): installed
//!   from npm into the target directory when `node` and `npm` are on the PATH, skipped
//!   otherwise; driven like palisade (`benches/rate-limiter-flexible/bench.js`).
//! * **flood**: 90% of requests come from keys already refused (100 abusive keys over their
//!   quota, 900 others under it): the store alone, coalescing, then behind a [`FallbackStore`]
//!   with its over-limit shield, which answers refused keys locally until their retry time.
//!
//! Phases of `MEASURE` each alternate between contenders for `ROUNDS` rounds (A/B/C/D, A/B/C/D,
//! …) so that drift on a shared machine hits each alike; the table gives the best and the
//! median round. The server is `PALISADE_REDIS_URL` (default `redis://127.0.0.1:6379/`);
//! every key written carries a TTL of at most an hour and a prefix of its own.
//!
//! `cargo bench -p palisade-redis --bench throughput`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use palisade_ratelimit::{
    AlgorithmKind, FallbackMode, FallbackStore, Key, Limit, MemoryStore, Policy, Quota,
    RateLimitStore,
};
use palisade_redis::{Coalescing, DEFAULT_TIMEOUT, RedisRateLimitStore};

mod common;
use common::{
    CpuCost, evalsha_ceiling, phases, process_cpu, ratio, run_id, runtime, script_calls,
    server_cpu, summary, url,
};

const CONCURRENCY: usize = 50;
const KEYS: u64 = 10_000;
const MEASURE: Duration = Duration::from_secs(4);
const WARM_UP: Duration = Duration::from_millis(500);
const ROUNDS: usize = 3;

/// Decisions per second of `CONCURRENCY` tasks calling `store.apply` back to back for
/// `duration`, keys from `key_of(i)`; also returns how many were admitted.
async fn drive(
    store: Arc<dyn RateLimitStore>,
    policy: Arc<Policy>,
    duration: Duration,
    key_of: Arc<dyn Fn(u64) -> Key + Send + Sync>,
) -> (f64, u64, u64) {
    let next = Arc::new(AtomicU64::new(0));
    let admitted = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (store, policy, next, admitted, key_of) = (
                Arc::clone(&store),
                Arc::clone(&policy),
                Arc::clone(&next),
                Arc::clone(&admitted),
                Arc::clone(&key_of),
            );
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let key = key_of(next.fetch_add(1, Ordering::Relaxed));
                    let verdict = store.apply(&key, &policy, 1).await.expect("a decision");
                    if verdict.is_allowed() {
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
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
    (
        total as f64 / started.elapsed().as_secs_f64(),
        admitted.load(Ordering::Relaxed),
        total,
    )
}

fn open_policy(kind: AlgorithmKind, run: u64) -> Policy {
    // A name per run: the policy id changes, so no state from an earlier run is reused.
    let name = format!("bench-{}-{run}", kind.as_str());
    Policy::single(Limit::new(name, kind, Quota::per_hour(1_000_000_000).unwrap()).unwrap())
        .unwrap()
}

/// Installs the Node peer into the target directory; `None` when node or npm is missing or the
/// install fails (the bench then says so and goes on).
fn install_peer() -> Option<PathBuf> {
    let have = |cmd: &str| {
        Command::new(cmd)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("node") || !have("npm") {
        eprintln!("node/npm not found: rate-limiter-flexible skipped");
        return None;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/rate-limiter-flexible");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("bench-peers/rate-limiter-flexible");
    std::fs::create_dir_all(&dir).ok()?;
    for file in ["package.json", "bench.js"] {
        std::fs::copy(src.join(file), dir.join(file)).ok()?;
    }
    if !dir.join("node_modules/rate-limiter-flexible").exists() {
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .status()
            .ok()?;
        if !status.success() {
            eprintln!("npm install failed: rate-limiter-flexible skipped");
            return None;
        }
    }
    Some(dir)
}

/// rate-limiter-flexible's decisions per second over `duration`.
fn rate_limiter_flexible(dir: &Path, duration: Duration, run: u64) -> Option<(f64, f64)> {
    let out = Command::new("node")
        .arg("bench.js")
        .current_dir(dir)
        .env("REDIS_URL", url())
        .env("CONCURRENCY", CONCURRENCY.to_string())
        .env("DURATION_MS", duration.as_millis().to_string())
        .env("KEYS", KEYS.to_string())
        .env("PREFIX", format!("palisade-bench-rlf-{run}"))
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "rate-limiter-flexible failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let json = text.lines().last()?;
    let decisions: f64 = field(json, "decisions")?;
    let secs: f64 = field(json, "secs")?;
    Some((decisions / secs, decisions))
}

/// A number field of a one-line JSON object.
fn field(json: &str, name: &str) -> Option<f64> {
    let at = json.find(&format!("\"{name}\":"))? + name.len() + 3;
    json[at..]
        .split([',', '}'])
        .next()
        .and_then(|v| v.trim().parse().ok())
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let (measure, rounds) = phases(Duration::from_millis(300), MEASURE, ROUNDS);
    runtime().block_on(async move {
        let run = run_id();
        let base = RedisRateLimitStore::connect(&url(), DEFAULT_TIMEOUT)
            .await
            .expect("Redis (PALISADE_REDIS_URL) must answer (.ci/services)")
            .with_prefix(format!("palisade-bench-{run}:"))
            .unwrap();
        let coalesced: Arc<dyn RateLimitStore> =
            Arc::new(base.clone().with_coalescing(Coalescing::Standalone));
        let store: Arc<dyn RateLimitStore> = Arc::new(base);
        let keys: Arc<dyn Fn(u64) -> Key + Send + Sync> = Arc::new(|i| Key::from(i % KEYS));
        let gcra = Arc::new(open_policy(AlgorithmKind::Gcra, run));
        let fixed = Arc::new(open_policy(AlgorithmKind::FixedWindow, run));

        let sha = {
            let client = palisade_redis::redis::Client::open(url()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            palisade_redis::redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg("return 1")
                .query_async::<String>(&mut conn)
                .await
                .unwrap()
        };
        let peer = if quick { None } else { install_peer() };

        // Warm-up: connections open, scripts loaded.
        drive(store.clone(), gcra.clone(), WARM_UP, keys.clone()).await;
        drive(store.clone(), fixed.clone(), WARM_UP, keys.clone()).await;
        drive(coalesced.clone(), gcra.clone(), WARM_UP, keys.clone()).await;

        let (mut r_gcra, mut r_fixed, mut r_ceiling, mut r_peer) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut r_gcra_c, mut r_fixed_c) = (Vec::new(), Vec::new());
        let mut batch_sizes = Vec::new();
        let mut info = palisade_redis::redis::Client::open(url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let (mut cpu_gcra, mut cpu_gcra_c, mut cpu_ceiling, mut cpu_peer) = (
            CpuCost::default(),
            CpuCost::default(),
            CpuCost::default(),
            CpuCost::default(),
        );
        for _ in 0..rounds {
            let (s0, (c0, _)) = (server_cpu(&mut info).await, process_cpu());
            let (rate, _, n) = drive(store.clone(), gcra.clone(), measure, keys.clone()).await;
            let (s1, (c1, _)) = (server_cpu(&mut info).await, process_cpu());
            cpu_gcra.add(n as f64, s1 - s0, c1 - c0);
            r_gcra.push(rate);
            r_fixed.push(drive(store.clone(), fixed.clone(), measure, keys.clone()).await.0);
            let calls0 = script_calls(&mut info).await;
            let (s0, (c0, _)) = (server_cpu(&mut info).await, process_cpu());
            let (rate, _, n) = drive(coalesced.clone(), gcra.clone(), measure, keys.clone()).await;
            let (s1, (c1, _)) = (server_cpu(&mut info).await, process_cpu());
            cpu_gcra_c.add(n as f64, s1 - s0, c1 - c0);
            batch_sizes.push(n as f64 / (script_calls(&mut info).await - calls0).max(1.0));
            r_gcra_c.push(rate);
            r_fixed_c.push(
                drive(coalesced.clone(), fixed.clone(), measure, keys.clone())
                    .await
                    .0,
            );
            let last = r_gcra.last().copied().unwrap_or(50_000.0);
            let requests = (last * measure.as_secs_f64()).max(10_000.0) as u64;
            let (s0, (_, k0)) = (server_cpu(&mut info).await, process_cpu());
            if let Some(rps) = evalsha_ceiling(CONCURRENCY, requests, KEYS, sha.clone()).await {
                let (s1, (_, k1)) = (server_cpu(&mut info).await, process_cpu());
                cpu_ceiling.add(requests as f64, s1 - s0, k1 - k0);
                r_ceiling.push(rps);
            }
            let (s0, (_, k0)) = (server_cpu(&mut info).await, process_cpu());
            if let Some(dir) = peer.clone()
                && let Some((rps, n)) =
                    tokio::task::spawn_blocking(move || rate_limiter_flexible(&dir, measure, run))
                        .await
                        .unwrap()
            {
                let (s1, (_, k1)) = (server_cpu(&mut info).await, process_cpu());
                cpu_peer.add(n, s1 - s0, k1 - k0);
                r_peer.push(rps);
            }
        }

        // The flood: 100 abusive keys (already over a quota of 10 per hour) get 90% of the
        // requests, 900 others share the rest.
        let flood_policy = Arc::new(
            Policy::single(
                Limit::gcra(format!("flood-{run}"), Quota::per_hour(10).unwrap()).unwrap(),
            )
            .unwrap(),
        );
        let flood_keys: Arc<dyn Fn(u64) -> Key + Send + Sync> = Arc::new(|i| {
            if i % 10 == 9 {
                Key::from(1_000 + (i / 10) % 900)
            } else {
                Key::from(i % 100)
            }
        });
        for k in 0..100u64 {
            for _ in 0..11 {
                store.apply(&Key::from(k), &flood_policy, 1).await.unwrap();
            }
        }
        let shielded: Arc<dyn RateLimitStore> = Arc::new(
            FallbackStore::new(store.clone(), MemoryStore::new(), FallbackMode::FailClosed)
                .with_shield(10_000),
        );
        let (mut r_flood, mut r_flood_c, mut r_shield) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            r_flood.push(
                drive(store.clone(), flood_policy.clone(), measure, flood_keys.clone())
                    .await
                    .0,
            );
            r_flood_c.push(
                drive(
                    coalesced.clone(),
                    flood_policy.clone(),
                    measure,
                    flood_keys.clone(),
                )
                .await
                .0,
            );
            r_shield.push(
                drive(shielded.clone(), flood_policy.clone(), measure, flood_keys.clone())
                    .await
                    .0,
            );
        }

        println!(
            "\nRedis rate-limit decisions per second, {CONCURRENCY} in flight, {} s phases, {rounds} rounds",
            measure.as_secs_f64()
        );
        let (g, gm) = summary("palisade GCRA", &r_gcra);
        let (f, fm) = summary("palisade fixed window", &r_fixed);
        let (gc, gcm) = summary("palisade GCRA, coalesced", &r_gcra_c);
        let (fc, fcm) = summary("palisade fixed window, coalesced", &r_fixed_c);
        let (c, cm) = summary("redis-benchmark EVALSHA `return 1` (ceiling)", &r_ceiling);
        let (p, pm) = summary("rate-limiter-flexible RateLimiterRedis", &r_peer);
        let (fl, flm) = summary("flood, 90% refused keys: store alone", &r_flood);
        let (flc, flcm) = summary("flood, 90% refused keys: coalesced", &r_flood_c);
        let (sh, shm) = summary("flood, 90% refused keys: with the shield", &r_shield);
        println!("\nCPU per decision (all rounds; client: this process, or the peer tool's)");
        let t_g = cpu_gcra.print("palisade GCRA");
        let t_gc = cpu_gcra_c.print("palisade GCRA, coalesced");
        let t_c = cpu_ceiling.print("redis-benchmark EVALSHA `return 1`");
        let t_p = cpu_peer.print("rate-limiter-flexible");
        println!(
            "total CPU per decision, ceiling / GCRA {:.2}, / GCRA coalesced {:.2}; rate-limiter-flexible / GCRA {:.2}, / GCRA coalesced {:.2}",
            ratio(t_c, t_g),
            ratio(t_c, t_gc),
            ratio(t_p, t_g),
            ratio(t_p, t_gc)
        );
        println!(
            "decisions per script call, GCRA coalesced: {:?}",
            batch_sizes
                .iter()
                .map(|b| (b * 10.0).round() / 10.0)
                .collect::<Vec<_>>()
        );
        println!("\nratios (best / best, median / median)");
        println!(
            "GCRA / EVALSHA ceiling          {:.2}  {:.2}",
            ratio(g, c),
            ratio(gm, cm)
        );
        println!(
            "fixed window / EVALSHA ceiling  {:.2}  {:.2}",
            ratio(f, c),
            ratio(fm, cm)
        );
        println!(
            "GCRA / rate-limiter-flexible    {:.2}  {:.2}",
            ratio(g, p),
            ratio(gm, pm)
        );
        println!(
            "fixed / rate-limiter-flexible   {:.2}  {:.2}",
            ratio(f, p),
            ratio(fm, pm)
        );
        println!(
            "GCRA coalesced / EVALSHA ceiling {:.2}  {:.2}",
            ratio(gc, c),
            ratio(gcm, cm)
        );
        println!(
            "fixed coalesced / EVALSHA ceiling {:.2}  {:.2}",
            ratio(fc, c),
            ratio(fcm, cm)
        );
        println!(
            "GCRA coalesced / rate-limiter-flexible {:.2}  {:.2}",
            ratio(gc, p),
            ratio(gcm, pm)
        );
        println!(
            "fixed coalesced / rate-limiter-flexible {:.2}  {:.2}",
            ratio(fc, p),
            ratio(fcm, pm)
        );
        println!(
            "flood: coalesced / store alone  {:.2}  {:.2}",
            ratio(flc, fl),
            ratio(flcm, flm)
        );
        println!(
            "flood: shield / store alone     {:.2}  {:.2}",
            ratio(sh, fl),
            ratio(shm, flm)
        );
    });
}
