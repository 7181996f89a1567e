//! `CachedReputation`: threshold, separate TTLs for bad and clean verdicts, failures open or
//! closed and never cached, a bounded cache that a flood of clean addresses cannot empty of
//! bad verdicts, timeouts; `StaticReputation` lists.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use palisade_ratelimit::{
    CachedReputation, DEFAULT_BAD_TTL, DEFAULT_CLEAN_TTL, ManualClock, Reputation, ReputationError,
    ReputationFailure, ReputationFn, ReputationVerdict, StaticReputation, Timestamp,
};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A source scoring each address by its last octet, counting lookups; `down` makes it fail.
struct Source {
    lookups: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Reputation for Source {
    async fn score(&self, ip: IpAddr) -> Result<u8, ReputationError> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        if self.down.load(Ordering::Relaxed) {
            return Err(ReputationError::Lookup {
                reason: "HTTP 503".into(),
            });
        }
        Ok(match ip {
            IpAddr::V4(v4) => v4.octets()[3],
            IpAddr::V6(_) => 0,
        })
    }
}

fn setup() -> (Arc<Source>, Arc<ManualClock>, CachedReputation) {
    let source = Arc::new(Source {
        lookups: AtomicUsize::new(0),
        down: false.into(),
    });
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)));
    let cache = CachedReputation::new(source.clone()).with_clock(clock.clone());
    (source, clock, cache)
}

#[test]
fn scores_above_the_threshold_are_bad_and_verdicts_live_their_ttl() {
    let (source, clock, cache) = setup();
    rt().block_on(async {
        assert_eq!(
            cache.check(ip("192.0.2.75")).await,
            ReputationVerdict::Clean { score: 75 }
        );
        let ReputationVerdict::Bad { score, remaining } = cache.check(ip("192.0.2.76")).await
        else {
            panic!("76 is above 75");
        };
        assert_eq!((score, remaining), (76, DEFAULT_BAD_TTL));
        // The IPv4-mapped form is the same address, cached.
        assert!(!cache.check(ip("::ffff:192.0.2.76")).await.is_allowed());
        assert_eq!(source.lookups.load(Ordering::Relaxed), 2);

        clock.advance(DEFAULT_CLEAN_TTL - Duration::from_secs(1));
        cache.check(ip("192.0.2.75")).await;
        assert_eq!(
            source.lookups.load(Ordering::Relaxed),
            2,
            "clean: cached for 1 h"
        );
        clock.advance(Duration::from_secs(1));
        cache.check(ip("192.0.2.75")).await;
        assert_eq!(
            source.lookups.load(Ordering::Relaxed),
            3,
            "clean: looked up after 1 h"
        );
        let ReputationVerdict::Bad { remaining, .. } = cache.check(ip("192.0.2.76")).await else {
            panic!("still bad");
        };
        assert_eq!(
            remaining,
            DEFAULT_BAD_TTL - DEFAULT_CLEAN_TTL,
            "the rest of the bad TTL"
        );
        clock.advance(DEFAULT_BAD_TTL);
        cache.check(ip("192.0.2.76")).await;
        assert_eq!(
            source.lookups.load(Ordering::Relaxed),
            4,
            "bad: looked up after 24 h"
        );
    });
}

#[test]
fn failures_open_or_closed_and_never_cached() {
    rt().block_on(async {
        for (mode, allowed) in [
            (ReputationFailure::FailOpen, true),
            (ReputationFailure::FailClosed, false),
        ] {
            let (source, _, cache) = setup();
            let cache = cache.on_failure(mode);
            source.down.store(true, Ordering::Relaxed);
            let v = cache.check(ip("192.0.2.99")).await;
            assert_eq!(v.is_allowed(), allowed, "{mode:?}");
            assert!(matches!(
                v,
                ReputationVerdict::FailedOpen(ReputationError::Lookup { .. })
                    | ReputationVerdict::FailedClosed(ReputationError::Lookup { .. })
            ));
            source.down.store(false, Ordering::Relaxed);
            assert!(matches!(
                cache.check(ip("192.0.2.99")).await,
                ReputationVerdict::Bad { .. }
            ));
            assert_eq!(
                source.lookups.load(Ordering::Relaxed),
                2,
                "the failure was not cached"
            );
        }
    });
}

#[test]
fn a_flood_of_clean_addresses_does_not_evict_bad_verdicts() {
    let (source, _, cache) = setup();
    let cache = cache.capacity(256);
    rt().block_on(async {
        let bad: Vec<IpAddr> = (0..16u8)
            .map(|i| IpAddr::V4(Ipv4Addr::new(198, 51, 100 + (i % 2), 200 + i)))
            .collect();
        for b in &bad {
            assert!(!cache.check(*b).await.is_allowed());
        }
        for i in 0..10_000u32 {
            let [_, a, b, _] = i.to_be_bytes();
            cache.check(IpAddr::V4(Ipv4Addr::new(10, a, b, 1))).await;
        }
        assert!(cache.cached() <= 256 + 64, "bounded: {}", cache.cached());
        let before = source.lookups.load(Ordering::Relaxed);
        for b in &bad {
            assert!(!cache.check(*b).await.is_allowed());
        }
        assert_eq!(
            source.lookups.load(Ordering::Relaxed),
            before,
            "bad verdicts still cached"
        );
    });
}

#[test]
fn a_hanging_lookup_times_out() {
    let cache = CachedReputation::new(ReputationFn::new(|_| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(0)
    }))
    .with_timeout(Duration::from_millis(20))
    .on_failure(ReputationFailure::FailClosed);
    let v = rt().block_on(cache.check(ip("192.0.2.1")));
    assert!(
        matches!(
            v,
            ReputationVerdict::FailedClosed(ReputationError::Timeout { .. })
        ),
        "{v:?}"
    );
}

#[test]
fn lists_parse_and_bad_lines_are_named() {
    let list = StaticReputation::parse(
        "10.0.0.0/8 50\n10.1.0.0/16 90 # more specific\n::ffff:192.0.2.0/120 80\n2001:db8::1 100",
    )
    .unwrap();
    rt().block_on(async {
        assert_eq!(list.score(ip("10.2.3.4")).await.unwrap(), 50);
        assert_eq!(list.score(ip("10.1.3.4")).await.unwrap(), 90);
        assert_eq!(list.score(ip("192.0.2.7")).await.unwrap(), 80);
        assert_eq!(list.score(ip("2001:db8::1")).await.unwrap(), 100);
        assert_eq!(list.score(ip("2001:db8::2")).await.unwrap(), 0);
    });
    for (text, line) in [
        ("10.0.0.1 101", 1),
        ("\n# c\nnot-an-ip 5", 3),
        ("10.0.0.1", 1),
        ("10.0.0.1 5 extra", 1),
    ] {
        assert!(
            matches!(StaticReputation::parse(text), Err(ReputationError::InvalidList { line: l, .. }) if l == line),
            "{text:?}"
        );
    }
}

/// The documented defaults, by value (the other tests use the constants by name).
#[test]
fn documented_defaults() {
    use palisade_ratelimit::{DEFAULT_REPUTATION_CACHE, DEFAULT_REPUTATION_THRESHOLD};
    assert_eq!(DEFAULT_BAD_TTL, Duration::from_secs(24 * 60 * 60));
    assert_eq!(DEFAULT_CLEAN_TTL, Duration::from_secs(60 * 60));
    assert_eq!(DEFAULT_REPUTATION_THRESHOLD, 75);
    assert_eq!(DEFAULT_REPUTATION_CACHE, 100_000);
    let source = ReputationFn::new(|_: IpAddr| async { Ok::<u8, ReputationError>(0) });
    assert_eq!(format!("{source:?}"), "ReputationFn");
}

/// The widest networks: `::/0` covers every IPv6 address (and no IPv4 one), `0.0.0.0/0`
/// every IPv4 address, and a more specific entry still wins.
#[test]
fn default_routes_cover_their_family_only() {
    let v6_only = StaticReputation::parse("::/0 40").unwrap();
    let both = StaticReputation::parse("::/0 40\n0.0.0.0/0 10\n2001:db8::/32 70").unwrap();
    rt().block_on(async {
        assert_eq!(v6_only.score(ip("2001:db8::1")).await.unwrap(), 40);
        assert_eq!(v6_only.score(ip("192.0.2.1")).await.unwrap(), 0);
        assert_eq!(both.score(ip("2001:db9::1")).await.unwrap(), 40);
        assert_eq!(both.score(ip("2001:db8::1")).await.unwrap(), 70);
        assert_eq!(both.score(ip("192.0.2.1")).await.unwrap(), 10);
    });
}

/// A full verdict cache evicts the verdicts that end soonest, an eighth of a shard at a time,
/// and keeps the rest; its `Debug` shows the configuration, not the addresses.
#[test]
fn a_full_verdict_cache_evicts_an_eighth_not_everything() {
    let (_, _, cache) = setup();
    let cache = cache.capacity(800);
    rt().block_on(async {
        for i in 0..2_000u32 {
            let [_, _, a, b] = i.to_be_bytes();
            cache.check(IpAddr::V4(Ipv4Addr::new(10, 0, a, b))).await;
        }
    });
    let held = cache.cached();
    // Every shard received more addresses than it holds; each keeps at least 7/8 of its share.
    assert!((700..=1_100).contains(&held), "{held} verdicts cached");
    assert_eq!(
        format!("{cache:?}"),
        format!(
            "CachedReputation {{ cached: {held}, threshold: 75, bad_ttl: 86400s, \
             clean_ttl: 3600s, on_failure: FailOpen, .. }}"
        )
    );
}
