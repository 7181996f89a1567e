//! What the PostgreSQL benches share: the server's URL, `pgbench` and the best/median
//! summary of alternating rounds.
#![allow(dead_code, reason = "each bench uses part of it")]

use std::process::Command;
use std::time::Duration;

/// `PALISADE_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`.
pub(crate) fn url() -> String {
    std::env::var("PALISADE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A schema name no earlier run used.
pub(crate) fn unique_schema(stem: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{stem}_{nanos:x}")
}

/// pgbench's transactions per second for `script` over `duration`, from `connections`
/// connections (`-M prepared`, `-j 2`). `None` when it is missing or fails.
pub(crate) fn pgbench(script: &str, connections: usize, duration: Duration) -> Option<f64> {
    let url = url::Url::parse(&url()).ok()?;
    let file = std::env::temp_dir().join(format!(
        "palisade-pgbench-{}-{:x}.sql",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::write(&file, script).ok()?;
    let out = Command::new("pgbench")
        .args(["-h", url.host_str().unwrap_or("127.0.0.1")])
        .args(["-p", &url.port().unwrap_or(5432).to_string()])
        .args([
            "-U",
            if url.username().is_empty() {
                "postgres"
            } else {
                url.username()
            },
        ])
        .args(["-n", "-M", "prepared", "-j", "2"])
        .args(["-c", &connections.to_string()])
        .args(["-T", &duration.as_secs().max(1).to_string()])
        .arg("-f")
        .arg(&file)
        .arg(url.path().trim_start_matches('/'))
        .output()
        .ok()?;
    let _ = std::fs::remove_file(&file);
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        eprintln!(
            "pgbench failed: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    // "tps = 12345.678901 (without initial connection time)"
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Prints `name`'s best and median round; returns them.
pub(crate) fn summary(name: &str, rates: &[f64]) -> (f64, f64) {
    let mut sorted = rates.to_vec();
    sorted.sort_by(f64::total_cmp);
    let best = *sorted.last().unwrap_or(&0.0);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    println!(
        "{name:<40} best {best:>8.0}/s   median {median:>8.0}/s   rounds {:?}",
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

/// A pool of `connections` connections to [`url`], all opened now, with sqlx's default
/// options (a ping before each statement).
pub(crate) async fn pool(connections: usize) -> palisade_postgres::sqlx::PgPool {
    pool_with(
        palisade_postgres::sqlx::postgres::PgPoolOptions::new(),
        connections,
    )
    .await
}

/// The same with [`palisade_postgres::pool_options`] (no ping before each statement).
pub(crate) async fn pool_unpinged(connections: usize) -> palisade_postgres::sqlx::PgPool {
    pool_with(palisade_postgres::pool_options(), connections).await
}

async fn pool_with(
    options: palisade_postgres::sqlx::postgres::PgPoolOptions,
    connections: usize,
) -> palisade_postgres::sqlx::PgPool {
    options
        .max_connections(connections as u32)
        .min_connections(connections as u32)
        .connect(&url())
        .await
        .expect("PostgreSQL (PALISADE_POSTGRES_URL) must answer (.ci/services)")
}
