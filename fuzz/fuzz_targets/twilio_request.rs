//! Twilio: `X-Twilio-Signature`, `X-Twilio-Webhooks-Signature-Settings`, `Content-Type`, the
//! request URL and the (form or JSON) body from the input; also `twilio::toggle_port` on the
//! URL, and `twilio::PublicUrl::resolve` with the URL as the configured base, the signature
//! field as the path and query, and the settings and content-type fields as
//! `X-Forwarded-Proto` and `X-Forwarded-Host`.
//!
//! Input: `signature \n settings \n content-type \n url \n body`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::{NOW, fields, fixed, header_map, pairs, text};
use palisade_webhook::twilio::{self, PublicUrl};
use palisade_webhook::{Key, Message, Provider, Request, Twilio, Verifier};

static SHA1: LazyLock<Verifier<Twilio>> = LazyLock::new(|| {
    // Twilio's documented token, shorter than the minimum `Verifier::new` asks for.
    fixed(Verifier::from_keys(Twilio::default(), [Key::hmac(b"12345")]).expect("one key"))
});
static SHA256: LazyLock<Verifier<Twilio>> = LazyLock::new(|| {
    fixed(Verifier::from_keys(Twilio::signing_sha256(), [Key::hmac(b"12345")]).expect("one key"))
});

const NAMES: [&str; 3] = [
    "X-Twilio-Signature",
    "X-Twilio-Webhooks-Signature-Settings",
    "Content-Type",
];

fuzz_target!(|data: &[u8]| {
    let [sig, settings, content_type, url, body] = fields::<5>(data);
    let body = body.unwrap_or_default();
    let url_text = text(url);

    let _ = twilio::toggle_port(&url_text);

    let forwarded = pairs(
        &["X-Forwarded-Proto", "X-Forwarded-Host"],
        &[settings, content_type],
    );
    let path = text(sig);
    let mut resolved = Vec::new();
    for public in [
        PublicUrl::Configured(url_text.clone()),
        PublicUrl::Forwarded {
            fallback: url_text.clone(),
        },
    ] {
        if let Ok(u) = public.resolve(&path, &forwarded) {
            // What `resolve` promises: an absolute http(s) URL with a host, as `url` parses
            // it. (The string itself is not normalized: `url` strips leading C0 controls and
            // spaces, and tabs and newlines, before parsing.)
            let parsed = url::Url::parse(&u).expect("a resolved URL parses");
            assert!(matches!(parsed.scheme(), "http" | "https"), "{u}");
            assert!(parsed.host().is_some(), "{u}");
            resolved.push(u);
        }
    }

    let headers = pairs(&NAMES, &[sig, settings, content_type]);
    let map = header_map(&headers);
    for u in std::iter::once(url_text.as_str()).chain(resolved.iter().map(String::as_str)) {
        let req = Request::new(&headers, body).with_url(u);
        let result = SHA1.verify_at(&req, NOW);
        if let Ok(ok) = &result {
            assert_eq!(ok.provider, Provider::Twilio);
            assert_eq!(ok.timestamp, None);
        }
        if let Some(map) = &map {
            assert_eq!(
                result,
                SHA1.verify_at(&Request::new(map, body).with_url(u), NOW)
            );
        }
    }
    // Without a URL, the request is refused (never accepted, never a panic).
    assert!(SHA1.verify_at(&Request::new(&headers, body), NOW).is_err());

    // Sign → verify round-trips whenever the URL can be signed.
    for v in [&*SHA1, &*SHA256] {
        if let Ok(signed) = v.sign(&Message::new(body).url(&url_text)) {
            let req = Request::new(&signed, body).with_url(&url_text);
            v.verify_at(&req, NOW)
                .expect("a freshly signed request verifies");
        }
    }
});
