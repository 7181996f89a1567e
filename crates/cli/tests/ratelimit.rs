//! End-to-end tests of `palisade ratelimit simulate`: output lines, exit codes, every algorithm.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Output};

/// Runs `palisade ratelimit simulate` with whitespace-separated `args`.
fn simulate(args: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["ratelimit", "simulate"])
        .args(args.split_whitespace())
        .output()
        .unwrap()
}

fn lines(o: &Output) -> Vec<String> {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn gcra_burst_then_one_per_interval() {
    let o = simulate("--algorithm gcra --limit 10 --period 1 --burst 3 --at 0,0,0,0,0.05,0.1,0.1");
    assert_eq!(
        lines(&o),
        [
            "allow remaining=2 retry_after=0",
            "allow remaining=1 retry_after=0",
            "allow remaining=0 retry_after=0",
            "deny remaining=0 retry_after=0.1",
            "deny remaining=0 retry_after=0.05",
            "allow remaining=0 retry_after=0",
            "deny remaining=0 retry_after=0.1",
        ]
    );
}

#[test]
fn fixed_window_resets_on_the_epoch_aligned_boundary() {
    let o = simulate("--algorithm fixed-window --limit 2 --period 60 --at 30,40,59.5,60");
    assert_eq!(
        lines(&o),
        [
            "allow remaining=1 retry_after=0",
            "allow remaining=0 retry_after=0",
            "deny remaining=0 retry_after=0.5",
            "allow remaining=1 retry_after=0",
        ]
    );
}

#[test]
fn every_algorithm_admits_the_limit_then_denies() {
    for algorithm in [
        "gcra",
        "token-bucket",
        "leaky-bucket",
        "fixed-window",
        "sliding-window-log",
        "sliding-window-counter",
    ] {
        let o = simulate(&format!(
            "--algorithm {algorithm} --limit 3 --period 10 --at 100,100.5,101,101.5"
        ));
        let out = lines(&o);
        assert_eq!(out.len(), 4, "{algorithm}");
        for (i, line) in out.iter().enumerate() {
            let verb = if i < 3 { "allow " } else { "deny " };
            assert!(line.starts_with(verb), "{algorithm}: {line}");
            let fields: Vec<_> = line.split(' ').collect();
            assert!(fields[1].starts_with("remaining="), "{line}");
            assert!(fields[2].starts_with("retry_after="), "{line}");
        }
        assert_ne!(
            out[3], "deny remaining=0 retry_after=0",
            "{algorithm}: a denial says when"
        );
    }
}

#[test]
fn sliding_log_counts_cost() {
    let o = simulate(
        "--algorithm sliding-window-log --limit 5 --period 1 --cost 2 --at 0,0.25,0.5,1.0",
    );
    assert_eq!(
        lines(&o),
        [
            "allow remaining=3 retry_after=0",
            "allow remaining=1 retry_after=0",
            "deny remaining=1 retry_after=0.5",
            "allow remaining=1 retry_after=0",
        ]
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        "--algorithm fixed-window --limit 2 --period 60 --burst 3 --at 1",
        "--algorithm gcra --limit 0 --period 1 --at 1",
        "--algorithm gcra --limit 1 --period 1 --at 1,-2",
        "--algorithm gcra --limit 1 --period 0.0000000001 --at 1",
        "--algorithm gcra --limit 2 --period 1 --cost 3 --at 1",
        "--algorithm nope --limit 1 --period 1 --at 1",
        "--algorithm gcra --limit 1 --period 1",
    ] {
        let o = simulate(args);
        assert_eq!(o.status.code(), Some(2), "{args}");
        assert!(o.stdout.is_empty(), "{args}");
        assert!(!o.stderr.is_empty(), "{args}");
    }
}

#[test]
fn help_documents_the_output() {
    let o = simulate("--help");
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(help.contains("allow remaining=<n> retry_after=0"));
    assert!(help.contains("sliding-window-counter"));
}
