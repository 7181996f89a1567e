//! The issuing side (rate limit, cooldown, replacement, expiry on a manual clock), TOTP with
//! no reuse, and recovery codes, through the public API.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use palisade_otp::{
    ChallengePolicy, ChallengeState, ChallengeStore, Challenges, CheckOutcome, CodePolicy,
    HmacAlgorithm, Hotp, MemoryChallengeStore, OtpError, OtpSecret, Pepper, Peppers,
    RecoveryOutcome, SubjectKey, Totp, TotpOutcome, issue_recovery_codes, use_recovery_code,
};
use palisade_ratelimit::{Limit, ManualClock, MemoryStore, Policy, Quota, Timestamp};
use secrecy::ExposeSecret;

fn setup(policy: ChallengePolicy) -> (Arc<ManualClock>, Arc<MemoryChallengeStore>, Challenges) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_800_000_000)));
    let store = Arc::new(MemoryChallengeStore::with_clock(clock.clone()));
    let peppers = Arc::new(Peppers::new(Pepper::generate("p1").unwrap()));
    let challenges = Challenges::new(store.clone(), peppers, policy).unwrap();
    (clock, store, challenges)
}

fn other(code: &str) -> String {
    code.chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect()
}

#[tokio::test]
async fn issue_cooldown_replace_and_expiry() {
    let (clock, store, challenges) = setup(ChallengePolicy::default());
    let key = SubjectKey::new("acme", "login", "+14389007409");
    let first = challenges.issue(&key).await.unwrap();
    assert_eq!(first.code.expose_secret().len(), 6);
    assert_eq!(
        first.challenge.expires_at,
        Timestamp::from_unix_secs(1_800_000_000 + 1_800)
    );
    match challenges.issue(&key).await {
        Err(OtpError::Cooldown { retry_after }) => assert_eq!(retry_after, Duration::from_secs(60)),
        other => panic!("{other:?}"),
    }
    clock.advance(Duration::from_secs(61));
    let second = challenges.issue(&key).await.unwrap();
    assert_ne!(first.challenge.id, second.challenge.id);
    let old = first.code.expose_secret();
    if old != second.code.expose_secret() {
        assert_eq!(
            challenges.verify(&key, old).await.unwrap(),
            CheckOutcome::Wrong { attempts_left: 2 }
        );
    }
    // Past the 30 minutes: expired, whatever the code, and nothing compared.
    clock.advance(Duration::from_secs(1_800));
    assert_eq!(
        challenges
            .verify(&key, second.code.expose_secret())
            .await
            .unwrap(),
        CheckOutcome::Expired
    );
    assert_eq!(
        store.get(&key).await.unwrap().unwrap().state,
        ChallengeState::Expired
    );
    // Swept once past expiry and cooldown.
    assert_eq!(store.sweep().unwrap(), 1);
    assert_eq!(
        challenges.verify(&key, "123456").await.unwrap(),
        CheckOutcome::NotFound
    );
}

#[tokio::test]
async fn issue_rate_limit_reuses_palisade_ratelimit() {
    let policy = ChallengePolicy {
        cooldown: Duration::ZERO,
        ..ChallengePolicy::default()
    };
    let (clock, _store, challenges) = setup(policy);
    let limits = Arc::new(MemoryStore::with_clock(clock.clone()));
    let per_hour = Arc::new(
        Policy::single(
            Limit::new(
                "otp-per-hour",
                palisade_ratelimit::AlgorithmKind::FixedWindow,
                Quota::per_hour(3).unwrap(),
            )
            .unwrap(),
        )
        .unwrap(),
    );
    let challenges = challenges.with_issue_limit(limits, per_hour);
    let login = SubjectKey::new("acme", "login", "alice");
    let delivery = login.with_purpose("delivery");
    challenges.issue(&login).await.unwrap();
    challenges.issue(&delivery).await.unwrap();
    challenges.issue(&login).await.unwrap();
    // Per subject, across purposes: the fourth is refused.
    assert!(matches!(
        challenges.issue(&delivery).await,
        Err(OtpError::RateLimited { .. })
    ));
    // Another subject is not affected.
    challenges
        .issue(&SubjectKey::new("acme", "login", "bob"))
        .await
        .unwrap();
}

#[tokio::test]
async fn crockford_codes_verify_as_typed() {
    let policy = ChallengePolicy {
        code: CodePolicy::crockford(12).unwrap(),
        ..ChallengePolicy::default()
    };
    let (_clock, _store, challenges) = setup(policy);
    let key = SubjectKey::new("", "email", "a@example.com");
    let issued = challenges.issue(&key).await.unwrap();
    let code = issued.code.expose_secret();
    let typed = format!("{}-{}", &code[..6], &code[6..]).to_lowercase();
    assert_eq!(
        challenges.verify(&key, &typed).await.unwrap(),
        CheckOutcome::Verified
    );
    assert_eq!(
        challenges.verify(&key, &other(code)).await.unwrap(),
        CheckOutcome::Consumed
    );
}

#[tokio::test]
async fn totp_codes_are_accepted_once() {
    let store = MemoryChallengeStore::new();
    let secret = OtpSecret::generate().unwrap();
    assert_eq!(secret.expose_bytes().len(), 20);
    let totp = Totp::new(Hotp::new(secret, HmacAlgorithm::Sha1, 6).unwrap(), 30, 1).unwrap();
    let key = SubjectKey::new("acme", "totp", "alice");
    let t = 1_800_000_015;
    let code = totp.generate_at(t);
    assert_eq!(
        totp.verify(&store, &key, &code, t).await.unwrap(),
        TotpOutcome::Accepted { step: t / 30 }
    );
    assert_eq!(
        totp.verify(&store, &key, &code, t + 5).await.unwrap(),
        TotpOutcome::Reused
    );
    // The previous step's code (inside the skew window) is older than the accepted one.
    let previous = totp.generate_at(t - 30);
    assert_eq!(
        totp.verify(&store, &key, &previous, t).await.unwrap(),
        TotpOutcome::Reused
    );
    // The next step's code is accepted (clock skew of one step), then the current one is not.
    let next = totp.generate_at(t + 30);
    assert_eq!(
        totp.verify(&store, &key, &next, t).await.unwrap(),
        TotpOutcome::Accepted { step: t / 30 + 1 }
    );
    assert_eq!(
        totp.verify(&store, &key, &other(&next), t + 60)
            .await
            .unwrap(),
        TotpOutcome::Wrong
    );
    // Two steps away: outside the window.
    assert_eq!(
        totp.verify(&store, &key, &totp.generate_at(t + 90), t)
            .await
            .unwrap(),
        TotpOutcome::Wrong
    );
}

#[test]
fn otp_parameters_are_checked() {
    let s = || OtpSecret::from_bytes(&[1u8; 20]);
    assert!(Hotp::new(s(), HmacAlgorithm::Sha1, 5).is_err());
    assert!(Hotp::new(s(), HmacAlgorithm::Sha1, 9).is_err());
    assert!(Hotp::new(OtpSecret::from_bytes(&[1u8; 15]), HmacAlgorithm::Sha1, 6).is_err());
    assert!(Totp::new(Hotp::new(s(), HmacAlgorithm::Sha1, 6).unwrap(), 0, 1).is_err());
    let b32 = s().to_base32();
    assert_eq!(
        OtpSecret::from_base32(&b32.expose_secret().to_lowercase())
            .unwrap()
            .expose_bytes(),
        &[1u8; 20]
    );
    assert!(OtpSecret::from_base32("01!").is_err());
    assert!(format!("{:?}", s()).contains("REDACTED"));
}

#[tokio::test]
async fn recovery_codes_work_once() {
    let store = MemoryChallengeStore::new();
    let peppers = Peppers::new(Pepper::generate("p1").unwrap());
    let key = SubjectKey::new("acme", "login", "alice");
    let policy = CodePolicy::crockford(12).unwrap();
    let codes = issue_recovery_codes(&store, &peppers, &key, policy, 10)
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    let c = codes[3].expose_secret().to_lowercase();
    assert_eq!(
        use_recovery_code(&store, &peppers, &key, policy, &c)
            .await
            .unwrap(),
        RecoveryOutcome::Consumed { remaining: 9 }
    );
    assert_eq!(
        use_recovery_code(&store, &peppers, &key, policy, &c)
            .await
            .unwrap(),
        RecoveryOutcome::NoMatch
    );
    // Another subject's store entry does not know the code.
    let bob = SubjectKey::new("acme", "login", "bob");
    assert_eq!(
        use_recovery_code(&store, &peppers, &bob, policy, codes[0].expose_secret())
            .await
            .unwrap(),
        RecoveryOutcome::NoMatch
    );
    assert!(
        issue_recovery_codes(&store, &peppers, &key, policy, 0)
            .await
            .is_err()
    );
}

#[test]
fn debug_never_prints_secrets() {
    let p = Pepper::generate("p1").unwrap();
    assert!(format!("{p:?}").contains("REDACTED"));
    let key = SubjectKey::new("t", "login", "+14389007409");
    assert!(!format!("{key:?}").contains("4389"));
    let h = p.hash(&key, b"123456");
    assert_eq!(format!("{h:?}"), r#"CodeHash { pepper_id: "p1", .. }"#);
}
