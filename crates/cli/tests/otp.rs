//! End-to-end tests of `palisade otp`: the RFC 4226 / RFC 6238 vectors through the binary,
//! Key URIs parsed back, usage errors exit 2.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Output};

use palisade_otp::{KeyUri, OtpKind};
use serde_json::Value;

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A copy of `shared/vectors/otp.json` (CI checks that the copy is identical).
fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/otp.json")).unwrap()
}

#[test]
fn hotp_prints_the_rfc4226_codes() {
    let v = vectors();
    let secret = v["hotp"]["secret_hex"].as_str().unwrap();
    for (counter, code) in v["hotp"]["codes_for_counters_0_to_9"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let o = palisade(&[
            "otp",
            "hotp",
            "--secret-hex",
            secret,
            "--counter",
            &counter.to_string(),
        ]);
        assert!(o.status.success(), "{o:?}");
        assert_eq!(out(&o), format!("{}\n", code.as_str().unwrap()));
    }
    // The same secret in base32 (RFC 4648): GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ.
    let o = palisade(&[
        "otp",
        "hotp",
        "--secret-base32",
        "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
        "--counter",
        "1",
    ]);
    assert_eq!(out(&o), "287082\n");
}

#[test]
fn totp_prints_the_rfc6238_codes() {
    let v = vectors();
    for case in v["totp"]["cases"].as_array().unwrap() {
        let o = palisade(&[
            "otp",
            "totp",
            "--secret-hex",
            case["secret_hex"].as_str().unwrap(),
            "--time",
            &case["time"].to_string(),
            "--step",
            &case["step"].to_string(),
            "--digits",
            &case["digits"].to_string(),
            "--algorithm",
            case["algorithm"].as_str().unwrap(),
        ]);
        assert!(o.status.success(), "{o:?}");
        assert_eq!(
            out(&o),
            format!("{}\n", case["expected"].as_str().unwrap()),
            "{case}"
        );
    }
    // Default time: now; six digits.
    let o = palisade(&[
        "otp",
        "totp",
        "--secret-hex",
        "3132333435363738393031323334353637383930",
    ]);
    assert!(o.status.success());
    let code = out(&o);
    assert_eq!(code.trim_end().len(), 6);
    assert!(code.trim_end().bytes().all(|b| b.is_ascii_digit()));
}

#[test]
fn uri_prints_a_key_uri() {
    let o = palisade(&[
        "otp",
        "uri",
        "--issuer",
        "ACME Co",
        "--account",
        "john.doe@email.com",
        "--secret-base32",
        "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        out(&o),
        "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30\n"
    );
    // Without a secret: a new one each time, 20 bytes.
    let a = palisade(&["otp", "uri", "--issuer", "Acme", "--account", "alice"]);
    let b = palisade(&["otp", "uri", "--issuer", "Acme", "--account", "alice"]);
    assert!(a.status.success());
    let ua = KeyUri::parse(out(&a).trim_end()).unwrap();
    let ub = KeyUri::parse(out(&b).trim_end()).unwrap();
    assert_eq!(ua.kind, OtpKind::Totp { period: 30 });
    assert_eq!(ua.issuer.as_deref(), Some("Acme"));
    assert_eq!(ua.secret.expose_bytes().len(), 20);
    assert_ne!(ua.secret.expose_bytes(), ub.secret.expose_bytes());
}

#[test]
fn usage_errors_exit_2() {
    let hex = "3132333435363738393031323334353637383930";
    let cases: &[&[&str]] = &[
        &["otp", "hotp", "--counter", "1"],
        &[
            "otp",
            "hotp",
            "--secret-hex",
            hex,
            "--secret-base32",
            "GEZDGNBV",
            "--counter",
            "1",
        ],
        &["otp", "hotp", "--secret-hex", hex],
        &["otp", "hotp", "--secret-hex", "zz", "--counter", "1"],
        &[
            "otp",
            "hotp",
            "--secret-base32",
            "not base32!",
            "--counter",
            "1",
        ],
        &[
            "otp",
            "hotp",
            "--secret-hex",
            hex,
            "--counter",
            "1",
            "--digits",
            "9",
        ],
        &[
            "otp",
            "hotp",
            "--secret-hex",
            hex,
            "--counter",
            "1",
            "--algorithm",
            "md5",
        ],
        &["otp", "hotp", "--secret-hex", "3132", "--counter", "1"],
        &["otp", "totp", "--secret-hex", hex, "--step", "0"],
        &["otp", "totp", "--secret-hex", hex, "--time", "-5"],
        &["otp", "uri", "--issuer", "A:B", "--account", "alice"],
        &["otp", "uri", "--account", "alice"],
    ];
    for args in cases {
        let o = palisade(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(!o.stderr.is_empty(), "{args:?}");
    }
}
