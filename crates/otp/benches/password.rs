//! Password hashing and verification with OWASP's parameters (argon2id, m = 19456 KiB, t = 2,
//! p = 1, 16-byte salt, 32-byte tag): `Passwords` against the `argon2` crate called directly
//! with the same parameters, side by side (the ratio should be about 1.0: our work around
//! argon2 is parsing, a length check and a constant-time compare).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use criterion::{Criterion, criterion_group, criterion_main};
use palisade_otp::{PasswordPolicy, Passwords, Pepper};
use secrecy::{SecretBox, SecretString};

fn owasp_argon2() -> Argon2<'static> {
    let p = PasswordPolicy::OWASP;
    let params = Params::new(p.memory_kib(), p.iterations(), p.parallelism(), Some(32)).unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn bench(c: &mut Criterion) {
    let password = "correct horse battery staple";
    let secret = SecretString::from(password);
    let ours = Passwords::new(PasswordPolicy::OWASP);
    let peppered = Passwords::new(PasswordPolicy::OWASP)
        .with_pepper(Pepper::new("p1", SecretBox::from(vec![7u8; 32])).unwrap())
        .unwrap();
    let raw = owasp_argon2();

    let mut group = c.benchmark_group("password_owasp");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("hash/palisade", |b| {
        b.iter(|| ours.hash(black_box(&secret)).unwrap())
    });
    group.bench_function("hash/argon2_crate", |b| {
        b.iter(|| {
            raw.hash_password(black_box(password.as_bytes()))
                .unwrap()
                .to_string()
        })
    });
    let stored = ours.hash(&secret).unwrap();
    let stored_peppered = peppered.hash(&secret).unwrap();
    group.bench_function("verify/palisade", |b| {
        b.iter(|| assert!(ours.verify(black_box(&secret), black_box(&stored)).unwrap()))
    });
    group.bench_function("verify/palisade_peppered", |b| {
        b.iter(|| {
            assert!(
                peppered
                    .verify(black_box(&secret), black_box(&stored_peppered))
                    .unwrap()
            )
        })
    });
    group.bench_function("verify/palisade_unknown_user", |b| {
        b.iter(|| assert!(!ours.verify_unknown_user(black_box(&secret)).unwrap()))
    });
    group.bench_function("verify/argon2_crate", |b| {
        b.iter(|| {
            let parsed = PasswordHash::new(black_box(&stored)).unwrap();
            raw.verify_password(black_box(password.as_bytes()), &parsed)
                .unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
