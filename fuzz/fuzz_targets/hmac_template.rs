//! `HmacScheme::builder(..).template(<input>)…build()` returns `Ok` or `Err`, never panics;
//! when `Ok`, sign → verify round-trips and a changed body is refused.
//!
//! Input: one configuration byte, then `template \n body` (the template is read as lossy
//! UTF-8). Configuration bits: 0-1 algorithm (SHA-1, SHA-256, SHA-512, SHA-256), 2 base64
//! instead of hex, 3 a timestamp header, 4 a message-id header, 5 timestamps in milliseconds,
//! 6 base64 secrets, 7 a `sha256=` prefix.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::{NOW, fields, fixed};
use palisade_webhook::{
    Encoding, HmacAlgorithm, HmacScheme, Message, Request, TimestampUnit, Verifier,
};
use secrecy::SecretString;

/// Valid as base64 (decodes to 24 bytes) and as a plain secret.
const SECRET: &str = "c2VjcmV0LWtleS1mb3ItZnV6emluZy0xMjM0";
const URL: &str = "https://example.com/hooks?x=1";

fuzz_target!(|data: &[u8]| {
    let Some((&config, rest)) = data.split_first() else {
        return;
    };
    let [template, body] = fields::<2>(rest);
    let template = String::from_utf8_lossy(template.unwrap_or_default()).into_owned();
    let body = body.unwrap_or_default();

    let algorithm = match config & 0b11 {
        0 => HmacAlgorithm::Sha1,
        2 => HmacAlgorithm::Sha512,
        _ => HmacAlgorithm::Sha256,
    };
    let encoding = if config & 0b100 != 0 {
        Encoding::Base64
    } else {
        Encoding::Hex
    };
    let mut builder = HmacScheme::builder("X-Signature", algorithm, encoding).template(template);
    if config & 0b1000 != 0 {
        builder = builder.timestamp_header("X-Timestamp");
    }
    if config & 0b1_0000 != 0 {
        builder = builder.id_header("X-Message-Id");
    }
    if config & 0b10_0000 != 0 {
        builder = builder.timestamp_unit(TimestampUnit::Milliseconds);
    }
    if config & 0b100_0000 != 0 {
        builder = builder.secret_is_base64(true);
    }
    if config & 0b1000_0000 != 0 {
        builder = builder.prefix("sha256=");
    }
    let Ok(scheme) = builder.build() else {
        return;
    };
    assert_eq!(scheme.algorithm(), algorithm);

    let v = fixed(Verifier::new(scheme, [SecretString::from(SECRET)]).expect("valid secret"));
    let message = Message::new(body)
        .timestamp(NOW)
        .id("msg_fuzz")
        .url(URL)
        .method("POST");
    let signed = v.sign(&message).expect("a built scheme signs");
    let ok = v
        .verify_at(
            &Request::new(&signed, body)
                .with_url(URL)
                .with_method("POST"),
            NOW,
        )
        .expect("a freshly signed message verifies");
    assert_eq!(ok.secret_index, 0);

    // Every built template covers the body: one more byte must be refused.
    let mut longer = body.to_vec();
    longer.push(b'x');
    assert!(
        v.verify_at(
            &Request::new(&signed, &longer)
                .with_url(URL)
                .with_method("POST"),
            NOW
        )
        .is_err(),
        "a changed body verified"
    );
});
