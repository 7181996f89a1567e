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
