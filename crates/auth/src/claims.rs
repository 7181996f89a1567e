//! From verified claims to a [`Principal`]: which claim holds the tenant, the subject, the
//! roles and the scopes.

use palisade_rbac::{Principal, RoleName, Scope, ScopeSet, SubjectId, TenantId};
use serde_json::Value;

use crate::error::AuthError;
use crate::jwt::Claims;

/// Where the tenant comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TenantSource {
    Claim(String),
    Fixed(TenantId),
}

/// The claim names a token's principal is read from. Defaults: tenant `tenant`, subject
/// `sub`, roles `roles` (an array of strings or a space-separated string), scopes `scope`
/// (RFC 8693 §4.2: a space-separated string) or else `scp` (an array, as some issuers
/// write it). Missing roles or scopes are empty; a missing tenant or subject refuses the
/// token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMapping {
    tenant: TenantSource,
    subject: String,
    roles: String,
    scopes: Vec<String>,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        Self {
            tenant: TenantSource::Claim("tenant".into()),
            subject: "sub".into(),
            roles: "roles".into(),
            scopes: vec!["scope".into(), "scp".into()],
        }
    }
}

impl ClaimMapping {
    /// The default mapping (see the type's docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the tenant from the claim `name` (`org_id`, `tid`, …).
    #[must_use]
    pub fn tenant_claim(mut self, name: impl Into<String>) -> Self {
        self.tenant = TenantSource::Claim(name.into());
        self
    }

    /// Puts every token in `tenant` (a single-tenant service).
    #[must_use]
    pub fn fixed_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = TenantSource::Fixed(tenant);
        self
    }

    /// Reads the subject from the claim `name` (default `sub`).
    #[must_use]
    pub fn subject_claim(mut self, name: impl Into<String>) -> Self {
        self.subject = name.into();
        self
    }

    /// Reads the roles from the claim `name` (a namespaced claim such as
    /// `https://example.com/roles`).
    #[must_use]
    pub fn roles_claim(mut self, name: impl Into<String>) -> Self {
        self.roles = name.into();
        self
    }

    /// Reads the scopes from the first present of `names`.
    #[must_use]
    pub fn scope_claims<I, N>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        self.scopes = names.into_iter().map(Into::into).collect();
        self
    }

    /// The principal of `claims`.
    ///
    /// # Errors
    ///
    /// [`AuthError::ClaimMapping`] naming the part (`tenant`, `subject`, `roles`, `scopes`)
    /// that is missing, of the wrong JSON type or not a valid id, role or scope.
    pub fn principal(&self, claims: &Claims) -> Result<Principal, AuthError> {
        let tenant = match &self.tenant {
            TenantSource::Fixed(t) => t.clone(),
            TenantSource::Claim(name) => claims
                .get(name)
                .and_then(Value::as_str)
                .and_then(|s| TenantId::new(s).ok())
                .ok_or(AuthError::ClaimMapping("tenant"))?,
        };
        let subject = claims
            .get(&self.subject)
            .and_then(Value::as_str)
            .and_then(|s| SubjectId::new(s).ok())
            .ok_or(AuthError::ClaimMapping("subject"))?;
        let roles = match claims.get(&self.roles) {
            None => Vec::new(),
            Some(v) => words(v)
                .ok_or(AuthError::ClaimMapping("roles"))?
                .into_iter()
                .map(RoleName::new)
                .collect::<Result<_, _>>()
                .map_err(|_| AuthError::ClaimMapping("roles"))?,
        };
        let scopes = match self.scopes.iter().find_map(|n| claims.get(n)) {
            None => ScopeSet::new(),
            Some(v) => words(v)
                .ok_or(AuthError::ClaimMapping("scopes"))?
                .into_iter()
                .map(Scope::new)
                .collect::<Result<_, _>>()
                .map_err(|_| AuthError::ClaimMapping("scopes"))?,
        };
        Ok(Principal::new(tenant, subject)
            .with_roles(roles)
            .with_scopes(scopes))
    }
}

/// A space-separated string or an array of strings, as its words.
fn words(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(s.split_ascii_whitespace().collect()),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}
