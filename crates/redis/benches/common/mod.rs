//! What the Redis benches share: the server's URL, a run id, `redis-benchmark` and the
//! best/median summary of alternating rounds.
#![allow(dead_code, reason = "each bench uses part of it")]

use std::process::Command;

/// `PALISADE_REDIS_URL`, default `redis://127.0.0.1:6379/`.
pub(crate) fn url() -> String {
    std::env::var("PALISADE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

/// Nanoseconds since the epoch: a prefix or a name no earlier run used.
pub(crate) fn run_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// `redis-benchmark` sending `command` `requests` times from `connections` connections
/// (`__rand_int__` in an argument replaced by a random number below `random` when given):
/// requests per second, from its CSV output. `None` when it is missing or fails.
pub(crate) fn redis_benchmark(
    connections: usize,
    requests: u64,
    random: Option<u64>,
    command: &[&str],
) -> Option<f64> {
    let port = url::Url::parse(&url()).ok()?.port().unwrap_or(6379);
    let mut cmd = Command::new("redis-benchmark");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-c", &connections.to_string()])
        .args(["-n", &requests.to_string()]);
    if let Some(r) = random {
        cmd.args(["-r", &r.to_string()]);
    }
    let out = cmd.arg("--csv").args(command).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "test","rps","avg_latency_ms",… then "EVALSHA …","91547.15",…
    text.lines().nth(1).and_then(|line| {
        line.split(',')
            .nth(1)
            .and_then(|f| f.trim_matches('"').parse().ok())
    })
}

/// Prints `name`'s best and median round; returns them.
pub(crate) fn summary(name: &str, rates: &[f64]) -> (f64, f64) {
    let mut sorted = rates.to_vec();
    sorted.sort_by(f64::total_cmp);
    let best = *sorted.last().unwrap_or(&0.0);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    println!(
        "{name:<44} best {best:>9.0}/s   median {median:>9.0}/s   rounds {:?}",
        rates.iter().map(|r| r.round() as u64).collect::<Vec<_>>()
    );
    (best, median)
}

/// `a / b`, NaN when `b` is not positive.
pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// The measured phase and the number of rounds: `measure` and `rounds` under `cargo bench`
/// (which passes `--bench`), `quick` and one round under `cargo test --benches`.
pub(crate) fn phases(
    quick: std::time::Duration,
    measure: std::time::Duration,
    rounds: usize,
) -> (std::time::Duration, usize) {
    if std::env::args().any(|a| a == "--bench") {
        (measure, rounds)
    } else {
        (quick, 1)
    }
}

/// The benches' runtime: two worker threads (the machine's two cores).
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The server's ceiling for one script call per request: `redis-benchmark` sending
/// `EVALSHA <sha> 1 palisade-bench:key:<random below keys>` (`sha` of `return 1`) `requests`
/// times from `connections` connections, off the async runtime.
pub(crate) async fn evalsha_ceiling(
    connections: usize,
    requests: u64,
    keys: u64,
    sha: String,
) -> Option<f64> {
    tokio::task::spawn_blocking(move || {
        redis_benchmark(
            connections,
            requests,
            Some(keys),
            &["EVALSHA", &sha, "1", "palisade-bench:key:__rand_int__"],
        )
    })
    .await
    .unwrap()
}

/// CPU seconds used so far by this process (`self`) and by the children it waited for
/// (`children`: redis-benchmark, node), from `/proc/self/stat` (Linux; clock ticks of 1/100 s,
/// the kernel's `USER_HZ`). Zeros elsewhere.
pub(crate) fn process_cpu() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return (0.0, 0.0);
    };
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    let tick = |i: usize| f.get(i).copied().unwrap_or(0.0) / 100.0;
    // After the command's ')': state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    (tick(11) + tick(12), tick(13) + tick(14))
}

/// CPU seconds the Redis server has used since it started (`INFO cpu`: `used_cpu_sys` +
/// `used_cpu_user`, every thread).
pub(crate) async fn server_cpu(
    conn: &mut palisade_redis::redis::aio::MultiplexedConnection,
) -> f64 {
    let info: String = palisade_redis::redis::cmd("INFO")
        .arg("cpu")
        .query_async(conn)
        .await
        .unwrap_or_default();
    info.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| *k == "used_cpu_sys" || *k == "used_cpu_user")
        .filter_map(|(_, v)| v.trim().parse::<f64>().ok())
        .sum()
}

/// Script calls the Redis server has run since its statistics were reset (`INFO
/// commandstats`: the calls of `EVALSHA` and `EVAL`).
pub(crate) async fn script_calls(
    conn: &mut palisade_redis::redis::aio::MultiplexedConnection,
) -> f64 {
    let info: String = palisade_redis::redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap_or_default();
    info.lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| {
            l.split_once("calls=")?
                .1
                .split(',')
                .next()?
                .parse::<f64>()
                .ok()
        })
        .sum()
}

/// CPU spent per decision by the server and by the client, summed over a contender's rounds.
#[derive(Default)]
pub(crate) struct CpuCost {
    pub(crate) decisions: f64,
    pub(crate) server: f64,
    pub(crate) client: f64,
}

impl CpuCost {
    /// Adds one phase: `decisions` made, server and client CPU seconds.
    pub(crate) fn add(&mut self, decisions: f64, server: f64, client: f64) {
        self.decisions += decisions;
        self.server += server;
        self.client += client;
    }

    /// Prints µs of server, client and total CPU per decision; returns the total.
    pub(crate) fn print(&self, name: &str) -> f64 {
        let per = |s: f64| {
            if self.decisions > 0.0 {
                s * 1e6 / self.decisions
            } else {
                f64::NAN
            }
        };
        let (s, c) = (per(self.server), per(self.client));
        println!(
            "{name:<44} server {s:>6.2} µs   client {c:>6.2} µs   total {:>6.2} µs",
            s + c
        );
        s + c
    }
}
