//! The trait every audit store implements.

use async_trait::async_trait;
use palisade_rbac::TenantId;

use crate::chain::Head;
use crate::checkpoint::Checkpoint;
use crate::error::AuditError;
use crate::event::{Event, EventDraft};
use crate::policy::ReasonPolicy;
use crate::query::Query;

/// Where audit events go: one chain per tenant.
///
/// `append` is atomic per tenant: the policy is checked first (nothing is written for a
/// refused event), then the sink reads the tenant's head, seals the draft
/// ([`Sealer::seal`](crate::chain::Sealer::seal)) and stores it as one step that concurrent
/// appenders (threads, tasks, processes on a shared database) cannot interleave, so the
/// chain never forks and sequence numbers have no gaps.
#[async_trait]
pub trait AuditSink: Send + Sync {
    /// Checks, chains and stores `draft`; returns the stored event (after a key rotation,
    /// the sink stores a key-epoch event before it).
    ///
    /// # Errors
    ///
    /// [`AuditError::ReasonRequired`] before anything is written; key errors
    /// ([`AuditError::UnknownEpoch`], [`AuditError::InvalidKey`]);
    /// [`AuditError::SinkUnavailable`], [`AuditError::Contended`].
    async fn append(&self, draft: EventDraft) -> Result<Event, AuditError>;

    /// `tenant`'s events with a sequence number above `after_seq`, ascending, at most
    /// `limit` (for verification and export).
    ///
    /// # Errors
    ///
    /// [`AuditError::SinkUnavailable`], [`AuditError::Malformed`] for a stored event that
    /// does not parse.
    async fn read(
        &self,
        tenant: &TenantId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Event>, AuditError>;

    /// Where `tenant`'s chain stands ([`Head::GENESIS`] for a tenant with no event).
    ///
    /// # Errors
    ///
    /// [`AuditError::SinkUnavailable`].
    async fn head(&self, tenant: &TenantId) -> Result<Head, AuditError>;

    /// `tenant`'s events matching `query`, newest first, at most `query`'s limit.
    ///
    /// # Errors
    ///
    /// [`AuditError::SinkUnavailable`].
    async fn query(&self, tenant: &TenantId, query: &Query) -> Result<Vec<Event>, AuditError>;

    /// The checkpoint of the last purge of `tenant` (the stored chain starts right after
    /// it), if any.
    ///
    /// # Errors
    ///
    /// [`AuditError::SinkUnavailable`].
    async fn anchor(&self, tenant: &TenantId) -> Result<Option<Checkpoint>, AuditError>;

    /// Deletes `tenant`'s events up to and including `checkpoint.seq`, after checking that
    /// the stored event at that sequence number has the checkpoint's MAC, and keeps the
    /// checkpoint as the new anchor. Returns the number of events deleted. Export them first
    /// ([`export`](crate::retention::export)); check the checkpoint's signature before.
    ///
    /// # Errors
    ///
    /// [`AuditError::CheckpointMismatch`] (another tenant, a sequence number not stored, a
    /// different MAC); [`AuditError::SinkUnavailable`].
    async fn purge(&self, tenant: &TenantId, checkpoint: &Checkpoint) -> Result<u64, AuditError>;

    /// The reason policy `append` enforces.
    fn policy(&self) -> &ReasonPolicy;
}
