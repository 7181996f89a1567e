//! What a store keeps for one API key, and the answers of its operations.

use std::time::Duration;

use palisade_otp::CodeHash;
use palisade_ratelimit::Timestamp;
use palisade_rbac::{Principal, ScopeSet, SubjectId, TenantId};

use crate::apikey::KeyId;

/// How often `last_used_at` is written at most, per key (60 s): a busy key costs one write a
/// minute, not one per request.
pub const LAST_USED_INTERVAL: Duration = Duration::from_secs(60);

/// A key to store: its public parts and the keyed hash of its secret (never the secret).
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// The public id (primary key).
    pub id: KeyId,
    /// The prefix the key was issued with.
    pub prefix: String,
    /// The tenant the key acts in.
    pub tenant: TenantId,
    /// The user or client that owns the key (the principal's subject).
    pub owner: SubjectId,
    /// What the key may do.
    pub scopes: ScopeSet,
    /// Lifetime from the store's clock at insertion; `None`: no expiry.
    pub ttl: Option<Duration>,
    /// HMAC-SHA256 of the secret under a pepper, with the pepper's id.
    pub hash: CodeHash,
}

/// A stored key's metadata (no hash, no secret). Instants are the store's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The public id.
    pub id: KeyId,
    /// The prefix the key was issued with.
    pub prefix: String,
    /// The tenant the key acts in.
    pub tenant: TenantId,
    /// The owner (the principal's subject).
    pub owner: SubjectId,
    /// What the key may do.
    pub scopes: ScopeSet,
    /// When it was stored.
    pub created_at: Timestamp,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When a check last succeeded, to within [`LAST_USED_INTERVAL`].
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl ApiKeyRecord {
    /// The principal the key authenticates: its tenant, its owner as subject, its scopes, no
    /// role.
    pub fn principal(&self) -> Principal {
        Principal::new(self.tenant.clone(), self.owner.clone()).with_scopes(self.scopes.clone())
    }
}

/// The answer of [`ApiKeyStore::check`](crate::store::ApiKeyStore::check).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyCheck {
    /// The secret matches a live key.
    Valid(ApiKeyRecord),
    /// No key with this id, or the secret does not match (not told apart).
    Invalid,
    /// The secret matches a revoked key.
    Revoked,
    /// The secret matches an expired key.
    Expired,
}
