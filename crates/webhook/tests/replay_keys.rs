//! Replay keys depend on the signed content only, never on which configured secret matched
//! (issue 11 §1): the same content signed under either secret of a rotation yields one key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_webhook::{
    Encoding, GitHub, HmacAlgorithm, HmacScheme, Message, Meta, ReplayKey, Request, Scheme,
    SecretString, Shopify, Slack, StandardWebhooks, Stripe, Twilio, Vapi, Verified, Verifier,
};

const T: i64 = 1_700_000_000;
const JSON: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded","amount":4200}"#;
const FORM: &[u8] = b"CallSid=CA1234567890ABCDE&From=%2B14158675309&To=%2B18005551212";
const URL: &str = "https://hooks.example.com/twilio?route=a";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// Signs the same content under `first` alone and under `second` alone, verifies both
/// requests with a verifier holding both secrets, and checks that both give one replay key.
fn same_key<S: Scheme + Clone>(
    name: &str,
    scheme: &S,
    first: &str,
    second: &str,
    body: &[u8],
    url: Option<&str>,
) {
    let mut message = Message::new(body)
        .timestamp(T)
        .id("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
        .method("POST");
    if let Some(url) = url {
        message = message.url(url);
    }
    let both = Verifier::new(scheme.clone(), [secret(first), secret(second)]).unwrap();
    let verified = |s: &str| -> Verified {
        let signed = Verifier::new(scheme.clone(), [secret(s)])
            .unwrap()
            .sign(&message)
            .unwrap();
        let mut request = Request::new(&signed, body).with_method("POST");
        if let Some(url) = url {
            request = request.with_url(url);
        }
        let eager = both.verify_at(&request, T).unwrap();
        // The lazy path gives the same facts and, when asked, the same key.
        let lazy = both.verify_lazy_at(&request, T).unwrap();
        assert_eq!(
            (
                lazy.provider(),
                lazy.timestamp(),
                lazy.secret_index(),
                lazy.body_signed()
            ),
            (
                eager.provider,
                eager.timestamp,
                eager.secret_index,
                eager.body_signed
            ),
            "{name}: lazy accessors"
        );
        assert!(lazy.body_signed(), "{name}");
        let shown = format!("{lazy:?}");
        assert!(
            shown.starts_with("LazyVerified {")
                && shown.contains(&format!("secret_index: {}", eager.secret_index)),
            "{name}: {shown}"
        );
        assert_eq!(lazy.replay_key(), eager.replay_key, "{name}: lazy key");
        assert_eq!(lazy.into_verified(), eager, "{name}: lazy facts");
        eager
    };
    let (a, b) = (verified(first), verified(second));
    assert_eq!((a.secret_index, b.secret_index), (0, 1), "{name}");
    assert_eq!(
        a.replay_key, b.replay_key,
        "{name}: the replay key depends on the matching secret"
    );
}

const S1: &str = "first-secret-of-the-rotation-0123";
const S2: &str = "second-secret-of-the-rotation-456";

#[test]
fn replay_keys_do_not_depend_on_the_matching_secret() {
    let json =
        |name: &str, scheme: &dyn Fn() -> palisade_webhook::AnyScheme, s1: &str, s2: &str| {
            same_key(name, &scheme(), s1, s2, JSON, None);
        };
    json(
        "standard",
        &|| StandardWebhooks.into(),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    );
    json(
        "stripe",
        &|| Stripe.into(),
        "whsec_first0123456789abcdef",
        "whsec_second0123456789abcdef",
    );
    json("github", &|| GitHub::new().into(), S1, S2);
    json("meta", &|| Meta.into(), S1, S2);
    json("slack", &|| Slack.into(), S1, S2);
    json("shopify", &|| Shopify.into(), S1, S2);
    json(
        "vapi hmac",
        &|| Vapi::hmac(Vapi::default_hmac_plan()).into(),
        S1,
        S2,
    );
    same_key("twilio", &Twilio::default(), S1, S2, FORM, Some(URL));
    let timestamped = HmacScheme::builder("x-signature", HmacAlgorithm::Sha256, Encoding::Base64)
        .timestamp_header("x-timestamp")
        .template("{timestamp}.{method}.{body}")
        .build()
        .unwrap();
    json(
        "hmac with timestamp",
        &|| timestamped.clone().into(),
        S1,
        S2,
    );
    let plain = HmacScheme::builder("x-signature", HmacAlgorithm::Sha512, Encoding::Hex)
        .build()
        .unwrap();
    json("hmac over the body", &|| plain.clone().into(), S1, S2);
    let with_id = HmacScheme::builder("x-signature", HmacAlgorithm::Sha256, Encoding::Hex)
        .id_header("x-id")
        .template("{id}:{body}")
        .build()
        .unwrap();
    json("hmac with id", &|| with_id.clone().into(), S1, S2);
}

/// Stripe during a secret roll sends one `v1` per secret. Re-sending the header with only the
/// second entry must not make the same delivery look new.
#[test]
fn stripe_key_is_the_same_whatever_v1_entries_are_kept() {
    let (first, second) = (
        "whsec_old0123456789abcdef0123",
        "whsec_new0123456789abcdef0123",
    );
    let both = Verifier::new(Stripe, [secret(first), secret(second)]).unwrap();
    let sig = |s: &str| {
        let v = Verifier::new(Stripe, [secret(s)]).unwrap();
        let h = v.sign(&Message::new(JSON).timestamp(T)).unwrap();
        let value = h.get("Stripe-Signature").unwrap().to_owned();
        value.split_once(",v1=").unwrap().1.to_owned()
    };
    let (a, b) = (sig(first), sig(second));
    let keys: Vec<ReplayKey> = [
        format!("t={T},v1={a},v1={b}"),
        format!("t={T},v1={b},v1={a}"),
        format!("t={T},v1={b}"),
        format!("t={T},v1={a}"),
        format!("t={T},v1=00,v1={b}"),
    ]
    .iter()
    .map(|value| {
        let headers = [("Stripe-Signature", value.as_str())];
        both.verify_at(&Request::new(&headers, JSON), T)
            .unwrap()
            .replay_key
    })
    .collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");

    // Different signed content still gives different keys.
    let other = Verifier::new(Stripe, [secret(first)]).unwrap();
    for (body, t) in [(&b"{}"[..], T), (JSON, T + 1)] {
        let h = other.sign(&Message::new(body).timestamp(t)).unwrap();
        let k = both
            .verify_at(&Request::new(&h, body), T)
            .unwrap()
            .replay_key;
        assert_ne!(k, keys[0]);
    }
}

/// Known answers for the replay key's byte format (`docs/formats.md`, "Webhook replay key").
/// Below 8 KiB of hash input the key is SHA-256, as in earlier releases (GitHub's documented
/// delivery); from 8 KiB on it is BLAKE3 (issue 19, a deliberate format change for large
/// bodies). These values move only with a deliberate format change.
#[test]
fn replay_key_known_answers() {
    use sha2::Digest as _;
    let v = Verifier::new(GitHub::new(), [secret("It's a Secret to Everybody")]).unwrap();
    let headers = [(
        "X-Hub-Signature-256",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    )];
    let request = Request::new(&headers, b"Hello, World!");
    let key = v.verify_at(&request, T).unwrap().replay_key;
    assert_eq!(key.to_hex(), GITHUB_HELLO_KEY);
    assert_eq!(
        key.as_bytes()[..],
        sha2::Sha256::digest(b"github\0Hello, World!")[..],
        "SHA-256(provider || 0x00 || body)"
    );
    assert_eq!(v.verify_lazy_at(&request, T).unwrap().replay_key(), key);

    // At the threshold (7 + 8185 = 8192 bytes of input): BLAKE3. One byte less: SHA-256.
    assert_eq!(palisade_webhook::REPLAY_KEY_BLAKE3_FROM, 8192);
    for (len, blake) in [(8185, true), (8184, false)] {
        let body = vec![b'a'; len];
        let signed = v.sign(&Message::new(&body)).unwrap();
        let request = Request::new(&signed, &body);
        let key = v.verify_at(&request, T).unwrap().replay_key;
        let mut input = b"github\0".to_vec();
        input.extend_from_slice(&body);
        let expected: [u8; 32] = if blake {
            *blake3::hash(&input).as_bytes()
        } else {
            sha2::Sha256::digest(&input).into()
        };
        assert_eq!(key.as_bytes(), &expected, "{len}");
        assert_eq!(v.verify_lazy_at(&request, T).unwrap().replay_key(), key);
        if blake {
            assert_eq!(key.to_hex(), GITHUB_8185_A_KEY);
        }
    }
}

const GITHUB_HELLO_KEY: &str = "56cba57068f564f4bee711c3f2799797a8959424dad441098a7b6cd810c6d550";
const GITHUB_8185_A_KEY: &str = "61b6e71b0121633f963b361d170ab8028977adc75e61c71835a26130a346110a";
