//! The small value types of `palisade-otp` read as documented: code policies, subject keys,
//! check outcomes. Written from the mutation-testing survivors (`docs/mutants.md`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use palisade_otp::{
    AttemptLimit, ChallengePolicy, ChallengeState, ChallengeStore, Challenges, CheckOutcome,
    CodeHash, CodePolicy, HmacAlgorithm, Hotp, KeyUri, MAX_PHC_BYTES, MAX_URI_LEN,
    MemoryChallengeStore, OtpError, OtpSecret, PasswordError, PasswordPolicy, Passwords, Pepper,
    Peppers, SubjectKey, Totp, issue_recovery_codes,
};
use palisade_ratelimit::{
    AlgorithmKind, Limit, ManualClock, MemoryStore, Policy as RatePolicy, Quota, Timestamp,
};
use secrecy::{ExposeSecret, SecretString};

/// A memory store on a manual clock, and a pepper.
fn fixture() -> (Arc<ManualClock>, Arc<MemoryChallengeStore>, Arc<Peppers>) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_800_000_000)));
    let store = Arc::new(MemoryChallengeStore::with_clock(clock.clone()));
    let peppers = Arc::new(Peppers::new(Pepper::generate("p1").unwrap()));
    (clock, store, peppers)
}

#[test]
fn a_policy_keeps_its_length() {
    for length in [4, 6, 8, 10] {
        assert_eq!(CodePolicy::digits(length).unwrap().length(), length);
    }
    for length in [11, 16, 32] {
        assert_eq!(CodePolicy::crockford(length).unwrap().length(), length);
    }
}

/// Generated digit codes use every digit about equally (rejection sampling over the OS
/// generator's bytes): 1000 codes of 6 digits, each digit expected 600 times; fewer than 450
/// or more than 750 is more than 6 standard deviations away.
#[test]
fn generated_digits_are_uniform() {
    let policy = CodePolicy::digits(6).unwrap();
    let mut counts = [0u32; 10];
    for _ in 0..1000 {
        let code = policy.generate().unwrap();
        let code = code.expose_secret();
        assert_eq!(code.len(), 6);
        for c in code.chars() {
            counts[c.to_digit(10).unwrap() as usize] += 1;
        }
    }
    for (digit, n) in counts.iter().enumerate() {
        assert!((450..=750).contains(n), "digit {digit}: {n} of 6000");
    }
}

/// Crockford codes likewise use all 32 symbols (1000 codes of 16: 500 each expected).
#[test]
fn generated_crockford_symbols_are_uniform() {
    let policy = CodePolicy::crockford(16).unwrap();
    let mut counts = std::collections::HashMap::new();
    for _ in 0..1000 {
        for c in policy.generate().unwrap().expose_secret().chars() {
            *counts.entry(c).or_insert(0u32) += 1;
        }
    }
    assert_eq!(counts.len(), 32, "{counts:?}");
    assert!(
        counts.values().all(|n| (350..=650).contains(n)),
        "{counts:?}"
    );
}

/// The subject (often a phone number) never appears in a key's `Debug` form; the tenant and
/// the purpose do.
#[test]
fn a_subject_key_hides_its_subject() {
    let key = SubjectKey::new("acme", "sign-in", "+14155550123");
    let debug = format!("{key:?}");
    assert!(
        debug.contains("acme") && debug.contains("sign-in"),
        "{debug}"
    );
    assert!(!debug.contains("4155550123"), "{debug}");
}

#[test]
fn only_verified_is_verified() {
    assert!(CheckOutcome::Verified.is_verified());
    for other in [
        CheckOutcome::Wrong { attempts_left: 2 },
        CheckOutcome::Wrong { attempts_left: 0 },
        CheckOutcome::Locked,
        CheckOutcome::Expired,
        CheckOutcome::Consumed,
        CheckOutcome::NotFound,
    ] {
        assert!(!other.is_verified(), "{other:?}");
    }
}

/// HOTP and TOTP keep the parameters they were built with.
#[test]
fn generators_keep_their_parameters() {
    let secret = || OtpSecret::from_bytes(b"12345678901234567890");
    for (algorithm, digits) in [
        (HmacAlgorithm::Sha1, 6),
        (HmacAlgorithm::Sha256, 8),
        (HmacAlgorithm::Sha512, 7),
    ] {
        let hotp = Hotp::new(secret(), algorithm, digits).unwrap();
        assert_eq!((hotp.algorithm(), hotp.digits()), (algorithm, digits));
        let totp = Totp::new(hotp, 45, 1).unwrap();
        assert_eq!(totp.step(), 45);
        assert_eq!(totp.hotp().digits(), digits);
    }
}

/// An issuer keeps its policy, and its `Debug` form shows the policy and whether issuing is
/// rate-limited (never the store's contents or the peppers).
#[test]
fn an_issuer_shows_its_policy() {
    let policy = ChallengePolicy {
        ttl: Duration::from_secs(300),
        max_attempts: 5,
        ..ChallengePolicy::default()
    };
    let store = Arc::new(MemoryChallengeStore::new());
    let peppers = Arc::new(Peppers::new(Pepper::generate("p1").unwrap()));
    let challenges = Challenges::new(store.clone(), peppers, policy).unwrap();
    assert_eq!(challenges.policy(), &policy);
    let debug = format!("{challenges:?}");
    assert!(debug.starts_with("Challenges {"), "{debug}");
    assert!(
        debug.contains("max_attempts: 5") && debug.contains("rate_limited: false"),
        "{debug}"
    );
    assert_eq!(format!("{store:?}"), "MemoryChallengeStore { .. }");
}

/// `sweep` forgets a challenge only once both its expiry and its issue cooldown are past (at
/// the exact instant of the later one): an expired challenge still in its cooldown keeps
/// refusing a new issue. It returns how many it forgot.
#[tokio::test]
async fn a_sweep_keeps_what_still_throttles_or_answers() {
    let (clock, store, peppers) = fixture();
    let alice = SubjectKey::new("acme", "login", "+14389007409");
    let bob = SubjectKey::new("acme", "login", "+14389007410");

    // Alice's challenge expires (60 s) before its cooldown ends (300 s); Bob's cooldown (60 s)
    // ends before it expires (300 s). Both issued at the same instant.
    let short_ttl = ChallengePolicy {
        ttl: Duration::from_secs(60),
        cooldown: Duration::from_secs(300),
        ..ChallengePolicy::default()
    };
    let long_ttl = ChallengePolicy {
        ttl: Duration::from_secs(300),
        cooldown: Duration::from_secs(60),
        ..ChallengePolicy::default()
    };
    let short = Challenges::new(store.clone(), peppers.clone(), short_ttl).unwrap();
    let long = Challenges::new(store.clone(), peppers, long_ttl).unwrap();
    short.issue(&alice).await.unwrap();
    long.issue(&bob).await.unwrap();
    assert_eq!(store.sweep().unwrap(), 0);

    clock.advance(Duration::from_secs(61));
    assert_eq!(
        store.sweep().unwrap(),
        0,
        "one expired in its cooldown, one live: kept"
    );
    assert!(matches!(
        short.issue(&alice).await,
        Err(OtpError::Cooldown { .. })
    ));
    assert!(store.get(&bob).await.unwrap().is_some());

    // At exactly 300 s both are past both instants: forgotten, and counted.
    clock.advance(Duration::from_secs(239));
    assert_eq!(store.sweep().unwrap(), 2);
    assert!(store.get(&alice).await.unwrap().is_none());

    // One forgotten of two: the count is the one forgotten.
    short.issue(&alice).await.unwrap();
    long.issue(&bob).await.unwrap();
    clock.advance(Duration::from_secs(300));
    long.issue(&SubjectKey::new("acme", "login", "carol"))
        .await
        .unwrap();
    assert_eq!(store.sweep().unwrap(), 2);
    assert!(
        store
            .get(&SubjectKey::new("acme", "login", "carol"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.sweep().unwrap(), 0);
}

/// A challenge read back (`get`) reports `Expired` from its expiry instant on, even when no
/// one tried a code (which would have recorded the state).
#[tokio::test]
async fn an_unanswered_challenge_reads_as_expired_from_its_expiry() {
    let (clock, store, peppers) = fixture();
    let policy = ChallengePolicy {
        ttl: Duration::from_secs(60),
        ..ChallengePolicy::default()
    };
    let challenges = Challenges::new(store.clone(), peppers, policy).unwrap();
    let key = SubjectKey::new("acme", "login", "dave");
    challenges.issue(&key).await.unwrap();
    let state = || async { store.get(&key).await.unwrap().unwrap().state };
    assert_eq!(state().await, ChallengeState::Pending);
    clock.advance(Duration::from_secs(59));
    assert_eq!(state().await, ChallengeState::Pending);
    clock.advance(Duration::from_secs(1));
    assert_eq!(state().await, ChallengeState::Expired);
    // A consumed challenge stays consumed, before and after its expiry.
    let other = SubjectKey::new("acme", "login", "erin");
    let fresh = challenges.issue(&other).await.unwrap();
    assert!(
        challenges
            .verify(&other, fresh.code.expose_secret())
            .await
            .unwrap()
            .is_verified()
    );
    assert_eq!(
        store.get(&other).await.unwrap().unwrap().state,
        ChallengeState::Consumed
    );
    clock.advance(Duration::from_secs(120));
    assert_eq!(
        store.get(&other).await.unwrap().unwrap().state,
        ChallengeState::Consumed
    );
}

/// Issuing sweeps the store once every 1024 issues, so a store nobody sweeps stays bounded:
/// an expired challenge is still there after 1023 issues and gone after the 1024th.
#[tokio::test]
async fn every_1024th_issue_sweeps() {
    let (clock, store, peppers) = fixture();
    let policy = ChallengePolicy {
        ttl: Duration::from_secs(60),
        cooldown: Duration::ZERO,
        ..ChallengePolicy::default()
    };
    let challenges = Challenges::new(store.clone(), peppers, policy).unwrap();
    let old = SubjectKey::new("acme", "login", "old");
    challenges.issue(&old).await.unwrap();
    clock.advance(Duration::from_secs(61));
    for i in 2..=1023 {
        challenges
            .issue(&SubjectKey::new("acme", "login", format!("s{i}")))
            .await
            .unwrap();
    }
    assert!(
        store.get(&old).await.unwrap().is_some(),
        "1023 issues: no sweep yet"
    );
    challenges
        .issue(&SubjectKey::new("acme", "login", "s1024"))
        .await
        .unwrap();
    assert!(
        store.get(&old).await.unwrap().is_none(),
        "the 1024th issue swept it"
    );
}

/// A keyring finds its current and previous peppers by id, and refuses a second pepper of
/// an id it holds. A stored hash keeps its pepper id and bytes.
#[test]
fn peppers_by_id_and_hashes_by_parts() {
    let peppers = Peppers::new(Pepper::generate("p2").unwrap())
        .with_previous(Pepper::generate("p1").unwrap())
        .unwrap();
    assert_eq!(peppers.get("p2").map(Pepper::id), Some("p2"));
    assert_eq!(peppers.get("p1").map(Pepper::id), Some("p1"));
    assert!(peppers.get("p3").is_none());
    let twice = Peppers::new(Pepper::generate("p2").unwrap())
        .with_previous(Pepper::generate("p2").unwrap());
    assert!(matches!(twice, Err(OtpError::InvalidPepper(_))));
    let key = SubjectKey::new("acme", "login", "alice");
    let hash = peppers.hash(&key, b"123456");
    assert_eq!(hash.pepper_id(), "p2");
    assert_ne!(hash.mac(), &[0; 32]);
    let stored = CodeHash::from_parts(hash.pepper_id(), *hash.mac());
    assert_eq!((stored.pepper_id(), stored.mac()), ("p2", hash.mac()));
    let fixed = CodeHash::from_parts("p9", [7; 32]);
    assert_eq!((fixed.pepper_id(), fixed.mac()), ("p9", &[7; 32]));
}

/// 1 to 100 recovery codes: exactly 100 are issued, 101 are refused.
#[tokio::test]
async fn one_hundred_recovery_codes_at_most() {
    let (_clock, store, peppers) = fixture();
    let key = SubjectKey::new("acme", "login", "alice");
    let policy = CodePolicy::crockford(16).unwrap();
    let codes = issue_recovery_codes(&*store, &peppers, &key, policy, 100)
        .await
        .unwrap();
    assert_eq!(codes.len(), 100);
    assert!(matches!(
        issue_recovery_codes(&*store, &peppers, &key, policy, 101).await,
        Err(OtpError::InvalidPolicy(_))
    ));
}

/// The limits on stored forms are inclusive: a PHC string of exactly `MAX_PHC_BYTES` and a key
/// URI of exactly `MAX_URI_LEN` bytes are read (and judged on their content); one byte more
/// is refused for its length.
#[test]
fn stored_forms_of_exactly_the_limit_are_read() {
    let passwords = Passwords::new(PasswordPolicy::new(64, 1, 1).unwrap());
    let password = SecretString::from("pw");
    let too_long = |r: Result<bool, PasswordError>| matches!(r, Err(PasswordError::Malformed { ref reason }) if reason.starts_with("longer than"));
    let phc = "x".repeat(MAX_PHC_BYTES);
    assert!(!too_long(passwords.verify(&password, &phc)));
    assert!(too_long(passwords.verify(&password, &format!("{phc}x"))));

    let base = "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&x=";
    let uri = format!("{base}{}", "a".repeat(MAX_URI_LEN - base.len()));
    assert_eq!(uri.len(), MAX_URI_LEN);
    assert!(KeyUri::parse(&uri).is_ok());
    assert!(matches!(
        KeyUri::parse(&format!("{uri}a")),
        Err(OtpError::InvalidUri("longer than 4096 bytes"))
    ));
}

/// An attempt limit shows its policy, never the store.
#[test]
fn an_attempt_limit_shows_its_policy() {
    let policy = RatePolicy::single(
        Limit::new(
            "otp-attempts",
            AlgorithmKind::Gcra,
            Quota::per_minute(5).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let limit = AttemptLimit::new(Arc::new(MemoryStore::new()), Arc::new(policy));
    let debug = format!("{limit:?}");
    assert!(
        debug.starts_with("AttemptLimit { policy: ") && debug.contains("otp-attempts"),
        "{debug}"
    );
}
