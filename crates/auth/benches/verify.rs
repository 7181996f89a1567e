//! Side by side in one run: API-key verification on the memory store (parse, checksum,
//! HMAC-SHA256 under the pepper, lookup, constant-time comparison), and JWT HS256
//! verification through palisade-auth against `jsonwebtoken::decode` alone (the same
//! signature check and its own `exp` check).
//!
//! `cargo bench -p palisade-auth --bench verify -- --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use palisade_auth::{
    ApiKeyPrefix, ApiKeys, ExposeSecret, JwtValidation, KeySet, KeySpec, MemoryApiKeyStore, Pepper,
    Peppers, SecretBox, VerifyingKey,
};
use palisade_rbac::{ScopeSet, SubjectId, TenantId};
use serde_json::{Map, Value, json};

const SECRET: [u8; 32] = [7u8; 32];

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let peppers =
        Peppers::new(Pepper::new("p1", SecretBox::new(Box::from(SECRET.as_slice()))).unwrap());
    let keys = ApiKeys::new(
        MemoryApiKeyStore::new(),
        peppers,
        ApiKeyPrefix::new("pal").unwrap(),
    );
    // 10,000 keys in the store, one of them verified.
    let mut key = None;
    for i in 0..10_000 {
        let issued = rt
            .block_on(keys.issue(KeySpec {
                tenant: TenantId::new(format!("t{i}")).unwrap(),
                owner: SubjectId::new("owner").unwrap(),
                scopes: ScopeSet::parse_list("calls:read").unwrap(),
                ttl: None,
            }))
            .unwrap();
        key = Some(issued.key);
    }
    let key = key.unwrap();
    let text = key.expose_secret();

    let claims = json!({"sub": "u1", "tenant": "acme", "iss": "https://issuer.example",
                        "exp": 4_000_000_000u64, "iat": 1_700_000_000u64});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&SECRET).unwrap(),
    )
    .unwrap();
    let set = KeySet::single(VerifyingKey::hs256(&SECRET).unwrap());
    let ours = JwtValidation::new().issuer("https://issuer.example");
    let decoding = jsonwebtoken::DecodingKey::from_secret(&SECRET).unwrap();
    let mut theirs = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    theirs.set_issuer(&["https://issuer.example"]);
    theirs.leeway = 0;
    let now = 1_800_000_000;

    let mut g = c.benchmark_group("auth");
    g.bench_function("apikey_verify_memory_store", |b| {
        b.iter(|| rt.block_on(keys.verify(black_box(text))).unwrap());
    });
    g.bench_function("jwt_hs256_palisade_auth", |b| {
        b.iter(|| ours.verify(&set, black_box(&token), now).unwrap());
    });
    g.bench_function("jwt_hs256_jsonwebtoken_alone", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<Map<String, Value>>(black_box(&token), &decoding, &theirs)
                .unwrap()
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
