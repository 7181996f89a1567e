//! End-to-end tests of `palisade pii`: keygen, encrypt, decrypt, rotate and blind-index, with
//! and without a key-encryption key; failures exit 1 and print no plaintext.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{stderr, stdout};

const KEK_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const OTHER_KEK_HEX: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const PHONE: &str = "+14389007409";
const CTX: &str = "acme/leads/phone/17";

/// Runs the binary with `PALISADE_KEK` set to `kek`, or removed.
fn palisade(args: &[&str], stdin: &[u8], kek: Option<&str>) -> Output {
    common::run(args, stdin, &[("PALISADE_KEK", kek)])
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("palisade-cli-pii-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn keygen(dir: &TempDir, kek: Option<&str>) -> PathBuf {
    let o = palisade(&["pii", "keygen"], b"", kek);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    dir.write("keyring.json", &o.stdout)
}

fn encrypt(keyring: &Path, ctx: &str, pt: &[u8], kek: Option<&str>) -> Output {
    let k = keyring.to_str().unwrap();
    palisade(
        &["pii", "encrypt", "--keyring", k, "--context", ctx],
        pt,
        kek,
    )
}

fn decrypt(keyring: &Path, ctx: &str, ct: &[u8], kek: Option<&str>) -> Output {
    let k = keyring.to_str().unwrap();
    palisade(
        &["pii", "decrypt", "--keyring", k, "--context", ctx],
        ct,
        kek,
    )
}

#[test]
fn round_trip_with_kek() {
    let dir = TempDir::new("kek");
    let keyring = keygen(&dir, Some(KEK_HEX));
    let json = std::fs::read_to_string(&keyring).unwrap();
    assert!(json.contains("\"protection\": \"kek\""), "{json}");

    let e = encrypt(&keyring, CTX, PHONE.as_bytes(), Some(KEK_HEX));
    assert_eq!(e.status.code(), Some(0), "{}", stderr(&e));
    let ct = stdout(&e);
    assert!(ct.starts_with("pii1.") && ct.ends_with('\n') && ct.lines().count() == 1);
    assert!(
        stderr(&e).is_empty(),
        "no warning with a KEK: {}",
        stderr(&e)
    );

    let d = decrypt(&keyring, CTX, ct.as_bytes(), Some(KEK_HEX));
    assert_eq!(d.status.code(), Some(0), "{}", stderr(&d));
    assert_eq!(stdout(&d), PHONE);

    // Binary plaintext round-trips byte for byte.
    let bin = [0u8, 255, 10, 13, 128];
    let e = encrypt(&keyring, CTX, &bin, Some(KEK_HEX));
    let d = decrypt(&keyring, CTX, &e.stdout, Some(KEK_HEX));
    assert_eq!(d.stdout, bin);
}

#[test]
fn failures_exit_1_without_plaintext() {
    let dir = TempDir::new("fail");
    let keyring = keygen(&dir, Some(KEK_HEX));
    let ct = encrypt(&keyring, CTX, PHONE.as_bytes(), Some(KEK_HEX)).stdout;
    let ct_text = String::from_utf8(ct.clone()).unwrap();

    let mut flipped = ct_text.trim().to_owned().into_bytes();
    let last = flipped.len() - 3;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };

    let other_keyring = dir.write(
        "other.json",
        &palisade(&["pii", "keygen"], b"", Some(KEK_HEX)).stdout,
    );
    for (name, keyring, ctx, input) in [
        ("wrong row", &keyring, "acme/leads/phone/18", ct.clone()),
        ("wrong tenant", &keyring, "evil/leads/phone/17", ct.clone()),
        ("wrong column", &keyring, "acme/leads/email/17", ct.clone()),
        ("flipped", &keyring, CTX, flipped),
        ("truncated", &keyring, CTX, ct[..40].to_vec()),
        ("garbage", &keyring, CTX, b"hello".to_vec()),
        ("not utf-8", &keyring, CTX, vec![0xff, 0xfe]),
        ("wrong keyring", &other_keyring, CTX, ct.clone()),
    ] {
        let d = decrypt(keyring, ctx, &input, Some(KEK_HEX));
        assert_eq!(d.status.code(), Some(1), "{name}: {}", stderr(&d));
        let shown = format!("{}{}", stdout(&d), stderr(&d));
        assert!(
            !shown.contains(PHONE) && !shown.contains("4389007409"),
            "{name}: {shown}"
        );
        assert!(
            stdout(&d).starts_with("invalid: "),
            "{name}: {}",
            stdout(&d)
        );
    }
}

#[test]
fn kek_set_vs_unset() {
    let dir = TempDir::new("dev");
    // Unset, with --insecure-plaintext-keyring: an unencrypted development keyring, and a
    // warning on stderr.
    let o = palisade(
        &["pii", "keygen", "--insecure-plaintext-keyring"],
        b"",
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("UNENCRYPTED development keyring"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("\"protection\": \"none\""));
    let dev = dir.write("dev.json", &o.stdout);
    let e = encrypt(&dev, CTX, PHONE.as_bytes(), None);
    assert_eq!(e.status.code(), Some(0));
    assert!(stderr(&e).contains("UNENCRYPTED"));
    let d = decrypt(&dev, CTX, &e.stdout, None);
    assert_eq!(stdout(&d), PHONE);

    // A development keyring with a KEK set, and a protected keyring without one: usage
    // errors (exit 2) that say what to do.
    let d = decrypt(&dev, CTX, &e.stdout, Some(KEK_HEX));
    assert_eq!(d.status.code(), Some(2));
    assert!(stderr(&d).contains("development keyring"), "{}", stderr(&d));
    let prod = keygen(&dir, Some(KEK_HEX));
    let d = decrypt(&prod, CTX, &e.stdout, None);
    assert_eq!(d.status.code(), Some(2));
    assert!(stderr(&d).contains("PALISADE_KEK"), "{}", stderr(&d));

    // The wrong KEK, or a malformed one.
    let d = encrypt(&prod, CTX, b"x", Some(OTHER_KEK_HEX));
    assert_eq!(d.status.code(), Some(2));
    assert!(
        stderr(&d).contains("keyset authentication failed"),
        "{}",
        stderr(&d)
    );
    let d = encrypt(&prod, CTX, b"x", Some("not-a-key"));
    assert_eq!(d.status.code(), Some(2));
    assert!(
        stderr(&d).contains("invalid key-encryption key"),
        "{}",
        stderr(&d)
    );

    // --kek-file instead of the environment.
    let kek_file = dir.write("kek", format!("{KEK_HEX}\n").as_bytes());
    let kf = kek_file.to_str().unwrap();
    let k = prod.to_str().unwrap();
    let e = palisade(
        &[
            "pii",
            "encrypt",
            "--keyring",
            k,
            "--context",
            CTX,
            "--kek-file",
            kf,
        ],
        PHONE.as_bytes(),
        None,
    );
    assert_eq!(e.status.code(), Some(0), "{}", stderr(&e));
    assert_eq!(
        stdout(&decrypt(&prod, CTX, &e.stdout, Some(KEK_HEX))),
        PHONE
    );
}

/// The hints of the refusal to write a keyring without a KEK.
fn assert_says_how_to_pass_a_kek(o: &Output) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(o.stdout.is_empty(), "no keyring written: {}", stdout(o));
    for hint in ["PALISADE_KEK", "--kek-file", "--insecure-plaintext-keyring"] {
        assert!(stderr(o).contains(hint), "{hint}: {}", stderr(o));
    }
}

#[test]
fn keygen_without_kek_is_refused() {
    assert_says_how_to_pass_a_kek(&palisade(&["pii", "keygen"], b"", None));
    assert_says_how_to_pass_a_kek(&palisade(
        &["pii", "keygen", "--algorithm", "aes-256-gcm-siv"],
        b"",
        None,
    ));
}

#[test]
fn rotate_without_kek_is_refused() {
    let dir = TempDir::new("rotate-nokek");
    let dev = palisade(
        &["pii", "keygen", "--insecure-plaintext-keyring"],
        b"",
        None,
    );
    assert_eq!(dev.status.code(), Some(0), "{}", stderr(&dev));
    let dev = dir.write("dev.json", &dev.stdout);
    let d = dev.to_str().unwrap();
    assert_says_how_to_pass_a_kek(&palisade(&["pii", "rotate", "--keyring", d], b"", None));

    // With the flag, a development keyring is rotated (and stays in clear, with a warning).
    let r = palisade(
        &[
            "pii",
            "rotate",
            "--keyring",
            d,
            "--insecure-plaintext-keyring",
        ],
        b"",
        None,
    );
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(stderr(&r).contains("UNENCRYPTED"), "{}", stderr(&r));
    let doc: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(doc["protection"], "none");
    assert_eq!(doc["encryption_keys"].as_array().unwrap().len(), 2);

    // A protected keyring without its KEK: refused the same way.
    let prod = keygen(&dir, Some(KEK_HEX));
    let p = prod.to_str().unwrap();
    assert_says_how_to_pass_a_kek(&palisade(&["pii", "rotate", "--keyring", p], b"", None));
}

#[test]
fn insecure_plaintext_keyring_with_a_kek_is_refused() {
    let dir = TempDir::new("flag-and-kek");
    let o = palisade(
        &["pii", "keygen", "--insecure-plaintext-keyring"],
        b"",
        Some(KEK_HEX),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("drop one of them"), "{}", stderr(&o));
    let kek_file = dir.write("kek", KEK_HEX.as_bytes());
    let o = palisade(
        &[
            "pii",
            "keygen",
            "--insecure-plaintext-keyring",
            "--kek-file",
            kek_file.to_str().unwrap(),
        ],
        b"",
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn rotate_keeps_old_ciphertexts_readable() {
    let dir = TempDir::new("rotate");
    let keyring = keygen(&dir, Some(KEK_HEX));
    let old = encrypt(&keyring, CTX, PHONE.as_bytes(), Some(KEK_HEX)).stdout;
    let k = keyring.to_str().unwrap();
    let r = palisade(&["pii", "rotate", "--keyring", k], b"", Some(KEK_HEX));
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let doc: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let statuses: Vec<_> = doc["encryption_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["id"].as_u64().unwrap(),
                k["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(statuses, [(1, "active".into()), (2, "primary".into())]);
    let rotated = dir.write("rotated.json", &r.stdout);
    assert_eq!(stdout(&decrypt(&rotated, CTX, &old, Some(KEK_HEX))), PHONE);
    let new = encrypt(&rotated, CTX, PHONE.as_bytes(), Some(KEK_HEX)).stdout;
    assert_ne!(new[..13], old[..13], "new key id in the header");
    assert_eq!(stdout(&decrypt(&rotated, CTX, &new, Some(KEK_HEX))), PHONE);
}

#[test]
fn blind_index_is_stable_across_formats_and_rotation() {
    let dir = TempDir::new("index");
    let keyring = keygen(&dir, Some(KEK_HEX));
    let k = keyring.to_str().unwrap();
    let index = |keyring: &str, value: &str| {
        palisade(
            &[
                "pii",
                "blind-index",
                "--keyring",
                keyring,
                "--field",
                "leads.phone",
                "--normalizer",
                "phone",
                "--tenant",
                "acme",
            ],
            value.as_bytes(),
            Some(KEK_HEX),
        )
    };
    let a = index(k, "+1 (438) 900-7409\n");
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(stdout(&a).trim().len(), 8, "32 bits in hex");
    assert_eq!(stdout(&index(k, "+14389007409")), stdout(&a));
    let r = palisade(&["pii", "rotate", "--keyring", k], b"", Some(KEK_HEX));
    let rotated = dir.write("rotated.json", &r.stdout);
    assert_eq!(
        stdout(&index(rotated.to_str().unwrap(), "+14389007409")),
        stdout(&a)
    );
    let bad = index(k, "438 900 7409");
    assert_eq!(bad.status.code(), Some(1));
    assert!(!stdout(&bad).contains("438"), "{}", stdout(&bad));
    let no_dot = palisade(
        &["pii", "blind-index", "--keyring", k, "--field", "phone"],
        b"x",
        Some(KEK_HEX),
    );
    assert_eq!(no_dot.status.code(), Some(2));
}

#[test]
fn kek_prints_a_new_key_that_palisade_kek_and_kek_file_accept() {
    let dir = TempDir::new("new-kek");
    let o = palisade(&["pii", "kek"], b"", None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let printed = stdout(&o);
    // One line: 32 bytes as unpadded base64url (43 characters).
    let kek = printed.strip_suffix('\n').unwrap();
    assert_eq!(kek.len(), 43, "{kek}");
    assert!(
        kek.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    // A new key each time.
    assert_ne!(stdout(&palisade(&["pii", "kek"], b"", None)), printed);

    // Accepted as PALISADE_KEK: keygen writes a keyring protected by it.
    let keyring = keygen(&dir, Some(kek));
    let json = std::fs::read_to_string(&keyring).unwrap();
    assert!(json.contains("\"protection\": \"kek\""), "{json}");
    let e = encrypt(&keyring, CTX, PHONE.as_bytes(), Some(kek));
    assert_eq!(e.status.code(), Some(0), "{}", stderr(&e));

    // Accepted by --kek-file, the printed output as is: it reads the same keyring.
    let kek_file = dir.write("kek.txt", printed.as_bytes());
    let (k, f) = (keyring.to_str().unwrap(), kek_file.to_str().unwrap());
    let d = palisade(
        &[
            "pii",
            "decrypt",
            "--keyring",
            k,
            "--context",
            CTX,
            "--kek-file",
            f,
        ],
        &e.stdout,
        None,
    );
    assert_eq!(d.status.code(), Some(0), "{}", stderr(&d));
    assert_eq!(stdout(&d), PHONE);
    let g = palisade(&["pii", "keygen", "--kek-file", f], b"", None);
    assert_eq!(g.status.code(), Some(0), "{}", stderr(&g));

    // It is the key that protects the keyring: another one does not open it.
    let other = decrypt(&keyring, CTX, &e.stdout, Some(OTHER_KEK_HEX));
    assert_ne!(other.status.code(), Some(0));
    assert!(!stdout(&other).contains(PHONE));

    // Its help says how to store it.
    let help = stdout(&palisade(&["pii", "kek", "--help"], b"", None));
    for hint in [
        "secrets manager",
        "PALISADE_KEK",
        "0600",
        "--kek-file",
        "never in the repository",
    ] {
        assert!(help.contains(hint), "{hint}: {help}");
    }
}
