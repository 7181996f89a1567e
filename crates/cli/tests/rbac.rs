//! End-to-end tests of `palisade rbac`: the issue's contract (`allow` exit 0, `deny: <why>`
//! exit 1, located errors on stderr exit 2; lint's problems exit 1, `ok` exit 0).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};

use common::{palisade, stderr, stdout};

const ISSUE_POLICY: &str = r#"[roles.admin]
inherits = ["agent"]
grants = ["admin:*"]

[roles.agent]
inherits = ["customer"]
grants = ["bookings:read", "bookings:write", "calls:*"]
denies = ["bookings:delete"]

[roles.customer]
grants = ["bookings:read"]
"#;

/// Writes `text` to a file of this test's own directory.
fn file(test: &str, name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-cli-rbac-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn check(policy: &Path, roles: &str, permission: &str) -> std::process::Output {
    palisade(
        &[
            "rbac",
            "check",
            "--policy",
            policy.to_str().unwrap(),
            "--roles",
            roles,
            "--permission",
            permission,
        ],
        b"",
    )
}

#[test]
fn check_with_roles_prints_allow_or_deny_with_the_reason() {
    let policy = file("roles", "policy.toml", ISSUE_POLICY);
    let o = check(&policy, "customer", "bookings:read");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "allow\n");
    let o = check(&policy, "admin", "admin:users:delete");
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), "allow\n".into()));
    let o = check(&policy, "admin", "bookings:delete");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "deny: role agent denies `bookings:delete` (inherited by role admin)\n"
    );
    let o = check(&policy, "customer,agent", "administrator:read");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "deny: no role grants it\n");
    let o = check(&policy, "customer", "bookings:write");
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(1), "deny: no role grants it\n".into())
    );
}

#[test]
fn check_with_scopes() {
    let run = |scopes: &str, permission: &str| {
        palisade(
            &[
                "rbac",
                "check",
                "--scopes",
                scopes,
                "--permission",
                permission,
            ],
            b"",
        )
    };
    let o = run("calls:read,admin:*", "admin:users:delete");
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), "allow\n".into()));
    let o = run("admin:*", "administrator:read");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "deny: no scope matches `administrator:read`\n");
    let o = run("admin:*", "admin");
    assert_eq!(o.status.code(), Some(1));
    // `admin*` is a syntax error, not a prefix.
    let o = run("admin*", "admin:read");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`*` must be a whole segment"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");
}

#[test]
fn policy_errors_are_located_on_stderr_with_exit_2() {
    let bad = file(
        "errors",
        "bad.toml",
        "[roles.a]\ngrants = [\"ok\"]\n\n[roles.b]\ngrants = [\"x\", \"admin*\"]\n",
    );
    let o = check(&bad, "a", "ok");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(
        err.contains("bad.toml:5: role b: grants[1] `admin*`"),
        "{err}"
    );
    let cycle = file(
        "errors",
        "cycle.toml",
        "[roles.a]\ninherits = [\"b\"]\n[roles.b]\ninherits = [\"a\"]\n",
    );
    let o = check(&cycle, "a", "x");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cycle.toml:1: role a: inheritance cycle a -> b -> a"),
        "{}",
        stderr(&o)
    );
    let syntax = file("errors", "syntax.toml", "[roles.a]\ngrants = [\"x\"\n");
    let o = check(&syntax, "a", "x");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("syntax.toml:"), "{}", stderr(&o));
    let missing = PathBuf::from("/nonexistent/policy.toml");
    assert_eq!(check(&missing, "a", "x").status.code(), Some(2));
    // A role the policy does not define, a bad permission: usage errors.
    let policy = file("errors", "policy.toml", ISSUE_POLICY);
    let o = check(&policy, "ghost", "bookings:read");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`ghost` is not a role"),
        "{}",
        stderr(&o)
    );
    assert_eq!(check(&policy, "agent", "bookings:*").status.code(), Some(2));
    // --roles without --policy, both sources, neither.
    let o = palisade(&["rbac", "check", "--roles", "a", "--permission", "x"], b"");
    assert_eq!(o.status.code(), Some(2));
    let o = palisade(
        &[
            "rbac",
            "check",
            "--policy",
            policy.to_str().unwrap(),
            "--roles",
            "a",
            "--scopes",
            "x",
            "--permission",
            "x",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    let o = palisade(&["rbac", "check", "--permission", "x"], b"");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn json_policies_too() {
    let policy = file(
        "json",
        "policy.json",
        r#"{"roles": {"agent": {"grants": ["calls:*"], "denies": ["calls:delete"]}}}"#,
    );
    assert_eq!(check(&policy, "agent", "calls:read").status.code(), Some(0));
    assert_eq!(
        check(&policy, "agent", "calls:delete").status.code(),
        Some(1)
    );
}

#[test]
fn lint_lists_problems_or_says_ok() {
    let lint =
        |path: &PathBuf| palisade(&["rbac", "lint", "--policy", path.to_str().unwrap()], b"");
    let good = file("lint", "good.toml", ISSUE_POLICY);
    let o = lint(&good);
    assert_eq!((o.status.code(), stdout(&o)), (Some(0), "ok\n".into()));
    let bad = file(
        "lint",
        "bad.toml",
        "[roles.a]\ninherits = [\"ghost\", \"b\"]\ngrants = [\"calls:*\"]\ndenies = [\"calls:*\", \"calls:delete\"]\n\n[roles.b]\ninherits = [\"a\"]\n",
    );
    let o = lint(&bad);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].contains("bad.toml:2: role a: inherits unknown role `ghost`"),
        "{out}"
    );
    assert!(lines[1].contains("inheritance cycle a -> b -> a"), "{out}");
    assert!(
        lines[2].contains("bad.toml:4: role a: deny `calls:delete` is unreachable"),
        "{out}"
    );
    let syntax = file("lint", "syntax.toml", "[roles.a\n");
    assert_eq!(lint(&syntax).status.code(), Some(2));
}
