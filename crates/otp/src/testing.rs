//! The conformance suite every [`ChallengeStore`] must pass (feature `testing`).
//!
//! The same functions run against the memory store here and, later, against Redis and
//! Postgres stores: issue (replace, cooldown), check-and-count (right, wrong, locked,
//! expired, consumed, unknown, pepper rotation), `accept_step` and `last_step` (and HOTP
//! look-ahead verification through them) and recovery codes, each alone and under
//! concurrency (100 concurrent wrong guesses against 3 attempts: exactly 3 comparisons;
//! concurrent right answers: exactly one success; concurrent submissions of one HOTP code:
//! exactly one accepted). They use real time (the
//! expiry check sleeps 1.2 s) so stores deciding with their server's clock are tested as they
//! run, and every call works under a fresh random tenant, so runs against a shared server
//! never collide.
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! use palisade_otp::{MemoryChallengeStore, testing};
//!
//! testing::run_all(Arc::new(MemoryChallengeStore::new())).await;
//! # }
//! ```
//!
//! Each check panics with a message naming what failed, like any test assertion.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretBox;

use crate::challenge::{ChallengeState, CheckOutcome, NewChallenge, RecoveryOutcome, SubjectKey};
use crate::error::OtpError;
use crate::pepper::{CodeHash, Pepper, Peppers};
use crate::store::ChallengeStore;

mod steps;
pub mod throughput;

pub use steps::{
    concurrent_hotp_submissions, hotp_look_ahead, last_step_reads_accepted_steps, steps_increase,
};

const TTL: Duration = Duration::from_secs(60);

/// A key under a tenant unique to this call: `test:<label>:<random hex>`.
pub fn unique_key(label: &str, purpose: &str) -> SubjectKey {
    use std::hash::{BuildHasher, RandomState};
    let a = RandomState::new().hash_one(label);
    let b = RandomState::new().hash_one(std::time::SystemTime::now());
    SubjectKey::new(
        format!("test:{label}:{a:016x}{b:016x}"),
        purpose,
        "+15550100",
    )
}

fn pepper(id: &str, byte: u8) -> Pepper {
    Pepper::new(id, SecretBox::new(Box::from([byte; 32].as_slice()))).unwrap()
}

/// A keyring for the suite: current pepper `p1`.
pub fn test_peppers() -> Peppers {
    Peppers::new(pepper("p1", 0x11))
}

async fn issue<S: ChallengeStore + ?Sized>(
    store: &S,
    peppers: &Peppers,
    key: &SubjectKey,
    code: &str,
    max_attempts: u32,
    ttl: Duration,
) {
    let new = NewChallenge::new(
        key.clone(),
        peppers.hash(key, code.as_bytes()),
        ttl,
        max_attempts,
    )
    .unwrap();
    let c = store.issue(new, Duration::ZERO).await.unwrap();
    assert_eq!(
        c.state,
        ChallengeState::Pending,
        "a new challenge is pending"
    );
    assert_eq!(c.attempts_used, 0);
    assert_eq!(c.max_attempts, max_attempts);
}

async fn check<S: ChallengeStore + ?Sized>(
    store: &S,
    peppers: &Peppers,
    key: &SubjectKey,
    code: &str,
) -> CheckOutcome {
    store
        .check_and_count(key, &peppers.candidates(key, code.as_bytes()))
        .await
        .unwrap()
}

/// Wrong answers say how many attempts are left; the right one verifies once; then
/// `Consumed`, without counting.
pub async fn right_answer_consumes<S: ChallengeStore + ?Sized>(store: &S) {
    let p = test_peppers();
    let key = unique_key("right", "login");
    issue(store, &p, &key, "123456", 3, TTL).await;
    assert_eq!(
        check(store, &p, &key, "654321").await,
        CheckOutcome::Wrong { attempts_left: 2 }
    );
    assert_eq!(
        check(store, &p, &key, "123456").await,
        CheckOutcome::Verified
    );
    assert_eq!(
        check(store, &p, &key, "123456").await,
        CheckOutcome::Consumed
    );
    let c = store.get(&key).await.unwrap().unwrap();
    assert_eq!(c.state, ChallengeState::Consumed);
    assert_eq!(
        c.attempts_used, 2,
        "a consumed challenge counts nothing more"
    );
}

/// Three wrong answers lock (attempts left 2, 1, 0); then the right code is `Locked`.
pub async fn wrong_answers_lock<S: ChallengeStore + ?Sized>(store: &S) {
    let p = test_peppers();
    let key = unique_key("lock", "delivery");
    issue(store, &p, &key, "4321", 3, TTL).await;
    for left in [2, 1, 0] {
        assert_eq!(
            check(store, &p, &key, "0000").await,
            CheckOutcome::Wrong {
                attempts_left: left
            }
        );
    }
    assert_eq!(check(store, &p, &key, "4321").await, CheckOutcome::Locked);
    let c = store.get(&key).await.unwrap().unwrap();
    assert_eq!(c.state, ChallengeState::Locked);
    assert_eq!(c.attempts_used, 3);
}

/// An expired challenge says so and counts nothing; an unknown key is `NotFound`.
pub async fn expired_and_unknown<S: ChallengeStore + ?Sized>(store: &S) {
    let p = test_peppers();
    let key = unique_key("expiry", "login");
    issue(store, &p, &key, "111111", 3, Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(
        check(store, &p, &key, "111111").await,
        CheckOutcome::Expired
    );
    if let Some(c) = store.get(&key).await.unwrap() {
        assert_eq!(c.attempts_used, 0, "an expired challenge counts nothing");
    }
    let other = unique_key("unknown", "login");
    assert_eq!(
        check(store, &p, &other, "111111").await,
        CheckOutcome::NotFound
    );
    assert!(store.get(&other).await.unwrap().is_none());
}

/// A new challenge replaces the old (whose code stops working, with fresh attempts); a
/// second issue within the cooldown is refused with the time left.
pub async fn replace_and_cooldown<S: ChallengeStore + ?Sized>(store: &S) {
    let p = test_peppers();
    let key = unique_key("replace", "login");
    issue(store, &p, &key, "222222", 3, TTL).await;
    assert_eq!(
        check(store, &p, &key, "000000").await,
        CheckOutcome::Wrong { attempts_left: 2 }
    );
    issue(store, &p, &key, "333333", 3, TTL).await;
    assert_eq!(
        check(store, &p, &key, "222222").await,
        CheckOutcome::Wrong { attempts_left: 2 },
        "the old code no longer works; the new challenge has all its attempts"
    );
    assert_eq!(
        check(store, &p, &key, "333333").await,
        CheckOutcome::Verified
    );

    let key = unique_key("cooldown", "login");
    let new =
        |code: &str| NewChallenge::new(key.clone(), p.hash(&key, code.as_bytes()), TTL, 3).unwrap();
    store
        .issue(new("444444"), Duration::from_secs(60))
        .await
        .unwrap();
    match store.issue(new("555555"), Duration::from_secs(60)).await {
        Err(OtpError::Cooldown { retry_after }) => {
            assert!(
                retry_after > Duration::from_secs(50) && retry_after <= Duration::from_secs(60)
            );
        }
        other => panic!("second issue within the cooldown: {other:?}"),
    }
    assert_eq!(
        check(store, &p, &key, "444444").await,
        CheckOutcome::Verified,
        "the refused issue left the live challenge alone"
    );
}

/// A hash made under a previous pepper verifies with a keyring that still holds it, and
/// never once the pepper is retired. A hash bound to one key does not verify for another.
pub async fn pepper_rotation_and_binding<S: ChallengeStore + ?Sized>(store: &S) {
    let old = Peppers::new(pepper("p-old", 0x22));
    let key = unique_key("rotation", "login");
    issue(store, &old, &key, "777777", 3, TTL).await;
    let rotated = Peppers::new(pepper("p-new", 0x33))
        .with_previous(pepper("p-old", 0x22))
        .unwrap();
    assert_eq!(
        check(store, &rotated, &key, "777777").await,
        CheckOutcome::Verified
    );

    let key = unique_key("retired", "login");
    issue(store, &old, &key, "777777", 3, TTL).await;
    let retired = Peppers::new(pepper("p-new", 0x33));
    assert_eq!(
        check(store, &retired, &key, "777777").await,
        CheckOutcome::Wrong { attempts_left: 2 }
    );

    // The same code hashed for another subject is another hash.
    let a = unique_key("bind", "login");
    let b = a.with_purpose("delivery");
    let hash_for_b: CodeHash = old.hash(&b, b"888888");
    let new = NewChallenge::new(a.clone(), hash_for_b, TTL, 3).unwrap();
    store.issue(new, Duration::ZERO).await.unwrap();
    assert_eq!(
        check(store, &old, &a, "888888").await,
        CheckOutcome::Wrong { attempts_left: 2 }
    );
}

/// 100 concurrent wrong guesses against 3 attempts: exactly 3 are compared (answers
/// `Wrong` with 2, 1 and 0 left), 97 are `Locked`; the right code afterwards is `Locked`.
pub async fn concurrent_wrong_guesses<S: ChallengeStore + 'static>(store: Arc<S>) {
    let p = Arc::new(test_peppers());
    let key = unique_key("flood", "login");
    issue(&*store, &p, &key, "246810", 3, TTL).await;
    let mut tasks = Vec::new();
    for i in 0..100u32 {
        let (store, p, key) = (store.clone(), p.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let guess = format!("{:06}", 900_000 + i);
            check(&*store, &p, &key, &guess).await
        }));
    }
    let mut wrong = Vec::new();
    let mut locked = 0;
    for t in tasks {
        match t.await.unwrap() {
            CheckOutcome::Wrong { attempts_left } => wrong.push(attempts_left),
            CheckOutcome::Locked => locked += 1,
            other => panic!("unexpected answer to a wrong guess: {other:?}"),
        }
    }
    wrong.sort_unstable();
    assert_eq!(wrong, vec![0, 1, 2], "exactly 3 comparisons");
    assert_eq!(locked, 97);
    assert_eq!(
        check(&*store, &p, &key, "246810").await,
        CheckOutcome::Locked
    );
    assert_eq!(store.get(&key).await.unwrap().unwrap().attempts_used, 3);
}

/// 20 concurrent right answers: exactly one `Verified`, the others `Consumed`.
pub async fn concurrent_right_answers<S: ChallengeStore + 'static>(store: Arc<S>) {
    let p = Arc::new(test_peppers());
    let key = unique_key("race", "delivery");
    issue(&*store, &p, &key, "135790", 3, TTL).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (store, p, key) = (store.clone(), p.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            check(&*store, &p, &key, "135790").await
        }));
    }
    let mut verified = 0;
    for t in tasks {
        match t.await.unwrap() {
            CheckOutcome::Verified => verified += 1,
            CheckOutcome::Consumed => {}
            other => panic!("unexpected answer to a right code: {other:?}"),
        }
    }
    assert_eq!(verified, 1, "exactly one success");
}

/// Recovery codes: each works once; a replaced set forgets the old codes; concurrent uses of
/// one code, exactly one succeeds.
pub async fn recovery_codes_single_use<S: ChallengeStore + 'static>(store: Arc<S>) {
    let p = Arc::new(test_peppers());
    let key = unique_key("recovery", "recovery");
    let hashes = ["AAAA1", "BBBB2", "CCCC3"]
        .iter()
        .map(|c| p.hash(&key, c.as_bytes()))
        .collect();
    store.replace_recovery_codes(&key, hashes).await.unwrap();
    let use_code = |code: &'static str| {
        let (store, p, key) = (store.clone(), p.clone(), key.clone());
        async move {
            store
                .consume_recovery_code(&key, &p.candidates(&key, code.as_bytes()))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        use_code("BBBB2").await,
        RecoveryOutcome::Consumed { remaining: 2 }
    );
    assert_eq!(use_code("BBBB2").await, RecoveryOutcome::NoMatch);
    assert_eq!(use_code("ZZZZ9").await, RecoveryOutcome::NoMatch);
    let tasks: Vec<_> = (0..10).map(|_| tokio::spawn(use_code("AAAA1"))).collect();
    let mut consumed = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), RecoveryOutcome::Consumed { .. }) {
            consumed += 1;
        }
    }
    assert_eq!(consumed, 1, "one of 10 concurrent uses of a recovery code");
    store
        .replace_recovery_codes(&key, vec![p.hash(&key, b"DDDD4")])
        .await
        .unwrap();
    assert_eq!(
        use_code("CCCC3").await,
        RecoveryOutcome::NoMatch,
        "replaced set"
    );
    assert_eq!(
        use_code("DDDD4").await,
        RecoveryOutcome::Consumed { remaining: 0 }
    );
}

/// Runs every check of the suite against `store`.
pub async fn run_all<S: ChallengeStore + 'static>(store: Arc<S>) {
    right_answer_consumes(&*store).await;
    wrong_answers_lock(&*store).await;
    replace_and_cooldown(&*store).await;
    pepper_rotation_and_binding(&*store).await;
    concurrent_wrong_guesses(store.clone()).await;
    concurrent_right_answers(store.clone()).await;
    steps_increase(store.clone()).await;
    last_step_reads_accepted_steps(&*store).await;
    hotp_look_ahead(&*store).await;
    concurrent_hotp_submissions(store.clone()).await;
    recovery_codes_single_use(store.clone()).await;
    expired_and_unknown(&*store).await;
}
