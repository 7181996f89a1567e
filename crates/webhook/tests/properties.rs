//! Property tests: for every provider, what is signed verifies, and any single change to the
//! body, the signature or the signed timestamp is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use palisade_webhook::{
    Encoding, GitHub, HmacAlgorithm, HmacScheme, Message, Meta, Provider, Request, Scheme,
    SecretString, Shopify, SignedHeaders, Slack, StandardWebhooks, Stripe, Twilio, Vapi, Verified,
    Verifier, WebhookError,
};
use proptest::prelude::*;
use proptest::sample::Index;
use sha2::{Digest, Sha256};

type Headers = Vec<(String, String)>;

const HEX: &[u8] = b"0123456789abcdef";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Where a scheme puts its signature and its signed timestamp.
#[derive(Clone, Copy)]
struct Layout {
    provider: Provider,
    /// The signature header.
    signature: &'static str,
    /// What precedes the encoded MAC inside the signature header's value.
    marker: &'static str,
    /// The encoded MAC's alphabet.
    alphabet: &'static [u8],
    timestamp: Timestamp,
}

#[derive(Clone, Copy)]
enum Timestamp {
    /// Not signed.
    None,
    /// In its own header, in seconds.
    Header(&'static str),
    /// Stripe's `t=` element at the start of the signature header.
    StripeT,
}

/// Where to change a request.
#[derive(Debug, Clone)]
struct Mutation {
    body_byte: Index,
    body_bit: u8,
    sig_char: Index,
    sig_replacement: Index,
    later: bool,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (
        any::<Index>(),
        0u8..8,
        any::<Index>(),
        any::<Index>(),
        any::<bool>(),
    )
        .prop_map(
            |(body_byte, body_bit, sig_char, sig_replacement, later)| Mutation {
                body_byte,
                body_bit,
                sig_char,
                sig_replacement,
                later,
            },
        )
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..2048)
}

/// A printable-ASCII secret of 22 to 64 characters: at least the 16-byte minimum, even after
/// a `whsec_` prefix (Stripe measures what follows it).
fn ascii_secret() -> impl Strategy<Value = String> {
    "[ -~]{22,64}"
}

/// A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes.
fn standard_secret() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 24..=64).prop_map(|k| format!("whsec_{}", B64.encode(k)))
}

fn timestamp() -> impl Strategy<Value = i64> {
    1_000_000_000i64..4_000_000_000
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(64)
}

fn owned(h: &SignedHeaders) -> Headers {
    h.iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn header_mut<'h>(headers: &'h mut Headers, name: &str) -> &'h mut String {
    &mut headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .unwrap_or_else(|| panic!("no {name} header"))
        .1
}

/// What flipping a bit of the body must lead to.
#[derive(Clone, Copy)]
enum BodyFlip {
    /// This error.
    Refused(fn(&WebhookError) -> bool),
    /// Twilio form bodies: the decoded, sorted parameters are signed, not the bytes. Refused
    /// exactly when the flip changes the decoded parameters.
    FormParameters,
}

fn no_match(e: &WebhookError) -> bool {
    *e == WebhookError::NoMatchingSignature
}

fn hash_mismatch(e: &WebhookError) -> bool {
    *e == WebhookError::BodyHashMismatch
}

fn decoded_form(body: &[u8]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    v.sort();
    v
}

/// One signed request and the checks on it.
struct Case<'a, S> {
    verifier: &'a Verifier<S>,
    layout: Layout,
    headers: Headers,
    body: &'a [u8],
    url: Option<&'a str>,
    now: i64,
}

impl<S: Scheme> Case<'_, S> {
    fn verify(&self, headers: &Headers, body: &[u8]) -> Result<Verified, WebhookError> {
        let mut request = Request::new(headers, body);
        if let Some(url) = self.url {
            request = request.with_url(url);
        }
        self.verifier.verify_at(&request, self.now)
    }

    /// Runs every check: the request verifies, and each single change is refused.
    fn check(&self, m: &Mutation, body_flip: BodyFlip) -> Result<(), TestCaseError> {
        let ok = self.verify(&self.headers, self.body);
        prop_assert!(ok.is_ok(), "as signed: {:?}", ok);
        let ok = ok.unwrap();
        prop_assert_eq!(ok.provider, self.layout.provider);
        prop_assert_eq!(ok.secret_index, 0);

        // One bit of the body.
        if !self.body.is_empty() {
            let mut flipped = self.body.to_vec();
            let i = m.body_byte.index(flipped.len());
            flipped[i] ^= 1 << m.body_bit;
            let got = self.verify(&self.headers, &flipped);
            match body_flip {
                BodyFlip::Refused(expected) => {
                    prop_assert!(
                        got.as_ref().err().is_some_and(expected),
                        "bit {} of byte {} flipped: {:?}",
                        m.body_bit,
                        i,
                        got
                    );
                }
                BodyFlip::FormParameters => {
                    if decoded_form(&flipped) == decoded_form(self.body) {
                        prop_assert!(got.is_ok(), "same parameters, refused: {:?}", got);
                    } else {
                        prop_assert_eq!(got, Err(WebhookError::NoMatchingSignature));
                    }
                }
            }
        }

        // One character of the encoded signature, replaced by another of its alphabet.
        let mut headers = self.headers.clone();
        let value = header_mut(&mut headers, self.layout.signature);
        let start = value.find(self.layout.marker).unwrap() + self.layout.marker.len();
        prop_assert!(start < value.len());
        let pos = start + m.sig_char.index(value.len() - start);
        // Hex is read in either case, so compare in lowercase (what the schemes write).
        let current = if self.layout.alphabet == HEX {
            value.as_bytes()[pos].to_ascii_lowercase()
        } else {
            value.as_bytes()[pos]
        };
        let others: Vec<u8> = self
            .layout
            .alphabet
            .iter()
            .copied()
            .filter(|&c| c != current)
            .collect();
        let replacement = others[m.sig_replacement.index(others.len())];
        value.replace_range(pos..=pos, &char::from(replacement).to_string());
        let got = self.verify(&headers, self.body);
        prop_assert!(
            matches!(
                got,
                Err(WebhookError::NoMatchingSignature | WebhookError::MalformedHeader { .. })
            ),
            "signature changed to {:?}: {:?}",
            headers,
            got
        );

        // The signed timestamp, one second off (well within the tolerance).
        let mut headers = self.headers.clone();
        let shift = |t: &str| {
            let t: i64 = t.parse().unwrap();
            (if m.later { t + 1 } else { t - 1 }).to_string()
        };
        match self.layout.timestamp {
            Timestamp::None => return Ok(()),
            Timestamp::Header(name) => {
                let value = header_mut(&mut headers, name);
                *value = shift(value);
            }
            Timestamp::StripeT => {
                let value = header_mut(&mut headers, self.layout.signature);
                let (t, rest) = value.strip_prefix("t=").unwrap().split_once(',').unwrap();
                *value = format!("t={},{rest}", shift(t));
            }
        }
        prop_assert_eq!(
            self.verify(&headers, self.body),
            Err(WebhookError::NoMatchingSignature),
            "timestamp moved"
        );
        Ok(())
    }
}

/// Signs `body` (at `ts`, with `id`) with a fresh verifier and checks it.
fn round_trip<S: Scheme>(
    scheme: S,
    secret: &str,
    layout: Layout,
    body: &[u8],
    ts: i64,
    m: &Mutation,
) -> Result<(), TestCaseError> {
    let verifier = Verifier::new(scheme, [SecretString::from(secret.to_owned())]).unwrap();
    let signed = verifier
        .sign(&Message::new(body).timestamp(ts).id("msg_prop"))
        .unwrap();
    Case {
        verifier: &verifier,
        layout,
        headers: owned(&signed),
        body,
        url: None,
        now: ts,
    }
    .check(m, BodyFlip::Refused(no_match))
}

const STANDARD: Layout = Layout {
    provider: Provider::Standard,
    signature: "webhook-signature",
    marker: "v1,",
    alphabet: BASE64,
    timestamp: Timestamp::Header("webhook-timestamp"),
};

proptest! {
    #![proptest_config(config())]

    #[test]
    fn standard_webhooks(
        secret in standard_secret(),
        id in "[A-Za-z0-9_]{1,40}",
        body in body(),
        ts in timestamp(),
        m in mutation(),
    ) {
        let verifier = Verifier::new(StandardWebhooks, [SecretString::from(secret)]).unwrap();
        let signed = verifier.sign(&Message::new(&body).timestamp(ts).id(&id)).unwrap();
        Case { verifier: &verifier, layout: STANDARD, headers: owned(&signed), body: &body, url: None, now: ts }
            .check(&m, BodyFlip::Refused(no_match))?;
        // The same request under the `svix-` header names.
        let svix: Headers = owned(&signed)
            .into_iter()
            .map(|(n, v)| (n.replace("webhook-", "svix-"), v))
            .collect();
        let layout = Layout { signature: "svix-signature", timestamp: Timestamp::Header("svix-timestamp"), ..STANDARD };
        Case { verifier: &verifier, layout, headers: svix, body: &body, url: None, now: ts }
            .check(&m, BodyFlip::Refused(no_match))?;
    }

    /// Differential: the same signature as the `standardwebhooks` reference crate.
    #[test]
    fn standard_webhooks_matches_the_reference_crate(
        secret in standard_secret(),
        id in "[A-Za-z0-9_]{1,40}",
        body in ".{0,512}",
        ts in timestamp(),
    ) {
        let ours = Verifier::new(StandardWebhooks, [SecretString::from(secret.clone())]).unwrap();
        let signed = ours.sign(&Message::new(body.as_bytes()).timestamp(ts).id(&id)).unwrap();
        let reference = standardwebhooks::Webhook::new(&secret).unwrap();
        let theirs = reference.sign(&id, ts, body.as_bytes()).unwrap();
        prop_assert_eq!(signed.get("webhook-signature"), Some(theirs.as_str()));
    }

    #[test]
    fn stripe(secret in ascii_secret(), body in body(), ts in timestamp(), m in mutation()) {
        let layout = Layout {
            provider: Provider::Stripe,
            signature: "Stripe-Signature",
            marker: ",v1=",
            alphabet: HEX,
            timestamp: Timestamp::StripeT,
        };
        round_trip(Stripe, &secret, layout, &body, ts, &m)?;
    }

    #[test]
    fn github(secret in ascii_secret(), body in body(), m in mutation()) {
        let layout = Layout {
            provider: Provider::GitHub,
            signature: "X-Hub-Signature-256",
            marker: "sha256=",
            alphabet: HEX,
            timestamp: Timestamp::None,
        };
        round_trip(GitHub::new(), &secret, layout, &body, 0, &m)?;
        round_trip(GitHub::with_legacy_sha1(), &secret, layout, &body, 0, &m)?;
    }

    #[test]
    fn meta(secret in ascii_secret(), body in body(), m in mutation()) {
        let layout = Layout {
            provider: Provider::Meta,
            signature: "X-Hub-Signature-256",
            marker: "sha256=",
            alphabet: HEX,
            timestamp: Timestamp::None,
        };
        round_trip(Meta, &secret, layout, &body, 0, &m)?;
    }

    #[test]
    fn slack(secret in ascii_secret(), body in body(), ts in timestamp(), m in mutation()) {
        let layout = Layout {
            provider: Provider::Slack,
            signature: "X-Slack-Signature",
            marker: "v0=",
            alphabet: HEX,
            timestamp: Timestamp::Header("X-Slack-Request-Timestamp"),
        };
        round_trip(Slack, &secret, layout, &body, ts, &m)?;
    }

    #[test]
    fn shopify(secret in ascii_secret(), body in body(), m in mutation()) {
        let layout = Layout {
            provider: Provider::Shopify,
            signature: "X-Shopify-Hmac-Sha256",
            marker: "",
            alphabet: BASE64,
            timestamp: Timestamp::None,
        };
        round_trip(Shopify, &secret, layout, &body, 0, &m)?;
    }

    #[test]
    fn vapi_default_hmac_plan(secret in ascii_secret(), body in body(), ts in timestamp(), m in mutation()) {
        let layout = Layout {
            provider: Provider::Vapi,
            signature: "x-signature",
            marker: "",
            alphabet: HEX,
            timestamp: Timestamp::Header("x-timestamp"),
        };
        round_trip(Vapi::hmac(Vapi::default_hmac_plan()), &secret, layout, &body, ts, &m)?;
    }

    #[test]
    fn generic_hmac_scheme(secret in ascii_secret(), body in body(), ts in timestamp(), m in mutation()) {
        let scheme = HmacScheme::builder("X-Signature", HmacAlgorithm::Sha512, Encoding::Base64)
            .prefix("v1=")
            .timestamp_header("X-Timestamp")
            .id_header("X-Id")
            .template("{id}:{timestamp}:{body}")
            .build()
            .unwrap();
        let layout = Layout {
            provider: Provider::Hmac,
            signature: "X-Signature",
            marker: "v1=",
            alphabet: BASE64,
            timestamp: Timestamp::Header("X-Timestamp"),
        };
        round_trip(scheme, &secret, layout, &body, ts, &m)?;
    }

    #[test]
    fn twilio_form(
        secret in ascii_secret(),
        params in proptest::collection::vec(("\\PC{0,12}", "\\PC{0,12}"), 1..8),
        path in "[a-z0-9/]{0,16}",
        changed in any::<Index>(),
        m in mutation(),
    ) {
        let url = format!("https://example.com/{path}?account=1");
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
        let verifier = Verifier::new(Twilio::default(), [SecretString::from(secret)]).unwrap();
        let signed = verifier.sign(&Message::new(body.as_bytes()).url(&url)).unwrap();
        prop_assert_eq!(signed.get("Content-Type"), Some("application/x-www-form-urlencoded"));
        let layout = Layout {
            provider: Provider::Twilio,
            signature: "X-Twilio-Signature",
            marker: "",
            alphabet: BASE64,
            timestamp: Timestamp::None,
        };
        let case = Case {
            verifier: &verifier,
            layout,
            headers: owned(&signed),
            body: body.as_bytes(),
            url: Some(&url),
            now: 0,
        };
        case.check(&m, BodyFlip::FormParameters)?;

        // The same parameters in another order, encoded again: still valid.
        let mut reversed = params.clone();
        reversed.reverse();
        let body2 = form_urlencoded::Serializer::new(String::new()).extend_pairs(&reversed).finish();
        prop_assert!(case.verify(&case.headers, body2.as_bytes()).is_ok());

        // One parameter value changed: refused.
        let mut other = params.clone();
        let i = changed.index(other.len());
        other[i].1.push('x');
        let body3 = form_urlencoded::Serializer::new(String::new()).extend_pairs(&other).finish();
        prop_assert_eq!(
            case.verify(&case.headers, body3.as_bytes()),
            Err(WebhookError::NoMatchingSignature)
        );
    }

    #[test]
    fn twilio_json_with_body_sha256(
        secret in ascii_secret(),
        body in body(),
        sha256 in any::<bool>(),
        m in mutation(),
    ) {
        let url = format!(
            "https://example.com/hook?x=1&bodySHA256={}",
            hex::encode(Sha256::digest(&body))
        );
        let scheme = if sha256 { Twilio::signing_sha256() } else { Twilio::default() };
        let verifier = Verifier::new(scheme, [SecretString::from(secret)]).unwrap();
        let signed = verifier.sign(&Message::new(&body).url(&url)).unwrap();
        prop_assert_eq!(signed.get("Content-Type"), None);
        let mut headers = owned(&signed);
        headers.push(("Content-Type".into(), "application/json".into()));
        let layout = Layout {
            provider: Provider::Twilio,
            signature: "X-Twilio-Signature",
            marker: "",
            alphabet: BASE64,
            timestamp: Timestamp::None,
        };
        Case { verifier: &verifier, layout, headers, body: &body, url: Some(&url), now: 0 }
            .check(&m, BodyFlip::Refused(hash_mismatch))?;
    }
}
