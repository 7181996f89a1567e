//! HOTP look-ahead parameters and the attempt throttle of HOTP and TOTP (RFC 4226 § 7.3),
//! charged before anything is compared.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use palisade_otp::{
    AttemptLimit, ChallengeStore, DEFAULT_LOOK_AHEAD, HmacAlgorithm, Hotp, HotpOutcome,
    HotpVerifier, MAX_LOOK_AHEAD, MemoryChallengeStore, OtpError, OtpSecret, SubjectKey, Totp,
    TotpOutcome,
};
use palisade_ratelimit::{
    AlgorithmKind, Limit, ManualClock, MemoryStore, Policy, Quota, Timestamp,
};

fn hotp() -> Hotp {
    Hotp::new(
        OtpSecret::from_bytes(b"12345678901234567890"),
        HmacAlgorithm::Sha1,
        6,
    )
    .unwrap()
}

/// Three attempts a minute per subject (fixed window), on `clock`.
fn three_a_minute(clock: &Arc<ManualClock>) -> AttemptLimit {
    let policy = Policy::single(
        Limit::new(
            "otp-verify",
            AlgorithmKind::FixedWindow,
            Quota::per_minute(3).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    AttemptLimit::new(
        Arc::new(MemoryStore::with_clock(clock.clone())),
        Arc::new(policy),
    )
}

#[test]
fn look_ahead_is_1_to_100_counters() {
    let v = HotpVerifier::new(hotp());
    assert_eq!(v.look_ahead(), DEFAULT_LOOK_AHEAD);
    assert_eq!(v.window(None), 0..=9);
    assert_eq!(v.window(Some(41)), 42..=51);
    assert!(
        v.window(Some(u64::MAX)).is_empty(),
        "no counter after u64::MAX"
    );
    assert_eq!(v.window(Some(u64::MAX - 2)), u64::MAX - 1..=u64::MAX);
    for bad in [0, MAX_LOOK_AHEAD + 1, u64::MAX] {
        assert!(matches!(
            HotpVerifier::new(hotp()).with_look_ahead(bad),
            Err(OtpError::InvalidOtpParameter(_))
        ));
    }
    let one = HotpVerifier::new(hotp()).with_look_ahead(1).unwrap();
    assert_eq!(one.window(Some(7)), 8..=8, "1: the next counter only");
    let max = HotpVerifier::new(hotp())
        .with_look_ahead(MAX_LOOK_AHEAD)
        .unwrap();
    assert_eq!(max.window(None).count(), 100);
}

#[test]
fn classify_names_the_last_counter_a_reuse() {
    let v = HotpVerifier::new(hotp());
    let h = v.hotp().clone();
    assert_eq!(
        v.classify(&h.generate(5), Some(5)),
        HotpOutcome::Reused,
        "the code just accepted"
    );
    assert_eq!(v.classify(&h.generate(4), Some(5)), HotpOutcome::Wrong);
    assert_eq!(
        v.classify(&h.generate(15), Some(5)),
        HotpOutcome::Accepted { counter: 15 }
    );
    assert_eq!(v.classify(&h.generate(16), Some(5)), HotpOutcome::Wrong);
    assert_eq!(
        v.classify(" 755224\n", None),
        HotpOutcome::Accepted { counter: 0 }
    );
    assert_eq!(v.classify("", None), HotpOutcome::Wrong);
    assert_eq!(v.classify("75522", None), HotpOutcome::Wrong);
}

/// With three attempts a minute, a fourth attempt is throttled even with the right code,
/// and nothing is recorded; a minute later the right code is accepted.
#[tokio::test]
async fn hotp_attempts_are_throttled_before_any_comparison() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_800_000_000)));
    let v = HotpVerifier::new(hotp()).with_attempt_limit(three_a_minute(&clock));
    let store = MemoryChallengeStore::new();
    let key = SubjectKey::new("t", "hotp", "alice");
    for _ in 0..3 {
        assert_eq!(
            v.verify(&store, &key, "000000").await.unwrap(),
            HotpOutcome::Wrong
        );
    }
    let right = v.hotp().generate(0);
    match v.verify(&store, &key, &right).await.unwrap() {
        HotpOutcome::Throttled { retry_after } => {
            assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(60));
        }
        other => panic!("a fourth attempt within the minute: {other:?}"),
    }
    assert_eq!(
        store.last_step(&key).await.unwrap(),
        None,
        "nothing compared"
    );
    // Another subject (or purpose) has its own budget.
    let bob = SubjectKey::new("t", "hotp", "bob");
    assert_eq!(
        v.verify(&store, &bob, &right).await.unwrap(),
        HotpOutcome::Accepted { counter: 0 }
    );
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        v.verify(&store, &key, &right).await.unwrap(),
        HotpOutcome::Accepted { counter: 0 }
    );
}

/// The same throttle on TOTP.
#[tokio::test]
async fn totp_attempts_are_throttled_like_hotp() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_800_000_000)));
    let totp = Totp::new(hotp(), 30, 1)
        .unwrap()
        .with_attempt_limit(three_a_minute(&clock));
    let store = MemoryChallengeStore::new();
    let key = SubjectKey::new("t", "totp", "alice");
    let t = 1_111_111_109;
    for _ in 0..3 {
        assert_eq!(
            totp.verify(&store, &key, "000000", t).await.unwrap(),
            TotpOutcome::Wrong
        );
    }
    let right = totp.generate_at(t);
    assert!(matches!(
        totp.verify(&store, &key, &right, t).await.unwrap(),
        TotpOutcome::Throttled { .. }
    ));
    assert_eq!(store.last_step(&key).await.unwrap(), None);
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        totp.verify(&store, &key, &right, t).await.unwrap(),
        TotpOutcome::Accepted { step: t / 30 }
    );
}
