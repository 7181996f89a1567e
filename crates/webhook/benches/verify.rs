//! Verification cost of `palisade-webhook` next to the raw HMAC it wraps and to the
//! `standardwebhooks` crate, per body size, in one run (see `docs/benchmarks.md`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use palisade_webhook::{GitHub, Message, Request, StandardWebhooks, Stripe, Verifier};
use secrecy::SecretString;
use sha2::Sha256;

const SIZES: [(usize, &str); 2] = [(1024, "1KiB"), (64 * 1024, "64KiB")];

const STRIPE_SECRET: &str = "whsec_bench_stripe_secret_0123456789";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";

/// A JSON-looking ASCII body of exactly `len` bytes (valid UTF-8, which `standardwebhooks`
/// requires).
fn body(len: usize) -> Vec<u8> {
    let mut out = br#"{"type":"payment_intent.succeeded","data":""#.to_vec();
    let filler = b"abcdefghijklmnopqrstuvwxyz0123456789";
    while out.len() < len - 2 {
        out.push(filler[out.len() % filler.len()]);
    }
    out.extend_from_slice(br#""}"#);
    out.truncate(len);
    out
}

/// The current time: `standardwebhooks` checks timestamps against the system clock, so every
/// request is signed "now" and verified at the same `now`.
fn unix_now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

/// HMAC-SHA256 of the concatenated `parts` with `key`, checked against `expected` with the
/// `hmac` crate's constant-time `verify_slice`: the floor every verifier pays.
fn raw_verify(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.verify_slice(expected).is_ok()
}

fn verify(c: &mut Criterion) {
    for (len, label) in SIZES {
        let body = body(len);
        let now = unix_now();
        let mut group = c.benchmark_group(format!("verify_{label}"));
        group
            .throughput(Throughput::Bytes(len as u64))
            .sample_size(30)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));

        // Stripe: HMAC-SHA256 of `t.body`, keyed with the whole `whsec_…` string.
        let stripe = Verifier::new(Stripe, [SecretString::from(STRIPE_SECRET)]).unwrap();
        let signed = stripe
            .sign(&Message::new(&body).timestamp(now))
            .unwrap()
            .to_header_map()
            .unwrap();
        let value = signed["stripe-signature"].to_str().unwrap();
        let t = now.to_string();
        let tag = hex::decode(value.rsplit_once("v1=").unwrap().1).unwrap();
        let req = Request::new(&signed, &body);
        stripe.verify_at(&req, now).unwrap();
        assert!(raw_verify(
            STRIPE_SECRET.as_bytes(),
            &[t.as_bytes(), b".", &body],
            &tag
        ));
        group.bench_function("raw_hmac_sha256", |b| {
            b.iter(|| {
                raw_verify(
                    black_box(STRIPE_SECRET.as_bytes()),
                    &[t.as_bytes(), b".", black_box(&body)],
                    black_box(&tag),
                )
            });
        });
        group.bench_function("palisade_stripe", |b| {
            b.iter(|| stripe.verify_at(black_box(&req), now));
        });

        // Standard Webhooks: HMAC-SHA256 of `id.timestamp.body`, keyed with the decoded secret.
        let standard =
            Verifier::new(StandardWebhooks, [SecretString::from(STANDARD_SECRET)]).unwrap();
        let signed = standard
            .sign(&Message::new(&body).id(MSG_ID).timestamp(now))
            .unwrap()
            .to_header_map()
            .unwrap();
        let key = BASE64
            .decode(STANDARD_SECRET.trim_start_matches("whsec_"))
            .unwrap();
        let sig = signed["webhook-signature"].to_str().unwrap();
        let tag = BASE64.decode(sig.trim_start_matches("v1,")).unwrap();
        let req = Request::new(&signed, &body);
        standard.verify_at(&req, now).unwrap();
        let parts: [&[u8]; 5] = [MSG_ID.as_bytes(), b".", t.as_bytes(), b".", &body];
        assert!(raw_verify(&key, &parts, &tag));
        let peer = standardwebhooks::Webhook::new(STANDARD_SECRET).unwrap();
        peer.verify(&body, &signed).unwrap();
        group.bench_function("raw_hmac_standard", |b| {
            b.iter(|| {
                raw_verify(
                    black_box(&key),
                    &[
                        MSG_ID.as_bytes(),
                        b".",
                        t.as_bytes(),
                        b".",
                        black_box(&body),
                    ],
                    black_box(&tag),
                )
            });
        });
        group.bench_function("palisade_standard", |b| {
            b.iter(|| standard.verify_at(black_box(&req), now));
        });
        group.bench_function("standardwebhooks_crate", |b| {
            b.iter(|| peer.verify(black_box(&body), black_box(&signed)).is_ok());
        });

        // GitHub: HMAC-SHA256 of the body. `verify_at` also hashes the body (BLAKE3) for its
        // replay key, since GitHub signs no timestamp or id; `verify_lazy_at` (no replay
        // guard) does not.
        let github = Verifier::new(GitHub::new(), [SecretString::from(GITHUB_SECRET)]).unwrap();
        let signed = github
            .sign(&Message::new(&body))
            .unwrap()
            .to_header_map()
            .unwrap();
        let sig = signed["x-hub-signature-256"].to_str().unwrap();
        let tag = hex::decode(sig.trim_start_matches("sha256=")).unwrap();
        let req = Request::new(&signed, &body);
        github.verify_at(&req, now).unwrap();
        assert!(raw_verify(GITHUB_SECRET.as_bytes(), &[&body], &tag));
        group.bench_function("raw_hmac_github", |b| {
            b.iter(|| {
                raw_verify(
                    black_box(GITHUB_SECRET.as_bytes()),
                    &[black_box(&body)],
                    black_box(&tag),
                )
            });
        });
        group.bench_function("palisade_github", |b| {
            b.iter(|| github.verify_at(black_box(&req), now));
        });
        // No replay guard: the key is never asked for, so it is never hashed.
        assert_eq!(
            github.verify_lazy_at(&req, now).unwrap().replay_key(),
            github.verify_at(&req, now).unwrap().replay_key
        );
        group.bench_function("palisade_github_lazy", |b| {
            b.iter(|| {
                github
                    .verify_lazy_at(black_box(&req), now)
                    .map(|v| v.secret_index())
            });
        });

        group.finish();
    }
}

criterion_group!(benches, verify);
criterion_main!(benches);
