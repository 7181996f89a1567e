//! [`ApiKeys`]: issue, verify, rotate and revoke API keys over an [`ApiKeyStore`].

use std::time::Duration;

use palisade_otp::{CodeHash, Peppers, SubjectKey};
use palisade_rbac::{Principal, ScopeSet, SubjectId, TenantId};
use secrecy::{ExposeSecret, SecretString};

use crate::apikey::{ApiKey, ApiKeyPrefix};
use crate::error::AuthError;
use crate::record::{ApiKeyRecord, KeyCheck, NewApiKey};
use crate::store::ApiKeyStore;

/// The purpose under which a key's secret is hashed with palisade-otp's keyed hash
/// (domain separation from one-time codes hashed under the same pepper).
const PURPOSE: &str = "palisade-auth/api-key/v1";

/// A key just issued: the text to hand to the client once, and what was stored.
#[derive(Debug)]
pub struct IssuedKey {
    /// The full key, `<prefix>_<id>_<secret><checksum>`: shown once, never stored.
    pub key: SecretString,
    /// Its stored metadata.
    pub record: ApiKeyRecord,
}

/// API keys over a store: keys are issued with this service's prefix, their secrets hashed
/// as HMAC-SHA256 under the current pepper of `peppers` (palisade-otp's
/// [`Peppers`]: the pepper id is stored beside the hash, older peppers keep verifying
/// the keys they hashed).
///
/// The hashed message is palisade-otp's length-prefixed
/// `"palisade-otp/v1" ‖ "" ‖ "palisade-auth/api-key/v1" ‖ "<prefix>_<id>" ‖ secret`: bound to
/// the key's prefix and id, so a hash copied to another row never verifies there.
#[derive(Debug)]
pub struct ApiKeys<S> {
    store: S,
    peppers: Peppers,
    prefix: ApiKeyPrefix,
}

/// What a new key is for.
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// The tenant the key acts in.
    pub tenant: TenantId,
    /// Its owner (the principal's subject).
    pub owner: SubjectId,
    /// What it may do.
    pub scopes: ScopeSet,
    /// Lifetime; `None`: until revoked.
    pub ttl: Option<Duration>,
}

impl<S: ApiKeyStore> ApiKeys<S> {
    /// A service issuing keys with `prefix`, hashing under `peppers`, storing in `store`.
    pub fn new(store: S, peppers: Peppers, prefix: ApiKeyPrefix) -> Self {
        Self {
            store,
            peppers,
            prefix,
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The prefix of the keys this service issues.
    pub fn prefix(&self) -> &ApiKeyPrefix {
        &self.prefix
    }

    fn subject_key(key: &ApiKey) -> SubjectKey {
        SubjectKey::new("", PURPOSE, format!("{}_{}", key.prefix(), key.id()))
    }

    /// The keyed hash of `key`'s secret under the current pepper (what is stored).
    pub fn hash(&self, key: &ApiKey) -> CodeHash {
        self.peppers.hash(
            &Self::subject_key(key),
            key.secret().expose_secret().as_bytes(),
        )
    }

    /// Issues a new key: random id and 256-bit secret, the hash stored with `spec`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Random`]; store failures.
    pub async fn issue(&self, spec: KeySpec) -> Result<IssuedKey, AuthError> {
        let key = ApiKey::generate(&self.prefix)?;
        let record = self
            .store
            .insert(NewApiKey {
                id: key.id().clone(),
                prefix: self.prefix.as_str().to_owned(),
                tenant: spec.tenant,
                owner: spec.owner,
                scopes: spec.scopes,
                ttl: spec.ttl,
                hash: self.hash(&key),
            })
            .await?;
        Ok(IssuedKey {
            key: key.to_secret_string(),
            record,
        })
    }

    /// Verifies a presented key: format and checksum (no lookup for a mistyped key), then one
    /// store check. Returns the key's record.
    ///
    /// # Errors
    ///
    /// [`AuthError::MalformedApiKey`], [`AuthError::ChecksumMismatch`],
    /// [`AuthError::UnknownApiKey`] (unknown id, wrong secret, or a prefix other than this
    /// service's), [`AuthError::RevokedApiKey`], [`AuthError::ExpiredApiKey`]; store
    /// failures.
    pub async fn verify_record(&self, presented: &str) -> Result<ApiKeyRecord, AuthError> {
        let key = ApiKey::parse(presented)?;
        if key.prefix() != self.prefix.as_str() {
            return Err(AuthError::UnknownApiKey);
        }
        let candidates = self.peppers.candidates(
            &Self::subject_key(&key),
            key.secret().expose_secret().as_bytes(),
        );
        match self.store.check(key.id(), &candidates).await? {
            KeyCheck::Valid(record) => Ok(record),
            KeyCheck::Revoked => Err(AuthError::RevokedApiKey),
            KeyCheck::Expired => Err(AuthError::ExpiredApiKey),
            _ => Err(AuthError::UnknownApiKey),
        }
    }

    /// [`verify_record`](Self::verify_record), as the key's [`Principal`].
    ///
    /// # Errors
    ///
    /// As [`verify_record`](Self::verify_record).
    pub async fn verify(&self, presented: &str) -> Result<Principal, AuthError> {
        Ok(self.verify_record(presented).await?.principal())
    }

    /// Rotation: issues a new key for the same tenant, owner and scopes (with the old key's
    /// lifetime, if it had one) and makes the old key expire `overlap` from now (sooner if
    /// it already did), so clients can move to the new key during the overlap. Revoke the old
    /// key once they have, or let it expire.
    ///
    /// # Errors
    ///
    /// [`AuthError::UnknownApiKey`] for an unknown id, [`AuthError::RevokedApiKey`] for a
    /// revoked one; as [`issue`](Self::issue).
    pub async fn rotate(
        &self,
        old: &crate::apikey::KeyId,
        overlap: Duration,
    ) -> Result<IssuedKey, AuthError> {
        let record = self.store.get(old).await?.ok_or(AuthError::UnknownApiKey)?;
        if record.revoked_at.is_some() {
            return Err(AuthError::RevokedApiKey);
        }
        let ttl = record
            .expires_at
            .map(|at| at.saturating_duration_since(record.created_at));
        let issued = self
            .issue(KeySpec {
                tenant: record.tenant,
                owner: record.owner,
                scopes: record.scopes,
                ttl,
            })
            .await?;
        self.store.expire_within(old, overlap).await?;
        Ok(issued)
    }

    /// Revokes a key; `true` when it was live.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub async fn revoke(&self, id: &crate::apikey::KeyId) -> Result<bool, AuthError> {
        self.store.revoke(id).await
    }
}
