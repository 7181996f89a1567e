//! `otpauth://` Key URIs: Google Authenticator's Key Uri Format examples, round trips,
//! refusals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_otp::{HmacAlgorithm, KeyUri, MAX_URI_LEN, OtpError, OtpKind, OtpSecret};
use proptest::prelude::*;
use secrecy::ExposeSecret;

/// The examples of <https://github.com/google/google-authenticator/wiki/Key-Uri-Format>.
#[test]
fn google_authenticator_wiki_examples() {
    let u = KeyUri::parse(
        "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
    )
    .unwrap();
    assert_eq!(u.kind, OtpKind::Totp { period: 30 });
    assert_eq!(u.issuer.as_deref(), Some("Example"));
    assert_eq!(u.account, "alice@google.com");
    assert_eq!(u.secret.expose_bytes(), b"Hello!\xde\xad\xbe\xef");
    assert_eq!((u.algorithm, u.digits), (HmacAlgorithm::Sha1, 6));

    let u = KeyUri::parse(
        "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
    )
    .unwrap();
    assert_eq!(u.issuer.as_deref(), Some("ACME Co"));
    assert_eq!(u.account, "john.doe@email.com");
    assert_eq!(
        u.secret.to_base32().expose_secret(),
        "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ"
    );
    // Our writer gives back the wiki's URI byte for byte.
    assert_eq!(
        u.to_uri().unwrap(),
        "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30"
    );

    // The label's colon may be encoded, and spaces may follow it.
    let u =
        KeyUri::parse("otpauth://totp/Big%20Corp%3A%20%20alice?secret=JBSWY3DPEHPK3PXP").unwrap();
    assert_eq!(u.issuer.as_deref(), Some("Big Corp"));
    assert_eq!(u.account, "alice");

    let u = KeyUri::parse(
        "otpauth://hotp/Example:bob?secret=jbswy3dpehpk3pxp&algorithm=SHA256&digits=8&counter=42",
    )
    .unwrap();
    assert_eq!(u.kind, OtpKind::Hotp { counter: 42 });
    assert_eq!((u.algorithm, u.digits), (HmacAlgorithm::Sha256, 8));
}

#[test]
fn malformed_uris_say_what_is_wrong() {
    let cases = [
        ("https://totp/a?secret=JBSWY3DP", "scheme"),
        ("otpauth://sms/a?secret=JBSWY3DP", "type"),
        ("otpauth://totp/?secret=JBSWY3DP", "account"),
        ("otpauth://totp/Issuer:?secret=JBSWY3DP", "account"),
        ("otpauth://totp/a", "secret"),
        ("otpauth://totp/a?secret=not*base32", "base32"),
        (
            "otpauth://totp/a?secret=JBSWY3DP&algorithm=MD5",
            "algorithm",
        ),
        ("otpauth://totp/a?secret=JBSWY3DP&digits=5", "digits"),
        ("otpauth://totp/a?secret=JBSWY3DP&period=0", "period"),
        ("otpauth://hotp/a?secret=JBSWY3DP", "counter"),
        (
            "otpauth://totp/a?secret=JBSWY3DP&secret=JBSWY3DP",
            "repeated",
        ),
        ("otpauth://totp/A:b?secret=JBSWY3DP&issuer=B", "differs"),
    ];
    for (uri, what) in cases {
        match KeyUri::parse(uri) {
            Err(OtpError::InvalidUri(msg)) => assert!(msg.contains(what), "{uri}: {msg}"),
            other => panic!("{uri}: {other:?}"),
        }
    }
    let long = format!("otpauth://totp/a?secret={}", "A".repeat(5000));
    assert!(KeyUri::parse(&long).is_err());
}

#[test]
fn colons_in_names_are_refused_on_write() {
    let u = KeyUri::totp(Some("A:B".into()), "alice", OtpSecret::generate().unwrap());
    assert!(u.to_uri().is_err());
    let u = KeyUri::totp(None, "", OtpSecret::generate().unwrap());
    assert!(u.to_uri().is_err());
}

#[test]
fn a_lone_dot_segment_account_is_refused_on_write_not_lost() {
    // Found by `round_trip`: the path `/.` parses back as `/`, and the account was gone.
    for account in [".", ".."] {
        let u = KeyUri::totp(None, account, OtpSecret::generate().unwrap());
        assert!(u.to_uri().is_err(), "{account}");
        let u = KeyUri::totp(Some("ACME".into()), account, OtpSecret::generate().unwrap());
        let back = KeyUri::parse(&u.to_uri().unwrap()).unwrap();
        assert_eq!(back.account, account);
    }
}

/// Found by the fuzzing campaign (`fuzz/seeds/otpauth_uri/regress-written-too-long`): a URI
/// of at most 4,096 bytes whose names are non-ASCII parses, and percent-encoding them on
/// write made a longer URI that `parse` refused. `to_uri` refuses it instead; what it writes
/// always parses.
#[test]
fn a_uri_too_long_to_parse_back_is_refused_on_write() {
    let secret = || OtpSecret::from_bytes(b"12345678901234567890");
    // `é` is 2 bytes as text and 6 (`%C3%A9`) percent-encoded, twice over (label and
    // parameter): 1,500 of them parse, and would be written as about 18 KB.
    let issuer = "é".repeat(1_000);
    let input = format!("otpauth://totp/{issuer}:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert!(input.len() <= MAX_URI_LEN);
    let parsed = KeyUri::parse(&input).unwrap();
    assert!(matches!(
        parsed.to_uri(),
        Err(OtpError::InvalidUri("longer than 4096 bytes"))
    ));
    // Just under the limit once written: written, and parsed back.
    let u = KeyUri::totp(Some("é".repeat(300)), "alice", secret());
    let written = u.to_uri().unwrap();
    assert!(written.len() <= MAX_URI_LEN);
    assert_eq!(KeyUri::parse(&written).unwrap().issuer, u.issuer);
}

proptest! {
    /// Any issuer and account without a colon (Unicode, spaces, `&`, `?`, `%`, `/`, `#`)
    /// and any secret survive a write and a parse.
    #[test]
    fn round_trip(
        issuer in proptest::option::of("[^:]{1,24}"),
        account in "[^:]{1,40}",
        secret in proptest::collection::vec(any::<u8>(), 1..64),
        digits in 6u8..=8,
        alg in 0usize..3,
        kind in prop_oneof![
            (1u64..=300).prop_map(|period| OtpKind::Totp { period }),
            any::<u64>().prop_map(|counter| OtpKind::Hotp { counter }),
        ],
    ) {
        let account = account.trim_start().to_owned();
        prop_assume!(!account.is_empty());
        let algorithm = [HmacAlgorithm::Sha1, HmacAlgorithm::Sha256, HmacAlgorithm::Sha512][alg];
        let u = KeyUri { kind, issuer: issuer.clone(), account: account.clone(), secret: OtpSecret::from_bytes(&secret), algorithm, digits };
        if issuer.is_none() && (account == "." || account == "..") {
            // A lone dot segment cannot survive a URI path: refused on write, never lost.
            prop_assert!(u.to_uri().is_err());
            return Ok(());
        }
        let text = u.to_uri().unwrap();
        let back = KeyUri::parse(&text).unwrap();
        prop_assert_eq!(back.kind, kind);
        prop_assert_eq!(back.issuer, issuer);
        prop_assert_eq!(back.account, account);
        prop_assert_eq!(back.secret.expose_bytes(), &secret[..]);
        prop_assert_eq!((back.algorithm, back.digits), (algorithm, digits));
    }

    /// The parser answers every input without panicking.
    #[test]
    fn parse_never_panics(s in "otpauth://(totp|hotp)/[ -~]{0,80}") {
        let _ = KeyUri::parse(&s);
    }
}
