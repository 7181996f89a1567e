#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The wrong answer that uses a challenge's last attempt emits palisade-telemetry's
//! `otp.locked` once, with the tenant and purpose and never the subject or a code.

use std::sync::Arc;

use palisade_otp::{
    ChallengePolicy, Challenges, CheckOutcome, MemoryChallengeStore, Pepper, Peppers, SubjectKey,
};
use palisade_telemetry::OTP_LOCKED;
use palisade_telemetry::testing::CapturedEvents;
use secrecy::ExposeSecret;

#[tokio::test]
async fn the_last_wrong_attempt_emits_otp_locked_once() {
    let store = Arc::new(MemoryChallengeStore::new());
    let peppers = Arc::new(Peppers::new(Pepper::generate("p1").unwrap()));
    let challenges = Challenges::new(store, peppers, ChallengePolicy::default()).unwrap();
    let key = SubjectKey::new("acme", "login", "+14389007409");
    let issued = challenges.issue(&key).await.unwrap();
    let code = issued.code.expose_secret().to_owned();
    let wrong: String = code
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();

    let log = CapturedEvents::new();
    let _guard = tracing::subscriber::set_default(log.subscriber());
    for left in [2, 1] {
        assert_eq!(
            challenges.verify(&key, &wrong).await.unwrap(),
            CheckOutcome::Wrong {
                attempts_left: left
            }
        );
    }
    assert_eq!(log.count(OTP_LOCKED), 0, "{}", log.text());
    assert_eq!(
        challenges.verify(&key, &wrong).await.unwrap(),
        CheckOutcome::Wrong { attempts_left: 0 }
    );
    // Once locked, further answers (even the right one) compare nothing and emit nothing.
    assert_eq!(
        challenges.verify(&key, &code).await.unwrap(),
        CheckOutcome::Locked
    );
    assert_eq!(log.count(OTP_LOCKED), 1, "{}", log.text());
    let text = log.text();
    assert!(text.contains(" WARN palisade_otp:"), "{text}");
    assert!(text.contains("tenant=\"acme\""), "{text}");
    assert!(text.contains("purpose=\"login\""), "{text}");
    for secret in ["4389007409", code.as_str(), wrong.as_str()] {
        assert!(!text.contains(secret), "{secret} logged: {text}");
    }
}
