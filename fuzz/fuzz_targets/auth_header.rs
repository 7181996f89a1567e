//! The `Authorization` header parser of `palisade-auth` (`parse_bearer`, `parse_credential`)
//! and the JWT header reader (`TokenHeader::parse`) on arbitrary bytes: `Ok` or `Err`, never a
//! panic; an accepted token is non-empty ASCII of RFC 6750's `b64token` syntax.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_auth::{TokenHeader, parse_bearer, parse_credential};

fn b64token(t: &str) -> bool {
    let body = t.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = parse_bearer(data) {
        assert!(b64token(token), "{token:?}");
        let _ = TokenHeader::parse(token);
    }
    if let Ok(token) = parse_credential(data) {
        assert!(b64token(token), "{token:?}");
    }
    let _ = TokenHeader::parse(&String::from_utf8_lossy(data));
});
