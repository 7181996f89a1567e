//! `palisade_otp::KeyUri::parse` (`otpauth://` Key URIs, Google Authenticator's format) on
//! arbitrary input: `Ok` or `Err`, never a panic; a URI that parses and writes back
//! (`to_uri`) parses again to the same fields.
//!
//! Input: the URI (read as lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_otp::KeyUri;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(uri) = KeyUri::parse(&text) else {
        return;
    };
    // Writing refuses colons in names; anything it writes parses back to the same key.
    let Ok(written) = uri.to_uri() else { return };
    let again = KeyUri::parse(&written).expect("a written URI parses");
    assert_eq!(again.kind, uri.kind);
    assert_eq!(again.issuer, uri.issuer);
    assert_eq!(again.account, uri.account);
    assert_eq!(again.secret.expose_bytes(), uri.secret.expose_bytes());
    assert_eq!((again.algorithm, again.digits), (uri.algorithm, uri.digits));
    assert_eq!(again.to_uri().ok(), Some(written));
});
