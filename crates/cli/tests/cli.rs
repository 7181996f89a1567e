//! End-to-end tests of the `palisade` binary: exit codes, output, and secrets never printed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Output;

mod common;
use common::{palisade, stdout};

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const GITHUB_SIG: &str =
    "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

fn all_output(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn github_documented_sample_is_valid() {
    let o = palisade(
        &[
            "webhook",
            "verify",
            "--provider",
            "github",
            "--secret",
            GITHUB_SECRET,
            "--header",
            GITHUB_SIG,
        ],
        b"Hello, World!",
    );
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert_eq!(stdout(&o), "valid\n");
}

#[test]
fn tampered_body_is_invalid_with_reason() {
    let o = palisade(
        &[
            "webhook",
            "verify",
            "--provider",
            "github",
            "--secret",
            GITHUB_SECRET,
            "--header",
            GITHUB_SIG,
        ],
        b"Hello, World?",
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "invalid: no matching signature\n");
}

#[test]
fn body_file_is_read() {
    let dir = std::env::temp_dir().join(format!("palisade-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("body");
    std::fs::write(&path, b"Hello, World!").unwrap();
    let o = palisade(
        &[
            "webhook",
            "verify",
            "--provider",
            "github",
            "--secret",
            GITHUB_SECRET,
            "--header",
            GITHUB_SIG,
            "--body-file",
            path.to_str().unwrap(),
        ],
        b"",
    );
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
}

#[test]
fn slack_documented_sample_and_tolerance() {
    let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let args = |now: &'static str| {
        vec![
            "webhook",
            "verify",
            "--provider",
            "slack",
            "--secret",
            "8f742231b10e8888abcd99yyyzzz85a5",
            "--header",
            "X-Slack-Request-Timestamp: 1531420618",
            "--header",
            "X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            "--now",
            now,
        ]
    };
    assert_eq!(palisade(&args("1531420918"), body).status.code(), Some(0));
    let late = palisade(&args("1531420919"), body);
    assert_eq!(late.status.code(), Some(1));
    assert_eq!(
        stdout(&late),
        "invalid: timestamp outside tolerance: signed 301 s ago (tolerance 300 s)\n"
    );
    let mut wide = args("1531420919");
    wide.extend(["--tolerance", "301"]);
    assert_eq!(palisade(&wide, body).status.code(), Some(0));
}

#[test]
fn twilio_documented_sample_with_url() {
    let body = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
    // Twilio's documented request, signed with a 32-hex-digit token as Twilio issues them:
    // the documented token `12345` is below the 16-byte minimum and refused (exit 2).
    let o = palisade(
        &[
            "webhook",
            "verify",
            "--provider",
            "twilio",
            "--secret",
            "0123456789abcdef0123456789abcdef",
            "--url",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            "--header",
            "Content-Type: application/x-www-form-urlencoded",
            "--header",
            "X-Twilio-Signature: OU1WNrv5EWwq8SZHNvRqJi4IiXk=",
        ],
        body,
    );
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    let o = palisade(
        &[
            "webhook",
            "verify",
            "--provider",
            "twilio",
            "--secret",
            "12345",
            "--url",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            "--header",
            "X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        ],
        body,
    );
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    // Without --url it is a usage error.
    let o = palisade(
        &[
            "webhook",
            "verify",
            "--provider",
            "twilio",
            "--secret",
            "0123456789abcdef0123456789abcdef",
            "--header",
            "X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        ],
        body,
    );
    assert_eq!(o.status.code(), Some(2));
}

/// Signs with `sign`, then feeds every printed header line to `verify`.
fn round_trip(provider: &str, secret: &str, url: Option<&str>, body: &[u8]) {
    let mut sign = vec![
        "webhook",
        "sign",
        "--provider",
        provider,
        "--secret",
        secret,
    ];
    if let Some(u) = url {
        sign.extend(["--url", u]);
    }
    let signed = palisade(&sign, body);
    assert_eq!(
        signed.status.code(),
        Some(0),
        "{provider}: {}",
        all_output(&signed)
    );
    let out = stdout(&signed);
    assert!(!out.contains(secret), "{provider} printed its secret");
    let mut verify = vec![
        "webhook",
        "verify",
        "--provider",
        provider,
        "--secret",
        secret,
    ];
    for line in out.lines() {
        verify.extend(["--header", line]);
    }
    if let Some(u) = url {
        verify.extend(["--url", u]);
    }
    let o = palisade(&verify, body);
    assert_eq!(o.status.code(), Some(0), "{provider}: {}", all_output(&o));
    assert_eq!(stdout(&o), "valid\n");
    // One byte changed: invalid, exit 1.
    let mut tampered = body.to_vec();
    tampered.push(b'x');
    let o = palisade(&verify, &tampered);
    assert_eq!(o.status.code(), Some(1), "{provider}: {}", all_output(&o));
    assert!(stdout(&o).starts_with("invalid: "));
}

#[test]
fn sign_then_verify_every_provider() {
    let json = br#"{"id":"evt_1","object":"event","name":"Zo\u00eb"}"#;
    round_trip(
        "standard",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        None,
        json,
    );
    round_trip("stripe", "whsec_test_secret_0123456789", None, json);
    round_trip("github", "gh-secret-0123456789", None, json);
    round_trip("meta", "app-secret-0123456789", None, json);
    round_trip("slack", "slack-signing-secret", None, b"token=x&text=hi");
    round_trip("shopify", "shpss_secret_0123456789", None, json);
    round_trip("vapi", "vapi-secret-0123456789", None, json);
    round_trip(
        "twilio",
        "twilio-auth-token",
        Some("https://hooks.example.com/twilio/voice?x=1"),
        b"CallSid=CA1&CallStatus=completed&From=%2B14389007409",
    );
}

#[test]
fn usage_errors_exit_2_and_never_echo_secrets() {
    let secret = "whsec_definitely-not-base64!!";
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "webhook",
            "verify",
            "--provider",
            "standard",
            "--secret",
            secret,
        ],
        vec![
            "webhook",
            "verify",
            "--provider",
            "nope",
            "--secret",
            secret,
        ],
        vec!["webhook", "verify", "--provider", "stripe"],
        vec![
            "webhook",
            "verify",
            "--provider",
            "stripe",
            "--secret",
            secret,
            "--header",
            "no colon",
        ],
        vec![
            "webhook",
            "verify",
            "--provider",
            "stripe",
            "--secret",
            secret,
            "--now",
            "soon",
        ],
        vec![
            "webhook",
            "sign",
            "--provider",
            "twilio",
            "--secret",
            secret,
        ],
        vec!["webhook", "frobnicate"],
    ];
    for args in cases {
        let o = palisade(&args, b"{}");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", all_output(&o));
        let all = all_output(&o);
        assert!(
            !all.contains("definitely-not-base64"),
            "{args:?} echoed the secret: {all}"
        );
    }
}

#[test]
fn hostile_headers_never_panic_or_echo_secrets() {
    let secret = "s3cr3t-value-that-must-not-leak";
    let weird = [
        "Stripe-Signature: t=,v1=",
        "Stripe-Signature: t=99999999999999999999,v1=zz",
        "webhook-signature: v1, v1,,, v1a,@@@",
        "webhook-timestamp: -5",
        "X-Hub-Signature-256: sha256=",
        "X-Hub-Signature-256: sha256=ZZ",
        "X-Twilio-Signature: ====",
        "X-Slack-Signature: v0=\u{00e9}",
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
    ];
    for provider in [
        "standard", "stripe", "github", "meta", "slack", "twilio", "shopify", "vapi",
    ] {
        let mut args = vec![
            "webhook",
            "verify",
            "--provider",
            provider,
            "--secret",
            secret,
        ];
        if provider == "twilio" {
            args.extend(["--url", "https://example.com:8443/hook?bodySHA256=00"]);
        }
        for h in weird {
            args.extend(["--header", h]);
        }
        let o = palisade(&args, b"\xff\xfe\x00body");
        let code = o.status.code();
        assert!(
            matches!(code, Some(1 | 2)),
            "{provider}: {code:?} {}",
            all_output(&o)
        );
        assert!(
            !all_output(&o).contains(secret),
            "{provider} leaked the secret"
        );
    }
}

#[test]
fn secret_from_environment() {
    let o = common::run(
        &[
            "webhook",
            "verify",
            "--provider",
            "github",
            "--secret-env",
            "PALISADE_TEST_GH_SECRET",
            "--header",
            GITHUB_SIG,
            "--body-file",
            "/dev/null",
        ],
        b"",
        &[("PALISADE_TEST_GH_SECRET", Some(GITHUB_SECRET))],
    );
    // Empty body: the signature is for "Hello, World!", so this is invalid, not a usage error.
    assert_eq!(o.status.code(), Some(1), "{}", all_output(&o));
}
