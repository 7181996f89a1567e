//! RFC 4226 Appendix D (HOTP) and RFC 6238 Appendix B (TOTP) vectors, read from the
//! published `shared/vectors/otp.json`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_otp::{
    ChallengeStore, HmacAlgorithm, Hotp, HotpOutcome, HotpVerifier, MemoryChallengeStore,
    OtpSecret, SubjectKey, Totp,
};
use serde_json::Value;

/// A copy of `shared/vectors/otp.json` (CI checks that the copy is identical), compiled in so
/// the tests run wherever the crate is (a packaged crate, a mutation-testing copy).
fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/otp.json")).unwrap()
}

fn algorithm(name: &str) -> HmacAlgorithm {
    HmacAlgorithm::from_name(name).unwrap_or_else(|| panic!("algorithm {name}"))
}

#[test]
fn rfc4226_appendix_d() {
    let v = vectors();
    let h = &v["hotp"];
    let secret = hex::decode(h["secret_hex"].as_str().unwrap()).unwrap();
    assert_eq!(secret, h["secret_ascii"].as_str().unwrap().as_bytes());
    let hotp = Hotp::new(
        OtpSecret::from_bytes(&secret),
        algorithm(h["algorithm"].as_str().unwrap()),
        u8::try_from(h["digits"].as_u64().unwrap()).unwrap(),
    )
    .unwrap();
    let codes = h["codes_for_counters_0_to_9"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    for (counter, code) in codes.iter().enumerate() {
        let code = code.as_str().unwrap();
        assert_eq!(hotp.generate(counter as u64), code, "counter {counter}");
        assert!(hotp.check(code, counter as u64));
        assert!(!hotp.check(code, counter as u64 + 1));
    }
}

#[test]
fn rfc6238_appendix_b() {
    let v = vectors();
    let cases = v["totp"]["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 18, "6 times × 3 algorithms");
    for case in cases {
        let secret = hex::decode(case["secret_hex"].as_str().unwrap()).unwrap();
        let time = case["time"].as_u64().unwrap();
        let expected = case["expected"].as_str().unwrap();
        let hotp = Hotp::new(
            OtpSecret::from_bytes(&secret),
            algorithm(case["algorithm"].as_str().unwrap()),
            u8::try_from(case["digits"].as_u64().unwrap()).unwrap(),
        )
        .unwrap();
        let totp = Totp::new(hotp, case["step"].as_u64().unwrap(), 0).unwrap();
        assert_eq!(totp.generate_at(time), expected, "{case}");
        assert_eq!(totp.matching_step(expected, time), Some(time / 30));
    }
}

/// The RFC 4226 Appendix D secret and codes (counters 0–9).
fn rfc4226() -> (Hotp, Vec<String>) {
    let v = vectors();
    let h = &v["hotp"];
    let hotp = Hotp::new(
        OtpSecret::from_bytes(&hex::decode(h["secret_hex"].as_str().unwrap()).unwrap()),
        algorithm(h["algorithm"].as_str().unwrap()),
        u8::try_from(h["digits"].as_u64().unwrap()).unwrap(),
    )
    .unwrap();
    let codes = h["codes_for_counters_0_to_9"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (hotp, codes)
}

/// The Appendix D codes through `HotpVerifier` and a store: in order, each is accepted once
/// for its counter, then refused as a reuse; earlier codes are refused.
#[tokio::test]
async fn rfc4226_appendix_d_through_the_look_ahead_window() {
    let (hotp, codes) = rfc4226();
    let v = HotpVerifier::new(hotp);
    let store = MemoryChallengeStore::new();
    let key = SubjectKey::new("t", "hotp", "token-1");
    for (counter, code) in codes.iter().enumerate() {
        let counter = counter as u64;
        assert_eq!(
            v.verify(&store, &key, code).await.unwrap(),
            HotpOutcome::Accepted { counter },
            "counter {counter}"
        );
        assert_eq!(
            v.verify(&store, &key, code).await.unwrap(),
            HotpOutcome::Reused
        );
        assert_eq!(store.last_step(&key).await.unwrap(), Some(counter));
        for old in codes.iter().take(counter as usize) {
            assert_eq!(
                v.verify(&store, &key, old).await.unwrap(),
                HotpOutcome::Wrong,
                "an earlier code after counter {counter}"
            );
        }
    }
}

/// A token run ahead: with the default window (10), counter 9's code is accepted first on a
/// fresh key, after which codes 0–8 are refused; with a window of 4, counter 4 is out of
/// reach of a fresh key, 3 resynchronizes, and 7 is then within reach.
#[tokio::test]
async fn rfc4226_appendix_d_resynchronizes_within_the_window_only() {
    let (hotp, codes) = rfc4226();
    let store = MemoryChallengeStore::new();

    let v = HotpVerifier::new(hotp.clone());
    let key = SubjectKey::new("t", "hotp", "token-ahead");
    assert_eq!(
        v.verify(&store, &key, &codes[9]).await.unwrap(),
        HotpOutcome::Accepted { counter: 9 }
    );
    for code in &codes[..9] {
        assert_eq!(
            v.verify(&store, &key, code).await.unwrap(),
            HotpOutcome::Wrong
        );
    }

    let v = HotpVerifier::new(hotp).with_look_ahead(4).unwrap();
    let key = SubjectKey::new("t", "hotp", "token-narrow");
    assert_eq!(v.window(None), 0..=3);
    assert_eq!(
        v.verify(&store, &key, &codes[4]).await.unwrap(),
        HotpOutcome::Wrong
    );
    assert_eq!(
        v.verify(&store, &key, &codes[3]).await.unwrap(),
        HotpOutcome::Accepted { counter: 3 }
    );
    assert_eq!(v.window(Some(3)), 4..=7);
    assert_eq!(
        v.verify(&store, &key, &codes[8]).await.unwrap(),
        HotpOutcome::Wrong
    );
    assert_eq!(
        v.verify(&store, &key, &codes[7]).await.unwrap(),
        HotpOutcome::Accepted { counter: 7 }
    );
    assert_eq!(store.last_step(&key).await.unwrap(), Some(7));
}
