//! `palisade ratelimit simulate`: run an algorithm over given request times.

use clap::{Args, Subcommand};
use palisade_ratelimit::{AlgorithmKind, Limit, Quota, Timestamp};

use crate::Outcome;

/// `palisade ratelimit …`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Replay request times through an algorithm and print one decision per request.
    ///
    /// Output, one line per request, in order:
    ///
    ///   allow remaining=<n> retry_after=0
    ///   deny remaining=<n> retry_after=<seconds>
    ///
    /// `remaining` is the cost still available after the decision; `retry_after` is the exact
    /// wait in seconds (decimals, never 0 for a denial; the `Retry-After` header would round it
    /// up to whole seconds). Times are seconds on a simulated clock whose 0 is the Unix epoch,
    /// so fixed and sliding windows start at multiples of the period. No real clock is read.
    #[command(verbatim_doc_comment)]
    Simulate(SimulateArgs),
}

/// The algorithms, by their command-line names.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum AlgorithmArg {
    /// GCRA (generic cell rate algorithm).
    Gcra,
    /// Token bucket of `burst` tokens refilled at limit/period.
    TokenBucket,
    /// Leaky bucket as a meter.
    LeakyBucket,
    /// Fixed window aligned to the epoch.
    FixedWindow,
    /// Sliding window log (exact).
    SlidingWindowLog,
    /// Sliding window counter (weighted previous window).
    SlidingWindowCounter,
}

impl From<AlgorithmArg> for AlgorithmKind {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Gcra => Self::Gcra,
            AlgorithmArg::TokenBucket => Self::TokenBucket,
            AlgorithmArg::LeakyBucket => Self::LeakyBucket,
            AlgorithmArg::FixedWindow => Self::FixedWindow,
            AlgorithmArg::SlidingWindowLog => Self::SlidingWindowLog,
            AlgorithmArg::SlidingWindowCounter => Self::SlidingWindowCounter,
        }
    }
}

/// Arguments of `palisade ratelimit simulate`.
#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// The algorithm.
    #[arg(long, value_enum)]
    algorithm: AlgorithmArg,
    /// Units of cost admitted per period.
    #[arg(long, value_name = "N")]
    limit: u64,
    /// The period, in seconds (decimals allowed, down to the nanosecond).
    #[arg(long, value_name = "SECONDS")]
    period: String,
    /// Capacity of GCRA and the buckets (default: the limit); not for window algorithms.
    #[arg(long, value_name = "B")]
    burst: Option<u64>,
    /// Cost of each request.
    #[arg(long, value_name = "C", default_value_t = 1)]
    cost: u32,
    /// Request times in seconds, comma-separated (decimals allowed), e.g. `0,0.1,0.25,1`.
    #[arg(long, value_name = "T1,T2,…", value_delimiter = ',', required = true)]
    at: Vec<String>,
}

pub(crate) fn run(cmd: Command) -> Outcome {
    match cmd {
        Command::Simulate(args) => simulate(&args).unwrap_or_else(|o| o),
    }
}

fn simulate(args: &SimulateArgs) -> Result<Outcome, Outcome> {
    let usage = |e: &dyn std::fmt::Display| Outcome::Usage(e.to_string());
    let period = parse_secs(&args.period).map_err(|e| usage(&format!("--period: {e}")))?;
    let mut quota =
        Quota::new(args.limit, std::time::Duration::from_nanos(period)).map_err(|e| usage(&e))?;
    if let Some(b) = args.burst {
        quota = quota.with_burst(b).map_err(|e| usage(&e))?;
    }
    let limit = Limit::new("simulated", args.algorithm.into(), quota).map_err(|e| usage(&e))?;
    let mut state = limit.new_state();
    let mut out = String::new();
    for t in &args.at {
        let now = parse_secs(t).map_err(|e| usage(&format!("--at `{t}`: {e}")))?;
        let d = limit
            .apply(&mut state, Timestamp::from_unix_nanos(now), args.cost)
            .map_err(|e| usage(&e))?;
        let retry = d.retry_after().map_or(0, |r| r.as_nanos());
        out.push_str(&format!(
            "{} remaining={} retry_after={}\n",
            if d.is_allowed() { "allow" } else { "deny" },
            d.remaining(),
            format_secs(retry)
        ));
    }
    Ok(Outcome::Ok(out))
}

/// Parses non-negative decimal seconds (`12`, `0.25`, `1.000000001`) into nanoseconds, exactly.
fn parse_secs(s: &str) -> Result<u64, &'static str> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
        return Err("expected seconds such as 12 or 0.25");
    }
    if frac.len() > 9 {
        return Err("at most 9 decimals (nanoseconds)");
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| "too large")?
    };
    let frac_ns: u64 = if frac.is_empty() {
        0
    } else {
        let n: u64 = frac.parse().map_err(|_| "bad decimals")?;
        n * 10u64.pow(9 - frac.len() as u32)
    };
    whole
        .checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(frac_ns))
        .ok_or("too large")
}

/// Nanoseconds as decimal seconds without trailing zeros: `0`, `0.1`, `2.000000001`.
fn format_secs(ns: u128) -> String {
    let (whole, frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
    if frac == 0 {
        whole.to_string()
    } else {
        let frac = format!("{frac:09}");
        format!("{whole}.{}", frac.trim_end_matches('0'))
    }
}
