//! `ReplayGuard` and `Idempotency` through the public API: verified requests (the published
//! Standard Webhooks vector), the lease life cycle's answers, the documented defaults (72 h for
//! untimestamped ids, 7 days of idempotency, 60 s leases) observed on a fixed clock, and what
//! the `Debug` forms show.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use palisade_replay::{
    Claim, Idempotency, MemoryNonceStore, Namespace, ReplayError, ReplayGuard, Tolerance,
};
use palisade_webhook::{
    ManualClock, Provider, Request, SecretString, StandardWebhooks, Timestamp, Verified, Verifier,
};

/// The Standard Webhooks reference vector (standard-webhooks/standard-webhooks, the libraries'
/// shared test case): signed at 1614265330.
const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_TIMESTAMP: i64 = 1_614_265_330;
const SW_HEADERS: [(&str, &str); 3] = [
    ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
    ("webhook-timestamp", "1614265330"),
    (
        "webhook-signature",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ),
];
const SW_BODY: &[u8] = br#"{"test": 2432232314}"#;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn store_at(clock: &Arc<ManualClock>) -> MemoryNonceStore {
    MemoryNonceStore::builder()
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn verified_vector(clock: &Arc<ManualClock>) -> Verified {
    let verifier = Verifier::new(StandardWebhooks, [SecretString::from(SW_SECRET)])
        .unwrap()
        .with_clock(clock.clone());
    verifier
        .verify(&Request::new(&SW_HEADERS, SW_BODY))
        .unwrap()
}

#[test]
fn a_verified_request_is_accepted_once_per_tenant() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(
        SW_TIMESTAMP.unsigned_abs(),
    )));
    let guard = ReplayGuard::new(store_at(&clock)).with_clock(clock.clone());
    let verified = verified_vector(&clock);
    assert_eq!(verified.timestamp, Some(SW_TIMESTAMP));
    block_on(async {
        guard.check_verified(&verified, None).await.unwrap();
        assert!(matches!(
            guard.check_verified(&verified, None).await,
            Err(ReplayError::Replayed)
        ));
        // Another tenant's namespace has not seen it; its second delivery is a replay.
        guard.check_verified(&verified, Some("acme")).await.unwrap();
        assert!(matches!(
            guard.check_verified(&verified, Some("acme")).await,
            Err(ReplayError::Replayed)
        ));
        // The guard's store is the one that remembers: one entry per namespace.
        assert_eq!(guard.store().len(), 2);
    });
}

#[test]
fn a_verified_request_outside_the_window_is_refused_before_the_store() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(
        SW_TIMESTAMP.unsigned_abs(),
    )));
    let verified = verified_vector(&clock);
    clock.advance(Duration::from_secs(301));
    let guard = ReplayGuard::new(store_at(&clock)).with_clock(clock.clone());
    block_on(async {
        assert!(matches!(
            guard.check_verified(&verified, None).await,
            Err(ReplayError::TimestampOutsideTolerance {
                skew_secs: 301,
                tolerance_secs: 300
            })
        ));
        let ns = Namespace::provider(Provider::Standard);
        assert!(matches!(
            guard.claim_verified(&verified, &ns).await,
            Err(ReplayError::TimestampOutsideTolerance { .. })
        ));
    });
    assert!(guard.store().is_empty());
}

#[test]
fn a_claimed_verified_delivery_completes_once() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(
        SW_TIMESTAMP.unsigned_abs(),
    )));
    let guard = ReplayGuard::new(store_at(&clock)).with_clock(clock.clone());
    let verified = verified_vector(&clock);
    let ns = Namespace::route(Provider::Standard, "/hooks/svix", None);
    block_on(async {
        let lease = guard.claim_verified(&verified, &ns).await.unwrap();
        assert_eq!(lease.namespace(), &ns);
        // Timestamped: remembered for the whole window (300 s back + 300 s ahead + 1 s).
        assert_eq!(lease.ttl(), Duration::from_secs(601));
        assert!(matches!(
            guard.claim_verified(&verified, &ns).await,
            Err(ReplayError::InProgress)
        ));
        assert!(guard.complete(&lease).await.unwrap(), "our lease completes");
        assert!(
            !guard.complete(&lease).await.unwrap(),
            "completing twice: no longer in flight"
        );
        assert!(
            !guard.release(&lease).await.unwrap(),
            "a completed delivery cannot be released"
        );
        assert!(matches!(
            guard.claim_verified(&verified, &ns).await,
            Err(ReplayError::Replayed)
        ));
    });
}

#[test]
fn a_released_claim_is_claimable_again() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let guard = ReplayGuard::new(store_at(&clock)).with_clock(clock.clone());
    let ns = Namespace::custom("orders").unwrap();
    block_on(async {
        let lease = guard.claim(&ns, b"evt_1", None).await.unwrap();
        assert!(
            guard.release(&lease).await.unwrap(),
            "a live lease releases"
        );
        assert!(!guard.release(&lease).await.unwrap(), "only once");
        assert!(
            !guard.complete(&lease).await.unwrap(),
            "a released lease is not ours to complete"
        );
        // Completing it anyway recorded the id: it is now a replay.
        assert!(matches!(
            guard.claim(&ns, b"evt_1", None).await,
            Err(ReplayError::Replayed)
        ));
        let lease = guard.claim(&ns, b"evt_2", None).await.unwrap();
        assert!(guard.release(&lease).await.unwrap());
        let again = guard.claim(&ns, b"evt_2", None).await.unwrap();
        assert!(guard.complete(&again).await.unwrap());
    });
}

#[test]
fn the_default_lease_lasts_sixty_seconds() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let guard = ReplayGuard::new(store_at(&clock)).with_clock(clock.clone());
    assert_eq!(guard.lease(), Duration::from_secs(60));
    let ns = Namespace::custom("jobs").unwrap();
    block_on(async {
        let _held = guard.claim(&ns, b"job", None).await.unwrap();
        clock.advance(Duration::from_secs(59));
        assert!(matches!(
            guard.claim(&ns, b"job", None).await,
            Err(ReplayError::InProgress)
        ));
        clock.advance(Duration::from_secs(1));
        guard.claim(&ns, b"job", None).await.unwrap();
    });
    let short = guard.with_lease(Duration::from_secs(5));
    assert_eq!(short.lease(), Duration::from_secs(5));
}

#[test]
fn an_untimestamped_id_is_remembered_for_72_hours_by_default() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let guard = ReplayGuard::new(store_at(&clock)).with_clock(clock.clone());
    assert_eq!(guard.ttl(false), Duration::from_secs(72 * 3600));
    let ns = Namespace::provider(Provider::GitHub);
    block_on(async {
        guard.check(&ns, b"delivery", None).await.unwrap();
        clock.advance(Duration::from_secs(72 * 3600 - 1));
        assert!(matches!(
            guard.check(&ns, b"delivery", None).await,
            Err(ReplayError::Replayed)
        ));
        clock.advance(Duration::from_secs(1));
        guard.check(&ns, b"delivery", None).await.unwrap();
    });
}

#[test]
fn the_configured_window_is_the_one_applied() {
    assert_eq!(Tolerance::default(), Tolerance::DEFAULT);
    let narrow = Tolerance {
        past_secs: 10,
        future_secs: 2,
    };
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(5_000)));
    let guard = ReplayGuard::new(store_at(&clock))
        .with_clock(clock.clone())
        .with_tolerance(narrow);
    assert_eq!(guard.tolerance(), narrow);
    let ns = Namespace::custom("narrow").unwrap();
    block_on(async {
        guard.check(&ns, b"a", Some(4_990)).await.unwrap();
        let r = guard.check(&ns, b"b", Some(4_989)).await;
        assert!(matches!(
            r,
            Err(ReplayError::TimestampOutsideTolerance {
                skew_secs: 11,
                tolerance_secs: 10
            })
        ));
        guard.check(&ns, b"c", Some(5_002)).await.unwrap();
        assert!(matches!(
            guard.check(&ns, b"d", Some(5_003)).await,
            Err(ReplayError::TimestampOutsideTolerance {
                skew_secs: -3,
                tolerance_secs: 2
            })
        ));
    });
}

#[test]
fn debug_shows_the_configuration_and_not_the_store() {
    let guard = ReplayGuard::new(MemoryNonceStore::new()).with_lease(Duration::from_secs(7));
    let shown = format!("{guard:?}");
    assert!(shown.starts_with("ReplayGuard {"), "{shown}");
    assert!(shown.contains("lease: 7s"), "{shown}");
    assert!(shown.contains("untimestamped_ttl: 259200s"), "{shown}");
    assert!(!shown.contains("shards"), "{shown}");
}

#[test]
fn an_idempotent_event_is_skipped_for_seven_days_by_default() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let idem = Idempotency::new(store_at(&clock));
    block_on(async {
        let Claim::Process(lease) = idem.claim("stripe", "evt_1").await.unwrap() else {
            panic!("first claim processes")
        };
        assert_eq!(lease.ttl(), Duration::from_secs(7 * 24 * 3600));
        assert!(idem.complete(&lease).await.unwrap());
        assert!(!idem.complete(&lease).await.unwrap(), "completed already");
        assert!(!idem.release(&lease).await.unwrap(), "nothing in flight");
        clock.advance(Duration::from_secs(7 * 24 * 3600 - 1));
        assert_eq!(idem.claim("stripe", "evt_1").await.unwrap(), Claim::Skip);
        clock.advance(Duration::from_secs(1));
        assert!(matches!(
            idem.claim("stripe", "evt_1").await.unwrap(),
            Claim::Process(_)
        ));
    });
}

#[test]
fn an_idempotency_lease_lasts_as_configured() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let idem = Idempotency::new(store_at(&clock)).with_lease(Duration::from_secs(30));
    block_on(async {
        let Claim::Process(lease) = idem.claim("jobs", "j1").await.unwrap() else {
            panic!("first claim processes")
        };
        clock.advance(Duration::from_secs(29));
        assert_eq!(idem.claim("jobs", "j1").await.unwrap(), Claim::InProgress);
        clock.advance(Duration::from_secs(1));
        assert!(matches!(
            idem.claim("jobs", "j1").await.unwrap(),
            Claim::Process(_)
        ));
        // The first lease was taken over: releasing it changes nothing.
        assert!(!idem.release(&lease).await.unwrap());
    });
}

/// Timestamps at the ends of `i64` (a forged or corrupt header) are refused with the skew
/// saturated in the right direction, not wrapped.
#[test]
fn extreme_timestamps_saturate_the_skew() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let guard = ReplayGuard::new(store_at(&clock)).with_clock(clock.clone());
    let ns = Namespace::custom("extremes").unwrap();
    block_on(async {
        assert!(matches!(
            guard.check(&ns, b"a", Some(i64::MIN)).await,
            Err(ReplayError::TimestampOutsideTolerance {
                skew_secs: i64::MAX,
                tolerance_secs: 300
            })
        ));
        // The clock reads no earlier than the epoch, so the most negative skew is -i64::MAX.
        clock.set(Timestamp::EPOCH);
        assert!(matches!(
            guard.check(&ns, b"b", Some(i64::MAX)).await,
            Err(ReplayError::TimestampOutsideTolerance {
                skew_secs: -9_223_372_036_854_775_807,
                tolerance_secs: 300
            })
        ));
    });
    assert!(guard.store().is_empty());
}
