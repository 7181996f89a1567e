//! Vectors and edge cases of the algorithms, quotas, limits, policies, decisions and keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use palisade_ratelimit::{
    AccessList, AlgorithmKind, Cause, Decision, FixedWindow, FixedWindowState, Gcra, GcraState,
    Key, KeyBuilder, LeakyBucket, Limit, Policy, Quota, RateLimitError, SlidingWindowCounter,
    SlidingWindowCounterState, SlidingWindowLog, SlidingWindowLogState, State, Tier, Tiers,
    Timestamp, TokenBucket, Verdict,
};

const T0: u64 = 1_700_000_000_000_000_000; // a whole second, not a whole minute
const MS: u64 = 1_000_000;

fn at(ns: u64) -> Timestamp {
    Timestamp::from_unix_nanos(ns)
}

/// A limit of `kind` named `name`, `n` per second.
fn per_second(name: &str, kind: AlgorithmKind, n: u64) -> Limit {
    Limit::new(name, kind, Quota::per_second(n).unwrap()).unwrap()
}

/// `value`'s hash by the standard library's `DefaultHasher` (fixed keys: the same in every run).
fn hash<T: std::hash::Hash>(value: &T) -> u64 {
    use std::hash::{DefaultHasher, Hasher};
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

#[test]
fn gcra_formula_vector() {
    // 10 per second, burst 10: T = 100 ms, τ = 1 s.
    let g = Gcra::new(&Quota::per_second(10).unwrap()).unwrap();
    assert_eq!(g.emission_interval_nanos(), 100 * MS);
    let mut s = GcraState::default();
    for expected in (0..10).rev() {
        let (next, d) = g.apply(s, at(T0), 1).unwrap();
        assert!(d.is_allowed());
        assert_eq!(d.remaining(), expected);
        s = next;
    }
    assert_eq!(s.tat, T0 + 1_000 * MS);
    let (same, d) = g.apply(s, at(T0), 1).unwrap();
    assert_eq!(same, s, "a refusal leaves the TAT");
    assert_eq!(d.retry_after(), Some(Duration::from_millis(100)));
    assert_eq!(d.reset_after(), Duration::from_secs(1));
    assert_eq!(d.retry_after_secs(), Some(1));
    // 250 ms later, two units are back.
    let (_, d) = g.apply(s, at(T0 + 250 * MS), 2).unwrap();
    assert!(d.is_allowed());
    assert_eq!(d.remaining(), 0);
}

#[test]
fn gcra_rounds_the_emission_interval_up() {
    // 3 per 1 s: T = 333 333 334 ns, never faster than the quota.
    let g = Gcra::new(&Quota::new(3, Duration::from_secs(1)).unwrap()).unwrap();
    assert_eq!(g.emission_interval_nanos(), 333_333_334);
}

#[test]
fn token_bucket_is_exact_for_awkward_rates() {
    // 3 per second: once drained, token k arrives at exactly k/3 s (rounded up to the
    // nanosecond), with no drift after 1,000 periods (fractions of a token are kept exactly).
    let tb = TokenBucket::new(&Quota::per_second(3).unwrap()).unwrap();
    let (mut s, d) = tb.apply(tb.full(), at(T0), 3).unwrap();
    assert!(d.is_allowed());
    for k in 1..=3_000u64 {
        let due = T0 + (k * 1_000_000_000).div_ceil(3);
        let (same, early) = tb.apply(s, at(due - 1), 1).unwrap();
        assert!(!early.is_allowed(), "token {k} is not there 1 ns early");
        assert_eq!(same, s);
        let (next, d) = tb.apply(s, at(due), 1).unwrap();
        assert!(d.is_allowed(), "token {k} is there on time");
        s = next;
    }
}

#[test]
fn fixed_window_is_aligned_to_the_epoch() {
    let fw = FixedWindow::new(&Quota::per_minute(2).unwrap()).unwrap();
    // T0 is 20 s into a UTC minute (1_700_000_000 = 28_333_333 min + 20 s).
    let (s, d) = fw.apply(FixedWindowState::default(), at(T0), 1).unwrap();
    assert_eq!(d.reset_after(), Duration::from_secs(40));
    let (s, _) = fw.apply(s, at(T0), 1).unwrap();
    let (s, d) = fw.apply(s, at(T0 + 39_999 * MS), 1).unwrap();
    assert!(!d.is_allowed());
    assert_eq!(d.retry_after(), Some(Duration::from_millis(1)));
    let (_, d) = fw.apply(s, at(T0 + 40_000 * MS), 1).unwrap();
    assert!(d.is_allowed(), "a new minute");
}

#[test]
fn clocks_going_back_grant_nothing() {
    for kind in AlgorithmKind::ALL {
        let l = Limit::new("back", kind, Quota::per_minute(2).unwrap()).unwrap();
        let mut s = l.new_state();
        let now = at(T0 + 30_000 * MS);
        assert!(l.apply(&mut s, now, 2).unwrap().is_allowed(), "{kind}");
        for back in [1, 1_000, 30_000] {
            let earlier = at(T0 + 30_000 * MS - back * MS);
            assert!(
                !l.apply(&mut s, earlier, 1).unwrap().is_allowed(),
                "{kind}: {back} ms back"
            );
        }
    }
}

#[test]
fn sliding_log_merges_requests_at_one_instant() {
    let log = SlidingWindowLog::new(&Quota::per_second(100).unwrap()).unwrap();
    let mut s = SlidingWindowLogState::default();
    for _ in 0..50 {
        assert!(log.apply(&mut s, at(T0), 1).unwrap().is_allowed());
    }
    assert_eq!(s.entries().len(), 1);
    assert_eq!(s.sum(), 50);
    log.apply(&mut s, at(T0 + 2_000 * MS), 1).unwrap();
    assert_eq!(
        (s.entries().len(), s.sum()),
        (1, 1),
        "expired entries are forgotten"
    );
}

#[test]
fn quota_and_limit_errors() {
    let bad_quota = |r: Result<_, _>| matches!(r, Err(RateLimitError::InvalidQuota { .. }));
    assert!(bad_quota(Quota::new(0, Duration::from_secs(1))));
    assert!(bad_quota(Quota::new(1, Duration::ZERO)));
    assert!(bad_quota(Quota::new(1, Duration::from_secs(u64::MAX))));
    assert!(bad_quota(Quota::per_second(1).unwrap().with_burst(0)));
    let burst = Quota::per_second(10).unwrap().with_burst(5).unwrap();
    for kind in AlgorithmKind::ALL {
        assert_eq!(
            Limit::new("x", kind, burst).is_err(),
            kind.is_window(),
            "{kind}"
        );
    }
    // burst × T overflows 64-bit nanoseconds.
    let huge = Quota::new(1, Duration::from_secs(86_400 * 365))
        .unwrap()
        .with_burst(u64::MAX / 2)
        .unwrap();
    assert!(matches!(
        Gcra::new(&huge),
        Err(RateLimitError::InvalidQuota { .. })
    ));
    assert!(matches!(
        TokenBucket::new(&huge),
        Err(RateLimitError::InvalidQuota { .. })
    ));
    for name in ["", "has space", "quote\"", &"x".repeat(65)] {
        assert!(matches!(
            Limit::gcra(name, Quota::per_second(1).unwrap()),
            Err(RateLimitError::InvalidPolicy { .. })
        ));
    }
    let l = Limit::gcra("ok", Quota::per_second(1).unwrap()).unwrap();
    assert!(matches!(
        l.decide(&l.new_state(), at(T0), 2),
        Err(RateLimitError::InvalidCost {
            cost: 2,
            capacity: 1
        })
    ));
}

#[test]
fn policy_rules_and_identity() {
    let l = |name: &str, n| Limit::gcra(name, Quota::per_second(n).unwrap()).unwrap();
    assert!(Policy::new([]).is_err());
    assert!(
        Policy::new([l("a", 1), l("a", 2)]).is_err(),
        "duplicate names"
    );
    assert!(Policy::new((0..17).map(|i| l(&format!("l{i}"), 1))).is_err());
    let p = Policy::new([l("a", 1), l("b", 2)]).unwrap();
    assert_eq!(
        p.id(),
        Policy::new([l("a", 1), l("b", 2)]).unwrap().id(),
        "stable"
    );
    assert_ne!(p.id(), Policy::new([l("a", 1), l("b", 3)]).unwrap().id());
    assert_ne!(p.id(), Policy::new([l("b", 2), l("a", 1)]).unwrap().id());
    // The block and the lists are not part of the identity: the state carries over.
    assert_eq!(p.id(), p.clone().with_block(Duration::from_secs(1)).id());
}

#[test]
fn multi_limit_refusal_charges_nothing() {
    let p = Policy::new([
        Limit::gcra("second", Quota::per_second(2).unwrap()).unwrap(),
        Limit::new(
            "day",
            AlgorithmKind::SlidingWindowCounter,
            Quota::per_day(3).unwrap(),
        )
        .unwrap(),
    ])
    .unwrap();
    let mut states = p.new_states();
    assert!(p.apply(&mut states, at(T0), 2).unwrap().is_allowed());
    let before = states.clone();
    let v = p.apply(&mut states, at(T0), 1).unwrap();
    assert_eq!(v.cause(), Cause::Limited);
    assert_eq!(states, before);
    assert_eq!(
        v.decisions()[1].remaining(),
        1,
        "the day limit reports what it holds"
    );
    assert_eq!(v.binding().unwrap().0, 0);
    // A second later the per-second limit admits but the day only has 1 left: cost 2 refused.
    let v = p.apply(&mut states, at(T0 + 1_000 * MS), 2).unwrap();
    assert_eq!(v.binding().unwrap().0, 1);
    assert!(v.decisions()[0].is_allowed());
    assert_eq!(states, before);
    // A wrong-length state vector is replaced, not indexed out of bounds.
    let mut short = Vec::new();
    assert!(p.apply(&mut short, at(T0), 1).unwrap().is_allowed());
    assert_eq!(short.len(), 2);
}

#[test]
fn decisions_and_verdicts() {
    let d = Decision::refused(10, 0, Duration::from_secs(5), Duration::ZERO);
    assert_eq!(
        d.retry_after(),
        Some(Duration::from_nanos(1)),
        "never zero when refused"
    );
    assert_eq!(d.retry_after_secs(), Some(1));
    let ok = Decision::allowed(10, 3, Duration::from_millis(1_500));
    assert_eq!((ok.retry_after(), ok.reset_after_secs()), (None, 2));
    let v = Verdict::from_decisions(vec![
        ok,
        d,
        Decision::refused(10, 1, Duration::ZERO, Duration::from_secs(9)),
    ]);
    assert_eq!(v.cause(), Cause::Limited);
    assert_eq!(v.retry_after_secs(), Some(9));
    assert_eq!(v.binding().unwrap().0, 2, "the longest wait binds");
    assert_eq!(
        Verdict::blocked(Duration::ZERO).retry_after(),
        Some(Duration::from_nanos(1))
    );
    assert_eq!(Verdict::denylisted().retry_after(), None);
    assert!(!Verdict::denylisted().is_allowed());
    assert!(Verdict::failed_open().is_allowed());
    assert_eq!(
        Verdict::from_one(d)
            .with_penalty(Duration::from_secs(60))
            .retry_after_secs(),
        Some(60)
    );
    assert!(
        Verdict::from_one(ok)
            .with_penalty(Duration::from_secs(60))
            .is_allowed()
    );
}

#[test]
fn names_round_trip() {
    for kind in AlgorithmKind::ALL {
        assert_eq!(kind.to_string().parse::<AlgorithmKind>().unwrap(), kind);
    }
    assert!("gcra2".parse::<AlgorithmKind>().is_err());
    for tier in Tier::ALL {
        assert_eq!(
            tier.to_string().to_uppercase().parse::<Tier>().unwrap(),
            tier
        );
    }
    let tiers = Tiers::new().with(
        Tier::Enterprise,
        Policy::single(Limit::gcra("e", Quota::per_second(1).unwrap()).unwrap()).unwrap(),
    );
    assert!(tiers.policy(Tier::Enterprise).is_ok());
    assert_eq!(
        tiers.policy(Tier::Free).unwrap_err().to_string(),
        "no policy for tier `free`"
    );
}

#[test]
fn keys_are_bounded_and_unambiguous() {
    let long = "k".repeat(1_000);
    let k = Key::from(long.as_str());
    assert!(k.is_hashed());
    assert_eq!(k.as_bytes().len(), 16);
    assert_eq!(k.encoded().len(), 17);
    assert_eq!(Key::from("a".repeat(31).as_str()).as_bytes().len(), 31);
    assert!(Key::from("a".repeat(32).as_str()).is_hashed());
    // Raw bytes never equal a built key, even with the builder's own encoding.
    let built = KeyBuilder::new("ns").str("x").build();
    assert_ne!(Key::from_bytes(built.as_bytes()), built);
    let long_built = KeyBuilder::new("ns").str(&long).build();
    assert_ne!(Key::from_bytes(long_built.as_bytes()), long_built);
    // Long built keys depend on every part, also those written before the key outgrew 31 bytes.
    let tail = "x".repeat(40);
    assert_ne!(
        KeyBuilder::new("a").str(&tail).build(),
        KeyBuilder::new("b").str(&tail).build()
    );
    assert_ne!(
        KeyBuilder::new("ns").str("0123456789").str(&tail).build(),
        KeyBuilder::new("ns")
            .str("0123456789")
            .str(&tail[1..])
            .build()
    );
    // 4 bytes of namespace part + 2 + 25 = 31 bytes: inline; one more and it is a digest.
    assert!(
        !KeyBuilder::new("ns")
            .str(&"y".repeat(25))
            .build()
            .is_hashed()
    );
    assert!(
        KeyBuilder::new("ns")
            .str(&"y".repeat(26))
            .build()
            .is_hashed()
    );
    // Part boundaries and types matter.
    assert_ne!(
        KeyBuilder::new("ns").str("ab").str("c").build(),
        KeyBuilder::new("ns").str("a").str("bc").build()
    );
    assert_ne!(
        KeyBuilder::new("ns").str("abcdefgh").build(),
        KeyBuilder::new("ns").u64(0x6162_6364_6566_6768).build()
    );
    assert_ne!(
        KeyBuilder::new("a").str("b").build(),
        KeyBuilder::new("b").str("a").build()
    );
    // One client, one key, whichever socket family accepted it.
    let v4 = Ipv4Addr::new(203, 0, 113, 7);
    assert_eq!(
        Key::from(IpAddr::V4(v4)),
        Key::from(IpAddr::V6(v4.to_ipv6_mapped()))
    );
    assert_eq!(
        KeyBuilder::new("ip").ip(IpAddr::V4(v4)).build(),
        KeyBuilder::new("ip")
            .ip(IpAddr::V6(v4.to_ipv6_mapped()))
            .build()
    );
    assert_ne!(
        Key::from(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        Key::from(IpAddr::V4(Ipv4Addr::LOCALHOST))
    );
    // Debug shows no key material.
    let phone = Key::from("+14155550123");
    assert_eq!(format!("{phone:?}"), "Key(raw, 12 bytes)");
    assert!(!format!("{long_built:?}").contains("ns"));
    assert_eq!(Key::from(7u64).to_hex(), "080000000000000007");
}

#[test]
fn access_lists_screen() {
    let (a, b) = (Key::from("a"), Key::from("b"));
    let lists = AccessList::new().allow(a).deny(b);
    assert_eq!(lists.screen(&a).unwrap().cause(), Cause::Allowlisted);
    assert_eq!(lists.screen(&b).unwrap().cause(), Cause::Denylisted);
    assert!(lists.screen(&Key::from("c")).is_none());
    assert!(AccessList::new().is_empty());
}

/// The stable algorithm numbers that the Redis script and the Postgres function read
/// (`AlgorithmKind::code`): renumbering one would make a store run another algorithm.
#[test]
fn algorithm_codes_are_stable() {
    let table = [
        (AlgorithmKind::Gcra, 1, "gcra"),
        (AlgorithmKind::TokenBucket, 2, "token-bucket"),
        (AlgorithmKind::LeakyBucket, 3, "leaky-bucket"),
        (AlgorithmKind::FixedWindow, 4, "fixed-window"),
        (AlgorithmKind::SlidingWindowLog, 5, "sliding-window-log"),
        (
            AlgorithmKind::SlidingWindowCounter,
            6,
            "sliding-window-counter",
        ),
    ];
    for (kind, code, name) in table {
        assert_eq!(kind.code(), code, "{kind}");
        assert_eq!(kind.as_str(), name);
    }
}

/// `Limit::parameters`, the integers a server-side store computes with, for every algorithm:
/// GCRA's T and τ, the buckets' exact scaled rate, and nothing else set.
#[test]
fn limit_parameters_per_algorithm() {
    // 4 per second, burst 6: T = 250 ms, τ = 6 × T; buckets: gcd(1e9, 4) = 4, so a token is
    // 250,000,000 scaled units, 1 unit accrues per ns, and 6 tokens are 1.5e9 units.
    let quota = Quota::per_second(4).unwrap().with_burst(6).unwrap();
    let gcra = Limit::new("g", AlgorithmKind::Gcra, quota)
        .unwrap()
        .parameters();
    assert_eq!(gcra.kind, AlgorithmKind::Gcra);
    assert_eq!(
        (gcra.limit, gcra.period_nanos, gcra.capacity),
        (4, 1_000_000_000, 6)
    );
    assert_eq!(gcra.emission_interval_nanos, 250_000_000);
    assert_eq!(gcra.tolerance_nanos, 1_500_000_000);
    assert_eq!(
        (gcra.bucket_unit, gcra.bucket_rate, gcra.bucket_cap),
        (0, 0, 0)
    );

    for kind in [AlgorithmKind::TokenBucket, AlgorithmKind::LeakyBucket] {
        let p = Limit::new("b", kind, quota).unwrap().parameters();
        assert_eq!(p.kind, kind);
        assert_eq!((p.limit, p.period_nanos, p.capacity), (4, 1_000_000_000, 6));
        assert_eq!(
            (p.bucket_unit, p.bucket_rate, p.bucket_cap),
            (250_000_000, 1, 1_500_000_000),
            "{kind}"
        );
        assert_eq!(
            (p.emission_interval_nanos, p.tolerance_nanos),
            (0, 0),
            "{kind}"
        );
    }

    // 3 per 7 s: gcd(7e9, 3) = 1, so a token is 7e9 units and 3 units accrue per ns.
    let odd = Quota::new(3, Duration::from_secs(7)).unwrap();
    let p = Limit::new("b", AlgorithmKind::TokenBucket, odd)
        .unwrap()
        .parameters();
    assert_eq!(
        (p.bucket_unit, p.bucket_rate, p.bucket_cap),
        (7_000_000_000, 3, 21_000_000_000)
    );

    let window = Quota::per_minute(100).unwrap();
    for kind in [
        AlgorithmKind::FixedWindow,
        AlgorithmKind::SlidingWindowLog,
        AlgorithmKind::SlidingWindowCounter,
    ] {
        let p = Limit::new("w", kind, window).unwrap().parameters();
        assert_eq!((p.kind, p.limit, p.capacity), (kind, 100, 100));
        assert_eq!(p.period_nanos, 60_000_000_000);
        assert_eq!(
            (
                p.emission_interval_nanos,
                p.tolerance_nanos,
                p.bucket_unit,
                p.bucket_rate,
                p.bucket_cap
            ),
            (0, 0, 0, 0, 0),
            "{kind}"
        );
    }
}

/// A state of another algorithm (a policy whose limit changed algorithm) is decided and
/// charged as a new state of this one, and replaced by it.
#[test]
fn a_state_of_another_algorithm_starts_afresh() {
    let gcra = per_second("l", AlgorithmKind::Gcra, 1);
    let bucket = per_second("l", AlgorithmKind::TokenBucket, 1);
    let mut state = bucket.new_state();
    let decided = gcra.decide(&state, at(T0), 1).unwrap();
    assert!(decided.is_allowed());
    assert_eq!(state, bucket.new_state(), "decide changes nothing");
    let applied = gcra.apply(&mut state, at(T0), 1).unwrap();
    assert_eq!(applied, decided);
    assert_eq!(
        std::mem::discriminant(&state),
        std::mem::discriminant(&gcra.new_state())
    );
    assert_ne!(state, gcra.new_state(), "the admission was charged");
    // The quota of 1 is spent: the next request in the same instant is refused.
    assert!(!gcra.apply(&mut state, at(T0), 1).unwrap().is_allowed());
}

/// `Limit::expires_at`, the instant from which a store may forget a key (the memory store's
/// sweep, the Redis and Postgres TTLs), for every algorithm after one admission at `T0`:
/// 4 per second, so one unit of cost is 250 ms.
#[test]
fn expiry_of_a_charged_state_per_algorithm() {
    let second = 1_000 * MS;
    let table = [
        (AlgorithmKind::Gcra, T0 + 250 * MS),
        (AlgorithmKind::TokenBucket, T0 + 250 * MS),
        (AlgorithmKind::LeakyBucket, T0 + 250 * MS),
        (AlgorithmKind::FixedWindow, T0 + second),
        (AlgorithmKind::SlidingWindowLog, T0 + second),
        (AlgorithmKind::SlidingWindowCounter, T0 + 2 * second),
    ];
    for (kind, expected) in table {
        let limit = Limit::new("l", kind, Quota::per_second(4).unwrap()).unwrap();
        let mut state = limit.new_state();
        assert!(
            limit.expires_at(&state).as_unix_nanos() <= T0,
            "{kind}: a new state is already forgettable"
        );
        let admitted = limit.apply(&mut state, at(T0), 1).unwrap();
        assert!(admitted.is_allowed());
        assert_eq!(limit.expires_at(&state).as_unix_nanos(), expected, "{kind}");
        if !kind.is_window() {
            // GCRA and the buckets are back to full capacity when the state expires.
            assert_eq!(admitted.reset_after(), Duration::from_millis(250), "{kind}");
            assert_eq!(admitted.remaining(), 3, "{kind}");
        }
    }
}

/// Two decisions are equal when every observable part is (verdict, limit, remaining, reset,
/// retry), and hash alike then: the stores' differential and conformance tests compare
/// decisions with `==`, so an equality that ignored a part would let them pass on a wrong
/// answer.
#[test]
fn decisions_compare_and_hash_by_every_part() {
    let s = Duration::from_secs;
    let base = Decision::refused(10, 2, s(30), s(5));
    let same = Decision::refused(10, 2, s(30), s(5));
    assert_eq!(base, same);
    assert_eq!(hash(&base), hash(&same));
    let others = [
        Decision::allowed(10, 2, s(30)),
        Decision::refused(11, 2, s(30), s(5)),
        Decision::refused(10, 3, s(30), s(5)),
        Decision::refused(10, 2, s(31), s(5)),
        Decision::refused(10, 2, s(30), s(6)),
    ];
    for other in others {
        assert_ne!(base, other, "{other:?}");
        assert_ne!(hash(&base), hash(&other), "{other:?}");
    }
    assert_eq!(Decision::allowed(1, 0, s(1)), Decision::allowed(1, 0, s(1)));
    assert_eq!(
        format!("{base:?}"),
        "Decision { allowed: false, limit: 10, remaining: 2, reset_after: 30s, \
         retry_after: Some(5s) }"
    );
}

/// `retry_after_secs` rounds up and is `None` for an admission.
#[test]
fn retry_after_in_whole_seconds_rounds_up() {
    let s = Duration::from_secs;
    let refused = |retry| Decision::refused(1, 0, s(60), retry);
    assert_eq!(
        refused(Duration::from_millis(5_500)).retry_after_secs(),
        Some(6)
    );
    assert_eq!(refused(s(7)).retry_after_secs(), Some(7));
    assert_eq!(refused(Duration::from_nanos(1)).retry_after_secs(), Some(1));
    assert_eq!(Decision::allowed(1, 1, s(60)).retry_after_secs(), None);
}

/// Which errors are store failures (a fallback store may answer instead) and which any store
/// would return for the same call.
#[test]
fn store_failures_are_unavailable_and_timeout_only() {
    let failures = [
        RateLimitError::Unavailable {
            store: "redis",
            reason: "connection refused".into(),
        },
        RateLimitError::Timeout {
            store: "postgres",
            after: Duration::from_millis(50),
        },
    ];
    for e in failures {
        assert!(e.is_store_failure(), "{e}");
    }
    let callers = [
        RateLimitError::InvalidCost {
            cost: 0,
            capacity: 10,
        },
        RateLimitError::KeyCapReached { cap: 10 },
        RateLimitError::UnknownTier { tier: "pro" },
        RateLimitError::InvalidQuota { reason: "limit 0" },
        RateLimitError::InvalidPolicy { reason: "empty" },
    ];
    for e in callers {
        assert!(!e.is_store_failure(), "{e}");
    }
}

/// An admission binds to the limit with the least remaining, and between equals to the one
/// with the longest reset (the one a client must wait longest for).
#[test]
fn an_admission_binds_to_the_longest_reset_among_equals() {
    let s = Duration::from_secs;
    let v = Verdict::from_decisions(vec![
        Decision::allowed(10, 4, s(1)),
        Decision::allowed(100, 4, s(60)),
        Decision::allowed(10, 7, s(3_600)),
    ]);
    assert_eq!(v.cause(), Cause::Admitted);
    assert_eq!(v.binding().unwrap().0, 1);
    // A limit already back to full capacity (reset 0) binds least among equals.
    let v = Verdict::from_decisions(vec![
        Decision::allowed(10, 5, Duration::ZERO),
        Decision::allowed(10, 5, s(1)),
    ]);
    assert_eq!(v.binding().unwrap().0, 1);
}

/// Keys hash by what they are (for callers' own maps of keys): equal keys alike, different
/// keys apart.
#[test]
fn keys_hash_by_their_contents() {
    assert_eq!(hash(&Key::from("user-1")), hash(&Key::from("user-1")));
    assert_ne!(hash(&Key::from("user-1")), hash(&Key::from("user-2")));
    let long = "x".repeat(200);
    assert_eq!(
        hash(&Key::from(long.as_str())),
        hash(&Key::from(long.as_str()))
    );
    assert_ne!(hash(&Key::from(long.as_str())), hash(&Key::from("user-1")));
}

/// The byte format of built keys (`docs/formats.md`): per part a tag (0 namespace, 1 text, 2
/// bytes, 3 u64, 4 IPv4, 5 IPv6), the length in LEB128 and the bytes; up to 31 bytes kept
/// as they are, longer ones as the first 16 bytes of SHA-256 over a domain label, the kind
/// byte (`0xC0`) and the whole encoding. Fixed inputs, committed bytes.
#[test]
fn built_keys_known_answers() {
    use sha2::{Digest, Sha256};
    let short = KeyBuilder::new("ns").str("x").u64(7).build();
    assert!(!short.is_hashed());
    assert_eq!(
        short.as_bytes(),
        [0, 2, b'n', b's', 1, 1, b'x', 3, 8, 0, 0, 0, 0, 0, 0, 0, 7]
    );
    assert_eq!(format!("{short:?}"), "Key(built, 17 bytes)");
    assert_eq!(format!("{:?}", KeyBuilder::new("ns")), "KeyBuilder { .. }");
    // A 200-byte part: its length is two LEB128 bytes, 0xC8 0x01.
    let text = "y".repeat(200);
    let long = KeyBuilder::new("ns").str(&text).build();
    let mut encoding = vec![0, 2, b'n', b's', 1, 0xC8, 0x01];
    encoding.extend_from_slice(text.as_bytes());
    let mut h = Sha256::new();
    h.update(b"palisade-ratelimit key v1\0");
    h.update([0xC0]);
    h.update(&encoding);
    assert_eq!(long.as_bytes(), &h.finalize()[..16]);
    assert_eq!(format!("{long:?}"), "Key(hashed, 16 bytes)");
    assert_eq!(format!("{:?}", Key::from("raw")), "Key(raw, 3 bytes)");
    // Lengths are not confusable with the bytes that follow them.
    assert_ne!(
        KeyBuilder::new("ns").str("a").str("b").build(),
        KeyBuilder::new("ns").str("a\u{1}\u{7f}b").build()
    );
}

/// Each algorithm's own `apply` (state in, state and decision out) and `Limit::apply` (the
/// stores' path) give the same decisions and states over one sequence of requests.
#[test]
fn each_algorithms_apply_agrees_with_limit_apply() {
    let quota = Quota::per_second(5).unwrap().with_burst(3).unwrap();
    // (ms since T0, cost): bursts, refusals, partial refills, a request after a long pause.
    let requests = [
        (0, 1),
        (0, 2),
        (0, 1),
        (90, 1),
        (200, 1),
        (200, 3),
        (450, 2),
        (700, 1),
        (1_000, 3),
        (1_001, 1),
        (1_900, 2),
        (2_000, 1),
        (5_000, 3),
        (5_000, 1),
    ];
    let kinds = [
        AlgorithmKind::Gcra,
        AlgorithmKind::TokenBucket,
        AlgorithmKind::LeakyBucket,
        AlgorithmKind::FixedWindow,
        AlgorithmKind::SlidingWindowLog,
        AlgorithmKind::SlidingWindowCounter,
    ];
    for kind in kinds {
        let q = if kind.is_window() {
            Quota::per_second(5).unwrap()
        } else {
            quota
        };
        let limit = Limit::new("l", kind, q).unwrap();
        let mut via_limit = limit.new_state();
        let mut own = limit.new_state();
        let mut admitted = 0;
        for (ms, cost) in requests {
            let now = at(T0 + ms * MS);
            let expected = limit.apply(&mut via_limit, now, cost).unwrap();
            let got = match &mut own {
                State::Gcra(s) => {
                    let (next, d) = Gcra::new(&q).unwrap().apply(*s, now, cost).unwrap();
                    *s = next;
                    d
                }
                State::TokenBucket(s) => {
                    let (next, d) = TokenBucket::new(&q).unwrap().apply(*s, now, cost).unwrap();
                    *s = next;
                    d
                }
                State::LeakyBucket(s) => {
                    let (next, d) = LeakyBucket::new(&q).unwrap().apply(*s, now, cost).unwrap();
                    *s = next;
                    d
                }
                State::FixedWindow(s) => {
                    let (next, d) = FixedWindow::new(&q).unwrap().apply(*s, now, cost).unwrap();
                    *s = next;
                    d
                }
                State::SlidingWindowLog(s) => SlidingWindowLog::new(&q)
                    .unwrap()
                    .apply(s, now, cost)
                    .unwrap(),
                State::SlidingWindowCounter(s) => {
                    let (next, d) = SlidingWindowCounter::new(&q)
                        .unwrap()
                        .apply(*s, now, cost)
                        .unwrap();
                    *s = next;
                    d
                }
                other => panic!("a state this test does not know: {other:?}"),
            };
            assert_eq!(got, expected, "{kind} at +{ms} ms, cost {cost}");
            assert_eq!(own, via_limit, "{kind} at +{ms} ms, cost {cost}");
            admitted += usize::from(expected.is_allowed());
        }
        // The sequence both admits and refuses under every algorithm.
        assert!(
            (1..requests.len()).contains(&admitted),
            "{kind}: {admitted}"
        );
    }
}

/// Sliding window counter, 2 per second, by hand from the formula of its module docs: two
/// admissions at the end of one window, then a refusal 100 ms into the next, where the
/// previous window still weighs ⌈2 × 0.9⌉ = 2.
#[test]
fn sliding_window_counter_vector() {
    let limit = per_second("s", AlgorithmKind::SlidingWindowCounter, 2);
    let ms = Duration::from_millis;
    let mut state = limit.new_state();
    // Admitted: reset when this window's counts leave the sliding window, at T0 + 2 s.
    let d = limit.apply(&mut state, at(T0 + 900 * MS), 1).unwrap();
    assert_eq!(d, Decision::allowed(2, 1, ms(1_100)));
    let d = limit.apply(&mut state, at(T0 + 950 * MS), 1).unwrap();
    assert_eq!(d, Decision::allowed(2, 0, ms(1_050)));
    // Refused with nothing counted in this window yet: reset at the end of this window
    // (T0 + 2 s), retry once ⌈2 × (1 − e)⌉ ≤ 1, at e = 0.5 s.
    let d = limit.apply(&mut state, at(T0 + 1_100 * MS), 1).unwrap();
    assert_eq!(d, Decision::refused(2, 0, ms(900), ms(400)));
    // Admitted there; then refused with a count in this window: reset at T0 + 3 s.
    let d = limit.apply(&mut state, at(T0 + 1_500 * MS), 1).unwrap();
    assert_eq!(d, Decision::allowed(2, 0, ms(1_500)));
    let d = limit.apply(&mut state, at(T0 + 1_600 * MS), 1).unwrap();
    assert!(!d.is_allowed());
    assert_eq!(d.reset_after(), ms(1_400));
    // A state with only a previous count is forgotten when that window leaves the sliding
    // window; with a current count, one window later.
    let counter = SlidingWindowCounter::new(&Quota::per_second(2).unwrap()).unwrap();
    let window = T0 / 1_000_000_000;
    let only_previous = SlidingWindowCounterState {
        window,
        current: 0,
        previous: 3,
    };
    assert_eq!(counter.expires_at(&only_previous), T0 + 1_000 * MS);
    let both = SlidingWindowCounterState {
        current: 1,
        ..only_previous
    };
    assert_eq!(counter.expires_at(&both), T0 + 2_000 * MS);
    let empty = SlidingWindowCounterState {
        previous: 0,
        ..only_previous
    };
    assert_eq!(counter.expires_at(&empty), 0);
}

/// `Policy::verdict_from`, how the Redis and Postgres stores turn their per-limit decisions
/// into a verdict: a refusal by any limit uncharges the others, and under a penalty box the
/// retry time becomes at least the block.
#[test]
fn verdict_from_server_side_decisions() {
    let s = Duration::from_secs;
    let policy = Policy::new([
        Limit::gcra("burst", Quota::per_second(10).unwrap()).unwrap(),
        Limit::gcra("hourly", Quota::per_hour(100).unwrap()).unwrap(),
    ])
    .unwrap();
    let admitted = Decision::allowed(10, 4, Duration::from_millis(600));
    let refused = Decision::refused(100, 0, s(36), s(36));
    let v = policy.verdict_from(vec![admitted, refused], 1);
    assert_eq!(v.cause(), Cause::Limited);
    assert_eq!(v.decisions()[0].remaining(), 5, "not charged after all");
    assert_eq!(v.retry_after(), Some(s(36)));
    let boxed = policy.clone().with_block(s(600));
    let v = boxed.verdict_from(vec![admitted, refused], 1);
    assert_eq!((v.cause(), v.retry_after()), (Cause::Limited, Some(s(600))));
    let v = boxed.verdict_from(vec![admitted, admitted], 2);
    assert_eq!((v.cause(), v.retry_after()), (Cause::Admitted, None));
    assert_eq!(v.decisions()[0].remaining(), 4, "charged");
}

/// A token bucket's refusal with tokens left: reset when the bucket is full again, retry
/// when the missing tokens have accrued. 4 per second: a token every 250 ms.
#[test]
fn token_bucket_refusal_with_tokens_left() {
    let limit = per_second("t", AlgorithmKind::TokenBucket, 4);
    let mut state = limit.new_state();
    for _ in 0..3 {
        assert!(limit.apply(&mut state, at(T0), 1).unwrap().is_allowed());
    }
    let d = limit.apply(&mut state, at(T0), 2).unwrap();
    let ms = Duration::from_millis;
    assert_eq!(d, Decision::refused(4, 1, ms(750), ms(250)));
}

/// A penalty lengthens a refusal's retry time, never an admission's, and a denylisted key
/// gets none (it is refused until removed from the list, not for a while).
#[test]
fn penalties_apply_to_limited_refusals_only() {
    let s = Duration::from_secs;
    assert_eq!(
        Verdict::denylisted().with_penalty(s(60)).retry_after(),
        None
    );
    let limited = Verdict::from_decisions(vec![Decision::refused(1, 0, s(1), s(1))]);
    assert_eq!(limited.with_penalty(s(60)).retry_after(), Some(s(60)));
    let admitted = Verdict::from_decisions(vec![Decision::allowed(1, 0, s(1))]);
    assert_eq!(admitted.clone().with_penalty(s(60)), admitted);
}
