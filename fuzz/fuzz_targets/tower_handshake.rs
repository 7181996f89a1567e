//! palisade-tower's request-facing parsers on arbitrary input: Meta's verification handshake
//! (the input is the query string of a `GET`) and the origin allowlist (the input is one
//! configured origin). Neither panics; the handshake answers 200 to at most one of two tokens
//! and echoes only a short, plain ASCII challenge; an accepted origin allows its own serialized
//! form and nothing that differs from it by a trailing slash.
//!
//! Input: the text (read as lossy UTF-8).
#![no_main]

use http::{Request, Response, StatusCode};
use libfuzzer_sys::fuzz_target;
use palisade_tower::{AllowedOrigins, Guard, MAX_CHALLENGE_LEN, MetaHandshakeLayer};
use palisade_webhook::SecretString;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    let layer = MetaHandshakeLayer::new(SecretString::from("verify-me")).expect("non-empty token");
    let other = MetaHandshakeLayer::new(SecretString::from("other")).expect("non-empty token");
    if let Ok(req) = Request::get(format!("/hook?{text}")).body(()) {
        let res: Response<Vec<u8>> = layer.answer(&req).expect("a GET is always answered");
        let res_other: Response<Vec<u8>> = other.answer(&req).expect("a GET is always answered");
        // One token per request (a repeated parameter is refused): never both.
        assert!(res.status() != StatusCode::OK || res_other.status() != StatusCode::OK);
        if res.status() == StatusCode::OK {
            let body = res.body();
            assert!(!body.is_empty() && body.len() <= MAX_CHALLENGE_LEN);
            assert!(
                body.iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            );
        } else {
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
        }
    }

    if let Ok(origins) = AllowedOrigins::new([&*text]) {
        for origin in origins.iter() {
            assert!(origins.allows(origin));
            assert!(!origins.allows(format!("{origin}/")));
            assert!(!origin.contains('*') && origin != "null");
        }
    }
});
