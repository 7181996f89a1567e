//! End-to-end tests of `palisade password hash` / `verify`: the output contract (`valid` exit
//! 0, `invalid` exit 1, errors exit 2 on stderr), the newline stripping, foreign PHC strings,
//! hostile input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Output;

mod common;
use common::{palisade, stderr, stdout};

fn verify(phc: &str, password: &[u8]) -> Output {
    palisade(&["password", "verify", "--phc", phc], password)
}

#[test]
fn hash_then_verify() {
    let hashed = palisade(&["password", "hash"], b"correct horse battery staple\n");
    assert_eq!(hashed.status.code(), Some(0), "{}", stderr(&hashed));
    let phc = stdout(&hashed);
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(phc.ends_with('\n') && phc.lines().count() == 1, "{phc:?}");
    let phc = phc.trim_end();

    // The trailing newline was stripped: with or without it, the same password.
    for input in [
        &b"correct horse battery staple"[..],
        b"correct horse battery staple\n",
        b"correct horse battery staple\r\n",
    ] {
        let o = verify(phc, input);
        assert_eq!(
            (o.status.code(), stdout(&o).as_str()),
            (Some(0), "valid\n"),
            "{}",
            stderr(&o)
        );
    }
    for input in [
        &b"correct horse battery stapl"[..],
        b"correct horse battery staple\n\n",
        b"",
    ] {
        let o = verify(phc, input);
        assert_eq!(
            (o.status.code(), stdout(&o).as_str()),
            (Some(1), "invalid\n"),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).is_empty());
    }
}

/// A hash of the reference C library (its test suite, argon2i v19) and of argon2-cffi.
#[test]
fn verifies_foreign_phc_strings() {
    let reference =
        "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8";
    assert_eq!(verify(reference, b"password\n").status.code(), Some(0));
    assert_eq!(verify(reference, b"passwort\n").status.code(), Some(1));
    let cffi = "$argon2d$v=19$m=8,t=1,p=1$c29tZXNhbHQ$ba2qC75j0+JAunZZ/L0hZdQgCv+tOieBuKKXSrQiWm7nlkRcK+YqWr0i0m0WABJKelU8qHJp0SZzH0b1Z+ITvQ";
    assert_eq!(stdout(&verify(cffi, b"secret")), "valid\n");
}

#[test]
fn malformed_phc_strings_exit_2_without_panic() {
    for phc in [
        "",
        "$",
        "not a hash",
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ",
        "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNo",
        "$argon2x$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNo",
        "$argon2id$v=99$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNo",
        "$argon2id$v=19$m=64,t=1,p=1,pid=v1$c29tZXNhbHQ$aGFzaGhhc2hoYXNo",
        "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW",
    ] {
        let o = verify(phc, b"password\n");
        assert_eq!(
            o.status.code(),
            Some(2),
            "{phc}: {} {}",
            stdout(&o),
            stderr(&o)
        );
        assert!(stdout(&o).is_empty(), "{phc}");
        assert!(stderr(&o).starts_with("error: "), "{phc}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{phc}");
    }
}

#[test]
fn too_long_or_non_utf8_passwords_exit_2() {
    let long = vec![b'a'; 1025];
    for args in [
        &["password", "hash"][..],
        &[
            "password",
            "verify",
            "--phc",
            "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8",
        ],
    ] {
        let o = palisade(args, &long);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("1024"), "{}", stderr(&o));
        let o = palisade(args, b"\xff\xfe\n");
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    }
    // Exactly 1024 bytes (plus the newline) is accepted.
    let mut max = vec![b'a'; 1024];
    max.push(b'\n');
    assert_eq!(palisade(&["password", "hash"], &max).status.code(), Some(0));
}
