//! What the Postgres benches share: the server's URL, running pgbench, the summary line.
#![allow(dead_code, reason = "each bench uses its own part of these helpers")]

use std::process::Command;
use std::time::Duration;

/// `PALISADE_POSTGRES_URL`, by default `postgres://postgres@127.0.0.1:5432/test`.
pub(crate) fn url() -> String {
    std::env::var("PALISADE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// pgbench's transactions per second for `script` over `duration`, from `connections`
/// connections (`-n -M prepared -j 2`).
pub(crate) fn pgbench(script: &str, duration: Duration, connections: usize) -> Option<f64> {
    let url = url::Url::parse(&url()).ok()?;
    let file = std::env::temp_dir().join(format!(
        "palisade-pgbench-{}-{:x}.sql",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::write(&file, script).ok()?;
    let user = if url.username().is_empty() {
        "postgres"
    } else {
        url.username()
    };
    let out = Command::new("pgbench")
        .args(["-h", url.host_str().unwrap_or("127.0.0.1")])
        .args(["-p", &url.port().unwrap_or(5432).to_string()])
        .args(["-U", user])
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

/// Prints `name`, the best and the median of `rates` and every round; returns (best, median).
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
