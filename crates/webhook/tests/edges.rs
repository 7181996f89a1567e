//! Parsing edges of issue 11 §3: canonical timestamps and unambiguous templates of
//! `HmacScheme`, error messages that reveal no clock, capped Standard Webhooks signature lists,
//! explicit Vapi modes and minimum secret lengths.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use hmac::{Hmac, KeyInit, Mac};
use palisade_webhook::{
    Algorithm, Encoding, HmacScheme, Message, Request, SecretString, Tolerance, Verifier,
    WebhookError,
};

const T: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
const SECRET: &str = "an-hmac-secret-of-thirty-two-b!!";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn hex_hmac_sha256(key: &[u8], parts: &[&[u8]]) -> String {
    let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    hex::encode(m.finalize().into_bytes())
}

/// The timestamp header is signed as text: a second spelling of the same time (leading zero,
/// sign) is refused even when correctly signed, so one time has one signed form.
#[test]
fn hmac_scheme_refuses_non_canonical_timestamps() {
    let scheme = HmacScheme::builder("x-signature", Algorithm::Sha256, Encoding::Hex)
        .timestamp_header("x-timestamp")
        .template("{timestamp}.{body}")
        .build()
        .unwrap();
    let v = Verifier::new(scheme, [secret(SECRET)]).unwrap();
    let canonical = T.to_string();
    for (text, ok) in [
        (canonical.clone(), true),
        (format!("0{canonical}"), false),
        (format!("+{canonical}"), false),
        ("-1".to_owned(), false),
        (format!("00{canonical}"), false),
    ] {
        // A correct signature over the exact text: only the timestamp's form is at stake.
        let sig = hex_hmac_sha256(SECRET.as_bytes(), &[text.as_bytes(), b".", BODY]);
        let headers = [
            ("x-timestamp", text.as_str()),
            ("x-signature", sig.as_str()),
        ];
        let result = v.verify_at(&Request::new(&headers, BODY), T);
        if ok {
            assert_eq!(result.unwrap().timestamp, Some(T));
        } else {
            match result {
                Err(WebhookError::MalformedHeader { name, reason }) => {
                    assert_eq!(name, "x-timestamp", "{text}");
                    assert!(reason.contains("leading zero"), "{reason}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}

#[test]
fn hmac_scheme_refuses_adjacent_placeholders() {
    let build = |template: &str| {
        HmacScheme::builder("x-signature", Algorithm::Sha256, Encoding::Hex)
            .timestamp_header("x-timestamp")
            .id_header("x-id")
            .template(template)
            .build()
    };
    for bad in [
        "{timestamp}{body}",
        "{id}{timestamp}.{body}",
        "{timestamp}.{id}{body}",
        "{body}{timestamp}{id}",
    ] {
        match build(bad) {
            Err(WebhookError::InvalidConfig { reason }) => {
                assert!(reason.contains("adjacent"), "{bad}: {reason}");
                assert!(reason.contains("separator"), "{bad}: {reason}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    // Any literal separates them, an escaped brace included.
    for good in [
        "{timestamp}.{id}.{body}",
        "{id}:{timestamp}{{{body}",
        "v0:{timestamp}:{id}-{body}",
    ] {
        assert!(build(good).is_ok(), "{good}");
    }
    // Why: without a separator, two requests sign the same bytes.
    let sig = hex_hmac_sha256(SECRET.as_bytes(), &[b"1700000000", b"1", b"{}"]);
    let other = hex_hmac_sha256(SECRET.as_bytes(), &[b"17000000001", b"{}"]);
    assert_eq!(sig, other);
}

/// `Display` may reach the client (401/400 bodies): it says the direction only, never the
/// skew or the tolerance; the fields keep them for the logs.
#[test]
fn tolerance_error_display_reveals_no_clock() {
    let scheme = HmacScheme::builder("x-signature", Algorithm::Sha256, Encoding::Hex)
        .timestamp_header("x-timestamp")
        .template("{timestamp}.{body}")
        .build()
        .unwrap();
    let v = Verifier::new(scheme, [secret(SECRET)])
        .unwrap()
        .with_tolerance(Tolerance {
            past_secs: 417,
            future_secs: 93,
        });
    let headers = v.sign(&Message::new(BODY).timestamp(T)).unwrap();
    for (now, direction, skew, tolerance) in [
        (T + 1234, "too old", 1234, 417),
        (T - 5678, "in the future", -5678, 93),
    ] {
        let e = v.verify_at(&Request::new(&headers, BODY), now).unwrap_err();
        assert_eq!(
            e,
            WebhookError::TimestampOutsideTolerance {
                skew_secs: skew,
                tolerance_secs: tolerance
            }
        );
        let shown = e.to_string();
        assert!(!shown.bytes().any(|b| b.is_ascii_digit()), "{shown}");
        assert!(shown.ends_with(direction), "{shown}");
    }
}

fn standard_request(sigs: &str) -> Vec<(&'static str, String)> {
    vec![
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek".to_owned()),
        ("webhook-timestamp", T.to_string()),
        ("webhook-signature", sigs.to_owned()),
    ]
}

/// Like Stripe's `v1` list, the Standard Webhooks signature list is capped: `v1` and `v1a`
/// entries together, unknown versions aside.
#[test]
fn standard_signature_entries_are_capped() {
    use palisade_webhook::{STANDARD_MAX_SIGNATURES, StandardWebhooks};
    let v = Verifier::new(
        StandardWebhooks,
        [secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
    )
    .unwrap();
    let signed = v
        .sign(
            &Message::new(BODY)
                .timestamp(T)
                .id("msg_p5jXN8AQM9LWM0D4loKWxJek"),
        )
        .unwrap();
    let good = signed.get("webhook-signature").unwrap().to_owned();
    let wrong = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    let wrong_a = format!("v1a,{}", "A".repeat(86));
    let list = |n_wrong: usize, v1a: usize, unknown: usize| {
        let mut items: Vec<String> = vec![wrong.to_owned(); n_wrong];
        items.extend(std::iter::repeat_n(wrong_a.clone(), v1a));
        items.extend(std::iter::repeat_n("v2,abc".to_owned(), unknown));
        items.push(good.clone());
        items.join(" ")
    };
    let verify = |sigs: &str| {
        let h = standard_request(sigs);
        let pairs: Vec<(&str, &str)> = h.iter().map(|(n, v)| (*n, v.as_str())).collect();
        v.verify_at(&Request::new(&pairs, BODY), T)
    };
    assert_eq!(STANDARD_MAX_SIGNATURES, 8);
    // Eight entries, the matching one last, and any number of unknown versions: accepted.
    assert!(verify(&list(7, 0, 0)).is_ok());
    assert!(verify(&list(4, 3, 20)).is_ok());
    // Nine: refused before any MAC is computed, whichever versions.
    for (v1, v1a) in [(8, 0), (4, 4), (0, 8)] {
        match verify(&list(v1, v1a, 0)) {
            Err(WebhookError::MalformedHeader { name, reason }) => {
                assert_eq!(name, "webhook-signature");
                assert!(reason.contains("more than 8"), "{reason}");
            }
            other => panic!("{v1} v1 + {v1a} v1a + 1: {other:?}"),
        }
    }
}

/// Unpadded base64 secrets are accepted with or without `whsec_`, as the Python reference
/// library does (it appends `==` before decoding); the key is the decoded bytes.
#[test]
fn standard_secrets_may_be_unpadded() {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use palisade_webhook::StandardWebhooks;
    for len in [24usize, 25, 26, 32, 64] {
        let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let padded = STANDARD.encode(&key);
        let unpadded = STANDARD_NO_PAD.encode(&key);
        let expected = {
            let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
            m.update(format!("msg_1.{T}.").as_bytes());
            m.update(BODY);
            format!("v1,{}", STANDARD.encode(m.finalize().into_bytes()))
        };
        for text in [
            format!("whsec_{unpadded}"),
            unpadded.clone(),
            format!("whsec_{padded}"),
            padded.clone(),
        ] {
            let v = Verifier::new(StandardWebhooks, [secret(&text)])
                .unwrap_or_else(|e| panic!("{len} bytes, {text}: {e}"));
            let h = v
                .sign(&Message::new(BODY).timestamp(T).id("msg_1"))
                .unwrap();
            assert_eq!(
                h.get("webhook-signature"),
                Some(expected.as_str()),
                "{text}"
            );
        }
    }
}
