//! Properties: a wrong code is always refused; attempts never exceed the maximum under
//! generated interleavings of concurrent answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use palisade_otp::{
    ChallengeState, ChallengeStore, CheckOutcome, HmacAlgorithm, Hotp, HotpOutcome, HotpVerifier,
    MemoryChallengeStore, NewChallenge, OtpSecret, Pepper, Peppers, SubjectKey, Totp,
};
use proptest::prelude::*;
use secrecy::SecretBox;

fn peppers() -> Peppers {
    Peppers::new(Pepper::new("p1", SecretBox::new(Box::from([9u8; 32].as_slice()))).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any code other than the issued one is refused, with one attempt fewer.
    #[test]
    fn any_wrong_code_is_refused(code in "[0-9]{6}", guess in "\\PC{0,12}") {
        prop_assume!(guess.trim() != code);
        let p = peppers();
        let store = MemoryChallengeStore::new();
        let key = SubjectKey::new("t", "login", "s");
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let new = NewChallenge::new(key.clone(), p.hash(&key, code.as_bytes()), Duration::from_secs(60), 3).unwrap();
            store.issue(new, Duration::ZERO).await.unwrap();
        });
        let out = store.check_and_count_now(&key, &p.candidates(&key, guess.as_bytes())).unwrap();
        prop_assert_eq!(out, CheckOutcome::Wrong { attempts_left: 2 });
    }

    /// Any wrong HOTP/TOTP code (for the algorithm, digits and time) is refused.
    #[test]
    fn any_wrong_totp_code_is_refused(
        secret in proptest::collection::vec(any::<u8>(), 16..64),
        time in 0u64..4_000_000_000,
        digits in 6u8..=8,
        alg in 0usize..3,
        guess in 0u32..100_000_000,
    ) {
        let algorithm = [HmacAlgorithm::Sha1, HmacAlgorithm::Sha256, HmacAlgorithm::Sha512][alg];
        let hotp = Hotp::new(OtpSecret::from_bytes(&secret), algorithm, digits).unwrap();
        let totp = Totp::new(hotp, 30, 1).unwrap();
        let guess = format!("{:0width$}", guess % 10u32.pow(u32::from(digits)), width = usize::from(digits));
        let window: Vec<String> = (0..3).map(|d| totp.hotp().generate((time / 30 + d).saturating_sub(1))).collect();
        prop_assume!(!window.contains(&guess));
        prop_assert_eq!(totp.matching_step(&guess, time), None);
        prop_assert!(totp.matching_step(&totp.generate_at(time), time).is_some());
    }

    /// Interleavings: `tasks` concurrent answerers, each a generated list of right/wrong
    /// answers, against `max` attempts: at most `max` answers are compared (Wrong or
    /// Verified), at most one is Verified, and the recorded attempts never exceed `max`.
    #[test]
    fn attempts_never_exceed_the_maximum(
        max in 1u32..6,
        plans in proptest::collection::vec(proptest::collection::vec(any::<bool>(), 1..8), 2..12),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).build().unwrap();
        let p = Arc::new(peppers());
        let store = Arc::new(MemoryChallengeStore::new());
        let key = SubjectKey::new("t", "login", "s");
        rt.block_on(async {
            let new = NewChallenge::new(key.clone(), p.hash(&key, b"555555"), Duration::from_secs(60), max).unwrap();
            store.issue(new, Duration::ZERO).await.unwrap();
            let mut tasks = Vec::new();
            for plan in plans {
                let (store, p, key) = (store.clone(), p.clone(), key.clone());
                tasks.push(tokio::spawn(async move {
                    let mut outs = Vec::new();
                    for right in plan {
                        let code: &[u8] = if right { b"555555" } else { b"000000" };
                        outs.push(store.check_and_count(&key, &p.candidates(&key, code)).await.unwrap());
                        tokio::task::yield_now().await;
                    }
                    outs
                }));
            }
            let mut compared = 0u32;
            let mut verified = 0u32;
            for t in tasks {
                for o in t.await.unwrap() {
                    match o {
                        CheckOutcome::Verified => { compared += 1; verified += 1; }
                        CheckOutcome::Wrong { .. } => compared += 1,
                        CheckOutcome::Locked | CheckOutcome::Consumed => {}
                        other => panic!("{other:?}"),
                    }
                }
            }
            let c = store.get(&key).await.unwrap().unwrap();
            assert!(compared <= max, "{compared} comparisons > {max}");
            assert_eq!(compared, c.attempts_used);
            assert!(verified <= 1);
            assert!(c.attempts_used <= max);
            assert_eq!(c.state == ChallengeState::Consumed, verified == 1);
        });
    }

    /// HOTP look-ahead: with `last` accepted (or none), the code of counter `target` is
    /// accepted exactly when `last < target ≤ last + look_ahead` (`target < look_ahead` with
    /// none), is a reuse when it is `last`'s, and is refused otherwise; once accepted it is
    /// never accepted again.
    #[test]
    fn hotp_accepts_exactly_the_window(
        secret in proptest::collection::vec(any::<u8>(), 16..40),
        digits in 6u8..=8,
        last in proptest::option::of(0u64..1_000),
        look_ahead in 1u64..=20,
        target in 0u64..1_040,
    ) {
        let hotp = Hotp::new(OtpSecret::from_bytes(&secret), HmacAlgorithm::Sha1, digits).unwrap();
        let v = HotpVerifier::new(hotp).with_look_ahead(look_ahead).unwrap();
        let code = v.hotp().generate(target);
        // Leave out the rare case of the target's code equal to another compared counter's.
        let compared: Vec<u64> = v.window(last).chain(last).filter(|&c| c != target).collect();
        prop_assume!(compared.iter().all(|&c| v.hotp().generate(c) != code));
        let in_window = v.window(last).contains(&target);
        let store = MemoryChallengeStore::new();
        let key = SubjectKey::new("t", "hotp", "s");
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            if let Some(l) = last {
                assert!(store.accept_step(&key, l).await.unwrap());
            }
            let out = v.verify(&store, &key, &code).await.unwrap();
            if in_window {
                assert_eq!(out, HotpOutcome::Accepted { counter: target });
                assert_eq!(store.last_step(&key).await.unwrap(), Some(target));
                assert_eq!(v.verify(&store, &key, &code).await.unwrap(), HotpOutcome::Reused);
            } else if last == Some(target) {
                assert_eq!(out, HotpOutcome::Reused);
            } else {
                assert_eq!(out, HotpOutcome::Wrong);
                assert_eq!(store.last_step(&key).await.unwrap(), last, "nothing recorded");
            }
        });
    }

    /// Any sequence of submitted codes, right or wrong, ahead or behind: the accepted
    /// counters strictly increase, each within the window of the one before, and the store
    /// ends on the last of them.
    #[test]
    fn accepted_hotp_counters_strictly_increase(
        offsets in proptest::collection::vec(-5i64..15, 1..40),
    ) {
        let hotp = Hotp::new(OtpSecret::from_bytes(b"12345678901234567890"), HmacAlgorithm::Sha1, 6).unwrap();
        let v = HotpVerifier::new(hotp);
        let store = MemoryChallengeStore::new();
        let key = SubjectKey::new("t", "hotp", "s");
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let mut cursor = 0i64;
            let mut accepted: Vec<u64> = Vec::new();
            for off in offsets {
                let counter = u64::try_from((cursor + off).max(0)).unwrap();
                cursor = cursor.max(i64::try_from(counter).unwrap());
                match v.verify(&store, &key, &v.hotp().generate(counter)).await.unwrap() {
                    HotpOutcome::Accepted { counter: c } => {
                        if let Some(&prev) = accepted.last() {
                            assert!(prev < c && c <= prev + v.look_ahead(), "{prev} then {c}");
                        }
                        accepted.push(c);
                    }
                    HotpOutcome::Reused | HotpOutcome::Wrong => {}
                    other => panic!("{other:?}"),
                }
            }
            assert_eq!(store.last_step(&key).await.unwrap(), accepted.last().copied());
        });
    }
}
