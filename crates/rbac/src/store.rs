//! The stores' traits: who holds which roles in which tenant, and who owns which record.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::policy::Assignments;
use crate::principal::{IdError, RoleName, SubjectId, TenantId};

/// A record an ownership check is about: its kind (`bookings`, `calls`: `[a-z0-9_.-]+`) and
/// its id (any opaque id of 1 to [`MAX_ID_LEN`](crate::principal::MAX_ID_LEN) bytes, no control character or whitespace),
/// unique within the kind across all tenants (a UUID, a database key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceRef {
    kind: Box<str>,
    id: Box<str>,
}

impl ResourceRef {
    /// Checks and wraps a record reference. Errors: [`IdError`] for either part.
    pub fn new(kind: impl AsRef<str>, id: impl AsRef<str>) -> Result<Self, IdError> {
        let (kind, id) = (kind.as_ref(), id.as_ref());
        // The kind follows role names' syntax, the id subject ids'.
        let kind = RoleName::new(kind)?;
        let id = SubjectId::new(id)?;
        Ok(Self {
            kind: kind.as_str().into(),
            id: id.as_str().into(),
        })
    }

    /// The kind.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for ResourceRef {
    /// `kind/id`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}

/// Who a record belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    /// Its tenant.
    pub tenant: TenantId,
    /// Its owner in that tenant (the customer of a booking, the creator of an assistant).
    pub owner: SubjectId,
}

/// Subject → roles, per tenant, plus global roles (assigned outside any tenant).
///
/// One lookup ([`assignments`](Self::assignments)) answers a check: the Postgres store does it
/// in one query. A tenant's assignments go when the tenant is deleted
/// ([`delete_tenant`](Self::delete_tenant); in Postgres a foreign key with `ON DELETE
/// CASCADE`). Role names are not checked against a policy here: a role the policy does not
/// define grants nothing.
///
/// A store is correct when it passes [`testing`](crate::testing) (feature `testing`).
#[async_trait]
pub trait AssignmentStore: Send + Sync {
    /// The subject's roles in `tenant` and its global roles, in one lookup.
    ///
    /// # Errors
    ///
    /// Store failures only (refuse the request: fail closed).
    async fn assignments(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
    ) -> Result<Assignments, StoreError>;

    /// Gives `subject` `role` in `tenant`; `false` when it already had it.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn assign(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        role: &RoleName,
    ) -> Result<bool, StoreError>;

    /// Takes `role` in `tenant` from `subject`; `false` when it did not have it.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn revoke(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        role: &RoleName,
    ) -> Result<bool, StoreError>;

    /// Gives `subject` the global `role` (in force in every tenant if the policy marks the role
    /// `global`); `false` when it already had it.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn assign_global(&self, subject: &SubjectId, role: &RoleName)
    -> Result<bool, StoreError>;

    /// Takes the global `role` from `subject`; `false` when it did not have it.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn revoke_global(&self, subject: &SubjectId, role: &RoleName)
    -> Result<bool, StoreError>;

    /// Forgets every assignment in `tenant` (the tenant was deleted); returns how many.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn delete_tenant(&self, tenant: &TenantId) -> Result<u64, StoreError>;
}

/// Record → tenant and owner, for ownership checks
/// ([`Authorizer::authorize_owned`](crate::authorizer::Authorizer::authorize_owned)).
///
/// The lookup is by record only, not by tenant: the check must tell a record of another
/// tenant (refused, as not found) from one of the caller's tenant.
#[async_trait]
pub trait RelationStore: Send + Sync {
    /// Who owns `resource`, `None` when there is no such record.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn owner(&self, resource: &ResourceRef) -> Result<Option<Ownership>, StoreError>;

    /// Records (or changes) the owner of `resource` in `tenant`. A record of another tenant is
    /// never moved: `false`, nothing changed.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn set_owner(
        &self,
        resource: &ResourceRef,
        tenant: &TenantId,
        owner: &SubjectId,
    ) -> Result<bool, StoreError>;

    /// Forgets `resource` (it was deleted); `false` when it was not there.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn remove(&self, resource: &ResourceRef) -> Result<bool, StoreError>;

    /// Forgets every record of `tenant`; returns how many.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn delete_tenant(&self, tenant: &TenantId) -> Result<u64, StoreError>;
}

#[async_trait]
impl<S: AssignmentStore + ?Sized> AssignmentStore for Arc<S> {
    async fn assignments(&self, t: &TenantId, s: &SubjectId) -> Result<Assignments, StoreError> {
        (**self).assignments(t, s).await
    }
    async fn assign(&self, t: &TenantId, s: &SubjectId, r: &RoleName) -> Result<bool, StoreError> {
        (**self).assign(t, s, r).await
    }
    async fn revoke(&self, t: &TenantId, s: &SubjectId, r: &RoleName) -> Result<bool, StoreError> {
        (**self).revoke(t, s, r).await
    }
    async fn assign_global(&self, s: &SubjectId, r: &RoleName) -> Result<bool, StoreError> {
        (**self).assign_global(s, r).await
    }
    async fn revoke_global(&self, s: &SubjectId, r: &RoleName) -> Result<bool, StoreError> {
        (**self).revoke_global(s, r).await
    }
    async fn delete_tenant(&self, t: &TenantId) -> Result<u64, StoreError> {
        (**self).delete_tenant(t).await
    }
}

#[async_trait]
impl<S: RelationStore + ?Sized> RelationStore for Arc<S> {
    async fn owner(&self, r: &ResourceRef) -> Result<Option<Ownership>, StoreError> {
        (**self).owner(r).await
    }
    async fn set_owner(
        &self,
        r: &ResourceRef,
        t: &TenantId,
        o: &SubjectId,
    ) -> Result<bool, StoreError> {
        (**self).set_owner(r, t, o).await
    }
    async fn remove(&self, r: &ResourceRef) -> Result<bool, StoreError> {
        (**self).remove(r).await
    }
    async fn delete_tenant(&self, t: &TenantId) -> Result<u64, StoreError> {
        (**self).delete_tenant(t).await
    }
}
