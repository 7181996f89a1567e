//! `palisade jwt verify`: the exact contract (claims as one JSON line exit 0, `invalid:
//! <reason>` exit 1, usage exit 2), on palisade-auth's PyJWT fixtures and RFC 7515 A.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{palisade, stderr, stdout};

fn fixture(name: &str) -> String {
    format!(
        "{}/../auth/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .trim()
        .to_owned()
}

const NOW: &str = "1767225660";

fn verify(args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["jwt", "verify"];
    all.extend_from_slice(args);
    let o = palisade(&all, b"");
    (o.status.code(), stdout(&o), stderr(&o))
}

#[test]
fn hs256_token_prints_its_claims_as_one_json_line() {
    let (token, secret) = (read("hs256.jwt"), read("hs256.secret"));
    let (code, out, err) = verify(&[
        "--token",
        &token,
        "--hs256-secret",
        &secret,
        "--issuer",
        "https://issuer.example",
        "--audience",
        "palisade-tests",
        "--now",
        NOW,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.lines().count(), 1);
    let claims: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(claims["sub"], "user-42");
    assert_eq!(claims["exp"], 1_767_229_200u64);
}

#[test]
fn jwks_verifies_rs256_es256_eddsa() {
    let jwks = fixture("jwks.json");
    for name in ["rs256.jwt", "es256.jwt", "eddsa.jwt"] {
        let (code, out, err) = verify(&[
            "--token",
            &read(name),
            "--jwks",
            &jwks,
            "--audience",
            "palisade-tests",
            "--now",
            NOW,
        ]);
        assert_eq!(code, Some(0), "{name}: {err}");
        assert!(out.contains("\"tenant\":\"acme\""), "{out}");
    }
}

#[test]
fn a_wrong_secret_is_an_invalid_signature() {
    let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    // RFC 7515 A.1's token; its key is binary (the CLI takes a text secret's bytes), so a
    // 32-byte text secret that is not its key.
    let (code, out, _) = verify(&[
        "--token",
        token,
        "--hs256-secret",
        &"x".repeat(32),
        "--now",
        "1300819379",
    ]);
    assert_eq!(
        (code, out.as_str()),
        (Some(1), "invalid: invalid signature\n")
    );
}

#[test]
fn invalid_tokens_say_why_with_exit_1() {
    let rs = read("rs256.jwt");
    let (hs, secret, jwks) = (
        read("hs256.jwt"),
        read("hs256.secret"),
        fixture("jwks.json"),
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // Expired at exp with the default leeway 0.
        (
            vec![
                "--token",
                &hs,
                "--hs256-secret",
                &secret,
                "--audience",
                "palisade-tests",
                "--now",
                "1767229200",
            ],
            "invalid: token expired\n",
        ),
        (
            vec![
                "--token",
                &hs,
                "--hs256-secret",
                &secret,
                "--audience",
                "palisade-tests",
                "--now",
                "1767229200",
                "--leeway",
                "5",
            ],
            "",
        ),
        (
            vec![
                "--token",
                &hs,
                "--hs256-secret",
                &secret,
                "--audience",
                "palisade-tests",
                "--now",
                "1767225599",
            ],
            "invalid: token not yet valid\n",
        ),
        (
            vec![
                "--token",
                &hs,
                "--hs256-secret",
                &secret,
                "--audience",
                "other",
                "--now",
                NOW,
            ],
            "invalid: wrong audience\n",
        ),
        (
            vec![
                "--token",
                &hs,
                "--hs256-secret",
                &secret,
                "--audience",
                "palisade-tests",
                "--issuer",
                "https://evil.example",
                "--now",
                NOW,
            ],
            "invalid: wrong issuer\n",
        ),
        // --hs256-secret is HS256 only: an RS256 token is refused.
        (
            vec!["--token", &rs, "--hs256-secret", &secret, "--now", NOW],
            "invalid: token algorithm not allowed for this key\n",
        ),
        // --jwks holds no HMAC key: an HS256 token has no key.
        (
            vec!["--token", &hs, "--jwks", &jwks, "--now", NOW],
            "invalid: missing key id\n",
        ),
        (
            vec![
                "--token",
                "eyJhbGciOiJub25lIn0.e30.",
                "--jwks",
                &jwks,
                "--now",
                NOW,
            ],
            "invalid: unsecured token (alg none) refused\n",
        ),
        (
            vec!["--token", "garbage", "--jwks", &jwks],
            "invalid: malformed token: not three dot-separated segments\n",
        ),
    ];
    for (args, want) in cases {
        let (code, out, err) = verify(&args);
        if want.is_empty() {
            assert_eq!(code, Some(0), "{args:?}: {err}");
        } else {
            assert_eq!((code, out.as_str()), (Some(1), want), "{args:?}: {err}");
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let (hs, secret, jwks) = (
        read("hs256.jwt"),
        read("hs256.secret"),
        fixture("jwks.json"),
    );
    for args in [
        vec!["--token", hs.as_str()],
        vec!["--token", &hs, "--hs256-secret", &secret, "--jwks", &jwks],
        vec!["--hs256-secret", &secret],
        vec!["--token", &hs, "--hs256-secret", "short"],
        vec!["--token", &hs, "--jwks", "/nonexistent/jwks.json"],
        vec![
            "--token",
            &hs,
            "--hs256-secret",
            &secret,
            "--now",
            "yesterday",
        ],
    ] {
        let (code, out, err) = verify(&args);
        assert_eq!(code, Some(2), "{args:?}: {out} {err}");
        assert!(out.is_empty(), "{out}");
        assert!(!err.contains(&secret), "the secret is never printed");
    }
}
