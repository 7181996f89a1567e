//! `palisade-otp` benchmarks, side by side in one run:
//!
//! - `code_check`: one answer checked on the memory store (hashing the candidate under the
//!   pepper, then the atomic check-and-count with its constant-time comparison), next to the
//!   raw primitive (one HMAC-SHA256 of the same message) and the store step alone. Target
//!   ≤ 1 µs for the whole check. The challenge allows `u32::MAX` attempts and the answer is
//!   wrong, so every iteration takes the full path (count, compare, answer).
//! - `totp_generate`: one RFC 6238 code (SHA-1, 6 digits, 30 s) by `Totp::generate_at` and by
//!   the `totp-rs` crate's `TOTP::generate`, same secret and time. Target ≤ 1.0×.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use palisade_otp::{
    ChallengeStore, HmacAlgorithm, Hotp, MemoryChallengeStore, NewChallenge, OtpSecret, Pepper,
    Peppers, SubjectKey, Totp,
};
use secrecy::SecretBox;
use sha2::Sha256;

fn code_check(c: &mut Criterion) {
    let peppers =
        Peppers::new(Pepper::new("p1", SecretBox::new(Box::from([7u8; 32].as_slice()))).unwrap());
    let store = Arc::new(MemoryChallengeStore::new());
    let key = SubjectKey::new("tenant-1", "login", "+15550100");
    let new = NewChallenge::new(
        key.clone(),
        peppers.hash(&key, b"123456"),
        Duration::from_secs(3_600),
        u32::MAX,
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(store.issue(new, Duration::ZERO)).unwrap();

    let mut g = c.benchmark_group("code_check");
    g.bench_function("raw_hmac_sha256", |b| {
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[7u8; 32]).unwrap();
        b.iter(|| {
            let mut m = mac.clone();
            m.update(black_box(b"palisade-otp/v1\0\0\0\x08tenant-1\0\0\0\x05login\0\0\0\x09+15550100\0\0\0\x06654321"));
            black_box(m.finalize().into_bytes())
        });
    });
    let candidates = peppers.candidates(&key, b"654321");
    g.bench_function("store_step_only", |b| {
        b.iter(|| {
            black_box(
                store
                    .check_and_count_now(&key, black_box(&candidates))
                    .unwrap(),
            )
        });
    });
    g.bench_function("palisade_otp_check", |b| {
        b.iter(|| {
            let candidates = peppers.candidates(&key, black_box(b"654321"));
            black_box(store.check_and_count_now(&key, &candidates).unwrap())
        });
    });
    g.finish();
}

fn totp_generate(c: &mut Criterion) {
    let secret = b"12345678901234567890".to_vec();
    let ours = Totp::new(
        Hotp::new(OtpSecret::from_bytes(&secret), HmacAlgorithm::Sha1, 6).unwrap(),
        30,
        1,
    )
    .unwrap();
    let peer = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret).unwrap();
    assert_eq!(
        ours.generate_at(1_111_111_109),
        peer.generate(1_111_111_109)
    );

    let mut g = c.benchmark_group("totp_generate");
    g.bench_function("palisade_otp", |b| {
        b.iter(|| black_box(ours.generate_at(black_box(1_111_111_109))));
    });
    g.bench_function("totp_rs", |b| {
        b.iter(|| black_box(peer.generate(black_box(1_111_111_109))));
    });
    g.finish();
}

criterion_group!(benches, code_check, totp_generate);
criterion_main!(benches);
