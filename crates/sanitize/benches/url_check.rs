//! `UrlPolicy::check` without DNS against the `url` crate's `Url::parse` alone, on the same
//! inputs, in one run. Targets: ≤ 1 µs per check and ≤ 2× the parse.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use palisade_sanitize::url::UrlPolicy;
use url::Url;

const INPUTS: [(&str, &str); 4] = [
    (
        "name",
        "https://cdn.example.com/audio/recordings/2024/06/call-8f3a9c.mp3?sig=abc123",
    ),
    (
        "ipv4-decimal-blocked",
        "http://2130706433/latest/meta-data/",
    ),
    (
        "ipv6-mapped-blocked",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
    ),
    (
        "allowlist",
        "https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/RE456.wav",
    ),
];

fn bench(c: &mut Criterion) {
    let default = UrlPolicy::new();
    let allowlist = UrlPolicy::new()
        .schemes(["https"])
        .allow_host("*.twilio.com")
        .unwrap()
        .allow_host("*.example.com")
        .unwrap();
    let mut g = c.benchmark_group("url_check");
    for (name, input) in INPUTS {
        g.bench_with_input(BenchmarkId::new("url::Url::parse", name), input, |b, i| {
            b.iter(|| Url::parse(black_box(i)))
        });
        let policy = if name == "allowlist" {
            &allowlist
        } else {
            &default
        };
        g.bench_with_input(BenchmarkId::new("UrlPolicy::check", name), input, |b, i| {
            b.iter(|| policy.check(black_box(i)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
