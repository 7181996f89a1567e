//! Chaining events (the sinks' side) and verifying a chain (anyone holding the keys).

use palisade_rbac::{RoleName, SubjectId, TenantId};

use crate::action::Action;
use crate::error::{AuditError, ChainError, Fault};
use crate::event::{Event, EventDraft, now_ms};
use crate::fields::{Actor, Outcome, Resource, ResourceId, ResourceType};
use crate::key::{ChainKeys, ChainMac};
use crate::policy::ReasonPolicy;

/// The subject of the chain's own events ([`Action::KEY_EPOCH`]).
pub const SYSTEM_SUBJECT: &str = "palisade-audit";
/// The resource type of a key-epoch event; its id is the new epoch, in decimal.
pub const KEY_RESOURCE_TYPE: &str = "audit_key";

/// Where a tenant's chain stands: the last sequence number, its MAC, and the epoch the next
/// event must be MACed under (`None` before the first event: any held epoch may start a
/// chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The last sequence number (0 for an empty chain).
    pub seq: u64,
    /// Its MAC ([`ChainMac::ZERO`] for an empty chain).
    pub mac: ChainMac,
    /// The epoch of the next event.
    pub epoch: Option<u32>,
}

impl Head {
    /// The head of an empty chain.
    pub const GENESIS: Self = Self {
        seq: 0,
        mac: ChainMac::ZERO,
        epoch: None,
    };

    /// The head after `event` (which moves it to a new epoch when it is a key-epoch event).
    pub fn after(event: &Event) -> Self {
        Self {
            seq: event.seq,
            mac: event.mac,
            epoch: Some(event.next_epoch().unwrap_or(event.epoch)),
        }
    }
}

/// What a sink holds to write: the chain keys and the reason policy. Sinks call
/// [`Sealer::check`] before anything else, then [`Sealer::seal`] under their per-tenant
/// lock.
#[derive(Debug)]
pub struct Sealer {
    keys: ChainKeys,
    policy: ReasonPolicy,
}

impl Sealer {
    /// A sealer with `keys` and the [default](ReasonPolicy::default) policy.
    pub fn new(keys: ChainKeys) -> Self {
        Self {
            keys,
            policy: ReasonPolicy::default(),
        }
    }

    /// Replaces the reason policy.
    #[must_use]
    pub fn with_policy(mut self, policy: ReasonPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The reason policy.
    pub fn policy(&self) -> &ReasonPolicy {
        &self.policy
    }

    /// The keys.
    pub fn keys(&self) -> &ChainKeys {
        &self.keys
    }

    /// Checks `draft` against the policy ([`ReasonPolicy::check`]).
    ///
    /// # Errors
    ///
    /// [`AuditError::ReasonRequired`].
    pub fn check(&self, draft: &EventDraft) -> Result<(), AuditError> {
        self.policy.check(draft)
    }

    /// The events that extend the chain at `head` with `draft`: the event itself, preceded
    /// by a key-epoch event when the chain is in an older epoch than the current key's
    /// (MACed under the old epoch's key, so the change is itself chained). The draft's time
    /// defaults to the system clock.
    ///
    /// # Errors
    ///
    /// [`AuditError::ReasonRequired`]; [`AuditError::UnknownEpoch`] when the key of the
    /// chain's epoch is not held; [`AuditError::InvalidKey`] when the chain is at a later
    /// epoch than the current key.
    pub fn seal(&self, head: &Head, draft: EventDraft) -> Result<Vec<Event>, AuditError> {
        self.check(&draft)?;
        let current = self.keys.current()?;
        let time_ms = draft.time_ms.unwrap_or_else(now_ms);
        let mut out = Vec::with_capacity(1);
        let mut prev = *head;
        if let Some(epoch) = head.epoch {
            if epoch > current.epoch() {
                return Err(AuditError::InvalidKey {
                    reason: "the chain is at a later epoch than this sink's current key",
                });
            }
            if epoch < current.epoch() {
                let old = self.keys.get(epoch)?;
                let mut change = Event {
                    tenant: draft.tenant.clone(),
                    seq: head.seq.saturating_add(1),
                    epoch,
                    time_ms,
                    actor: system_actor()?,
                    action: Action::KEY_EPOCH,
                    resource: Resource::new(
                        ResourceType::new(KEY_RESOURCE_TYPE)?,
                        ResourceId::new(current.epoch().to_string())?,
                    ),
                    reason: None,
                    outcome: Outcome::Success,
                    client: None,
                    prev: head.mac,
                    mac: ChainMac::ZERO,
                };
                change.mac = old.mac(&change.canonical());
                prev = Head::after(&change);
                out.push(change);
            }
        }
        let mut event = Event {
            tenant: draft.tenant,
            seq: prev.seq.saturating_add(1),
            epoch: current.epoch(),
            time_ms,
            actor: draft.actor,
            action: draft.action,
            resource: draft.resource,
            reason: draft.reason,
            outcome: draft.outcome,
            client: draft.client,
            prev: prev.mac,
            mac: ChainMac::ZERO,
        };
        event.mac = current.mac(&event.canonical());
        out.push(event);
        Ok(out)
    }
}

fn system_actor() -> Result<Actor, AuditError> {
    let subject =
        SubjectId::new(SYSTEM_SUBJECT).map_err(|_| AuditError::field("actor", "system subject"))?;
    let role = RoleName::new("system").map_err(|_| AuditError::field("actor", "system role"))?;
    Ok(Actor::new(subject)?.with_role(role))
}

/// Verifies a tenant's events one at a time, in stored order, from a starting head
/// ([`Head::GENESIS`], or the head a purge checkpoint states).
///
/// Each event must have the next sequence number, the tenant, the chain's epoch (which
/// changes only after a key-epoch event naming a later one), a held key for that epoch,
/// `prev` equal to the previous MAC, and a MAC that verifies. The first event that does not
/// is reported with the sequence number expected at its position ([`ChainError`]).
#[derive(Debug)]
pub struct ChainVerifier<'k> {
    keys: &'k ChainKeys,
    tenant: TenantId,
    head: Head,
    buf: Vec<u8>,
}

impl<'k> ChainVerifier<'k> {
    /// A verifier of `tenant`'s chain from `start`.
    pub fn new(keys: &'k ChainKeys, tenant: TenantId, start: Head) -> Self {
        Self {
            keys,
            tenant,
            head: start,
            buf: Vec::with_capacity(256),
        }
    }

    /// Checks the next stored event.
    ///
    /// # Errors
    ///
    /// [`ChainError`] naming the expected sequence number.
    pub fn push(&mut self, event: &Event) -> Result<(), ChainError> {
        let seq = self.head.seq.saturating_add(1);
        let fail = |fault| Err(ChainError { seq, fault });
        if event.seq != seq {
            return fail(Fault::OutOfSequence { found: event.seq });
        }
        if event.tenant != self.tenant {
            return fail(Fault::TenantMismatch);
        }
        if let Some(expected) = self.head.epoch
            && event.epoch != expected
        {
            return fail(Fault::EpochMismatch {
                expected,
                found: event.epoch,
            });
        }
        let Ok(key) = self.keys.get(event.epoch) else {
            return fail(Fault::UnknownEpoch { epoch: event.epoch });
        };
        if event.prev != self.head.mac {
            return fail(Fault::PrevMismatch);
        }
        self.buf.clear();
        event.canonical_into(&mut self.buf);
        if key.mac(&self.buf) != event.mac {
            return fail(Fault::MacMismatch);
        }
        if event.action == Action::KEY_EPOCH {
            match event.next_epoch() {
                Some(next)
                    if next > event.epoch && event.resource.kind.as_str() == KEY_RESOURCE_TYPE => {}
                _ => return fail(Fault::BadEpochChange),
            }
        }
        self.head = Head::after(event);
        Ok(())
    }

    /// The head after the last event pushed.
    pub fn head(&self) -> Head {
        self.head
    }
}

/// Verifies `events` (one tenant's, in stored order) from `start`; returns the head after
/// the last one (the number verified is `head.seq - start.seq`).
///
/// # Errors
///
/// [`ChainError`]: the first bad sequence number and why.
pub fn verify<'a>(
    keys: &ChainKeys,
    tenant: &TenantId,
    start: Head,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<Head, ChainError> {
    let mut v = ChainVerifier::new(keys, tenant.clone(), start);
    for e in events {
        v.push(e)?;
    }
    Ok(v.head())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::ChainKey;
    use secrecy::SecretBox;

    #[test]
    fn a_key_epoch_event_must_name_a_later_epoch() {
        let keys = ChainKeys::new(ChainKey::new(1, SecretBox::new(Box::new([1; 32]))).unwrap());
        let tenant = TenantId::new("t").unwrap();
        for next in ["1", "0", "x"] {
            let mut e = Event {
                tenant: tenant.clone(),
                seq: 1,
                epoch: 1,
                time_ms: 0,
                actor: system_actor().unwrap(),
                action: Action::KEY_EPOCH,
                resource: Resource::new(
                    ResourceType::new(KEY_RESOURCE_TYPE).unwrap(),
                    ResourceId::new(next).unwrap(),
                ),
                reason: None,
                outcome: Outcome::Success,
                client: None,
                prev: ChainMac::ZERO,
                mac: ChainMac::ZERO,
            };
            e.mac = keys.get(1).unwrap().mac(&e.canonical());
            let err = verify(&keys, &tenant, Head::GENESIS, [&e]).unwrap_err();
            assert_eq!((err.seq, err.fault), (1, Fault::BadEpochChange), "{next}");
        }
    }

    #[test]
    fn a_sink_behind_the_chain_refuses_to_write() {
        let keys = ChainKeys::new(ChainKey::new(1, SecretBox::new(Box::new([1; 32]))).unwrap());
        let head = Head {
            epoch: Some(2),
            ..Head::GENESIS
        };
        let draft = EventDraft::new(
            TenantId::new("t").unwrap(),
            Actor::parse("u").unwrap(),
            Action::READ,
            Resource::parse("lead:1").unwrap(),
        );
        assert!(matches!(
            Sealer::new(keys).seal(&head, draft),
            Err(AuditError::InvalidKey { .. })
        ));
    }
}
