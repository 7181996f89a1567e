//! [`Authenticator`]: from a request's credential headers to a [`Principal`], with the
//! legacy-token kill switch first and one event per refusal.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use palisade_rbac::Principal;
use tracing::Level;

use crate::error::AuthError;
use crate::header::{parse_bearer, parse_credential};
use crate::keys::ApiKeys;
use crate::legacy::{LegacyTokens, LegacyVerdict};
use crate::store::ApiKeyStore;
use crate::verifier::JwtVerifier;

/// Emits one event named `$name` (also in its `event` field) with target `palisade_auth`.
macro_rules! emit {
    ($level:expr, $name:expr, $($fields:tt)+) => {
        ::tracing::event!(name: $name, target: "palisade_auth", $level, event = $name, $($fields)+)
    };
}

/// Verifies API keys of one prefix: implemented by [`ApiKeys`] over any store, so an
/// [`Authenticator`] holds them without naming the store type.
#[async_trait]
pub trait ApiKeyVerifier: Send + Sync {
    /// The prefix of the keys verified (a bearer token starting with `<prefix>_` is an API
    /// key).
    fn prefix(&self) -> &str;

    /// Verifies a presented key.
    ///
    /// # Errors
    ///
    /// As [`ApiKeys::verify`].
    async fn verify_key(&self, presented: &str) -> Result<Principal, AuthError>;
}

#[async_trait]
impl<S: ApiKeyStore> ApiKeyVerifier for ApiKeys<S> {
    fn prefix(&self) -> &str {
        ApiKeys::prefix(self).as_str()
    }

    async fn verify_key(&self, presented: &str) -> Result<Principal, AuthError> {
        self.verify(presented).await
    }
}

/// How a request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// An API key.
    ApiKey,
    /// A JWT bearer token.
    Jwt,
    /// A retired shared token inside its allow window.
    LegacyToken,
}

impl Method {
    /// A fixed label (`api_key`, `jwt`, `legacy_token`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::Jwt => "jwt",
            Self::LegacyToken => "legacy_token",
        }
    }
}

/// Who is calling, from API keys, JWT bearer tokens and the legacy kill switch.
///
/// [`authenticate`](Self::authenticate) takes the `Authorization` header's value and the
/// configured credential header's value (e.g. `X-API-Key`), never the query string:
///
/// 1. every value present is checked against the retired tokens ([`LegacyTokens`]): one
///    match refuses the request ([`AuthError::LegacyTokenBlocked`], event
///    `auth.legacy_token_blocked`), whatever else it carries, unless the allow window is
///    open (event `auth.legacy_token_allowed`);
/// 2. exactly one credential must be present (both headers at once: refused);
/// 3. a token starting with a configured API-key prefix and `_` is an API key; a token of
///    three dot-separated segments is a JWT; anything else is refused.
///
/// Every refusal emits `auth.failed` (target `palisade_auth`) with a fixed `reason` label
/// ([`AuthError::reason`]); events never carry a credential.
#[derive(Clone, Default)]
pub struct Authenticator {
    api_keys: Vec<Arc<dyn ApiKeyVerifier>>,
    jwt: Option<JwtVerifier>,
    legacy: LegacyTokens,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefixes: Vec<&str> = self.api_keys.iter().map(|k| k.prefix()).collect();
        f.debug_struct("Authenticator")
            .field("api_key_prefixes", &prefixes)
            .field("jwt", &self.jwt)
            .field("legacy", &self.legacy)
            .finish()
    }
}

impl Authenticator {
    /// An authenticator that accepts nothing until configured.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts API keys verified by `keys` (one call per prefix).
    #[must_use]
    pub fn api_keys(mut self, keys: impl ApiKeyVerifier + 'static) -> Self {
        self.api_keys.push(Arc::new(keys));
        self
    }

    /// Accepts JWTs verified by `verifier`.
    #[must_use]
    pub fn jwt(mut self, verifier: JwtVerifier) -> Self {
        self.jwt = Some(verifier);
        self
    }

    /// The retired shared tokens.
    #[must_use]
    pub fn legacy_tokens(mut self, legacy: LegacyTokens) -> Self {
        self.legacy = legacy;
        self
    }

    /// Authenticates a request from its `Authorization` value and its configured credential
    /// header's value, at `now` (Unix seconds). See the type's docs.
    ///
    /// # Errors
    ///
    /// [`AuthError::LegacyTokenBlocked`], [`AuthError::MissingCredential`],
    /// [`AuthError::MalformedHeader`], [`AuthError::UnsupportedCredential`], and the errors
    /// of API-key and JWT verification.
    pub async fn authenticate(
        &self,
        authorization: Option<&[u8]>,
        credential_header: Option<&[u8]>,
        now: u64,
    ) -> Result<(Principal, Method), AuthError> {
        let result = self.decide(authorization, credential_header, now).await;
        match &result {
            Err(AuthError::LegacyTokenBlocked) => {
                emit!(
                    Level::WARN,
                    palisade_telemetry::AUTH_LEGACY_TOKEN_BLOCKED,
                    status = 401u16
                );
            }
            Err(e) => {
                emit!(Level::INFO, palisade_telemetry::AUTH_FAILED, reason = e.reason(), error = %e);
            }
            Ok((p, Method::LegacyToken)) => {
                emit!(
                    Level::WARN,
                    palisade_telemetry::AUTH_LEGACY_TOKEN_ALLOWED,
                    tenant = p.tenant().as_str(),
                    subject = p.subject().as_str()
                );
            }
            Ok(_) => {}
        }
        result
    }

    async fn decide(
        &self,
        authorization: Option<&[u8]>,
        credential_header: Option<&[u8]>,
        now: u64,
    ) -> Result<(Principal, Method), AuthError> {
        if let Some(principal) = self.legacy_scan(authorization, credential_header, now)? {
            return Ok((principal, Method::LegacyToken));
        }
        let token = match (authorization, credential_header) {
            (Some(_), Some(_)) => return Err(AuthError::MalformedHeader),
            (None, None) => return Err(AuthError::MissingCredential),
            (Some(value), None) => parse_bearer(value)?,
            (None, Some(value)) => parse_credential(value)?,
        };
        if let Some(keys) = self.api_keys.iter().find(|k| {
            token
                .strip_prefix(k.prefix())
                .is_some_and(|rest| rest.starts_with('_'))
        }) {
            return Ok((keys.verify_key(token).await?, Method::ApiKey));
        }
        match &self.jwt {
            Some(jwt) if token.bytes().filter(|&b| b == b'.').count() == 2 => {
                Ok((jwt.verify(token, now).await?, Method::Jwt))
            }
            _ => Err(AuthError::UnsupportedCredential),
        }
    }

    /// The kill switch: every credential-looking value of the request against the retired
    /// tokens. `Err` when one is blocked, `Some` when one is allowed.
    fn legacy_scan(
        &self,
        authorization: Option<&[u8]>,
        credential_header: Option<&[u8]>,
        now: u64,
    ) -> Result<Option<Principal>, AuthError> {
        if self.legacy.is_empty() {
            return Ok(None);
        }
        let mut candidates: Vec<&[u8]> = Vec::with_capacity(3);
        if let Some(v) = authorization {
            let v = v.trim_ascii();
            candidates.push(v);
            // Whatever the scheme (`Bearer`, `Token`, `Basic`…): the credential after it.
            if let Some(at) = v.iter().position(|&b| b == b' ') {
                candidates.push(v.get(at..).unwrap_or_default().trim_ascii());
            }
        }
        if let Some(v) = credential_header {
            candidates.push(v.trim_ascii());
        }
        let mut allowed = None;
        for c in candidates {
            match self.legacy.check(c, now) {
                LegacyVerdict::Blocked => return Err(AuthError::LegacyTokenBlocked),
                LegacyVerdict::Allowed(p) => allowed = Some(p),
                LegacyVerdict::NotLegacy => {}
            }
        }
        Ok(allowed)
    }
}
