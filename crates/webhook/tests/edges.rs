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
    Encoding, HmacAlgorithm, HmacScheme, Message, Request, SecretString, Tolerance, Verifier,
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
    let scheme = HmacScheme::builder("x-signature", HmacAlgorithm::Sha256, Encoding::Hex)
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
        HmacScheme::builder("x-signature", HmacAlgorithm::Sha256, Encoding::Hex)
            .timestamp_header("x-timestamp")
            .id_header("x-id")
            .template(template)
            .build()
    };
    for (bad, pair) in [
        ("{timestamp}{body}", "`{timestamp}` and `{body}`"),
        ("{id}{timestamp}.{body}", "`{id}` and `{timestamp}`"),
        ("{timestamp}.{id}{body}", "`{id}` and `{body}`"),
        ("{body}{timestamp}{id}", "`{body}` and `{timestamp}`"),
        (
            "{method}{url}.{timestamp}.{id}.{body}",
            "`{method}` and `{url}`",
        ),
    ] {
        match build(bad) {
            Err(WebhookError::InvalidConfig { reason }) => {
                assert!(reason.contains("adjacent"), "{bad}: {reason}");
                assert!(reason.contains(pair), "{bad}: {reason}");
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
    let scheme = HmacScheme::builder("x-signature", HmacAlgorithm::Sha256, Encoding::Hex)
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

/// Vapi's default is one mode, the HMAC credential: the secret header alone, which signs
/// nothing, is not accepted by a verifier configured for Vapi.
#[test]
fn vapi_default_does_not_accept_the_secret_header() {
    use palisade_webhook::{AnyScheme, Provider, Vapi};
    const VAPI: &str = "vapi-credential-0123456789abcdef";
    let v = Verifier::new(
        AnyScheme::for_provider(Provider::Vapi).unwrap(),
        [secret(VAPI)],
    )
    .unwrap();
    let forged = br#"{"message":{"type":"end-of-call-report","forged":true}}"#;
    let only_secret = [("x-vapi-secret", VAPI)];
    assert_eq!(
        v.verify_at(&Request::new(&only_secret, forged), T),
        Err(WebhookError::MissingHeader {
            name: "x-signature".into()
        })
    );
    // Its own HMAC headers verify, with or without a stray secret header.
    let signed = v.sign(&Message::new(BODY).timestamp(T)).unwrap();
    assert!(v.verify_at(&Request::new(&signed, BODY), T).is_ok());
    // The secret-header mode is still there, chosen explicitly.
    let header_mode = Verifier::new(Vapi::server_secret(), [secret(VAPI)]).unwrap();
    let ok = header_mode
        .verify_at(&Request::new(&only_secret, forged), T)
        .unwrap();
    assert!(!ok.body_signed);
    let lazy = header_mode
        .verify_lazy_at(&Request::new(&only_secret, forged), T)
        .unwrap();
    assert!(!lazy.body_signed());
    assert_eq!(lazy.timestamp(), None);
}

/// Empty and one-character secrets, and `whsec_` alone, are refused when the verifier is
/// built, with the provider's minimum.
#[test]
fn secrets_shorter_than_the_provider_minimum_are_refused() {
    use palisade_webhook::{AnyScheme, MIN_SECRET_LEN, Provider, StandardWebhooks, Stripe};
    assert_eq!(MIN_SECRET_LEN, 16);
    let too_short = |scheme: AnyScheme, s: &str| Verifier::new(scheme, [secret(s)]).err();
    for provider in Provider::ALL {
        let Ok(scheme) = AnyScheme::for_provider(provider) else {
            continue;
        };
        let min = if provider == Provider::Standard {
            24
        } else {
            16
        };
        for s in ["", "x", "whsec_", "whsec_x", "0123456789abcde"] {
            let got = too_short(scheme.clone(), s);
            let expected = WebhookError::SecretTooShort {
                index: 0,
                min_bytes: min,
            };
            // Standard Webhooks refuses `x` as not base64 before its length.
            if provider == Provider::Standard && got != Some(expected.clone()) {
                assert!(
                    matches!(got, Some(WebhookError::InvalidSecret { index: 0, .. })),
                    "{provider} {s:?}: {got:?}"
                );
            } else {
                assert_eq!(got, Some(expected), "{provider} {s:?}");
            }
        }
    }
    // The index says which secret of a rotation is at fault.
    assert_eq!(
        Verifier::new(Stripe, [secret("whsec_0123456789abcdef"), secret("whsec_")]).err(),
        Some(WebhookError::SecretTooShort {
            index: 1,
            min_bytes: 16
        })
    );
    // Stripe counts what follows `whsec_`; the key stays the whole string.
    assert!(Verifier::new(Stripe, [secret("whsec_0123456789abcdef")]).is_ok());
    assert!(Verifier::new(Stripe, [secret("whsec_0123456789abcde")]).is_err());
    // Standard Webhooks: 24 decoded bytes, from the spec; 23 are refused.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    assert!(Verifier::new(StandardWebhooks, [secret(&b64.encode([7u8; 24]))]).is_ok());
    assert_eq!(
        Verifier::new(
            StandardWebhooks,
            [secret(&format!("whsec_{}", b64.encode([7u8; 23])))]
        )
        .err(),
        Some(WebhookError::SecretTooShort {
            index: 0,
            min_bytes: 24
        })
    );
    // Base64 secrets of an HMAC scheme count decoded bytes.
    let scheme = HmacScheme::builder("x-signature", HmacAlgorithm::Sha256, Encoding::Hex)
        .secret_is_base64(true)
        .build()
        .unwrap();
    assert!(Verifier::new(scheme.clone(), [secret(&b64.encode([1u8; 16]))]).is_ok());
    assert_eq!(
        Verifier::new(scheme, [secret(&b64.encode([1u8; 15]))]).err(),
        Some(WebhookError::SecretTooShort {
            index: 0,
            min_bytes: 16
        })
    );
    // GitHub's documented secret (26 bytes) passes.
    assert!(
        Verifier::new(
            AnyScheme::for_provider(Provider::GitHub).unwrap(),
            [secret("It's a Secret to Everybody")]
        )
        .is_ok()
    );
}

#[test]
fn an_hmac_scheme_reports_its_configuration() {
    let scheme = HmacScheme::builder("X-Acme-Signature", HmacAlgorithm::Sha512, Encoding::Base64)
        .build()
        .unwrap();
    assert_eq!(scheme.signature_header(), "X-Acme-Signature");
    assert_eq!(scheme.algorithm(), HmacAlgorithm::Sha512);
}

#[test]
fn hmac_algorithms_by_name() {
    for (alg, name) in [
        (HmacAlgorithm::Sha1, "sha1"),
        (HmacAlgorithm::Sha256, "sha256"),
        (HmacAlgorithm::Sha512, "sha512"),
    ] {
        assert_eq!(alg.as_str(), name);
        assert_eq!(name.parse::<HmacAlgorithm>().ok(), Some(alg));
        let spelled = format!("HMAC-{}", name.to_ascii_uppercase().replace("SHA", "SHA-"));
        assert_eq!(
            spelled.parse::<HmacAlgorithm>().ok(),
            Some(alg),
            "{spelled}"
        );
    }
    assert!("md5".parse::<HmacAlgorithm>().is_err());
}

/// The system clock reads the operating system's time, in milliseconds (`verify` uses it).
#[test]
fn the_system_clock_reads_the_time() {
    use palisade_webhook::{Clock, SystemClock};
    use std::time::{SystemTime, UNIX_EPOCH};
    let ms = || {
        i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap()
    };
    let before = ms();
    let read = SystemClock.now_unix_millis();
    let secs = SystemClock.now_unix_secs();
    let after = ms();
    assert!(
        (before..=after).contains(&read),
        "{before} <= {read} <= {after}"
    );
    assert!((before / 1000..=after / 1000).contains(&secs), "{secs}");
}

#[test]
fn a_manual_clock_reads_what_it_was_set_to() {
    use palisade_webhook::{Clock, ManualClock, Timestamp};
    use std::time::Duration;
    let c = ManualClock::new(Timestamp::from_unix_millis(1_700_000_000_250));
    assert_eq!(c.now_unix_millis(), 1_700_000_000_250);
    assert_eq!(c.now_unix_secs(), 1_700_000_000);
    c.advance(Duration::from_millis(800));
    assert_eq!(c.now_unix_millis(), 1_700_000_001_050);
    c.rewind(Duration::from_secs(2));
    assert_eq!(c.now_unix_secs(), 1_699_999_999);
    c.set(Timestamp::from_unix_secs(42));
    assert_eq!(c.now_unix_millis(), 42_000);
    // The epoch is the earliest reading: a clock rewound past it stays there.
    c.rewind(Duration::from_secs(43));
    assert_eq!((c.now_unix_secs(), c.now_unix_millis()), (0, 0));
}

/// Twilio signs form parameters, or a body bound by `bodySHA256`; any other body is refused
/// as unsigned, not parsed as a form.
#[test]
fn twilio_refuses_a_json_body_without_body_sha256() {
    use palisade_webhook::Twilio;
    let v = Verifier::new(Twilio::default(), [secret("twilio-auth-token-0123456789")]).unwrap();
    let body = br#"{"CallSid":"CA1"}"#;
    let url = "https://hooks.example.com/twilio";
    let signed = v.sign(&Message::new(b"").url(url)).unwrap();
    let mut headers: Vec<(String, String)> = signed
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    assert_eq!(
        v.verify(&Request::new(&headers, body).with_url(url)),
        Err(WebhookError::UnsignedBody)
    );
    // No body at all (a status callback by GET): the URL alone is signed.
    v.verify(&Request::new(&headers, b"").with_url(url))
        .unwrap();
    // Signing refuses a `bodySHA256` that is not the body's.
    let wrong = format!("{url}?bodySHA256={}", "0".repeat(64));
    assert_eq!(
        v.sign(&Message::new(body).url(&wrong)).err(),
        Some(WebhookError::BodyHashMismatch)
    );
}

/// What the public types show: names, hex keys, lengths (never a body), header lines.
#[test]
fn public_values_show_what_they_hold() {
    use palisade_webhook::{Provider, StandardWebhooks, Tolerance};
    assert_eq!(Provider::Stripe.to_string(), "stripe");
    assert_eq!(Provider::Standard.to_string(), "standard");
    let v = Verifier::new(
        StandardWebhooks,
        [secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
    )
    .unwrap()
    .with_tolerance(Tolerance::symmetric(60));
    assert_eq!(v.tolerance(), Tolerance::symmetric(60));
    // Signing without an id makes a fresh `msg_` id of 32 hex digits each time.
    let a = v.sign(&Message::new(b"{}").timestamp(T)).unwrap();
    let b = v.sign(&Message::new(b"{}").timestamp(T)).unwrap();
    let id = |h: &palisade_webhook::SignedHeaders| h.get("webhook-id").unwrap().to_owned();
    assert_ne!(id(&a), id(&b));
    for h in [&a, &b] {
        let id = id(h);
        let hex = id.strip_prefix("msg_").unwrap();
        assert!(
            hex.len() == 32 && hex.bytes().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
    }
    // Headers display one `name: value` line each.
    let shown = a.to_string();
    assert_eq!(shown.lines().count(), 3, "{shown}");
    assert!(
        shown.starts_with(&format!("webhook-id: {}\n", id(&a))),
        "{shown}"
    );
    // A request shows the body's length, never the body.
    let request = Request::new(&a, b"secret body").with_method("POST");
    assert_eq!(request.body(), b"secret body");
    let shown = format!("{request:?}");
    assert!(
        shown.contains("body_len: 11") && !shown.contains("secret body"),
        "{shown}"
    );
    let message = Message::new(b"secret body").timestamp(T);
    let shown = format!("{message:?}");
    assert!(
        shown.contains("body_len: 11") && !shown.contains("secret body"),
        "{shown}"
    );
    // A replay key shows as hex.
    let key = v.verify_at(&Request::new(&a, b"{}"), T).unwrap().replay_key;
    assert_eq!(key.to_string(), key.to_hex());
    assert_eq!(format!("{key:?}"), format!("ReplayKey({})", key.to_hex()));
}
