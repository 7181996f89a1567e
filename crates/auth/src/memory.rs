//! The in-memory store: one mutex over the table, every operation one critical section.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use palisade_otp::CodeHash;
use palisade_ratelimit::{Clock, SystemClock};
use palisade_rbac::TenantId;

use crate::apikey::KeyId;
use crate::error::AuthError;
use crate::record::{ApiKeyRecord, KeyCheck, LAST_USED_INTERVAL, NewApiKey};
use crate::store::ApiKeyStore;

struct Entry {
    record: ApiKeyRecord,
    hash: CodeHash,
}

/// An [`ApiKeyStore`] in this process's memory, for one instance or tests. Time comes from
/// an injectable [`Clock`] (the system clock by default).
pub struct MemoryApiKeyStore {
    keys: Mutex<HashMap<KeyId, Entry>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryApiKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryApiKeyStore").finish_non_exhaustive()
    }
}

impl Default for MemoryApiKeyStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryApiKeyStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store on `clock` (a [`ManualClock`](palisade_ratelimit::ManualClock) in
    /// tests).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            keys: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, HashMap<KeyId, Entry>>, AuthError> {
        self.keys
            .lock()
            .map_err(|_| AuthError::StoreUnavailable("memory store mutex poisoned".into()))
    }

    /// [`ApiKeyStore::check`] without an async runtime.
    ///
    /// # Errors
    ///
    /// As [`ApiKeyStore::check`].
    pub fn check_now(&self, id: &KeyId, candidates: &[CodeHash]) -> Result<KeyCheck, AuthError> {
        let now = self.clock.now();
        let mut keys = self.lock()?;
        let Some(entry) = keys.get_mut(id) else {
            // The same comparison work as for a known id, against a hash nothing matches
            // (all-zero MAC under the first candidate's pepper): the answer takes as long.
            if let Some(first) = candidates.first() {
                let dummy = CodeHash::from_parts(first.pepper_id(), [0u8; 32]);
                let _ = std::hint::black_box(dummy.matches(candidates));
            }
            return Ok(KeyCheck::Invalid);
        };
        if !entry.hash.matches(candidates) {
            return Ok(KeyCheck::Invalid);
        }
        let r = &mut entry.record;
        if r.revoked_at.is_some() {
            return Ok(KeyCheck::Revoked);
        }
        if r.expires_at.is_some_and(|at| now >= at) {
            return Ok(KeyCheck::Expired);
        }
        let stale = r
            .last_used_at
            .is_none_or(|at| now.saturating_duration_since(at) >= LAST_USED_INTERVAL);
        if stale {
            r.last_used_at = Some(now);
        }
        Ok(KeyCheck::Valid(r.clone()))
    }
}

#[async_trait]
impl ApiKeyStore for MemoryApiKeyStore {
    async fn insert(&self, key: NewApiKey) -> Result<ApiKeyRecord, AuthError> {
        let now = self.clock.now();
        let mut keys = self.lock()?;
        if keys.contains_key(&key.id) {
            return Err(AuthError::DuplicateKeyId);
        }
        let record = ApiKeyRecord {
            id: key.id.clone(),
            prefix: key.prefix,
            tenant: key.tenant,
            owner: key.owner,
            scopes: key.scopes,
            created_at: now,
            expires_at: key.ttl.map(|ttl| now.saturating_add(ttl)),
            last_used_at: None,
            revoked_at: None,
        };
        keys.insert(
            key.id,
            Entry {
                record: record.clone(),
                hash: key.hash,
            },
        );
        Ok(record)
    }

    async fn check(&self, id: &KeyId, candidates: &[CodeHash]) -> Result<KeyCheck, AuthError> {
        self.check_now(id, candidates)
    }

    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, AuthError> {
        Ok(self.lock()?.get(id).map(|e| e.record.clone()))
    }

    async fn revoke(&self, id: &KeyId) -> Result<bool, AuthError> {
        let now = self.clock.now();
        let mut keys = self.lock()?;
        match keys.get_mut(id) {
            Some(e) if e.record.revoked_at.is_none() => {
                e.record.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn expire_within(
        &self,
        id: &KeyId,
        within: Duration,
    ) -> Result<Option<ApiKeyRecord>, AuthError> {
        let at = self.clock.now().saturating_add(within);
        let mut keys = self.lock()?;
        Ok(keys.get_mut(id).map(|e| {
            let r = &mut e.record;
            r.expires_at = Some(r.expires_at.map_or(at, |old| old.min(at)));
            r.clone()
        }))
    }

    async fn list(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, AuthError> {
        let keys = self.lock()?;
        let mut out: Vec<ApiKeyRecord> = keys
            .values()
            .filter(|e| &e.record.tenant == tenant)
            .map(|e| e.record.clone())
            .collect();
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }
}
