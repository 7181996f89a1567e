//! [`JwtVerifier`]: a key source (static keys or a JWKS), the claim checks and the mapping to
//! a [`Principal`].

use std::sync::Arc;

use palisade_rbac::Principal;

use crate::claims::ClaimMapping;
use crate::error::AuthError;
use crate::jwks::Jwks;
use crate::jwt::{Claims, JwtValidation, TokenHeader};
use crate::key::KeySet;

/// Where a [`JwtVerifier`] finds its keys.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A fixed set (an HS256 secret, PEM public keys, a JWKS read once).
    Static(Arc<KeySet>),
    /// A JWKS cache, refreshed on its interval and for unknown `kid`s.
    Jwks(Arc<Jwks>),
}

/// Verifies JWT bearer tokens and maps their claims to a [`Principal`].
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    keys: KeySource,
    validation: JwtValidation,
    mapping: ClaimMapping,
}

impl JwtVerifier {
    /// A verifier over `keys` with `validation` and the default [`ClaimMapping`].
    pub fn new(keys: KeySource, validation: JwtValidation) -> Self {
        Self {
            keys,
            validation,
            mapping: ClaimMapping::default(),
        }
    }

    /// A verifier over a fixed key set.
    pub fn with_keys(keys: KeySet, validation: JwtValidation) -> Self {
        Self::new(KeySource::Static(Arc::new(keys)), validation)
    }

    /// Replaces the claim mapping.
    #[must_use]
    pub fn mapping(mut self, mapping: ClaimMapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// Verifies `token` at `now` (Unix seconds) and returns its claims.
    ///
    /// # Errors
    ///
    /// As [`JwtValidation::verify`]; a JWKS source's error when no key set was ever
    /// fetched.
    pub async fn verify_claims(&self, token: &str, now: u64) -> Result<Claims, AuthError> {
        let header = TokenHeader::parse(token)?;
        let keys = match &self.keys {
            KeySource::Static(keys) => keys.clone(),
            KeySource::Jwks(jwks) => jwks.key_set(header.kid(), now).await?,
        };
        let key = keys.select(header.kid())?;
        self.validation.verify_with_key(key, &header, token, now)
    }

    /// Verifies `token` at `now` (Unix seconds) and maps its claims to a principal.
    ///
    /// # Errors
    ///
    /// As [`verify_claims`](Self::verify_claims); [`AuthError::ClaimMapping`].
    pub async fn verify(&self, token: &str, now: u64) -> Result<Principal, AuthError> {
        let claims = self.verify_claims(token, now).await?;
        self.mapping.principal(&claims)
    }
}
