//! The store trait of API keys.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use palisade_otp::CodeHash;
use palisade_rbac::TenantId;

use crate::apikey::KeyId;
use crate::error::AuthError;
use crate::record::{ApiKeyRecord, KeyCheck, NewApiKey};

/// Where API keys live: in memory ([`MemoryApiKeyStore`](crate::memory::MemoryApiKeyStore)),
/// or in PostgreSQL (`palisade-postgres`, feature `auth`).
///
/// # One lookup, the comparison inside the store
///
/// [`check`](Self::check) receives the candidate's keyed hash (one per pepper the caller
/// holds) and, in one step: looks the id up, compares the stored hash with the candidate
/// naming its pepper, and only for a match tells revoked or expired from valid and touches
/// `last_used_at` (at most once per [`LAST_USED_INTERVAL`](crate::record::LAST_USED_INTERVAL)).
/// A wrong secret is [`KeyCheck::Invalid`] like an unknown id, so the answer says nothing of
/// a key to someone who does not hold its secret. The memory store compares in constant time
/// and, for an unknown id, compares against a dummy hash so that both paths do the same work;
/// remote stores compare 32-byte HMACs under a pepper they never see (their timing reveals
/// nothing usable).
///
/// # Revocation
///
/// No store caches a verdict: a revocation is visible to the next check, on every instance
/// sharing the store.
///
/// # Clock
///
/// Stores decide with their own clock (the memory store's injectable
/// [`Clock`](palisade_ratelimit::Clock), the database's `clock_timestamp()`).
///
/// # Conformance
///
/// A store is correct when it passes [`testing`](crate) (feature `testing`).
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key; `created_at` is the store's clock, `expires_at` that plus `ttl`.
    ///
    /// # Errors
    ///
    /// [`AuthError::DuplicateKeyId`] when the id exists; store failures.
    async fn insert(&self, key: NewApiKey) -> Result<ApiKeyRecord, AuthError>;

    /// The check described in the trait docs.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn check(&self, id: &KeyId, candidates: &[CodeHash]) -> Result<KeyCheck, AuthError>;

    /// The key's metadata (for management pages; no authentication decision may use it).
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, AuthError>;

    /// Revokes the key now; `true` when it existed and was not revoked yet.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn revoke(&self, id: &KeyId) -> Result<bool, AuthError>;

    /// Brings the key's expiry forward to `within` from now unless it already expires sooner
    /// (the overlap of a rotation); returns the updated record, `None` for an unknown id.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn expire_within(
        &self,
        id: &KeyId,
        within: Duration,
    ) -> Result<Option<ApiKeyRecord>, AuthError>;

    /// The keys of `tenant`, revoked and expired ones included, oldest first.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn list(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, AuthError>;
}

#[async_trait]
impl<S: ApiKeyStore + ?Sized> ApiKeyStore for Arc<S> {
    async fn insert(&self, key: NewApiKey) -> Result<ApiKeyRecord, AuthError> {
        (**self).insert(key).await
    }

    async fn check(&self, id: &KeyId, candidates: &[CodeHash]) -> Result<KeyCheck, AuthError> {
        (**self).check(id, candidates).await
    }

    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, AuthError> {
        (**self).get(id).await
    }

    async fn revoke(&self, id: &KeyId) -> Result<bool, AuthError> {
        (**self).revoke(id).await
    }

    async fn expire_within(
        &self,
        id: &KeyId,
        within: Duration,
    ) -> Result<Option<ApiKeyRecord>, AuthError> {
        (**self).expire_within(id, within).await
    }

    async fn list(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, AuthError> {
        (**self).list(tenant).await
    }
}
