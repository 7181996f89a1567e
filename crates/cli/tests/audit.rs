//! End-to-end tests of `palisade audit`: append, verify (tampering named by sequence
//! number), checkpoints (truncation), public keys, and the exit codes of the contract.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use serde_json::Value;

mod common;
use common::{palisade, stderr, stdout};

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SIGNING: &str = "4242424242424242424242424242424242424242424242424242424242424242";

fn append(log: &Path, action: &str, resource: &str, reason: Option<&str>) -> std::process::Output {
    let log = log.to_str().unwrap();
    let mut args = vec![
        "audit",
        "append",
        "--log",
        log,
        "--key-hex",
        KEY,
        "--tenant",
        "acme",
        "--actor",
        "u-7",
        "--action",
        action,
        "--resource",
        resource,
    ];
    if let Some(r) = reason {
        args.extend(["--reason", r]);
    }
    palisade(&args, b"")
}

fn verify(log: &Path, checkpoint: Option<(&Path, &str)>) -> std::process::Output {
    let log = log.to_str().unwrap();
    let mut args = vec!["audit", "verify", "--log", log, "--key-hex", KEY];
    let cp;
    if let Some((file, pk)) = checkpoint {
        cp = file.to_str().unwrap().to_owned();
        args.extend(["--checkpoint", &cp, "--public-key-hex", pk]);
    }
    palisade(&args, b"")
}

/// A log of three events: read, export (with a reason), credential.read.
fn three(dir: &Path) -> std::path::PathBuf {
    let log = dir.join("audit.jsonl");
    assert!(append(&log, "read", "lead:17", None).status.success());
    let o = append(&log, "export", "lead:17", Some("customer asked for a copy"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        append(&log, "credential.read", "api_key:k-1", None)
            .status
            .success()
    );
    log
}

fn lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write(log: &Path, lines: &[String]) {
    std::fs::write(log, lines.join("\n") + "\n").unwrap();
}

#[test]
fn append_writes_one_json_line_per_event_and_verify_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = three(dir.path());
    let lines = lines(&log);
    assert_eq!(lines.len(), 3);
    for (i, line) in lines.iter().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        for field in [
            "tenant", "seq", "actor", "action", "resource", "reason", "time", "mac",
        ] {
            assert!(v.get(field).is_some(), "{field} missing in {line}");
        }
        assert_eq!(v["seq"], i as u64 + 1);
        assert_eq!(v["tenant"], "acme");
        assert_eq!(v["actor"], "u-7");
    }
    let second: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(second["action"], "export");
    assert_eq!(second["resource"], "lead:17");
    assert_eq!(second["reason"], "customer asked for a copy");
    let o = verify(&log, None);
    assert_eq!(stdout(&o), "valid: 3 events\n");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn a_missing_required_reason_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    for (action, resource) in [
        ("export", "lead:17"),
        ("anonymize", "customer:c-1"),
        ("read", "recording:rec-9"),
    ] {
        let o = append(&log, action, resource, None);
        assert_eq!(o.status.code(), Some(2), "{action} {resource}");
        assert!(stderr(&o).contains("reason is required"), "{}", stderr(&o));
        assert!(!log.exists(), "nothing written");
    }
    let o = append(&log, "read", "recording:rec-9", Some("quality review"));
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let l = log.to_str().unwrap();
    for args in [
        // A short key, a resource without TYPE:, personal data as the actor, a reserved action.
        vec![
            "audit",
            "append",
            "--log",
            l,
            "--key-hex",
            "00",
            "--tenant",
            "t",
            "--actor",
            "u",
            "--action",
            "read",
            "--resource",
            "lead:1",
        ],
        vec![
            "audit",
            "append",
            "--log",
            l,
            "--key-hex",
            KEY,
            "--tenant",
            "t",
            "--actor",
            "u",
            "--action",
            "read",
            "--resource",
            "lead",
        ],
        vec![
            "audit",
            "append",
            "--log",
            l,
            "--key-hex",
            KEY,
            "--tenant",
            "t",
            "--actor",
            "jean@example.com",
            "--action",
            "read",
            "--resource",
            "lead:1",
        ],
        vec![
            "audit",
            "append",
            "--log",
            l,
            "--key-hex",
            KEY,
            "--tenant",
            "t",
            "--actor",
            "u",
            "--action",
            "audit.key_epoch",
            "--resource",
            "lead:1",
        ],
        vec![
            "audit",
            "append",
            "--log",
            l,
            "--key-hex",
            KEY,
            "--tenant",
            "t",
            "--actor",
            "u",
            "--action",
            "read",
        ],
        vec![
            "audit",
            "verify",
            "--log",
            l,
            "--key-hex",
            KEY,
            "--checkpoint",
            l,
        ],
        vec!["audit", "public-key", "--signing-key-hex", "zz"],
    ] {
        let o = palisade(&args, b"");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    assert!(!log.exists());
}

#[test]
fn tampering_is_named_by_its_sequence_number() {
    let dir = tempfile::tempdir().unwrap();
    let log = three(dir.path());
    let original = lines(&log);
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "modified reason",
            {
                let mut l = original.clone();
                l[1] = l[1].replace("customer asked for a copy", "routine");
                l
            },
            "invalid: seq 2: mac does not verify",
        ),
        (
            "deleted",
            vec![original[0].clone(), original[2].clone()],
            "invalid: seq 2: found seq 3 instead",
        ),
        (
            "swapped",
            vec![
                original[1].clone(),
                original[0].clone(),
                original[2].clone(),
            ],
            "invalid: seq 1: log starts at seq 2 and no checkpoint anchors it",
        ),
        (
            "duplicated",
            vec![
                original[0].clone(),
                original[1].clone(),
                original[1].clone(),
                original[2].clone(),
            ],
            "invalid: seq 3: found seq 2 instead",
        ),
        (
            "not an event",
            vec![original[0].clone(), "{\"v\":1}".into(), original[2].clone()],
            "invalid: seq 2: line 2 is not a valid event",
        ),
    ];
    for (what, tampered, expected) in cases {
        write(&log, &tampered);
        let o = verify(&log, None);
        assert!(stdout(&o).starts_with(expected), "{what}: {}", stdout(&o));
        assert_eq!(o.status.code(), Some(1), "{what}");
    }
    // Another key: the first event already fails.
    write(&log, &original);
    let o = palisade(
        &[
            "audit",
            "verify",
            "--log",
            log.to_str().unwrap(),
            "--key-hex",
            &"ab".repeat(32),
        ],
        b"",
    );
    assert_eq!(
        stdout(&o),
        "invalid: seq 1: mac does not verify (event modified or forged)\n"
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_checkpoint_detects_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let log = three(dir.path());
    let pk = palisade(&["audit", "public-key", "--signing-key-hex", SIGNING], b"");
    assert_eq!(pk.status.code(), Some(0));
    let pk = stdout(&pk).trim().to_owned();
    assert_eq!(
        pk,
        "2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12"
    );
    let cp = palisade(
        &[
            "audit",
            "checkpoint",
            "--log",
            log.to_str().unwrap(),
            "--key-hex",
            KEY,
            "--signing-key-hex",
            SIGNING,
        ],
        b"",
    );
    assert_eq!(cp.status.code(), Some(0), "{}", stderr(&cp));
    let text = stdout(&cp);
    assert_eq!(text.lines().count(), 1);
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["seq"], 3);
    assert_eq!(v["tenant"], "acme");
    assert_eq!(v["public_key"], pk.as_str());
    let cp_file = dir.path().join("checkpoint.json");
    std::fs::write(&cp_file, &text).unwrap();

    let o = verify(&log, Some((&cp_file, &pk)));
    assert_eq!(stdout(&o), "valid: 3 events\n");

    let all = lines(&log);
    write(&log, &all[..2]);
    assert_eq!(stdout(&verify(&log, None)), "valid: 2 events\n");
    let o = verify(&log, Some((&cp_file, &pk)));
    assert_eq!(
        stdout(&o),
        "invalid: seq 3: log ends before the checkpoint's seq 3 (tail truncated)\n"
    );
    assert_eq!(o.status.code(), Some(1));

    // A checkpoint under another public key, or altered, is refused.
    write(&log, &all);
    let other = palisade(
        &["audit", "public-key", "--signing-key-hex", &"07".repeat(32)],
        b"",
    );
    let o = verify(&log, Some((&cp_file, stdout(&other).trim())));
    assert_eq!(
        stdout(&o),
        "invalid: seq 3: checkpoint signature does not verify\n"
    );
    std::fs::write(&cp_file, text.replace("\"seq\":3", "\"seq\":2")).unwrap();
    let o = verify(&log, Some((&cp_file, &pk)));
    assert_eq!(o.status.code(), Some(1));
}
