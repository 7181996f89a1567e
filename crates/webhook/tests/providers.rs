//! Provider behaviour through the public API: rotation, tolerance bounds, header handling,
//! legacy and alternative modes, custom schemes, Ed25519, and redaction of secrets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use palisade_webhook::{
    Encoding, GitHub, Headers, HmacAlgorithm, HmacScheme, Key, ManualClock, Message, Meta,
    Provider, Request, Scheme, SecretString, Shopify, SignedHeaders, Slack, StandardWebhooks,
    Stripe, Timestamp, TimestampUnit, Tolerance, Twilio, Vapi, Verifier, WebhookError,
};

const T: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded","amount":4200}"#;
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// The signed headers as owned pairs, to edit.
fn pairs(h: &SignedHeaders) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn missing(name: &'static str) -> WebhookError {
    WebhookError::MissingHeader { name: name.into() }
}

fn assert_malformed<T: std::fmt::Debug>(result: Result<T, WebhookError>, header: &str) {
    match result {
        Err(WebhookError::MalformedHeader { name, .. }) => {
            assert!(name.eq_ignore_ascii_case(header), "{name} is not {header}");
        }
        other => panic!("expected MalformedHeader for {header}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Stripe

#[test]
fn stripe_signature_is_hmac_of_timestamp_dot_body_keyed_with_the_whole_secret() {
    let v = Verifier::new(Stripe, [secret("whsec_test_secret_0123456789")]).unwrap();
    let signed = v.sign(&Message::new(BODY).timestamp(T)).unwrap();
    let mac = hmac_sha256(
        b"whsec_test_secret_0123456789",
        &[T.to_string().as_bytes(), b".", BODY],
    );
    assert_eq!(
        signed.get("Stripe-Signature").unwrap(),
        format!("t={T},v1={}", hex::encode(mac))
    );
}

#[test]
fn stripe_rotation_reports_which_secret_matched() {
    let old = Verifier::new(Stripe, [secret("whsec_old_0123456789abcdef")]).unwrap();
    let new = Verifier::new(Stripe, [secret("whsec_new_0123456789abcdef")]).unwrap();
    let both = Verifier::new(
        Stripe,
        [
            secret("whsec_old_0123456789abcdef"),
            secret("whsec_new_0123456789abcdef"),
        ],
    )
    .unwrap();
    let neither = Verifier::new(Stripe, [secret("whsec_other_0123456789abcdef")]).unwrap();

    let by_new = new.sign(&Message::new(BODY).timestamp(T)).unwrap();
    let ok = both.verify_at(&Request::new(&by_new, BODY), T).unwrap();
    assert_eq!(ok.secret_index, 1);
    assert_eq!(ok.provider, Provider::Stripe);
    assert_eq!(ok.timestamp, Some(T));

    let by_old = old.sign(&Message::new(BODY).timestamp(T)).unwrap();
    assert_eq!(
        both.verify_at(&Request::new(&by_old, BODY), T)
            .unwrap()
            .secret_index,
        0
    );

    assert_eq!(
        neither.verify_at(&Request::new(&by_new, BODY), T),
        Err(WebhookError::NoMatchingSignature)
    );
    // Signing uses the first secret.
    assert_eq!(both.sign(&Message::new(BODY).timestamp(T)).unwrap(), by_old);
}

#[test]
fn stripe_tries_every_v1_and_ignores_v0() {
    let v = Verifier::new(Stripe, [secret("whsec_current_0123456789abcdef")]).unwrap();
    let good = hex::encode(hmac_sha256(
        b"whsec_current_0123456789abcdef",
        &[T.to_string().as_bytes(), b".", BODY],
    ));
    let other = hex::encode(hmac_sha256(
        b"whsec_rolled_0123456789abcdef",
        &[T.to_string().as_bytes(), b".", BODY],
    ));
    let verify = |header: &str| {
        let h = [("Stripe-Signature", header)];
        v.verify_at(&Request::new(&h, BODY), T)
    };

    // Two v1 values, only the second matches (Stripe sends one per active secret).
    let second = verify(&format!("t={T},v1={other},v1={good}")).unwrap();
    let first = verify(&format!("t={T},v1={good},v1={other}")).unwrap();
    let alone = verify(&format!("t={T},v1={good}")).unwrap();
    // Spaces around elements are tolerated.
    let spaced = verify(&format!("t={T}, v1={other}, v1={good}")).unwrap();
    // The replay key depends on the matching signature only: extra v1 values do not mint a
    // fresh key for a captured request.
    assert_eq!(second.replay_key, alone.replay_key);
    assert_eq!(first.replay_key, alone.replay_key);
    assert_eq!(spaced.replay_key, alone.replay_key);

    // v0 is ignored, even when it carries the right MAC.
    verify(&format!("t={T},v0={other},v1={good}")).unwrap();
    assert_eq!(
        verify(&format!("t={T},v1={other},v0={good}")),
        Err(WebhookError::NoMatchingSignature)
    );
    assert_malformed(verify(&format!("t={T},v0={good}")), "Stripe-Signature");
    // Unknown schemes are ignored too.
    verify(&format!("t={T},v9=zz,v1={good}")).unwrap();
    // A v1 that is not hex matches nothing, and does not hide a later good one.
    verify(&format!("t={T},v1=not-hex,v1={good}")).unwrap();

    // Header shape.
    assert_malformed(verify(&format!("v1={good}")), "Stripe-Signature");
    assert_malformed(
        verify(&format!("t={T},t={T},v1={good}")),
        "Stripe-Signature",
    );
    assert_malformed(verify(&format!("t=-{T},v1={good}")), "Stripe-Signature");
    assert_malformed(verify(&format!("t={T}.5,v1={good}")), "Stripe-Signature");
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/// Accepted at ±300 s, refused at ±301 s with the exact skew.
fn assert_default_tolerance<S: Scheme>(v: &Verifier<S>, headers: &dyn Headers, ts: i64) {
    for delta in [-300, -1, 0, 1, 300] {
        let ok = v
            .verify_at(&Request::new(headers, BODY), ts + delta)
            .unwrap_or_else(|e| panic!("{:?} at {delta:+}: {e}", v.scheme().provider()));
        assert_eq!(ok.timestamp, Some(ts));
    }
    for delta in [301, -301, 10_000, -10_000] {
        assert_eq!(
            v.verify_at(&Request::new(headers, BODY), ts + delta),
            Err(WebhookError::TimestampOutsideTolerance {
                skew_secs: delta,
                tolerance_secs: 300
            }),
            "{:?} at {delta:+}",
            v.scheme().provider()
        );
    }
}

#[test]
fn tolerance_is_300_seconds_each_way_inclusive() {
    let stripe = Verifier::new(Stripe, [secret("whsec_x_0123456789abcdef")]).unwrap();
    let h = stripe.sign(&Message::new(BODY).timestamp(T)).unwrap();
    assert_default_tolerance(&stripe, &h, T);

    let standard = Verifier::new(StandardWebhooks, [secret(STANDARD_SECRET)]).unwrap();
    let h = standard
        .sign(&Message::new(BODY).timestamp(T).id("msg_1"))
        .unwrap();
    assert_default_tolerance(&standard, &h, T);

    let slack = Verifier::new(Slack, [secret("slack-signing-secret")]).unwrap();
    let h = slack.sign(&Message::new(BODY).timestamp(T)).unwrap();
    assert_default_tolerance(&slack, &h, T);

    let vapi = Verifier::new(
        Vapi::hmac(Vapi::default_hmac_plan()),
        [secret("vapi-secret-0123456789")],
    )
    .unwrap();
    let h = vapi.sign(&Message::new(BODY).timestamp(T)).unwrap();
    assert_default_tolerance(&vapi, &h, T);
}

#[test]
fn tolerance_can_differ_per_direction() {
    let v = Verifier::new(Stripe, [secret("whsec_x_0123456789abcdef")])
        .unwrap()
        .with_tolerance(Tolerance {
            past_secs: 600,
            future_secs: 5,
        });
    let h = v.sign(&Message::new(BODY).timestamp(T)).unwrap();
    let at = |now| v.verify_at(&Request::new(&h, BODY), now);
    assert!(at(T + 600).is_ok());
    assert!(at(T - 5).is_ok());
    assert_eq!(
        at(T + 601),
        Err(WebhookError::TimestampOutsideTolerance {
            skew_secs: 601,
            tolerance_secs: 600
        })
    );
    assert_eq!(
        at(T - 6),
        Err(WebhookError::TimestampOutsideTolerance {
            skew_secs: -6,
            tolerance_secs: 5
        })
    );
}

#[test]
fn verify_and_sign_read_the_configured_clock() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(
        T.unsigned_abs(),
    )));
    let v = Verifier::new(Slack, [secret("s-0123456789abcdef")])
        .unwrap()
        .with_clock(clock.clone());
    let h = v.sign(&Message::new(BODY)).unwrap();
    let t = T.to_string();
    assert_eq!(h.get("X-Slack-Request-Timestamp"), Some(t.as_str()));
    clock.advance(Duration::from_secs(300));
    assert!(v.verify(&Request::new(&h, BODY)).is_ok());
    clock.advance(Duration::from_secs(1));
    assert!(matches!(
        v.verify(&Request::new(&h, BODY)),
        Err(WebhookError::TimestampOutsideTolerance { skew_secs: 301, .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Headers

/// Verifies the request of one case with other headers.
type Check = Box<dyn Fn(&dyn Headers) -> Result<(), WebhookError>>;

/// One signed request per scheme: the name of its signature header, a check, the headers.
fn signed_requests() -> Vec<(&'static str, Check, SignedHeaders)> {
    let mut out: Vec<(&'static str, Check, SignedHeaders)> = Vec::new();
    macro_rules! case {
        ($scheme:expr, $secret:expr, $sig:expr, $body:expr, $url:expr) => {{
            let v = Verifier::new($scheme, [secret($secret)]).unwrap();
            let body: &'static [u8] = $body;
            let url: Option<&'static str> = $url;
            let mut msg = Message::new(body).timestamp(T).id("msg_1");
            if let Some(u) = url {
                msg = msg.url(u);
            }
            let signed = v.sign(&msg).unwrap();
            let check = move |h: &dyn Headers| {
                let mut req = Request::new(h, body);
                if let Some(u) = url {
                    req = req.with_url(u);
                }
                v.verify_at(&req, T).map(|_| ())
            };
            out.push(($sig, Box::new(check), signed));
        }};
    }
    case!(
        StandardWebhooks,
        STANDARD_SECRET,
        "webhook-signature",
        BODY,
        None
    );
    case!(
        Stripe,
        "whsec_x_0123456789abcdef",
        "Stripe-Signature",
        BODY,
        None
    );
    case!(
        GitHub::new(),
        "gh-0123456789abcdef",
        "X-Hub-Signature-256",
        BODY,
        None
    );
    case!(
        Meta,
        "meta-0123456789abcdef",
        "X-Hub-Signature-256",
        BODY,
        None
    );
    case!(
        Slack,
        "slack-0123456789abcdef",
        "X-Slack-Signature",
        BODY,
        None
    );
    case!(
        Shopify,
        "shop-0123456789abcdef",
        "X-Shopify-Hmac-Sha256",
        BODY,
        None
    );
    case!(
        Vapi::hmac(Vapi::default_hmac_plan()),
        "vapi-0123456789abcdef",
        "x-signature",
        BODY,
        None
    );
    let tw_url = "https://example.com/twilio?x=1";
    case!(
        Twilio::default(),
        "token-0123456789abcdef",
        "X-Twilio-Signature",
        b"A=1&B=2",
        Some(tw_url)
    );
    out
}

#[test]
fn headers_work_as_pairs_any_case_and_as_header_map() {
    for (sig, check, signed) in signed_requests() {
        // As signed.
        check(&signed).unwrap_or_else(|e| panic!("{sig}: {e}"));
        // As `(String, String)` pairs with upper-cased names.
        let upper: Vec<(String, String)> = signed
            .iter()
            .map(|(n, v)| (n.to_ascii_uppercase(), v.to_owned()))
            .collect();
        check(&upper).unwrap_or_else(|e| panic!("{sig} upper-cased: {e}"));
        // As an `http::HeaderMap`, built by the crate and by hand.
        let map = signed.to_header_map().unwrap();
        check(&map).unwrap_or_else(|e| panic!("{sig} as HeaderMap: {e}"));
        let mut by_hand = http::HeaderMap::new();
        by_hand.insert("x-unrelated", http::HeaderValue::from_static("1"));
        for (n, v) in signed.iter() {
            by_hand.insert(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        check(&by_hand).unwrap_or_else(|e| panic!("{sig} as hand-built HeaderMap: {e}"));
    }
}

#[test]
fn absent_signature_header_is_missing_header() {
    for (sig, check, signed) in signed_requests() {
        let without: Vec<(String, String)> = pairs(&signed)
            .into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(sig))
            .collect();
        match check(&without) {
            Err(WebhookError::MissingHeader { name }) => {
                assert!(name.eq_ignore_ascii_case(sig), "{sig}: reported {name}");
            }
            other => panic!("{sig}: expected MissingHeader, got {other:?}"),
        }
        let mut map = signed.to_header_map().unwrap();
        map.remove(sig);
        assert!(
            matches!(check(&map), Err(WebhookError::MissingHeader { .. })),
            "{sig} as HeaderMap"
        );
    }
    // Nothing at all.
    let none: [(&str, &str); 0] = [];
    let cases: [(
        WebhookError,
        Result<palisade_webhook::Verified, WebhookError>,
    ); 7] = [
        (
            missing("webhook-id"),
            Verifier::new(StandardWebhooks, [secret(STANDARD_SECRET)])
                .unwrap()
                .verify_at(&Request::new(&none, BODY), T),
        ),
        (
            missing("Stripe-Signature"),
            Verifier::new(Stripe, [secret("s-0123456789abcdef")])
                .unwrap()
                .verify_at(&Request::new(&none, BODY), T),
        ),
        (
            missing("X-Hub-Signature-256"),
            Verifier::new(GitHub::new(), [secret("s-0123456789abcdef")])
                .unwrap()
                .verify_at(&Request::new(&none, BODY), T),
        ),
        (
            missing("X-Slack-Signature"),
            Verifier::new(Slack, [secret("s-0123456789abcdef")])
                .unwrap()
                .verify_at(&Request::new(&none, BODY), T),
        ),
        (
            missing("X-Twilio-Signature"),
            Verifier::new(Twilio::default(), [secret("s-0123456789abcdef")])
                .unwrap()
                .verify_at(
                    &Request::new(&none, BODY).with_url("https://example.com/"),
                    T,
                ),
        ),
        (
            missing("x-vapi-secret"),
            Verifier::new(Vapi::server_secret(), [secret("s-0123456789abcdef")])
                .unwrap()
                .verify_at(&Request::new(&none, BODY), T),
        ),
        (
            missing("x-signature"),
            Verifier::new(
                Vapi::hmac(Vapi::default_hmac_plan()),
                [secret("s-0123456789abcdef")],
            )
            .unwrap()
            .verify_at(&Request::new(&none, BODY), T),
        ),
    ];
    for (expected, got) in cases {
        assert_eq!(got, Err(expected));
    }
}

#[test]
fn absent_timestamp_or_id_header_is_missing_header() {
    let slack = Verifier::new(Slack, [secret("s-0123456789abcdef")]).unwrap();
    let h = pairs(&slack.sign(&Message::new(BODY).timestamp(T)).unwrap());
    let sig_only: Vec<_> = h
        .iter()
        .filter(|(n, _)| n == "X-Slack-Signature")
        .cloned()
        .collect();
    assert_eq!(
        slack.verify_at(&Request::new(&sig_only, BODY), T),
        Err(missing("X-Slack-Request-Timestamp"))
    );

    let standard = Verifier::new(StandardWebhooks, [secret(STANDARD_SECRET)]).unwrap();
    let h = pairs(
        &standard
            .sign(&Message::new(BODY).timestamp(T).id("msg_1"))
            .unwrap(),
    );
    let no_ts: Vec<_> = h
        .iter()
        .filter(|(n, _)| n != "webhook-timestamp")
        .cloned()
        .collect();
    assert_eq!(
        standard.verify_at(&Request::new(&no_ts, BODY), T),
        Err(missing("webhook-timestamp"))
    );
}

#[test]
fn repeated_signature_header_is_malformed() {
    for (sig, check, signed) in signed_requests() {
        let value = signed.get(sig).unwrap().to_owned();
        // The same value twice, under differently-cased names.
        let mut twice = pairs(&signed);
        twice.push((sig.to_ascii_lowercase(), value.clone()));
        assert_malformed(check(&twice), sig);
        // And in a HeaderMap.
        let mut map = signed.to_header_map().unwrap();
        map.append(
            http::HeaderName::from_bytes(sig.as_bytes()).unwrap(),
            http::HeaderValue::from_str(&value).unwrap(),
        );
        assert_malformed(check(&map), sig);
    }
}

#[test]
fn non_ascii_signature_header_is_malformed() {
    let v = Verifier::new(GitHub::new(), [secret("gh-0123456789abcdef")]).unwrap();
    let h = [("X-Hub-Signature-256", "sha256=caf\u{e9}".as_bytes())];
    assert_malformed(
        v.verify_at(&Request::new(&h, BODY), T),
        "X-Hub-Signature-256",
    );
}

// ---------------------------------------------------------------------------------------------
// Standard Webhooks details

#[test]
fn standard_signature_lists_and_versions() {
    let v = Verifier::new(StandardWebhooks, [secret(STANDARD_SECRET)]).unwrap();
    let signed = v
        .sign(&Message::new(BODY).timestamp(T).id("msg_1"))
        .unwrap();
    let good = signed.get("webhook-signature").unwrap().to_owned();
    let b64 = good.strip_prefix("v1,").unwrap();
    let with_sig = |s: &str| {
        let mut h = pairs(&signed);
        h.retain(|(n, _)| n != "webhook-signature");
        h.push(("webhook-signature".into(), s.to_owned()));
        v.verify_at(&Request::new(&h, BODY), T)
    };
    with_sig(&format!("v1,AAAA v1,{b64}")).unwrap();
    with_sig(&format!("v1a,AAAA v1,{b64} v2,xyz")).unwrap();
    // Padding is optional.
    with_sig(&format!("v1,{}", b64.trim_end_matches('='))).unwrap();
    assert_eq!(
        with_sig(&format!("v2,{b64}")),
        Err(WebhookError::NoMatchingSignature)
    );
    assert_eq!(with_sig(b64), Err(WebhookError::NoMatchingSignature));

    // The secret is the base64 key, with or without `whsec_`.
    let bare = Verifier::new(
        StandardWebhooks,
        [secret(STANDARD_SECRET.strip_prefix("whsec_").unwrap())],
    )
    .unwrap();
    bare.verify_at(&Request::new(&signed, BODY), T).unwrap();

    // The key is the decoded secret.
    let key = B64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let mac = hmac_sha256(&key, &[b"msg_1.", T.to_string().as_bytes(), b".", BODY]);
    assert_eq!(good, format!("v1,{}", B64.encode(mac)));

    // The replay key is the signed id: same id, same key.
    let again = v
        .sign(&Message::new(b"other").timestamp(T + 1).id("msg_1"))
        .unwrap();
    assert_eq!(
        v.verify_at(&Request::new(&again, b"other"), T)
            .unwrap()
            .replay_key,
        v.verify_at(&Request::new(&signed, BODY), T)
            .unwrap()
            .replay_key
    );
}

#[test]
fn standard_secrets_are_checked() {
    assert_eq!(
        Verifier::new(StandardWebhooks, [secret("whsec_c2hvcnQ=")]).err(),
        Some(WebhookError::SecretTooShort {
            index: 0,
            min_bytes: 24
        })
    );
    assert!(matches!(
        Verifier::new(
            StandardWebhooks,
            [secret(STANDARD_SECRET), secret("whsec_!!")]
        )
        .err(),
        Some(WebhookError::InvalidSecret { index: 1, .. })
    ));
    assert_eq!(
        Verifier::new(Stripe, Vec::<SecretString>::new()).err(),
        Some(WebhookError::NoSecrets)
    );
    assert_eq!(
        Verifier::new(Stripe, [secret("")]).err(),
        Some(WebhookError::SecretTooShort {
            index: 0,
            min_bytes: 16
        })
    );
}

// ---------------------------------------------------------------------------------------------
// GitHub legacy SHA-1

#[test]
fn github_sha1_only_with_legacy_mode() {
    let modern = Verifier::new(GitHub::new(), [secret("gh-secret-0123456789")]).unwrap();
    let legacy =
        Verifier::new(GitHub::with_legacy_sha1(), [secret("gh-secret-0123456789")]).unwrap();

    assert_eq!(modern.sign(&Message::new(BODY)).unwrap().iter().count(), 1);
    let both = legacy.sign(&Message::new(BODY)).unwrap();
    let sha1 = format!(
        "sha1={}",
        hex::encode(hmac_sha1(b"gh-secret-0123456789", &[BODY]))
    );
    let sha256 = format!(
        "sha256={}",
        hex::encode(hmac_sha256(b"gh-secret-0123456789", &[BODY]))
    );
    assert_eq!(both.get("X-Hub-Signature"), Some(sha1.as_str()));
    assert_eq!(both.get("X-Hub-Signature-256"), Some(sha256.as_str()));

    let sha1_only = [("X-Hub-Signature", sha1.as_str())];
    assert_eq!(
        modern.verify_at(&Request::new(&sha1_only, BODY), T),
        Err(missing("X-Hub-Signature-256"))
    );
    let ok = legacy
        .verify_at(&Request::new(&sha1_only, BODY), T)
        .unwrap();
    assert_eq!(ok.provider, Provider::GitHub);
    assert_eq!(
        legacy.verify_at(&Request::new(&sha1_only, b"tampered"), T),
        Err(WebhookError::NoMatchingSignature)
    );

    // Both headers: SHA-256 decides, in either mode.
    modern.verify_at(&Request::new(&both, BODY), T).unwrap();
    legacy.verify_at(&Request::new(&both, BODY), T).unwrap();
    let zero = format!("sha256={}", "0".repeat(64));
    let bad_256 = [
        ("X-Hub-Signature", sha1.as_str()),
        ("X-Hub-Signature-256", zero.as_str()),
    ];
    assert_eq!(
        legacy.verify_at(&Request::new(&bad_256, BODY), T),
        Err(WebhookError::NoMatchingSignature)
    );

    // A SHA-1 MAC in the SHA-256 header has the wrong length.
    let wrong = format!(
        "sha256={}",
        hex::encode(hmac_sha1(b"gh-secret-0123456789", &[BODY]))
    );
    let h = [("X-Hub-Signature-256", wrong.as_str())];
    assert_malformed(
        legacy.verify_at(&Request::new(&h, BODY), T),
        "X-Hub-Signature-256",
    );
    // The prefix is required (compared without regard to case).
    let h = [(
        "X-Hub-Signature-256",
        sha256.strip_prefix("sha256=").unwrap(),
    )];
    assert_malformed(
        modern.verify_at(&Request::new(&h, BODY), T),
        "X-Hub-Signature-256",
    );
    let upper = sha256.replace("sha256=", "SHA256=");
    let h = [("X-Hub-Signature-256", upper.as_str())];
    modern.verify_at(&Request::new(&h, BODY), T).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Shopify

#[test]
fn shopify_is_base64_hmac_of_the_body() {
    let v = Verifier::new(Shopify, [secret("shpss_secret_0123456789")]).unwrap();
    let signed = v.sign(&Message::new(BODY)).unwrap();
    let expected = B64.encode(hmac_sha256(b"shpss_secret_0123456789", &[BODY]));
    assert_eq!(signed.get("X-Shopify-Hmac-Sha256"), Some(expected.as_str()));
    let ok = v.verify_at(&Request::new(&signed, BODY), 0).unwrap();
    assert_eq!((ok.provider, ok.timestamp), (Provider::Shopify, None));
    assert_eq!(
        v.verify_at(&Request::new(&signed, b"{}"), 0),
        Err(WebhookError::NoMatchingSignature)
    );
}

// ---------------------------------------------------------------------------------------------
// Vapi

#[test]
fn vapi_server_secret() {
    {
        let scheme = Vapi::server_secret();
        let v = Verifier::new(
            scheme.clone(),
            [secret("old-secret-0123456789"), secret("my-server-secret")],
        )
        .unwrap();
        let good = [("x-vapi-secret", "my-server-secret")];
        let ok = v.verify_at(&Request::new(&good, BODY), T).unwrap();
        assert_eq!(ok.provider, Provider::Vapi);
        assert_eq!(ok.secret_index, 1);
        assert_eq!(ok.timestamp, None);
        for bad in [
            "my-server-secreT",
            "my-server-secret-",
            "my-server-secre",
            "x",
        ] {
            let h = [("x-vapi-secret", bad)];
            assert_eq!(
                v.verify_at(&Request::new(&h, BODY), T),
                Err(WebhookError::NoMatchingSignature),
                "{scheme:?} {bad}"
            );
        }
        let twice = [
            ("x-vapi-secret", "my-server-secret"),
            ("X-Vapi-Secret", "my-server-secret"),
        ];
        assert_malformed(v.verify_at(&Request::new(&twice, BODY), T), "x-vapi-secret");
    }
    // The server-secret mode has nothing to sign.
    let v = Verifier::new(Vapi::server_secret(), [secret("s-0123456789abcdef")]).unwrap();
    assert!(matches!(
        v.sign(&Message::new(BODY)),
        Err(WebhookError::InvalidConfig { .. })
    ));
}

#[test]
fn vapi_default_hmac_plan() {
    {
        let scheme = Vapi::hmac(Vapi::default_hmac_plan());
        let v = Verifier::new(scheme.clone(), [secret("vapi-hmac-secret")]).unwrap();
        let signed = v.sign(&Message::new(BODY).timestamp(T)).unwrap();
        let mac = hmac_sha256(b"vapi-hmac-secret", &[T.to_string().as_bytes(), b".", BODY]);
        let t = T.to_string();
        assert_eq!(signed.get("x-timestamp"), Some(t.as_str()));
        assert_eq!(signed.get("x-signature"), Some(hex::encode(mac).as_str()));
        let ok = v.verify_at(&Request::new(&signed, BODY), T).unwrap();
        assert_eq!(ok.provider, Provider::Vapi, "{scheme:?}");
        assert_eq!(ok.timestamp, Some(T));
        assert_eq!(
            v.verify_at(&Request::new(&signed, b"{}"), T),
            Err(WebhookError::NoMatchingSignature)
        );
    }
    // HMAC-only: a server secret alone is not enough.
    let v = Verifier::new(
        Vapi::hmac(Vapi::default_hmac_plan()),
        [secret("s-0123456789abcdef")],
    )
    .unwrap();
    let h = [("x-vapi-secret", "s-0123456789abcdef")];
    assert_eq!(
        v.verify_at(&Request::new(&h, BODY), T),
        Err(missing("x-signature"))
    );
    // The HMAC mode does not read `x-vapi-secret`: a wrong one next to valid HMAC headers
    // changes nothing.
    let mut h = pairs(&v.sign(&Message::new(BODY).timestamp(T)).unwrap());
    h.push(("x-vapi-secret".into(), "wrong".into()));
    assert!(v.verify_at(&Request::new(&h, BODY), T).is_ok());
}

#[test]
fn vapi_custom_plan_with_base64_secret() {
    let plan = Vapi::plan_builder()
        .prefix("sha256=")
        .secret_is_base64(true)
        .build()
        .unwrap();
    let key = b"raw key bytes \x00\xff";
    let v = Verifier::new(Vapi::hmac(plan), [SecretString::from(B64.encode(key))]).unwrap();
    let signed = v.sign(&Message::new(BODY).timestamp(T)).unwrap();
    let mac = hmac_sha256(key, &[T.to_string().as_bytes(), b".", BODY]);
    assert_eq!(
        signed.get("x-signature"),
        Some(format!("sha256={}", hex::encode(mac)).as_str())
    );
    assert_eq!(
        v.verify_at(&Request::new(&signed, BODY), T)
            .unwrap()
            .provider,
        Provider::Vapi
    );
}

// ---------------------------------------------------------------------------------------------
// Custom HMAC schemes

#[test]
fn custom_scheme_over_timestamp_method_url_and_body() {
    let scheme = HmacScheme::builder("X-Signature", HmacAlgorithm::Sha256, Encoding::Hex)
        .prefix("v1=")
        .timestamp_header("X-Timestamp")
        .template("{timestamp}.{method}.{url}.{body}")
        .build()
        .unwrap();
    let url = "https://api.example.com/hooks/orders?tenant=7";
    let v = Verifier::new(scheme, [secret("custom-secret-0123456789")]).unwrap();
    let signed = v
        .sign(&Message::new(BODY).timestamp(T).method("POST").url(url))
        .unwrap();
    let mac = hmac_sha256(
        b"custom-secret-0123456789",
        &[
            T.to_string().as_bytes(),
            b".POST.",
            url.as_bytes(),
            b".",
            BODY,
        ],
    );
    assert_eq!(
        signed.get("X-Signature"),
        Some(format!("v1={}", hex::encode(mac)).as_str())
    );
    let t = T.to_string();
    assert_eq!(signed.get("X-Timestamp"), Some(t.as_str()));

    let req = |method: Option<&'static str>, url: Option<&'static str>, body: &'static [u8]| {
        let mut r = Request::new(&signed, body);
        if let Some(m) = method {
            r = r.with_method(m);
        }
        if let Some(u) = url {
            r = r.with_url(u);
        }
        v.verify_at(&r, T)
    };
    let ok = req(Some("POST"), Some(url), BODY).unwrap();
    assert_eq!(ok.provider, Provider::Hmac);
    assert_eq!(ok.timestamp, Some(T));
    assert_eq!(
        req(Some("PUT"), Some(url), BODY),
        Err(WebhookError::NoMatchingSignature)
    );
    assert_eq!(
        req(
            Some("POST"),
            Some("https://api.example.com/hooks/orders?tenant=8"),
            BODY
        ),
        Err(WebhookError::NoMatchingSignature)
    );
    assert_eq!(
        req(Some("POST"), Some(url), b"{}"),
        Err(WebhookError::NoMatchingSignature)
    );
    assert_eq!(req(None, Some(url), BODY), Err(WebhookError::MissingMethod));
    assert_eq!(req(Some("POST"), None, BODY), Err(WebhookError::MissingUrl));
    assert_default_tolerance_with(&v, &signed, |r| r.with_method("POST").with_url(url));

    assert_eq!(
        v.sign(&Message::new(BODY).timestamp(T).url(url)),
        Err(WebhookError::MissingMethod)
    );
    assert_eq!(
        v.sign(&Message::new(BODY).timestamp(T).method("POST")),
        Err(WebhookError::MissingUrl)
    );
}

fn assert_default_tolerance_with<S: Scheme>(
    v: &Verifier<S>,
    headers: &dyn Headers,
    with: impl Fn(Request<'_>) -> Request<'_>,
) {
    for delta in [-300, 300] {
        assert!(
            v.verify_at(&with(Request::new(headers, BODY)), T + delta)
                .is_ok()
        );
    }
    for delta in [-301, 301] {
        assert_eq!(
            v.verify_at(&with(Request::new(headers, BODY)), T + delta),
            Err(WebhookError::TimestampOutsideTolerance {
                skew_secs: delta,
                tolerance_secs: 300
            })
        );
    }
}

#[test]
fn custom_scheme_with_id_and_millisecond_timestamps() {
    let scheme = HmacScheme::builder("X-Sig", HmacAlgorithm::Sha512, Encoding::Base64)
        .timestamp_header("X-Ts")
        .timestamp_unit(TimestampUnit::Milliseconds)
        .id_header("X-Id")
        .template("{id}:{timestamp}:{body}")
        .build()
        .unwrap();
    let v = Verifier::new(scheme, [secret("k-0123456789abcdef")]).unwrap();
    let signed = v
        .sign(&Message::new(BODY).timestamp(T).id("evt_9"))
        .unwrap();
    let ms = (T * 1000).to_string();
    assert_eq!(signed.get("X-Ts"), Some(ms.as_str()));
    assert_eq!(signed.get("X-Id"), Some("evt_9"));
    let ok = v.verify_at(&Request::new(&signed, BODY), T + 300).unwrap();
    assert_eq!(ok.timestamp, Some(T));
    assert!(matches!(
        v.verify_at(&Request::new(&signed, BODY), T + 301),
        Err(WebhookError::TimestampOutsideTolerance { skew_secs: 301, .. })
    ));
    // The replay key is the signed id.
    let other = v
        .sign(&Message::new(b"x").timestamp(T).id("evt_9"))
        .unwrap();
    assert_eq!(
        v.verify_at(&Request::new(&other, b"x"), T)
            .unwrap()
            .replay_key,
        ok.replay_key
    );
}

#[test]
fn custom_scheme_configuration_is_checked() {
    let b = || HmacScheme::builder("X-Sig", HmacAlgorithm::Sha256, Encoding::Hex);
    for bad in [
        b().template("{timestamp}.{body}").build(),
        b().template("{method}").build(),
        b().template("{body}{nope}").build(),
        b().id_header("X-Id").build(),
        HmacScheme::builder("", HmacAlgorithm::Sha256, Encoding::Hex).build(),
    ] {
        assert!(
            matches!(bad, Err(WebhookError::InvalidConfig { .. })),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Twilio details not covered by the published vectors

#[test]
fn twilio_signing_sha256_is_announced_and_verified() {
    let url = "https://example.com/sms";
    let body = b"Body=hello+world&From=%2B15005550006";
    let v = Verifier::new(Twilio::signing_sha256(), [secret("token-0123456789abcdef")]).unwrap();
    let signed = v.sign(&Message::new(body).url(url)).unwrap();
    assert_eq!(
        signed.get("X-Twilio-Webhooks-Signature-Settings"),
        Some("algorithm=HMAC_SHA256")
    );
    let mac = hmac_sha256(
        b"token-0123456789abcdef",
        &[url.as_bytes(), b"Bodyhello worldFrom+15005550006"],
    );
    assert_eq!(
        signed.get("X-Twilio-Signature"),
        Some(B64.encode(mac).as_str())
    );
    // The default scheme verifies it too.
    let default = Verifier::new(Twilio::default(), [secret("token-0123456789abcdef")]).unwrap();
    default
        .verify_at(&Request::new(&signed, body).with_url(url), 0)
        .unwrap();
    // Without the settings header the SHA-256 MAC has the wrong length for SHA-1.
    let no_settings: Vec<_> = pairs(&signed)
        .into_iter()
        .filter(|(n, _)| n != "X-Twilio-Webhooks-Signature-Settings")
        .collect();
    assert_malformed(
        default.verify_at(&Request::new(&no_settings, body).with_url(url), 0),
        "X-Twilio-Signature",
    );
}

#[test]
fn twilio_url_is_required_and_checked() {
    let v = Verifier::new(Twilio::default(), [secret("token-0123456789abcdef")]).unwrap();
    let signed = v
        .sign(&Message::new(b"A=1").url("https://example.com/"))
        .unwrap();
    assert_eq!(
        v.verify_at(&Request::new(&signed, b"A=1"), 0),
        Err(WebhookError::MissingUrl)
    );
    assert!(matches!(
        v.verify_at(&Request::new(&signed, b"A=1").with_url("/relative"), 0),
        Err(WebhookError::InvalidUrl { .. })
    ));
    assert!(matches!(
        v.verify_at(
            &Request::new(&signed, b"A=1").with_url("ftp://example.com/"),
            0
        ),
        Err(WebhookError::InvalidUrl { .. })
    ));
    assert_eq!(v.sign(&Message::new(b"A=1")), Err(WebhookError::MissingUrl));
    // A URL signed without a port verifies when the request URL has one (as Twilio's
    // validators do: the URL as given, and the URL without its port).
    let plain = v
        .sign(&Message::new(b"A=1").url("https://example.com/x"))
        .unwrap();
    v.verify_at(
        &Request::new(&plain, b"A=1").with_url("https://example.com:8443/x"),
        0,
    )
    .unwrap();
    // But not the other way round for a non-default port.
    let ported = v
        .sign(&Message::new(b"A=1").url("https://example.com:8443/x"))
        .unwrap();
    assert_eq!(
        v.verify_at(
            &Request::new(&ported, b"A=1").with_url("https://example.com/x"),
            0
        ),
        Err(WebhookError::NoMatchingSignature)
    );
}

// ---------------------------------------------------------------------------------------------
// Ed25519 (`v1a`)

#[cfg(feature = "ed25519")]
mod ed25519 {
    use super::*;

    // RFC 8032 §7.1, test 1.
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    fn whsk() -> String {
        format!("whsk_{}", B64.encode(hex::decode(SEED).unwrap()))
    }

    fn whpk() -> String {
        format!("whpk_{}", B64.encode(hex::decode(PUBLIC).unwrap()))
    }

    #[test]
    fn v1a_sign_and_verify_with_secret_and_public_keys() {
        let signer = Verifier::new(StandardWebhooks, [secret(&whsk())]).unwrap();
        let signed = signer
            .sign(&Message::new(BODY).timestamp(T).id("msg_ed"))
            .unwrap();
        let sig = signed.get("webhook-signature").unwrap();
        let b64 = sig.strip_prefix("v1a,").expect("a v1a signature");

        // Independent check: an Ed25519 signature of `id.timestamp.body` under the RFC key.
        let vk = ed25519_dalek::VerifyingKey::from_bytes(
            &hex::decode(PUBLIC).unwrap().try_into().unwrap(),
        )
        .unwrap();
        let s = ed25519_dalek::Signature::from_slice(&B64.decode(b64).unwrap()).unwrap();
        let content = [b"msg_ed.".as_slice(), T.to_string().as_bytes(), b".", BODY].concat();
        vk.verify_strict(&content, &s).unwrap();

        // The secret key verifies its own signatures.
        let ok = signer.verify_at(&Request::new(&signed, BODY), T).unwrap();
        assert_eq!((ok.provider, ok.secret_index), (Provider::Standard, 0));
        // So does the public key, also after an HMAC secret.
        let public = Verifier::new(StandardWebhooks, [secret(&whpk())]).unwrap();
        public.verify_at(&Request::new(&signed, BODY), T).unwrap();
        let mixed =
            Verifier::new(StandardWebhooks, [secret(STANDARD_SECRET), secret(&whpk())]).unwrap();
        assert_eq!(
            mixed
                .verify_at(&Request::new(&signed, BODY), T)
                .unwrap()
                .secret_index,
            1
        );

        // Tampering is refused.
        assert_eq!(
            public.verify_at(&Request::new(&signed, b"{}"), T),
            Err(WebhookError::NoMatchingSignature)
        );
        let mut h = pairs(&signed);
        h[1].1 = (T + 1).to_string();
        assert_eq!(
            public.verify_at(&Request::new(&h, BODY), T),
            Err(WebhookError::NoMatchingSignature)
        );
        // A v1a signature is not accepted as v1, and an HMAC key ignores v1a.
        let mut h = pairs(&signed);
        h[2].1 = format!("v1,{b64}");
        assert_eq!(
            public.verify_at(&Request::new(&h, BODY), T),
            Err(WebhookError::NoMatchingSignature)
        );
        let hmac_only = Verifier::new(StandardWebhooks, [secret(STANDARD_SECRET)]).unwrap();
        assert_eq!(
            hmac_only.verify_at(&Request::new(&signed, BODY), T),
            Err(WebhookError::NoMatchingSignature)
        );
        // In a list with other entries.
        let mut h = pairs(&signed);
        h[2].1 = format!("v1,AAAA v1a,{b64}");
        public.verify_at(&Request::new(&h, BODY), T).unwrap();
        // After another, well-formed but wrong, v1a signature (and a repeat of it).
        let other = B64.encode([7u8; 64]);
        let mut h = pairs(&signed);
        h[2].1 = format!("v1a,{other} v1a,{other} v1a,{b64}");
        public.verify_at(&Request::new(&h, BODY), T).unwrap();

        // A public key cannot sign.
        assert!(matches!(
            public.sign(&Message::new(BODY)),
            Err(WebhookError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn whsk_may_carry_its_public_half() {
        let full = format!(
            "whsk_{}",
            B64.encode([hex::decode(SEED).unwrap(), hex::decode(PUBLIC).unwrap()].concat())
        );
        let a = Verifier::new(StandardWebhooks, [secret(&full)]).unwrap();
        let b = Verifier::new(StandardWebhooks, [secret(&whsk())]).unwrap();
        let msg = Message::new(BODY).timestamp(T).id("msg_ed");
        // Ed25519 is deterministic: same key, same signature.
        assert_eq!(a.sign(&msg).unwrap(), b.sign(&msg).unwrap());

        let mut wrong_public = hex::decode(PUBLIC).unwrap();
        wrong_public[0] ^= 1;
        let bad = format!(
            "whsk_{}",
            B64.encode([hex::decode(SEED).unwrap(), wrong_public].concat())
        );
        assert!(matches!(
            Verifier::new(StandardWebhooks, [secret(&bad)]).err(),
            Some(WebhookError::InvalidSecret { index: 0, .. })
        ));
        assert!(matches!(
            Verifier::new(StandardWebhooks, [secret("whpk_AAAA")]).err(),
            Some(WebhookError::InvalidSecret { index: 0, .. })
        ));
    }
}

#[cfg(not(feature = "ed25519"))]
#[test]
fn ed25519_keys_need_the_feature() {
    assert!(matches!(
        Verifier::new(StandardWebhooks, [secret("whsk_AAAA")]).err(),
        Some(WebhookError::InvalidSecret { index: 0, .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Secrets never show

const SECRET: &str = "S3cr3t-Pal1sade-DoNotLeak-0123456789";

fn assert_hidden(what: &str, shown: &str) {
    for needle in [SECRET, &B64.encode(SECRET)] {
        assert!(!shown.contains(needle), "{what} shows the secret: {shown}");
    }
}

#[test]
fn debug_output_never_contains_the_secret() {
    let s = secret(SECRET);
    assert_hidden("SecretString", &format!("{s:?}"));
    assert_hidden("Key", &format!("{:?}", Key::hmac(SECRET.as_bytes())));

    let standard_secret = format!("whsec_{}", B64.encode(SECRET));
    let standard = Verifier::new(StandardWebhooks, [secret(&standard_secret)]).unwrap();
    assert_hidden("Verifier<StandardWebhooks>", &format!("{standard:?}"));
    assert_hidden("Verifier<StandardWebhooks>", &format!("{standard:#?}"));
    let shown = [
        format!("{:?}", Verifier::new(Stripe, [secret(SECRET)]).unwrap()),
        format!(
            "{:?}",
            Verifier::new(GitHub::new(), [secret(SECRET)]).unwrap()
        ),
        format!("{:?}", Verifier::new(Meta, [secret(SECRET)]).unwrap()),
        format!("{:?}", Verifier::new(Slack, [secret(SECRET)]).unwrap()),
        format!(
            "{:?}",
            Verifier::new(Twilio::default(), [secret(SECRET)]).unwrap()
        ),
        format!("{:?}", Verifier::new(Shopify, [secret(SECRET)]).unwrap()),
        format!(
            "{:#?}",
            Verifier::new(Vapi::hmac(Vapi::default_hmac_plan()), [secret(SECRET)]).unwrap()
        ),
        format!(
            "{:?}",
            Verifier::new(
                HmacScheme::builder("X-Sig", HmacAlgorithm::Sha256, Encoding::Hex)
                    .build()
                    .unwrap(),
                [secret("other-0123456789abcdef"), secret(SECRET)]
            )
            .unwrap()
        ),
    ];
    for s in &shown {
        assert_hidden("Verifier", s);
        assert!(s.contains("REDACTED"), "{s}");
    }
    // Requests show the body's length, not the body.
    let h: [(&str, &str); 0] = [];
    let shown = format!("{:?}", Request::new(&h, SECRET.as_bytes()));
    assert_hidden("Request", &shown);
}

#[test]
fn errors_never_contain_the_secret() {
    let mut errors = Vec::new();
    // Secrets refused at construction.
    for bad in [
        format!("whsec_{SECRET}!"),
        format!("whsec_{}", B64.encode(&SECRET[..10])),
        format!("whsk_{SECRET}"),
    ] {
        errors.push(Verifier::new(StandardWebhooks, [secret(&bad)]).unwrap_err());
    }
    // The secret sent where a signature belongs, in every header of every scheme.
    let in_headers: Vec<(&str, String)> = vec![
        ("x-vapi-secret", format!("{SECRET}x")),
        ("x-vapi-secret", format!("{SECRET}\u{e9}")),
        ("Stripe-Signature", format!("t={T},v1={SECRET}")),
        ("Stripe-Signature", format!("t={SECRET},v1=00")),
        ("X-Hub-Signature-256", format!("sha256={SECRET}")),
        ("X-Hub-Signature-256", SECRET.to_owned()),
        ("X-Slack-Signature", format!("v0={}", hex::encode(SECRET))),
        ("X-Shopify-Hmac-Sha256", SECRET.to_owned()),
        ("X-Twilio-Signature", SECRET.to_owned()),
        ("webhook-signature", format!("v1,{SECRET}")),
        ("webhook-timestamp", SECRET.to_owned()),
    ];
    for (name, value) in &in_headers {
        let h = vec![
            (name.to_string(), value.clone()),
            ("X-Slack-Request-Timestamp".to_owned(), SECRET.to_owned()),
            ("webhook-id".to_owned(), "msg_1".to_owned()),
            ("x-timestamp".to_owned(), T.to_string()),
        ];
        let req = Request::new(&h, SECRET.as_bytes()).with_url("https://example.com/");
        let results = [
            Verifier::new(Vapi::server_secret(), [secret(SECRET)])
                .unwrap()
                .verify_at(&req, T),
            Verifier::new(Vapi::hmac(Vapi::default_hmac_plan()), [secret(SECRET)])
                .unwrap()
                .verify_at(&req, T),
            Verifier::new(Stripe, [secret(SECRET)])
                .unwrap()
                .verify_at(&req, T),
            Verifier::new(GitHub::new(), [secret(SECRET)])
                .unwrap()
                .verify_at(&req, T),
            Verifier::new(Slack, [secret(SECRET)])
                .unwrap()
                .verify_at(&req, T),
            Verifier::new(Shopify, [secret(SECRET)])
                .unwrap()
                .verify_at(&req, T),
            Verifier::new(Twilio::default(), [secret(SECRET)])
                .unwrap()
                .verify_at(&req, T),
            Verifier::new(StandardWebhooks, [secret(STANDARD_SECRET)])
                .unwrap()
                .verify_at(&req, T),
        ];
        errors.extend(results.into_iter().filter_map(Result::err));
    }
    // Twilio with a URL containing the secret.
    let h = [("X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")];
    errors.push(
        Verifier::new(Twilio::default(), [secret(SECRET)])
            .unwrap()
            .verify_at(&Request::new(&h, b"").with_url(SECRET), T)
            .unwrap_err(),
    );
    assert!(errors.len() > 40, "{}", errors.len());
    for e in &errors {
        assert_hidden("error Display", &e.to_string());
        assert_hidden("error Debug", &format!("{e:?}"));
    }
}
