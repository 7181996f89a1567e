//! `palisade apikey generate` / `check`: the exact contract.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{palisade, stdout};

#[test]
fn generated_keys_check_valid() {
    let o = palisade(&["apikey", "generate", "--prefix", "pal"], b"");
    assert_eq!(o.status.code(), Some(0));
    let key = stdout(&o);
    assert!(key.starts_with("pal_") && key.ends_with('\n') && key.lines().count() == 1);
    let key = key.trim_end();
    let o = palisade(&["apikey", "check", key], b"");
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "valid\n"));

    // One character changed: the checksum says so, exit 1.
    let mut b = key.as_bytes().to_vec();
    let i = b.len() - 20;
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    let typo = String::from_utf8(b).unwrap();
    let o = palisade(&["apikey", "check", &typo], b"");
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(1), "invalid: API key checksum mismatch\n")
    );
}

#[test]
fn malformed_keys_and_bad_prefixes() {
    let o = palisade(&["apikey", "check", "pal_short"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("invalid: malformed API key: "));
    for bad in ["", "Pal", "with_underscore", "abcdefghijklmnopq"] {
        let o = palisade(&["apikey", "generate", "--prefix", bad], b"");
        assert_eq!(o.status.code(), Some(2), "{bad}");
    }
    let o = palisade(&["apikey", "check"], b"");
    assert_eq!(o.status.code(), Some(2));
}
