//! Known-answer tests of the AEAD primitive that every envelope goes through: NIST CAVP
//! (AES-256-GCM), RFC 8452 (AES-256-GCM-SIV) and Project Wycheproof (both).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_pii::primitive::{open, seal};
use palisade_pii::{Algorithm, PiiError};
use serde::Deserialize;
use wycheproof::TestResult;
use wycheproof::aead::{TestName, TestSet};

#[derive(Deserialize)]
struct File {
    source: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    key: String,
    nonce: String,
    aad: String,
    plaintext: String,
    ciphertext: String,
    tag: String,
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// Encrypts and decrypts one known answer, then checks that a flipped tag bit is refused.
/// Returns false when the vector's key or nonce length is not the envelope's (skipped).
fn known_answer(
    algorithm: Algorithm,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    pt: &[u8],
    sealed: &[u8],
) -> bool {
    let (Ok(key), Ok(nonce)) = (<&[u8; 32]>::try_from(key), <&[u8; 12]>::try_from(nonce)) else {
        return false;
    };
    assert_eq!(seal(algorithm, key, nonce, aad, pt).unwrap(), sealed);
    assert_eq!(open(algorithm, key, nonce, aad, sealed).unwrap(), pt);
    let mut bad = sealed.to_vec();
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(
        open(algorithm, key, nonce, aad, &bad),
        Err(PiiError::Decryption)
    );
    true
}

fn run_file(json: &str, algorithm: Algorithm) -> usize {
    let file: File = serde_json::from_str(json).unwrap();
    assert!(!file.source.is_empty());
    for v in &file.vectors {
        let mut sealed = h(&v.ciphertext);
        sealed.extend(h(&v.tag));
        assert!(known_answer(
            algorithm,
            &h(&v.key),
            &h(&v.nonce),
            &h(&v.aad),
            &h(&v.plaintext),
            &sealed
        ));
    }
    file.vectors.len()
}

#[test]
fn nist_cavp_gcm_encrypt_ext_iv256() {
    let n = run_file(
        include_str!("vectors/nist_gcm_encrypt_ext_iv256.json"),
        Algorithm::Aes256Gcm,
    );
    assert_eq!(n, 375);
}

#[test]
fn rfc8452_appendix_c2() {
    let n = run_file(
        include_str!("vectors/rfc8452_aes256gcmsiv.json"),
        Algorithm::Aes256GcmSiv,
    );
    assert_eq!(n, 24);
}

/// Runs every Wycheproof test with a 256-bit key, a 96-bit nonce and a 128-bit tag (the
/// only shape an envelope uses); returns (valid, invalid) counts.
fn wycheproof(name: TestName, algorithm: Algorithm) -> (usize, usize) {
    let set = TestSet::load(name).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for t in group.tests {
            let key: &[u8; 32] = t.key.as_slice().try_into().unwrap();
            let nonce: &[u8; 12] = t.nonce.as_slice().try_into().unwrap();
            let mut sealed = t.ct.to_vec();
            sealed.extend_from_slice(&t.tag);
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert!(
                        known_answer(algorithm, key, nonce, &t.aad, &t.pt, &sealed),
                        "tc {}",
                        t.tc_id
                    );
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert_eq!(
                        open(algorithm, key, nonce, &t.aad, &sealed),
                        Err(PiiError::Decryption),
                        "tc {} ({})",
                        t.tc_id,
                        t.comment
                    );
                    invalid += 1;
                }
            }
        }
    }
    (valid, invalid)
}

#[test]
fn wycheproof_aes_gcm() {
    assert_eq!(wycheproof(TestName::AesGcm, Algorithm::Aes256Gcm), (39, 27));
}

#[test]
fn wycheproof_aes_gcm_siv() {
    assert_eq!(
        wycheproof(TestName::AesGcmSiv, Algorithm::Aes256GcmSiv),
        (69, 34)
    );
}
