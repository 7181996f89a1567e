//! In-memory stores: one mutex over the tables, each operation one critical section.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::error::StoreError;
use crate::policy::Assignments;
use crate::principal::{RoleName, SubjectId, TenantId};
use crate::store::{AssignmentStore, Ownership, RelationStore, ResourceRef};

fn poisoned() -> StoreError {
    StoreError::Unavailable {
        store: "memory",
        reason: "mutex poisoned".into(),
    }
}

#[derive(Debug, Default)]
struct AssignmentTables {
    tenant: HashMap<(TenantId, SubjectId), BTreeSet<RoleName>>,
    global: HashMap<SubjectId, BTreeSet<RoleName>>,
}

/// An [`AssignmentStore`] in this process's memory (one instance, tests).
#[derive(Debug, Default)]
pub struct MemoryAssignmentStore {
    tables: Mutex<AssignmentTables>,
}

impl MemoryAssignmentStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, AssignmentTables>, StoreError> {
        self.tables.lock().map_err(|_| poisoned())
    }

    /// [`AssignmentStore::assignments`] without an async runtime.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the mutex is poisoned.
    pub fn assignments_now(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
    ) -> Result<Assignments, StoreError> {
        let t = self.lock()?;
        let list = |set: Option<&BTreeSet<RoleName>>| {
            set.map(|s| s.iter().cloned().collect()).unwrap_or_default()
        };
        Ok(Assignments {
            tenant_roles: list(t.tenant.get(&(tenant.clone(), subject.clone()))),
            global_roles: list(t.global.get(subject)),
        })
    }
}

#[async_trait]
impl AssignmentStore for MemoryAssignmentStore {
    async fn assignments(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
    ) -> Result<Assignments, StoreError> {
        self.assignments_now(tenant, subject)
    }

    async fn assign(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        role: &RoleName,
    ) -> Result<bool, StoreError> {
        let mut t = self.lock()?;
        Ok(t.tenant
            .entry((tenant.clone(), subject.clone()))
            .or_default()
            .insert(role.clone()))
    }

    async fn revoke(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        role: &RoleName,
    ) -> Result<bool, StoreError> {
        let mut t = self.lock()?;
        let key = (tenant.clone(), subject.clone());
        let Some(roles) = t.tenant.get_mut(&key) else {
            return Ok(false);
        };
        let removed = roles.remove(role);
        if roles.is_empty() {
            t.tenant.remove(&key);
        }
        Ok(removed)
    }

    async fn assign_global(
        &self,
        subject: &SubjectId,
        role: &RoleName,
    ) -> Result<bool, StoreError> {
        let mut t = self.lock()?;
        Ok(t.global
            .entry(subject.clone())
            .or_default()
            .insert(role.clone()))
    }

    async fn revoke_global(
        &self,
        subject: &SubjectId,
        role: &RoleName,
    ) -> Result<bool, StoreError> {
        let mut t = self.lock()?;
        let Some(roles) = t.global.get_mut(subject) else {
            return Ok(false);
        };
        let removed = roles.remove(role);
        if roles.is_empty() {
            t.global.remove(subject);
        }
        Ok(removed)
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let mut t = self.lock()?;
        let mut removed = 0u64;
        t.tenant.retain(|(tn, _), roles| {
            if tn == tenant {
                removed += roles.len() as u64;
                false
            } else {
                true
            }
        });
        Ok(removed)
    }
}

/// A [`RelationStore`] in this process's memory (one instance, tests).
#[derive(Debug, Default)]
pub struct MemoryRelationStore {
    records: Mutex<HashMap<ResourceRef, Ownership>>,
}

impl MemoryRelationStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, HashMap<ResourceRef, Ownership>>, StoreError> {
        self.records.lock().map_err(|_| poisoned())
    }
}

#[async_trait]
impl RelationStore for MemoryRelationStore {
    async fn owner(&self, resource: &ResourceRef) -> Result<Option<Ownership>, StoreError> {
        Ok(self.lock()?.get(resource).cloned())
    }

    async fn set_owner(
        &self,
        resource: &ResourceRef,
        tenant: &TenantId,
        owner: &SubjectId,
    ) -> Result<bool, StoreError> {
        let mut records = self.lock()?;
        match records.get_mut(resource) {
            Some(existing) if existing.tenant != *tenant => Ok(false),
            Some(existing) => {
                existing.owner = owner.clone();
                Ok(true)
            }
            None => {
                records.insert(
                    resource.clone(),
                    Ownership {
                        tenant: tenant.clone(),
                        owner: owner.clone(),
                    },
                );
                Ok(true)
            }
        }
    }

    async fn remove(&self, resource: &ResourceRef) -> Result<bool, StoreError> {
        Ok(self.lock()?.remove(resource).is_some())
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let mut records = self.lock()?;
        let before = records.len();
        records.retain(|_, o| o.tenant != *tenant);
        Ok((before - records.len()) as u64)
    }
}
