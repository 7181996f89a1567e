//! The `RateLimit-Policy`, `RateLimit`, legacy `RateLimit-*` and `Retry-After` fields.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::borrow::Cow;
use std::time::Duration;

use palisade_ratelimit::{
    AlgorithmKind, HeaderField, HeaderStyle, Limit, Policy, Quota, RateLimitHeaders, Timestamp,
    Verdict,
};

fn policy() -> Policy {
    Policy::new([
        Limit::gcra("burst", Quota::per_second(10).unwrap()).unwrap(),
        Limit::new(
            "daily",
            AlgorithmKind::FixedWindow,
            Quota::per_day(1_000).unwrap(),
        )
        .unwrap(),
    ])
    .unwrap()
}

#[test]
fn admitted_request() {
    let p = policy();
    let mut states = p.new_states();
    // 1_700_000_000 is 80 000 s into a UTC day: 6 400 s to midnight.
    let v = p
        .apply(&mut states, Timestamp::from_unix_secs(1_700_000_000), 1)
        .unwrap();
    let h = RateLimitHeaders::new(&p, &v);
    assert_eq!(
        h.policy_field(),
        r#""burst";q=10;w=1, "daily";q=1000;w=86400"#
    );
    assert_eq!(
        h.ratelimit_field().unwrap(),
        r#""burst";r=9;t=1, "daily";r=999;t=6400"#
    );
    assert_eq!(
        h.legacy(),
        Some((10, 9, 1)),
        "the limit with the least left binds"
    );
    assert_eq!(h.retry_after(), None);
    let names: Vec<_> = h
        .to_pairs(HeaderStyle::Both)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "RateLimit-Policy",
            "RateLimit",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset"
        ]
    );
    let fields = h.to_fields(HeaderStyle::Both);
    assert_eq!(
        fields.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
        [
            HeaderField::Policy,
            HeaderField::RateLimit,
            HeaderField::Limit,
            HeaderField::Remaining,
            HeaderField::Reset
        ]
    );
    assert!(
        matches!(&fields[0].1, Cow::Borrowed(v) if *v == p.policy_field()),
        "the policy's value is the one it rendered, not a copy"
    );
    assert_eq!(
        fields
            .iter()
            .map(|(f, v)| (f.name(), v.to_string()))
            .collect::<Vec<_>>(),
        h.to_pairs(HeaderStyle::Both)
    );
    assert_eq!(HeaderField::RetryAfter.name(), "Retry-After");
}

#[test]
fn refused_request_rounds_up() {
    let p = Policy::single(
        Limit::gcra("slow", Quota::new(2, Duration::from_millis(2_500)).unwrap()).unwrap(),
    )
    .unwrap();
    let mut states = p.new_states();
    let t = Timestamp::from_unix_secs(1_700_000_000);
    p.apply(&mut states, t, 2).unwrap();
    let v = p.apply(&mut states, t, 1).unwrap();
    let h = RateLimitHeaders::new(&p, &v);
    // Retry after 1.25 s: 2 s; reset after 2.5 s: 3 s; a 2.5 s window: w=3.
    assert_eq!(h.retry_after().as_deref(), Some("2"));
    assert_eq!(h.ratelimit_field().unwrap(), r#""slow";r=0;t=3"#);
    assert_eq!(h.policy_field(), r#""slow";q=2;w=3"#);
    assert_eq!(
        h.to_pairs(HeaderStyle::Legacy),
        [
            ("RateLimit-Limit", "2".to_string()),
            ("RateLimit-Remaining", "0".to_string()),
            ("RateLimit-Reset", "3".to_string()),
            ("Retry-After", "2".to_string()),
        ]
    );
}

#[test]
fn verdicts_without_decisions() {
    let p = policy();
    let blocked = Verdict::blocked(Duration::from_millis(59_001));
    let h = RateLimitHeaders::new(&p, &blocked);
    assert_eq!(
        h.ratelimit_field().unwrap(),
        r#""burst";r=0;t=60, "daily";r=0;t=60"#
    );
    assert_eq!(h.retry_after().as_deref(), Some("60"));
    assert_eq!(h.legacy(), None);
    let denied = Verdict::denylisted();
    let h = RateLimitHeaders::new(&p, &denied);
    assert_eq!(h.ratelimit_field().unwrap(), r#""burst";r=0, "daily";r=0"#);
    assert_eq!(h.retry_after(), None);
    let allowed = Verdict::allowlisted();
    assert_eq!(RateLimitHeaders::new(&p, &allowed).ratelimit_field(), None);
    assert_eq!(
        RateLimitHeaders::new(&p, &allowed)
            .to_pairs(HeaderStyle::Draft)
            .len(),
        1
    );
}
