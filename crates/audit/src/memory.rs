//! [`MemorySink`]: every tenant's chain in process memory (tests, single-process tools).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use palisade_rbac::TenantId;

use crate::chain::{Head, Sealer};
use crate::checkpoint::Checkpoint;
use crate::error::AuditError;
use crate::event::{Event, EventDraft};
use crate::policy::ReasonPolicy;
use crate::query::Query;
use crate::sink::AuditSink;

#[derive(Default)]
struct Log {
    events: Vec<Event>,
    head: Option<Head>,
    anchor: Option<Checkpoint>,
}

impl Log {
    fn head(&self) -> Head {
        self.head
            .or_else(|| self.anchor.as_ref().map(Checkpoint::head))
            .unwrap_or(Head::GENESIS)
    }
}

/// An [`AuditSink`] in memory: one mutex over every tenant's events, so appends are atomic.
/// Nothing survives the process.
#[derive(Debug)]
pub struct MemorySink {
    sealer: Sealer,
    logs: Mutex<HashMap<TenantId, Log>>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Log({} events)", self.events.len())
    }
}

impl MemorySink {
    /// An empty sink writing with `sealer`'s keys and policy.
    pub fn new(sealer: Sealer) -> Self {
        Self {
            sealer,
            logs: Mutex::new(HashMap::new()),
        }
    }

    fn logs(&self) -> MutexGuard<'_, HashMap<TenantId, Log>> {
        // A panic while holding the lock cannot leave a half-written event: events are
        // pushed whole.
        self.logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces the stored event `seq` of `tenant` (tests of tamper detection only: a real
    /// attacker with write access does the same to a table or a file).
    #[doc(hidden)]
    pub fn tamper(&self, tenant: &TenantId, f: impl FnOnce(&mut Vec<Event>)) {
        if let Some(log) = self.logs().get_mut(tenant) {
            f(&mut log.events);
        }
    }
}

#[async_trait]
impl AuditSink for MemorySink {
    async fn append(&self, draft: EventDraft) -> Result<Event, AuditError> {
        self.sealer.check(&draft)?;
        let mut logs = self.logs();
        let log = logs.entry(draft.tenant.clone()).or_default();
        let events = self.sealer.seal(&log.head(), draft)?;
        let mut last = None;
        for e in events {
            log.head = Some(Head::after(&e));
            log.events.push(e.clone());
            last = Some(e);
        }
        last.ok_or(AuditError::SinkUnavailable("nothing sealed".into()))
    }

    async fn read(
        &self,
        tenant: &TenantId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Event>, AuditError> {
        let logs = self.logs();
        Ok(logs.get(tenant).map_or_else(Vec::new, |log| {
            log.events
                .iter()
                .filter(|e| e.seq > after_seq)
                .take(limit)
                .cloned()
                .collect()
        }))
    }

    async fn head(&self, tenant: &TenantId) -> Result<Head, AuditError> {
        Ok(self.logs().get(tenant).map_or(Head::GENESIS, Log::head))
    }

    async fn query(&self, tenant: &TenantId, query: &Query) -> Result<Vec<Event>, AuditError> {
        let logs = self.logs();
        Ok(logs.get(tenant).map_or_else(Vec::new, |log| {
            log.events
                .iter()
                .rev()
                .filter(|e| query.matches(e))
                .take(query.max_results())
                .cloned()
                .collect()
        }))
    }

    async fn anchor(&self, tenant: &TenantId) -> Result<Option<Checkpoint>, AuditError> {
        Ok(self.logs().get(tenant).and_then(|l| l.anchor.clone()))
    }

    async fn purge(&self, tenant: &TenantId, checkpoint: &Checkpoint) -> Result<u64, AuditError> {
        let mut logs = self.logs();
        let log = logs.get_mut(tenant).ok_or(AuditError::CheckpointMismatch {
            reason: "no event of this tenant",
        })?;
        check_purge(tenant, checkpoint, log.events.iter())?;
        let before = log.events.len();
        log.head = Some(log.head());
        log.events.retain(|e| e.seq > checkpoint.seq);
        log.anchor = Some(checkpoint.clone());
        Ok(u64::try_from(before - log.events.len()).unwrap_or(u64::MAX))
    }

    fn policy(&self) -> &ReasonPolicy {
        self.sealer.policy()
    }
}

/// The check before a purge: `checkpoint` is `tenant`'s and the stored event at its
/// sequence number has its MAC.
pub(crate) fn check_purge<'a>(
    tenant: &TenantId,
    checkpoint: &Checkpoint,
    mut events: impl Iterator<Item = &'a Event>,
) -> Result<(), AuditError> {
    if checkpoint.tenant != *tenant {
        return Err(AuditError::CheckpointMismatch {
            reason: "checkpoint of another tenant",
        });
    }
    match events.find(|e| e.seq == checkpoint.seq) {
        Some(e) if e.mac == checkpoint.mac && e.tenant == *tenant => Ok(()),
        Some(_) => Err(AuditError::CheckpointMismatch {
            reason: "the stored event has another mac",
        }),
        None => Err(AuditError::CheckpointMismatch {
            reason: "no stored event at the checkpoint's seq",
        }),
    }
}
