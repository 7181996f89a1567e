//! The suite's cases for last accepted steps: `accept_step`, `last_step`, and HOTP
//! verification with a look-ahead window through them.

use std::sync::Arc;

use crate::challenge::SubjectKey;
use palisade_core::HmacAlgorithm;

use crate::hotp::{Hotp, OtpSecret};
use crate::lookahead::{HotpOutcome, HotpVerifier};
use crate::store::ChallengeStore;
use crate::testing::unique_key;

/// `accept_step` accepts only increasing steps, and one of many concurrent equal steps.
pub async fn steps_increase<S: ChallengeStore + 'static>(store: Arc<S>) {
    let key = unique_key("steps", "totp");
    assert!(store.accept_step(&key, 5).await.unwrap(), "first step");
    assert!(
        !store.accept_step(&key, 5).await.unwrap(),
        "same step: a reuse"
    );
    assert!(!store.accept_step(&key, 4).await.unwrap(), "earlier step");
    assert!(store.accept_step(&key, 6).await.unwrap(), "later step");
    let other = key.with_purpose("hotp");
    assert!(
        store.accept_step(&other, 0).await.unwrap(),
        "keys are separate"
    );
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (store, key) = (store.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            store.accept_step(&key, 9).await.unwrap()
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(t.await.unwrap());
    }
    assert_eq!(accepted, 1, "one of 20 concurrent uses of a step");
}

/// `last_step` reads what `accept_step` recorded: `None` for a key without one, then the
/// greatest accepted step, unchanged by refused ones; the whole `u64` range (0, 2⁶³ − 1 then
/// 2⁶³, `u64::MAX`) round-trips in order.
pub async fn last_step_reads_accepted_steps<S: ChallengeStore + ?Sized>(store: &S) {
    let key = unique_key("last-step", "hotp");
    assert_eq!(store.last_step(&key).await.unwrap(), None, "no step yet");
    assert!(store.accept_step(&key, 0).await.unwrap(), "step 0");
    assert_eq!(store.last_step(&key).await.unwrap(), Some(0));
    assert!(store.accept_step(&key, 5).await.unwrap());
    assert!(!store.accept_step(&key, 3).await.unwrap(), "earlier step");
    assert_eq!(
        store.last_step(&key).await.unwrap(),
        Some(5),
        "a refused step leaves the last one"
    );
    assert_eq!(
        store.last_step(&key.with_purpose("other")).await.unwrap(),
        None,
        "keys are separate"
    );

    let big = unique_key("last-step-big", "hotp");
    let half = 1u64 << 63;
    assert!(store.accept_step(&big, half - 1).await.unwrap());
    assert_eq!(store.last_step(&big).await.unwrap(), Some(half - 1));
    assert!(
        store.accept_step(&big, half).await.unwrap(),
        "2^63 > 2^63 - 1"
    );
    assert_eq!(store.last_step(&big).await.unwrap(), Some(half));
    assert!(!store.accept_step(&big, half - 1).await.unwrap());
    assert!(store.accept_step(&big, u64::MAX).await.unwrap());
    assert_eq!(store.last_step(&big).await.unwrap(), Some(u64::MAX));
    assert!(!store.accept_step(&big, u64::MAX).await.unwrap());
}

/// The RFC 4226 Appendix D secret (`12345678901234567890`), SHA-1, 6 digits.
fn rfc4226_hotp() -> Hotp {
    Hotp::new(
        OtpSecret::from_bytes(b"12345678901234567890"),
        HmacAlgorithm::Sha1,
        6,
    )
    .unwrap()
}

/// HOTP through the store with a look-ahead of 3: a fresh key accepts counters 0–2; an
/// accepted counter and every earlier one are refused afterwards (the last one as
/// `Reused`); the window follows the last accepted counter.
pub async fn hotp_look_ahead<S: ChallengeStore>(store: &S) {
    let v = HotpVerifier::new(rfc4226_hotp())
        .with_look_ahead(3)
        .unwrap();
    let key = unique_key("hotp", "hotp");
    let code = |c: u64| v.hotp().generate(c);
    let verify = |c: u64| {
        let (v, key, code) = (&v, &key, code(c));
        async move { v.verify(store, key, &code).await.unwrap() }
    };
    assert_eq!(
        verify(3).await,
        HotpOutcome::Wrong,
        "beyond the first window"
    );
    assert_eq!(verify(2).await, HotpOutcome::Accepted { counter: 2 });
    assert_eq!(store.last_step(&key).await.unwrap(), Some(2));
    assert_eq!(verify(2).await, HotpOutcome::Reused, "the same code again");
    assert_eq!(verify(1).await, HotpOutcome::Wrong, "an earlier counter");
    assert_eq!(verify(0).await, HotpOutcome::Wrong, "an earlier counter");
    assert_eq!(verify(6).await, HotpOutcome::Wrong, "2 + 3 < 6");
    assert_eq!(verify(5).await, HotpOutcome::Accepted { counter: 5 });
    assert_eq!(verify(6).await, HotpOutcome::Accepted { counter: 6 });
    assert_eq!(verify(5).await, HotpOutcome::Wrong);
    assert_eq!(store.last_step(&key).await.unwrap(), Some(6));
}

/// Concurrent submissions of one valid HOTP code: exactly one `Accepted`, the others
/// `Reused`: 10 rounds of two at once, then one of 16 at once.
pub async fn concurrent_hotp_submissions<S: ChallengeStore + 'static>(store: Arc<S>) {
    let v = Arc::new(HotpVerifier::new(rfc4226_hotp()));
    let key = unique_key("hotp-race", "hotp");
    assert!(
        store.accept_step(&key, 100).await.unwrap(),
        "enrolled at 101"
    );
    let submit = |code: String, key: SubjectKey| {
        let (store, v) = (store.clone(), v.clone());
        tokio::spawn(async move { v.verify(&*store, &key, &code).await.unwrap() })
    };
    let mut last = 100;
    for (round, n) in [2usize; 10].into_iter().chain([16]).enumerate() {
        // Skip ahead by 0–2 counters, inside the window.
        let counter = last + 1 + (round as u64 % 3);
        let code = v.hotp().generate(counter);
        let tasks: Vec<_> = (0..n).map(|_| submit(code.clone(), key.clone())).collect();
        let mut accepted = 0;
        for t in tasks {
            match t.await.unwrap() {
                HotpOutcome::Accepted { counter: c } => {
                    assert_eq!(c, counter);
                    accepted += 1;
                }
                HotpOutcome::Reused => {}
                other => panic!("a valid code submitted {n} times at once: {other:?}"),
            }
        }
        assert_eq!(
            accepted, 1,
            "round {round}: one of {n} concurrent submissions"
        );
        last = counter;
        assert_eq!(store.last_step(&key).await.unwrap(), Some(last));
    }
}
