//! Published webhook signature vectors (`tests/vectors/webhooks.json`), checked through the public API.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use palisade_webhook::{
    GitHub, Key, Message, Meta, Provider, Request, SecretString, Slack, StandardWebhooks,
    Tolerance, Twilio, Verifier, WebhookError,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

const JSON: &str = include_str!("vectors/webhooks.json");

/// The whole file. Every struct refuses unknown fields, so a vector of a shape these tests do
/// not handle fails loudly instead of being skipped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vectors {
    #[serde(rename = "_about")]
    about: String,
    standard_webhooks: Vec<StandardVector>,
    github: Vec<GitHubVector>,
    slack: Vec<SlackVector>,
    twilio: TwilioVectors,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StandardVector {
    id: String,
    source: String,
    secret: String,
    msg_id: String,
    timestamp: i64,
    payload: String,
    /// Present on positive vectors: the `webhook-signature` value.
    expected: Option<String>,
    /// Present on negative vectors: a `webhook-signature` value that must be refused.
    expected_invalid: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GitHubVector {
    id: String,
    source: String,
    secret: String,
    payload: String,
    /// The `X-Hub-Signature-256` value.
    expected: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlackVector {
    id: String,
    source: String,
    secret: String,
    /// The `X-Slack-Request-Timestamp` value, as sent.
    timestamp: String,
    payload: String,
    /// The `X-Slack-Signature` value.
    expected: String,
    now_valid: Vec<i64>,
    now_invalid: Vec<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TwilioVectors {
    auth_token: String,
    /// The configured webhook URL; every case's `signed_url` starts with it.
    url: String,
    /// The default form parameters of the form cases.
    params: BTreeMap<String, String>,
    cases: Vec<TwilioCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TwilioCase {
    id: String,
    source: String,
    signed_url: String,
    /// The `X-Twilio-Signature` value.
    expected: String,
    /// Replaces some of the default parameters.
    params_override: Option<BTreeMap<String, String>>,
    /// Replaces the default parameters entirely, in order, names possibly repeated.
    params_list: Option<Vec<(String, String)>>,
    /// A JSON body bound by the URL's `bodySHA256` parameter (no form parameters).
    body: Option<String>,
    body_sha256_hex: Option<String>,
    params_override_empty: Option<bool>,
}

fn vectors() -> Vectors {
    let v: Vectors = serde_json::from_str(JSON).expect("tests/vectors/webhooks.json parses");
    assert!(!v.about.is_empty());
    v
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// Standard Webhooks headers under either name family (`webhook-` or `svix-`).
fn standard_headers(prefix: &str, id: &str, ts: i64, sig: &str) -> Vec<(String, String)> {
    vec![
        (format!("{prefix}-id"), id.to_owned()),
        (format!("{prefix}-timestamp"), ts.to_string()),
        (format!("{prefix}-signature"), sig.to_owned()),
    ]
}

#[test]
fn vector_file_is_not_empty() {
    let v = vectors();
    assert!(!v.standard_webhooks.is_empty());
    assert!(!v.github.is_empty());
    assert!(!v.slack.is_empty());
    assert!(!v.twilio.cases.is_empty());
}

#[test]
fn standard_webhooks_vectors() {
    let mut positive = 0;
    let mut negative = 0;
    for vector in vectors().standard_webhooks {
        let StandardVector {
            id,
            source,
            secret: key,
            msg_id,
            timestamp,
            payload,
            expected,
            expected_invalid,
        } = &vector;
        let what = format!("{id} ({source})");
        let v = Verifier::new(StandardWebhooks, [secret(key)]).unwrap();
        let body = payload.as_bytes();
        match (expected, expected_invalid) {
            (Some(expected), None) => {
                positive += 1;
                for prefix in ["webhook", "svix"] {
                    let headers = standard_headers(prefix, msg_id, *timestamp, expected);
                    let ok = v
                        .verify_at(&Request::new(&headers, body), *timestamp)
                        .unwrap_or_else(|e| panic!("{what} with {prefix}- headers: {e}"));
                    assert_eq!(ok.provider, Provider::Standard, "{what}");
                    assert_eq!(ok.timestamp, Some(*timestamp), "{what}");
                    assert_eq!(ok.secret_index, 0, "{what}");
                }
                let signed = v
                    .sign(&Message::new(body).timestamp(*timestamp).id(msg_id))
                    .unwrap();
                assert_eq!(
                    signed.get("webhook-signature"),
                    Some(expected.as_str()),
                    "{what}"
                );
                assert_eq!(signed.get("webhook-id"), Some(msg_id.as_str()), "{what}");
                let ts = timestamp.to_string();
                assert_eq!(signed.get("webhook-timestamp"), Some(ts.as_str()), "{what}");
            }
            (None, Some(invalid)) => {
                negative += 1;
                for prefix in ["webhook", "svix"] {
                    let headers = standard_headers(prefix, msg_id, *timestamp, invalid);
                    assert_eq!(
                        v.verify_at(&Request::new(&headers, body), *timestamp),
                        Err(WebhookError::NoMatchingSignature),
                        "{what} with {prefix}- headers"
                    );
                }
            }
            _ => panic!("{what}: needs exactly one of `expected` and `expected_invalid`"),
        }
    }
    assert!(
        positive > 0 && negative > 0,
        "{positive} positive, {negative} negative"
    );
}

#[test]
fn github_vectors_through_github_and_meta() {
    for GitHubVector {
        id,
        source,
        secret: key,
        payload,
        expected,
    } in vectors().github
    {
        let what = format!("{id} ({source})");
        let body = payload.as_bytes();
        let headers = [("X-Hub-Signature-256", expected.as_str())];

        let github = Verifier::new(GitHub::new(), [secret(&key)]).unwrap();
        let ok = github
            .verify_at(&Request::new(&headers, body), 0)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(ok.provider, Provider::GitHub, "{what}");
        assert_eq!(ok.timestamp, None, "{what}");
        let signed = github.sign(&Message::new(body)).unwrap();
        assert_eq!(
            signed.get("X-Hub-Signature-256"),
            Some(expected.as_str()),
            "{what}"
        );

        // Meta signs the same way; only the provider differs, and so does the replay key
        // (domain-separated by provider).
        let meta = Verifier::new(Meta, [secret(&key)]).unwrap();
        let meta_ok = meta
            .verify_at(&Request::new(&headers, body), 0)
            .unwrap_or_else(|e| panic!("{what} through Meta: {e}"));
        assert_eq!(meta_ok.provider, Provider::Meta, "{what}");
        assert_ne!(meta_ok.replay_key, ok.replay_key, "{what}");
        let signed = meta.sign(&Message::new(body)).unwrap();
        assert_eq!(
            signed.get("X-Hub-Signature-256"),
            Some(expected.as_str()),
            "{what}"
        );
    }
}

#[test]
fn slack_vectors() {
    for SlackVector {
        id,
        source,
        secret: key,
        timestamp,
        payload,
        expected,
        now_valid,
        now_invalid,
    } in vectors().slack
    {
        let what = format!("{id} ({source})");
        let ts: i64 = timestamp.parse().unwrap();
        let body = payload.as_bytes();
        let headers = [
            ("X-Slack-Request-Timestamp", timestamp.as_str()),
            ("X-Slack-Signature", expected.as_str()),
        ];
        let v = Verifier::new(Slack, [secret(&key)]).unwrap();
        assert!(!now_valid.is_empty() && !now_invalid.is_empty(), "{what}");
        for now in now_valid {
            let ok = v
                .verify_at(&Request::new(&headers, body), now)
                .unwrap_or_else(|e| panic!("{what} at {now}: {e}"));
            assert_eq!(ok.provider, Provider::Slack, "{what}");
            assert_eq!(ok.timestamp, Some(ts), "{what}");
        }
        for now in now_invalid {
            let skew_secs = now - ts;
            let tolerance = Tolerance::DEFAULT;
            let tolerance_secs = if skew_secs >= 0 {
                tolerance.past_secs
            } else {
                tolerance.future_secs
            };
            assert!(
                skew_secs.unsigned_abs() > tolerance_secs,
                "{what}: bad now_invalid {now}"
            );
            assert_eq!(
                v.verify_at(&Request::new(&headers, body), now),
                Err(WebhookError::TimestampOutsideTolerance {
                    skew_secs,
                    tolerance_secs
                }),
                "{what} at {now}"
            );
        }
        let signed = v.sign(&Message::new(body).timestamp(ts)).unwrap();
        assert_eq!(
            signed.get("X-Slack-Signature"),
            Some(expected.as_str()),
            "{what}"
        );
        assert_eq!(
            signed.get("X-Slack-Request-Timestamp"),
            Some(timestamp.as_str()),
            "{what}"
        );
    }
}

/// What one Twilio case sends.
enum TwilioBody {
    /// Form parameters, in order.
    Form(Vec<(String, String)>),
    /// A JSON body whose SHA-256 the signed URL carries.
    Json { body: String, sha256_hex: String },
}

fn twilio_body(tw: &TwilioVectors, case: &TwilioCase) -> TwilioBody {
    let what = format!("{} ({})", case.id, case.source);
    match case {
        TwilioCase {
            params_override_empty: Some(true),
            body: Some(body),
            body_sha256_hex: Some(sha256_hex),
            params_override: None,
            params_list: None,
            ..
        } => TwilioBody::Json {
            body: body.clone(),
            sha256_hex: sha256_hex.clone(),
        },
        TwilioCase {
            params_override_empty: None,
            body: None,
            body_sha256_hex: None,
            params_override: None,
            params_list: Some(list),
            ..
        } => TwilioBody::Form(list.clone()),
        TwilioCase {
            params_override_empty: None,
            body: None,
            body_sha256_hex: None,
            params_override,
            params_list: None,
            ..
        } => {
            let mut params = tw.params.clone();
            for (k, v) in params_override.iter().flatten() {
                params.insert(k.clone(), v.clone());
            }
            TwilioBody::Form(params.into_iter().collect())
        }
        _ => panic!("{what}: a Twilio case of a shape these tests do not handle"),
    }
}

fn form_encode(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// `https://host/…` → `https://host:443/…` (the default port made explicit).
fn with_default_port(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let port = match scheme {
        "https" => ":443",
        "http" => ":80",
        other => panic!("unexpected scheme {other}"),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    assert!(!rest[..end].contains(':'), "{url} already has a port");
    format!("{scheme}://{}{port}{}", &rest[..end], &rest[end..])
}

#[test]
fn twilio_vectors() {
    let tw = vectors().twilio;
    // Twilio's documented token (`12345`) is shorter than the 16 bytes `Verifier::new` asks
    // for: published vectors go through `from_keys`, which takes keys as they are.
    assert!(matches!(
        Verifier::new(Twilio::default(), [secret(&tw.auth_token)]),
        Err(WebhookError::SecretTooShort { index: 0, .. })
    ));
    let v = Verifier::from_keys(Twilio::default(), [Key::hmac(tw.auth_token.as_bytes())]).unwrap();
    let (mut forms, mut jsons) = (0, 0);
    for case in &tw.cases {
        let what = format!("{} ({})", case.id, case.source);
        let url = case.signed_url.as_str();
        assert!(
            url.starts_with(&tw.url),
            "{what}: signed_url is not under {}",
            tw.url
        );
        match twilio_body(&tw, case) {
            TwilioBody::Form(params) => {
                forms += 1;
                assert!(!params.is_empty(), "{what}");
                let body = form_encode(&params);
                let headers = [
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("X-Twilio-Signature", case.expected.as_str()),
                ];
                let ok = v
                    .verify_at(&Request::new(&headers, body.as_bytes()).with_url(url), 0)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(ok.provider, Provider::Twilio, "{what}");
                assert_eq!(ok.timestamp, None, "{what}");

                // Twilio's validators also accept the URL with its default port spelled out.
                let ported = with_default_port(url);
                v.verify_at(
                    &Request::new(&headers, body.as_bytes()).with_url(&ported),
                    0,
                )
                .unwrap_or_else(|e| panic!("{what} at {ported}: {e}"));

                // A charset parameter on the content type changes nothing.
                let charset = [
                    (
                        "content-type",
                        "application/x-www-form-urlencoded; charset=utf-8",
                    ),
                    ("x-twilio-signature", case.expected.as_str()),
                ];
                v.verify_at(&Request::new(&charset, body.as_bytes()).with_url(url), 0)
                    .unwrap_or_else(|e| panic!("{what} with a charset: {e}"));

                // Changing any one parameter value breaks the signature.
                for i in 0..params.len() {
                    let mut changed = params.clone();
                    changed[i].1.push('0');
                    let body = form_encode(&changed);
                    assert_eq!(
                        v.verify_at(&Request::new(&headers, body.as_bytes()).with_url(url), 0),
                        Err(WebhookError::NoMatchingSignature),
                        "{what}: parameter {} changed",
                        changed[i].0
                    );
                }
                // So does another URL.
                let other = format!("{url}&x=1");
                assert_eq!(
                    v.verify_at(&Request::new(&headers, body.as_bytes()).with_url(&other), 0),
                    Err(WebhookError::NoMatchingSignature),
                    "{what}"
                );

                // Signing reproduces the header, and announces the form body.
                let signed = v.sign(&Message::new(body.as_bytes()).url(url)).unwrap();
                assert_eq!(
                    signed.get("X-Twilio-Signature"),
                    Some(case.expected.as_str()),
                    "{what}"
                );
                assert_eq!(
                    signed.get("Content-Type"),
                    Some("application/x-www-form-urlencoded"),
                    "{what}"
                );
            }
            TwilioBody::Json { body, sha256_hex } => {
                jsons += 1;
                assert_eq!(
                    hex::encode(Sha256::digest(body.as_bytes())),
                    sha256_hex,
                    "{what}"
                );
                let parsed = url::Url::parse(url).unwrap();
                assert!(
                    parsed
                        .query_pairs()
                        .any(|(k, v)| k == "bodySHA256" && v == sha256_hex.as_str()),
                    "{what}: signed_url does not carry bodySHA256"
                );
                let headers = [
                    ("Content-Type", "application/json"),
                    ("X-Twilio-Signature", case.expected.as_str()),
                ];
                let ok = v
                    .verify_at(&Request::new(&headers, body.as_bytes()).with_url(url), 0)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(ok.provider, Provider::Twilio, "{what}");
                let ported = with_default_port(url);
                v.verify_at(
                    &Request::new(&headers, body.as_bytes()).with_url(&ported),
                    0,
                )
                .unwrap_or_else(|e| panic!("{what} at {ported}: {e}"));

                // One byte of the body changed: the hash in the signed URL no longer matches.
                for i in [0, body.len() / 2, body.len() - 1] {
                    let mut tampered = body.clone().into_bytes();
                    tampered[i] ^= 0x01;
                    assert_eq!(
                        v.verify_at(&Request::new(&headers, &tampered).with_url(url), 0),
                        Err(WebhookError::BodyHashMismatch),
                        "{what}: byte {i} flipped"
                    );
                }

                let signed = v.sign(&Message::new(body.as_bytes()).url(url)).unwrap();
                assert_eq!(
                    signed.get("X-Twilio-Signature"),
                    Some(case.expected.as_str()),
                    "{what}"
                );
                assert_eq!(signed.get("Content-Type"), None, "{what}");
            }
        }
    }
    assert!(
        forms > 0 && jsons > 0,
        "{forms} form cases, {jsons} JSON cases"
    );
}
