//! [`Authorizer`]: the policy (hot-reloadable) with the assignment and relation stores, for
//! checks by tenant and subject and for ownership checks that do not leak existence.

use std::fmt;
use std::sync::Arc;

use crate::error::StoreError;
use crate::policy::Policy;
use crate::principal::{SubjectId, TenantId};
use crate::reload::SharedPolicy;
use crate::scope::Permission;
use crate::store::{AssignmentStore, RelationStore, ResourceRef};
use crate::verdict::{Existence, Explanation, Refusal, Verdict, emit_denied};

/// Which records of the tenant an ownership check admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Only the subject's own.
    Owner,
    /// Any record of the tenant.
    Tenant,
}

/// Checks by tenant and subject: roles from the [`AssignmentStore`] (one lookup), rules from
/// the current policy ([`SharedPolicy`], replaced without blocking checks), record owners
/// from the [`RelationStore`]. Every refusal emits `authz.denied`. Clones share everything.
#[derive(Clone)]
pub struct Authorizer {
    policy: SharedPolicy,
    assignments: Arc<dyn AssignmentStore>,
    relations: Arc<dyn RelationStore>,
    existence: Existence,
}

impl fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorizer")
            .field("existence", &self.existence)
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// An authorizer over `policy` and the two stores; records of another tenant or owner are
    /// refused as 404 ([`Existence::Hide`]).
    pub fn new(
        policy: SharedPolicy,
        assignments: Arc<dyn AssignmentStore>,
        relations: Arc<dyn RelationStore>,
    ) -> Self {
        Self {
            policy,
            assignments,
            relations,
            existence: Existence::Hide,
        }
    }

    /// How records of another tenant or owner are refused (default [`Existence::Hide`]:
    /// 404, as a record that does not exist).
    #[must_use]
    pub fn existence(mut self, existence: Existence) -> Self {
        self.existence = existence;
        self
    }

    /// The policy cell (to reload it).
    pub fn policy(&self) -> &SharedPolicy {
        &self.policy
    }

    /// Whether `subject` may do `permission` in `tenant`: one assignment lookup, then
    /// [`Policy::check`]. Refusals are 403.
    ///
    /// # Errors
    ///
    /// The assignment store's failure (refuse the request).
    pub async fn authorize(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        permission: &Permission,
    ) -> Result<Verdict, StoreError> {
        let policy = self.policy.current();
        let verdict = self.by_roles(&policy, tenant, subject, permission).await?;
        emit_denied(tenant, subject.as_str(), permission, &verdict);
        Ok(verdict)
    }

    async fn by_roles(
        &self,
        policy: &Policy,
        tenant: &TenantId,
        subject: &SubjectId,
        permission: &Permission,
    ) -> Result<Verdict, StoreError> {
        let assignments = self.assignments.assignments(tenant, subject).await?;
        let member = policy.member(tenant, &assignments);
        let decision = policy.check(tenant, &member, permission);
        let explanation = decision.explain(policy);
        Ok(if decision.is_allowed() {
            Verdict::allow(explanation)
        } else {
            Verdict::refuse(Refusal::Forbidden, explanation)
        })
    }

    /// "A customer reads only their own bookings": `subject` may do `action` on `resource` in
    /// `tenant` when the policy allows `action` **and** the record exists, belongs to `tenant`
    /// and is owned by `subject`.
    ///
    /// Refusals: no permission, 403 (decided before the record is looked up, so it says
    /// nothing of the record); no such record, 404; a record of another tenant or of another
    /// owner, 404 with [`Existence::Hide`] (the default: the answer is the same as for a
    /// record that does not exist) or 403 with [`Existence::Reveal`]. The explanation (for
    /// logs) says which.
    ///
    /// # Errors
    ///
    /// A store's failure (refuse the request).
    pub async fn authorize_owned(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        action: &Permission,
        resource: &ResourceRef,
    ) -> Result<Verdict, StoreError> {
        self.record(tenant, subject, action, resource, Reach::Owner)
            .await
    }

    /// As [`authorize_owned`](Self::authorize_owned), but any record of `tenant` will do
    /// (an agent reading any booking of its tenant): the record must exist and belong to
    /// `tenant`; its owner does not matter.
    ///
    /// # Errors
    ///
    /// A store's failure (refuse the request).
    pub async fn authorize_in_tenant(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        action: &Permission,
        resource: &ResourceRef,
    ) -> Result<Verdict, StoreError> {
        self.record(tenant, subject, action, resource, Reach::Tenant)
            .await
    }

    async fn record(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        action: &Permission,
        resource: &ResourceRef,
        reach: Reach,
    ) -> Result<Verdict, StoreError> {
        let policy = self.policy.current();
        let verdict = self.by_roles(&policy, tenant, subject, action).await?;
        let verdict = if verdict.is_allowed() {
            let hidden = |e| Verdict::refuse(self.existence.refusal(), e);
            match self.relations.owner(resource).await? {
                None => Verdict::refuse(Refusal::NotFound, Explanation::RecordNotFound),
                Some(o) if o.tenant != *tenant => hidden(Explanation::OtherTenant),
                Some(o) if reach == Reach::Owner && o.owner != *subject => {
                    hidden(Explanation::OtherOwner)
                }
                Some(_) => verdict,
            }
        } else {
            verdict
        };
        emit_denied(tenant, subject.as_str(), action, &verdict);
        Ok(verdict)
    }
}
