//! RFC 4226 Appendix D (HOTP) and RFC 6238 Appendix B (TOTP) vectors, read from the
//! published `shared/vectors/otp.json`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_otp::{Algorithm, Hotp, OtpSecret, Totp};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/otp.json"
    );
    let text = std::fs::read_to_string(path)
        .or_else(|_| std::fs::read_to_string("/work/shared/vectors/otp.json"))
        .expect("otp.json");
    serde_json::from_str(&text).unwrap()
}

fn algorithm(name: &str) -> Algorithm {
    Algorithm::from_name(name).unwrap_or_else(|| panic!("algorithm {name}"))
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
