//! Envelope encryption and blind indexes against the raw primitives they wrap, in one run.
//!
//! - `encrypt/*`: `Keyring::encrypt_to_text` (nonce, cached per-field key, AAD, envelope,
//!   base64url) and `Keyring::encrypt` (binary envelope), against raw `aes-gcm`
//!   (`Aes256Gcm::encrypt` of the same bytes with a fresh `getrandom` nonce, cipher built
//!   once, no AAD, no encoding), the same with 64 bytes of associated data (as long as the
//!   envelope's), `getrandom` alone, and raw `aes-gcm` with a fixed nonce (no
//!   random number generator at all: not a safe use, a floor).
//! - `decrypt/*`: `Keyring::decrypt_text` (base64url decode, parse, AAD, decrypt into a
//!   zeroizing box) against raw `Aes256Gcm::decrypt`, and against that raw decryption of
//!   base64url text into a `SecretBox` (what the house rules ask of any caller: text column,
//!   secrets in `secrecy` types), the floor of a text envelope.
//! - `blind_index/*`: `Keyring::blind_index` with the phone normalizer against a raw
//!   HMAC-SHA256 (keyed once, cloned per call) of the same bytes.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64_simd::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use palisade_pii::{Algorithm, BlindIndex, Context, Keyring, Normalizer};
use secrecy::SecretBox;
use sha2::Sha256;

const PHONE: &[u8; 16] = b"+1 438 900 74090";

fn transcript() -> Vec<u8> {
    (0..1024)
        .map(|i| b"abcdefghij klmnopqrstuvwxyz."[i % 28])
        .collect()
}

fn encrypt_decrypt(c: &mut Criterion) {
    let keyring = Keyring::generate().unwrap();
    let siv = Keyring::generate_with(Algorithm::Aes256GcmSiv).unwrap();
    let raw = Aes256Gcm::new(&[7u8; 32].into());
    let ctx = Context::new("tenant-42", "leads", "phone", "lead-17");
    let big = transcript();
    for (name, pt) in [("16B", &PHONE[..]), ("1KiB", &big[..])] {
        let mut g = c.benchmark_group(format!("encrypt/{name}"));
        g.bench_function("palisade_gcm", |b| {
            b.iter(|| keyring.encrypt_to_text(&ctx, black_box(pt)).unwrap());
        });
        g.bench_function("palisade_gcm_binary", |b| {
            b.iter(|| keyring.encrypt(&ctx, black_box(pt)).unwrap());
        });
        g.bench_function("palisade_gcm_siv", |b| {
            b.iter(|| siv.encrypt_to_text(&ctx, black_box(pt)).unwrap());
        });
        g.bench_function("raw_aes_gcm", |b| {
            b.iter(|| {
                let mut nonce = [0u8; 12];
                getrandom::fill(&mut nonce).unwrap();
                raw.encrypt(&Nonce::from(nonce), black_box(pt)).unwrap()
            });
        });
        // The same with associated data as long as the envelope's for this context (header,
        // four length-prefixed parts: 64 bytes): the floor of an AEAD bound to its context.
        let aad = [3u8; 64];
        g.bench_function("raw_aes_gcm_64B_aad", |b| {
            b.iter(|| {
                let mut nonce = [0u8; 12];
                getrandom::fill(&mut nonce).unwrap();
                let payload = Payload {
                    msg: black_box(pt),
                    aad: &aad,
                };
                raw.encrypt(&Nonce::from(nonce), payload).unwrap()
            });
        });
        g.bench_function("getrandom_12_bytes_only", |b| {
            b.iter(|| {
                let mut nonce = [0u8; 12];
                getrandom::fill(&mut nonce).unwrap();
                nonce
            });
        });
        g.bench_function("raw_aes_gcm_fixed_nonce", |b| {
            let nonce = Nonce::from([1u8; 12]);
            b.iter(|| raw.encrypt(&nonce, black_box(pt)).unwrap());
        });
        g.finish();

        let text = keyring.encrypt_to_text(&ctx, pt).unwrap();
        let nonce = Nonce::from([1u8; 12]);
        let raw_ct = raw.encrypt(&nonce, pt).unwrap();
        let mut g = c.benchmark_group(format!("decrypt/{name}"));
        g.bench_function("palisade_gcm", |b| {
            b.iter(|| keyring.decrypt_text(&ctx, black_box(&text)).unwrap());
        });
        g.bench_function("raw_aes_gcm", |b| {
            b.iter(|| raw.decrypt(&nonce, black_box(&raw_ct[..])).unwrap());
        });
        // The same raw decryption under the house rules a caller of the raw crate would also
        // follow: the ciphertext stored as unpadded base64url text (decoded with the same SIMD
        // crate), the plaintext handed out in a zeroize-on-drop `SecretBox` (wiped when the
        // iteration drops it, as ours is).
        let raw_text = URL_SAFE_NO_PAD.encode_to_string(&raw_ct);
        g.bench_function("raw_aes_gcm_text_secretbox", |b| {
            b.iter(|| {
                let ct = URL_SAFE_NO_PAD
                    .decode_to_vec(black_box(raw_text.as_bytes()))
                    .unwrap();
                let pt = raw.decrypt(&nonce, &ct[..]).unwrap();
                SecretBox::new(pt.into_boxed_slice())
            });
        });
        g.finish();
    }
}

fn blind_index(c: &mut Criterion) {
    let keyring = Keyring::generate().unwrap();
    let index = BlindIndex::new("leads", "phone", Normalizer::Phone);
    let mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&[7u8; 32]).unwrap();
    let mut g = c.benchmark_group("blind_index/phone");
    g.bench_function("palisade", |b| {
        b.iter(|| {
            keyring
                .blind_index(&index, "tenant-42", black_box("+1 (438) 900-7409"))
                .unwrap()
        });
    });
    g.bench_function("raw_hmac_sha256", |b| {
        b.iter(|| {
            let mut m = mac.clone();
            m.update(black_box(b"+14389007409"));
            m.finalize().into_bytes()
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = encrypt_decrypt, blind_index
}
criterion_main!(benches);
