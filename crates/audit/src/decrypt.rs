//! The `palisade-pii` hook: a decryption that is recorded, with its reason, or not done.

use palisade_pii::{Context, Keyring, SecretBox};
use palisade_rbac::TenantId;

use crate::action::Action;
use crate::client::ClientAddress;
use crate::error::AuditError;
use crate::event::{Event, EventDraft};
use crate::fields::{Actor, Outcome, Reason, Resource, ResourceId, ResourceType};
use crate::sink::AuditSink;

/// A `palisade-pii` [`Keyring`] whose decryptions are audited: who decrypted which field
/// (`table.column`) of which row, in which tenant, and why. `palisade-pii` knows nothing of
/// this crate; this wrapper is the only way its callers reach the plaintext when they use
/// it.
///
/// Each call takes a [`Reason`] (not an option: a decryption always says why), decrypts,
/// then appends an event (action [`Action::PII_DECRYPT`], resource type `<table>.<column>`,
/// resource id the row, outcome success or failure) and only then returns the plaintext:
/// when the event cannot be written, the plaintext is zeroized and the error returned, so no
/// plaintext leaves without its record.
#[derive(Debug)]
pub struct AuditedKeyring<'a, S: AuditSink + ?Sized> {
    keyring: &'a Keyring,
    sink: &'a S,
}

impl<'a, S: AuditSink + ?Sized> AuditedKeyring<'a, S> {
    /// Decryptions with `keyring`, recorded in `sink`.
    pub fn new(keyring: &'a Keyring, sink: &'a S) -> Self {
        Self { keyring, sink }
    }

    /// Decrypts the text form (`pii1.…`) stored at `ctx` for `actor`, and records it.
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidField`] when the context's tenant, `table.column` or row is not
    /// a valid tenant id, resource type or resource id (nothing is decrypted);
    /// [`AuditError::Decryption`] after recording the failure; the sink's errors (the
    /// plaintext is then dropped).
    pub async fn decrypt_text(
        &self,
        actor: &Actor,
        ctx: &Context<'_>,
        stored: &str,
        reason: Reason,
        client: Option<ClientAddress>,
    ) -> Result<SecretBox<[u8]>, AuditError> {
        let draft = Self::draft(actor, ctx, reason, client)?;
        match self.keyring.decrypt_text(ctx, stored) {
            Ok(plaintext) => {
                self.sink.append(draft).await?;
                Ok(plaintext)
            }
            Err(e) => {
                self.sink
                    .append(draft.with_outcome(Outcome::Failure))
                    .await?;
                Err(AuditError::Decryption(e))
            }
        }
    }

    /// The event a decryption at `ctx` records.
    fn draft(
        actor: &Actor,
        ctx: &Context<'_>,
        reason: Reason,
        client: Option<ClientAddress>,
    ) -> Result<EventDraft, AuditError> {
        let tenant = TenantId::new(ctx.tenant())
            .map_err(|_| AuditError::field("tenant", "the context's tenant is not a tenant id"))?;
        let kind = ResourceType::new(format!("{}.{}", ctx.table(), ctx.column()))?;
        let draft = EventDraft::new(
            tenant,
            actor.clone(),
            Action::PII_DECRYPT,
            Resource::new(kind, ResourceId::new(ctx.row())?),
        )
        .with_reason(reason);
        Ok(match client {
            Some(c) => draft.with_client(c),
            None => draft,
        })
    }

    /// The last event recorded for `ctx`'s field and row in the sink, newest first (a
    /// convenience for tests and admin screens).
    ///
    /// # Errors
    ///
    /// As [`AuditSink::query`].
    pub async fn history(&self, ctx: &Context<'_>, limit: usize) -> Result<Vec<Event>, AuditError> {
        let tenant = TenantId::new(ctx.tenant())
            .map_err(|_| AuditError::field("tenant", "the context's tenant is not a tenant id"))?;
        let q = crate::query::Query::new()
            .action(Action::PII_DECRYPT)
            .resource_type(ResourceType::new(format!(
                "{}.{}",
                ctx.table(),
                ctx.column()
            ))?)
            .resource_id(ResourceId::new(ctx.row())?)
            .limit(limit);
        self.sink.query(&tenant, &q).await
    }
}
