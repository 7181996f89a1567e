//! End-to-end tests of `palisade url check`: output, exit codes, the default policy, the host
//! allowlist, IP literals, `--resolve`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Output};

fn check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["url", "check"])
        .args(args)
        .output()
        .unwrap()
}

#[track_caller]
fn assert_allowed(args: &[&str]) {
    let o = check(args);
    assert_eq!(
        (o.status.code(), String::from_utf8_lossy(&o.stdout).as_ref()),
        (Some(0), "allowed\n"),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Asserts exit 1 and `blocked: …` and returns the reason.
#[track_caller]
fn assert_blocked(args: &[&str]) -> String {
    let o = check(args);
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(1), "{args:?}: {out}");
    let reason = out
        .strip_prefix("blocked: ")
        .unwrap_or_else(|| panic!("{args:?}: {out}"))
        .trim_end()
        .to_owned();
    assert!(!reason.is_empty());
    reason
}

#[test]
fn default_policy_allows_public_hosts_and_ip_literals() {
    assert_allowed(&["https://example.com/audio.mp3"]);
    assert_allowed(&["http://93.184.216.34/"]);
    assert_allowed(&["http://[2606:4700:4700::1111]/"]);
}

#[test]
fn default_policy_blocks_every_spelling_of_internal_addresses() {
    for (url, says) in [
        ("http://2130706433/", "127.0.0.1"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254",
        ),
        ("http://[::ffff:10.0.0.1]/", "10.0.0.1"),
        ("http://[64:ff9b::192.168.1.1]/", "192.168.1.1"),
        ("http://100.64.0.1/", "100.64.0.0/10"),
        ("http://[fd00::1]/", "fc00::/7"),
        ("http://localhost./", "localhost"),
        ("http://metadata.google.internal/", "internal"),
        ("http://user:pw@example.com/", "user name or password"),
        ("http://example.com:8080/", "port 8080"),
        ("gopher://example.com/", "scheme"),
        ("not a url", "not a valid URL"),
    ] {
        let reason = assert_blocked(&[url]);
        assert!(reason.contains(says), "{url}: {reason}");
    }
}

#[test]
fn allowlist_and_ip_literals() {
    let allow = [
        "--allow-host",
        "*.example.com",
        "--allow-host",
        "api.other.org",
    ];
    assert_allowed(&[&["https://cdn.example.com/a"], &allow[..]].concat());
    assert_allowed(&[&["https://api.other.org/a"], &allow[..]].concat());
    let reason = assert_blocked(&[&["https://example.com.evil.net/"], &allow[..]].concat());
    assert!(reason.contains("not on the allowlist"), "{reason}");
    // With an allowlist, a public IP literal passes only with --allow-ip-literals ...
    let reason = assert_blocked(&[&["http://93.184.216.34/"], &allow[..]].concat());
    assert!(reason.contains("IP literal"), "{reason}");
    assert_allowed(
        &[
            &["http://93.184.216.34/", "--allow-ip-literals"],
            &allow[..],
        ]
        .concat(),
    );
    // ... and never an internal one.
    let reason =
        assert_blocked(&[&["http://127.0.0.1/", "--allow-ip-literals"], &allow[..]].concat());
    assert!(reason.contains("Loopback"), "{reason}");
    // Without an allowlist --allow-ip-literals changes nothing.
    assert_allowed(&["http://93.184.216.34/", "--allow-ip-literals"]);
    assert_blocked(&["http://10.1.2.3/", "--allow-ip-literals"]);
}

#[test]
fn resolve_checks_the_answer() {
    // Without --resolve no DNS is used: a name that does not exist passes by name.
    assert_allowed(&["https://palisade-does-not-exist.invalid-tld-xyz/"]);
    // An IP literal needs no lookup and passes with --resolve too.
    assert_allowed(&["http://93.184.216.34/", "--resolve"]);
    // With --resolve, an allowlisted name resolving to loopback (from /etc/hosts) is refused.
    let reason = assert_blocked(&[
        "http://localhost/",
        "--allow-host",
        "localhost",
        "--resolve",
    ]);
    assert!(reason.contains("resolves to"), "{reason}");
    assert!(reason.contains("Loopback"), "{reason}");
    // Without --resolve the same allowlisted name passes (no DNS used).
    assert_allowed(&["http://localhost/", "--allow-host", "localhost"]);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(check(&[]).status.code(), Some(2));
    assert_eq!(
        check(&["https://example.com/", "--allow-host", "exa mple.com"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        check(&["https://example.com/", "--bogus"]).status.code(),
        Some(2)
    );
}
