//! The conformance suite every [`ApiKeyStore`] must pass (feature `testing`).
//!
//! The same functions run against the memory store here and against the PostgreSQL store
//! in `palisade-postgres`: insert and duplicate ids, check (valid, wrong secret, unknown id,
//! revoked, expired, pepper rotation), `last_used_at` written at most once per interval,
//! rotation with overlap, listing by tenant, and concurrent checks and a revocation racing
//! them (revocation visible to the next check). Each call works under a fresh random tenant
//! and fresh random ids, so runs against a shared server never collide. Expiry uses real
//! time (a 1 s TTL and a 1.5 s sleep) so stores on their server's clock are tested as they
//! run.
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! use palisade_auth::{MemoryApiKeyStore, testing};
//!
//! testing::run_all(Arc::new(MemoryApiKeyStore::new())).await;
//! # }
//! ```
//!
//! Each check panics with a message naming what failed, like any test assertion.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use palisade_otp::{Pepper, Peppers};
use palisade_rbac::{ScopeSet, SubjectId, TenantId};
use secrecy::{ExposeSecret, SecretBox};

use crate::apikey::{ApiKey, ApiKeyPrefix, KeyId};
use crate::error::AuthError;
use crate::keys::{ApiKeys, KeySpec};
use crate::record::KeyCheck;
use crate::store::ApiKeyStore;

fn pepper(id: &str, byte: u8) -> Pepper {
    Pepper::new(id, SecretBox::new(Box::from([byte; 32].as_slice()))).unwrap()
}

/// A keyring for the suite: current pepper `p1`.
pub fn test_peppers() -> Peppers {
    Peppers::new(pepper("p1", 0x11))
}

/// A tenant unique to this call: `test-<label>-<random hex>`.
pub fn unique_tenant(label: &str) -> TenantId {
    let id = KeyId::generate().unwrap();
    TenantId::new(format!("test-{label}-{id}")).unwrap()
}

/// A key spec in a fresh tenant, owner `owner-1`, scopes `calls:read bookings:*`.
pub fn spec(label: &str, ttl: Option<Duration>) -> KeySpec {
    KeySpec {
        tenant: unique_tenant(label),
        owner: SubjectId::new("owner-1").unwrap(),
        scopes: ScopeSet::parse_list("calls:read bookings:*").unwrap(),
        ttl,
    }
}

fn service<S: ApiKeyStore>(store: S, peppers: Peppers) -> ApiKeys<S> {
    ApiKeys::new(store, peppers, ApiKeyPrefix::new("test").unwrap())
}

/// A key verifies to its principal; a wrong secret with the right id, and an unknown id,
/// are both `UnknownApiKey`; a duplicate id is refused.
pub async fn issue_and_verify<S: ApiKeyStore + Clone>(store: S) {
    let keys = service(store.clone(), test_peppers());
    let spec = spec("verify", None);
    let issued = keys.issue(spec.clone()).await.unwrap();
    let text = issued.key.expose_secret();
    let p = keys.verify(text).await.unwrap();
    assert_eq!(p.tenant(), &spec.tenant);
    assert_eq!(p.subject().as_str(), "owner-1");
    assert!(p.scopes().allows(&"bookings:write".parse().unwrap()));
    let rec = keys.store().get(&issued.record.id).await.unwrap().unwrap();
    assert_eq!(rec.tenant, spec.tenant);
    assert!(rec.revoked_at.is_none() && rec.expires_at.is_none());

    // Same id, another secret (with a valid checksum): not told apart from an unknown id.
    let forged = ApiKey::generate(&ApiKeyPrefix::new("test").unwrap()).unwrap();
    let forged_text = forged.to_secret_string();
    let other_secret =
        forged_text
            .expose_secret()
            .replacen(forged.id().as_str(), issued.record.id.as_str(), 1);
    let reparsed = recompute_checksum(&other_secret);
    assert_eq!(keys.verify(&reparsed).await, Err(AuthError::UnknownApiKey));
    assert_eq!(
        keys.verify(forged_text.expose_secret()).await,
        Err(AuthError::UnknownApiKey)
    );

    let dup = keys
        .store()
        .insert(crate::record::NewApiKey {
            id: issued.record.id.clone(),
            prefix: "test".into(),
            tenant: spec.tenant.clone(),
            owner: spec.owner.clone(),
            scopes: ScopeSet::new(),
            ttl: None,
            hash: keys.hash(&forged),
        })
        .await;
    assert_eq!(dup.unwrap_err(), AuthError::DuplicateKeyId);
}

/// `text` (a key whose body was edited) with its checksum recomputed, so it passes the
/// format check and reaches the store.
fn recompute_checksum(text: &str) -> String {
    let body = &text[..text.len() - crate::checksum::CHECKSUM_LEN];
    let sum = crate::checksum::checksum(body.as_bytes());
    format!("{body}{}", String::from_utf8_lossy(&sum))
}

/// Revocation is visible to the very next check, and revoking twice says `false`.
pub async fn revoked_key_is_refused_on_next_check<S: ApiKeyStore + Clone>(store: S) {
    let keys = service(store, test_peppers());
    let issued = keys.issue(spec("revoke", None)).await.unwrap();
    let text = issued.key.expose_secret();
    keys.verify(text).await.unwrap();
    assert!(keys.revoke(&issued.record.id).await.unwrap());
    assert_eq!(keys.verify(text).await, Err(AuthError::RevokedApiKey));
    assert!(!keys.revoke(&issued.record.id).await.unwrap());
    let rec = keys.store().get(&issued.record.id).await.unwrap().unwrap();
    assert!(rec.revoked_at.is_some());
}

/// A key past its TTL is `ExpiredApiKey` (store clock).
pub async fn expired_key_is_refused<S: ApiKeyStore + Clone>(store: S) {
    let keys = service(store, test_peppers());
    let issued = keys
        .issue(spec("expire", Some(Duration::from_secs(1))))
        .await
        .unwrap();
    let text = issued.key.expose_secret();
    keys.verify(text).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(keys.verify(text).await, Err(AuthError::ExpiredApiKey));
}

/// Keys hashed under a previous pepper keep verifying while it is held; once it is retired
/// they are unknown.
pub async fn pepper_rotation<S: ApiKeyStore + Clone>(store: S) {
    let old = service(store.clone(), test_peppers());
    let issued = old.issue(spec("pepper", None)).await.unwrap();
    let text = issued.key.expose_secret();
    let rotated = Peppers::new(pepper("p2", 0x22))
        .with_previous(pepper("p1", 0x11))
        .unwrap();
    let new = service(store.clone(), rotated);
    new.verify(text).await.unwrap();
    let retired = service(store, Peppers::new(pepper("p2", 0x22)));
    assert_eq!(retired.verify(text).await, Err(AuthError::UnknownApiKey));
}

/// `last_used_at` is set by the first successful check and not rewritten within
/// [`LAST_USED_INTERVAL`](crate::record::LAST_USED_INTERVAL); a failed check never sets it.
pub async fn last_used_is_throttled<S: ApiKeyStore + Clone>(store: S) {
    let keys = service(store, test_peppers());
    let issued = keys.issue(spec("last-used", None)).await.unwrap();
    let id = issued.record.id.clone();
    assert!(issued.record.last_used_at.is_none());
    let wrong = keys.store().check(&id, &[]).await.unwrap();
    assert_eq!(wrong, KeyCheck::Invalid);
    assert!(
        keys.store()
            .get(&id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .is_none()
    );
    keys.verify(issued.key.expose_secret()).await.unwrap();
    let first = keys.store().get(&id).await.unwrap().unwrap().last_used_at;
    assert!(first.is_some(), "a successful check records its use");
    tokio::time::sleep(Duration::from_millis(20)).await;
    keys.verify(issued.key.expose_secret()).await.unwrap();
    let second = keys.store().get(&id).await.unwrap().unwrap().last_used_at;
    assert_eq!(first, second, "not rewritten within the interval");
}

/// Rotation: a new key for the same tenant, owner and scopes; both verify during the
/// overlap; the old one is refused after it.
pub async fn rotation_with_overlap<S: ApiKeyStore + Clone>(store: S) {
    let keys = service(store, test_peppers());
    let spec = spec("rotate", None);
    let old = keys.issue(spec.clone()).await.unwrap();
    let new = keys
        .rotate(&old.record.id, Duration::from_secs(1))
        .await
        .unwrap();
    assert_ne!(new.record.id, old.record.id);
    assert_eq!(new.record.tenant, spec.tenant);
    assert_eq!(new.record.scopes, spec.scopes);
    keys.verify(old.key.expose_secret()).await.unwrap();
    keys.verify(new.key.expose_secret()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        keys.verify(old.key.expose_secret()).await,
        Err(AuthError::ExpiredApiKey)
    );
    keys.verify(new.key.expose_secret()).await.unwrap();
    let listed = keys.store().list(&spec.tenant).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids, vec![old.record.id.clone(), new.record.id.clone()]);
    // A revoked key cannot be rotated.
    keys.revoke(&new.record.id).await.unwrap();
    assert_eq!(
        keys.rotate(&new.record.id, Duration::from_secs(1))
            .await
            .unwrap_err(),
        AuthError::RevokedApiKey
    );
}

/// 64 concurrent checks of one key all succeed; once a revocation has returned, every check
/// started after it is refused.
pub async fn concurrent_checks_and_revocation<S: ApiKeyStore + Clone + 'static>(store: S) {
    let keys = Arc::new(service(store, test_peppers()));
    let issued = keys.issue(spec("concurrent", None)).await.unwrap();
    let text: Arc<str> = issued.key.expose_secret().into();
    for result in verify_concurrently(&keys, &text, 64).await {
        result.unwrap();
    }
    keys.revoke(&issued.record.id).await.unwrap();
    for result in verify_concurrently(&keys, &text, 64).await {
        assert_eq!(result, Err(AuthError::RevokedApiKey));
    }
}

/// `n` concurrent verifications of `text`, their results.
async fn verify_concurrently<S: ApiKeyStore + 'static>(
    keys: &Arc<ApiKeys<S>>,
    text: &Arc<str>,
    n: usize,
) -> Vec<Result<palisade_rbac::Principal, AuthError>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (keys, text) = (keys.clone(), text.clone());
            tokio::spawn(async move { keys.verify(&text).await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Every check of the suite, in order.
pub async fn run_all<S: ApiKeyStore + Clone + 'static>(store: S) {
    issue_and_verify(store.clone()).await;
    revoked_key_is_refused_on_next_check(store.clone()).await;
    expired_key_is_refused(store.clone()).await;
    pepper_rotation(store.clone()).await;
    last_used_is_throttled(store.clone()).await;
    rotation_with_overlap(store.clone()).await;
    concurrent_checks_and_revocation(store).await;
}
