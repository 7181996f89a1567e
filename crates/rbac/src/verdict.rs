//! Owned, explained answers for requests: [`Verdict`] (allowed, or refused with 403 or 404,
//! and why), the `authz.denied` event, and the checks of a [`Principal`].

use std::fmt;

use palisade_telemetry::AUTHZ_DENIED;

use crate::policy::{Assignments, Policy};
use crate::principal::{Principal, RoleName, TenantId};
use crate::scope::{Permission, Scope};

/// What decided, by name: for logs, error pages meant for operators, and
/// `palisade rbac check`. Holds role names and scopes from the policy or the credential, never
/// a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Explanation {
    /// A grant allowed it.
    Granted {
        /// The role the subject holds.
        held: RoleName,
        /// The role that declares the grant (`held` itself or one it inherits).
        role: RoleName,
        /// The grant.
        scope: Scope,
    },
    /// A deny refused it (a deny wins over every grant).
    Denied {
        /// The role the subject holds.
        held: RoleName,
        /// The role that declares the deny.
        role: RoleName,
        /// The deny.
        scope: Scope,
    },
    /// None of the held roles grants it.
    NoGrant,
    /// The subject has no role in the tenant (and no global role): refused before any rule.
    NotInTenant,
    /// The roles were resolved against another compiled policy (a reload happened between
    /// resolving and checking): refused, resolve again.
    OtherPolicy,
    /// A scope the client holds allowed it.
    ScopeGranted {
        /// The scope.
        scope: Scope,
    },
    /// None of the client's scopes matches it.
    NoScope,
    /// The roles allow it but the credential's scopes, which narrow them, do not.
    ScopeNarrowed,
    /// No record by that id.
    RecordNotFound,
    /// The record belongs to another tenant.
    OtherTenant,
    /// The record belongs to another subject of the tenant.
    OtherOwner,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let via = |f: &mut fmt::Formatter<'_>, held: &RoleName, role: &RoleName| {
            if held == role {
                Ok(())
            } else {
                write!(f, " (inherited by role {held})")
            }
        };
        match self {
            Self::Granted { held, role, scope } => {
                write!(f, "role {role} grants `{scope}`")?;
                via(f, held, role)
            }
            Self::Denied { held, role, scope } => {
                write!(f, "role {role} denies `{scope}`")?;
                via(f, held, role)
            }
            Self::NoGrant => f.write_str("no role grants it"),
            Self::NotInTenant => f.write_str("the subject has no role in this tenant"),
            Self::OtherPolicy => f.write_str("roles resolved against another policy"),
            Self::ScopeGranted { scope } => write!(f, "scope `{scope}` allows it"),
            Self::NoScope => f.write_str("no scope matches it"),
            Self::ScopeNarrowed => f.write_str("the credential's scopes do not include it"),
            Self::RecordNotFound => f.write_str("no such record"),
            Self::OtherTenant => f.write_str("the record belongs to another tenant"),
            Self::OtherOwner => f.write_str("the record belongs to another subject"),
        }
    }
}

/// The HTTP answer to a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 403 Forbidden: the caller may know the thing exists.
    Forbidden,
    /// 404 Not Found: existence must not leak.
    NotFound,
}

impl Refusal {
    /// 403 or 404.
    pub fn status(self) -> u16 {
        match self {
            Self::Forbidden => 403,
            Self::NotFound => 404,
        }
    }
}

/// How a record of another tenant or another owner is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Existence {
    /// 404, as for a record that does not exist: its existence does not leak (default).
    #[default]
    Hide,
    /// 403: for records whose existence is not secret.
    Reveal,
}

impl Existence {
    pub(crate) fn refusal(self) -> Refusal {
        match self {
            Self::Hide => Refusal::NotFound,
            Self::Reveal => Refusal::Forbidden,
        }
    }
}

/// An authorization answer for a request: allowed, or refused with a status, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    refusal: Option<Refusal>,
    explanation: Explanation,
}

impl Verdict {
    /// An allowed verdict.
    pub fn allow(explanation: Explanation) -> Self {
        Self {
            refusal: None,
            explanation,
        }
    }

    /// A refused verdict.
    pub fn refuse(refusal: Refusal, explanation: Explanation) -> Self {
        Self {
            refusal: Some(refusal),
            explanation,
        }
    }

    /// Whether the request may go on.
    pub fn is_allowed(&self) -> bool {
        self.refusal.is_none()
    }

    /// How it is refused (`None` when allowed).
    pub fn refusal(&self) -> Option<Refusal> {
        self.refusal
    }

    /// What decided.
    pub fn explanation(&self) -> &Explanation {
        &self.explanation
    }

    /// The same refusal answered as 404 (for routes whose existence must not leak).
    #[must_use]
    pub fn hiding(mut self) -> Self {
        if self.refusal.is_some() {
            self.refusal = Some(Refusal::NotFound);
        }
        self
    }
}

/// Emits the `authz.denied` event (target `palisade_rbac`, level INFO) for a refused
/// verdict: tenant, subject, permission, status and explanation; no personal data.
pub(crate) fn emit_denied(
    tenant: &TenantId,
    subject: &str,
    permission: &Permission,
    verdict: &Verdict,
) {
    if let Some(refusal) = verdict.refusal {
        tracing::event!(
            name: AUTHZ_DENIED,
            target: "palisade_rbac",
            tracing::Level::INFO,
            event = AUTHZ_DENIED,
            tenant = %tenant,
            subject = %subject,
            permission = %permission,
            status = refusal.status(),
            reason = %verdict.explanation,
        );
    }
}

impl Policy {
    /// Whether `principal` may do `permission` in `tenant`, explained, as a request sees it
    /// (refusals are 403; emits `authz.denied` when refused):
    ///
    /// - a principal with roles (or global roles) is checked by the policy, in `tenant` (its
    ///   tenant roles count only when `tenant` is the principal's own); if it also holds
    ///   scopes, they **narrow** the roles: the permission must match one of them too (a token
    ///   issued for `calls:read` does not carry its user's admin rights);
    /// - a principal without roles (an API client) is checked against its scopes, in its own
    ///   tenant only.
    pub fn authorize(
        &self,
        tenant: &TenantId,
        principal: &Principal,
        permission: &Permission,
    ) -> Verdict {
        let verdict = self.authorize_quietly(tenant, principal, permission);
        emit_denied(tenant, principal.subject().as_str(), permission, &verdict);
        verdict
    }

    fn authorize_quietly(
        &self,
        tenant: &TenantId,
        principal: &Principal,
        permission: &Permission,
    ) -> Verdict {
        let forbid = |e| Verdict::refuse(Refusal::Forbidden, e);
        let scopes = principal.scopes();
        if principal.roles().is_empty() && principal.global_roles().is_empty() {
            if principal.tenant() != tenant {
                return forbid(Explanation::NotInTenant);
            }
            return match scopes.matching(permission) {
                Some(scope) => Verdict::allow(Explanation::ScopeGranted {
                    scope: scope.clone(),
                }),
                None => forbid(Explanation::NoScope),
            };
        }
        let assignments = Assignments {
            tenant_roles: principal.roles().to_vec(),
            global_roles: principal.global_roles().to_vec(),
        };
        let member = self.member(principal.tenant(), &assignments);
        let decision = self.check(tenant, &member, permission);
        let explanation = decision.explain(self);
        if !decision.is_allowed() {
            return forbid(explanation);
        }
        if !scopes.is_empty() && !scopes.allows(permission) {
            return forbid(Explanation::ScopeNarrowed);
        }
        Verdict::allow(explanation)
    }
}
