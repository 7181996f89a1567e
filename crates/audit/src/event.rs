//! An event as the application submits it ([`EventDraft`]) and as the chain stores it
//! ([`Event`]), with its canonical encoding.

use std::time::{SystemTime, UNIX_EPOCH};

use palisade_rbac::TenantId;

use crate::action::Action;
use crate::client::ClientAddress;
use crate::fields::{Actor, Outcome, Reason, Resource};
use crate::key::ChainMac;

/// The version of the canonical encoding and of the JSON line form (`"v": 1`).
pub const FORMAT_VERSION: u8 = 1;

/// The first bytes of every canonical encoding: `PAUD` and the version.
pub const CANONICAL_MAGIC: [u8; 5] = [b'P', b'A', b'U', b'D', FORMAT_VERSION];

/// An event before it is chained: what the application knows. A sink gives it its
/// sequence number, epoch, previous MAC and MAC.
///
/// ```
/// use palisade_audit::{Action, Actor, EventDraft, Reason, Resource};
/// use palisade_rbac::TenantId;
/// let draft = EventDraft::new(
///     TenantId::new("tenant-42")?,
///     Actor::parse("u-7")?,
///     Action::EXPORT,
///     Resource::parse("lead:lead-17")?,
/// )
/// .with_reason(Reason::new("customer asked for a copy")?);
/// assert_eq!(draft.resource().to_string(), "lead:lead-17");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    pub(crate) tenant: TenantId,
    pub(crate) actor: Actor,
    pub(crate) action: Action,
    pub(crate) resource: Resource,
    pub(crate) reason: Option<Reason>,
    pub(crate) outcome: Outcome,
    pub(crate) client: Option<ClientAddress>,
    pub(crate) time_ms: Option<u64>,
}

impl EventDraft {
    /// `actor` did `action` on `resource` in `tenant`: outcome success, no reason, no client
    /// address, the time taken when appended.
    pub fn new(tenant: TenantId, actor: Actor, action: Action, resource: Resource) -> Self {
        Self {
            tenant,
            actor,
            action,
            resource,
            reason: None,
            outcome: Outcome::Success,
            client: None,
            time_ms: None,
        }
    }

    /// Why.
    #[must_use]
    pub fn with_reason(mut self, reason: Reason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// How it ended.
    #[must_use]
    pub fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// From where (truncated or keyed-hashed).
    #[must_use]
    pub fn with_client(mut self, client: ClientAddress) -> Self {
        self.client = Some(client);
        self
    }

    /// When, in milliseconds since the Unix epoch (default: the system clock when the sink
    /// appends it).
    #[must_use]
    pub fn at(mut self, time_ms: u64) -> Self {
        self.time_ms = Some(time_ms);
        self
    }

    /// The tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The action.
    pub fn action(&self) -> &Action {
        &self.action
    }

    /// The resource.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The reason.
    pub fn reason(&self) -> Option<&Reason> {
        self.reason.as_ref()
    }
}

/// Milliseconds since the Unix epoch on the system clock (0 before 1970).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A chained event, as stored.
///
/// Fields are public: an event read from storage is only data until
/// [`verify`](crate::chain::verify) has checked its MAC and its place in the chain, and
/// tests change them to check that verification notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The tenant whose chain it is in.
    pub tenant: TenantId,
    /// Its position: 1, 2, … per tenant, without gaps.
    pub seq: u64,
    /// The epoch of the chain key that MACs it.
    pub epoch: u32,
    /// When, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: Action,
    /// On what.
    pub resource: Resource,
    /// Why.
    pub reason: Option<Reason>,
    /// How it ended.
    pub outcome: Outcome,
    /// From where.
    pub client: Option<ClientAddress>,
    /// The MAC of the event before it ([`ChainMac::ZERO`] for sequence number 1).
    pub prev: ChainMac,
    /// HMAC-SHA256 of [`Event::canonical`] under the chain key of `epoch`.
    pub mac: ChainMac,
}

/// `u32` big-endian length, then the bytes. Every length-prefixed field is bounded far
/// below 2^32 by its type; a longer one (impossible) is cut to fit the prefix.
fn put_lp(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes.get(..len as usize).unwrap_or(bytes));
}

impl Event {
    /// Appends the canonical encoding, version 1, to `out`: every field but the MAC, in
    /// this order (`lp(x)` is `x`'s length as a big-endian `u32`, then `x`'s UTF-8 bytes; an
    /// absent optional field is `lp("")`, which no present value can be):
    ///
    /// ```text
    /// "PAUD" 0x01 | seq u64 BE | epoch u32 BE | prev (32 bytes) | lp(tenant) | time_ms u64 BE
    /// | lp(actor subject) | lp(actor role) | lp(action) | lp(resource type) | lp(resource id)
    /// | lp(reason) | outcome (1 byte: 0 success, 1 denied, 2 failure) | lp(client)
    /// ```
    ///
    /// `docs/formats.md` pins it with a known-answer test.
    pub fn canonical_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&CANONICAL_MAGIC);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(self.prev.as_bytes());
        put_lp(out, self.tenant.as_str().as_bytes());
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        put_lp(out, self.actor.subject().as_str().as_bytes());
        put_lp(out, self.actor.role().map_or("", |r| r.as_str()).as_bytes());
        put_lp(out, self.action.as_str().as_bytes());
        put_lp(out, self.resource.kind.as_str().as_bytes());
        put_lp(out, self.resource.id.as_str().as_bytes());
        put_lp(
            out,
            self.reason.as_ref().map_or("", |r| r.as_str()).as_bytes(),
        );
        out.push(self.outcome.code());
        let client = self.client.as_ref().map(ToString::to_string);
        put_lp(out, client.as_deref().unwrap_or("").as_bytes());
    }

    /// The canonical encoding ([`Event::canonical_into`]).
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        self.canonical_into(&mut out);
        out
    }

    /// For a key-epoch event ([`Action::KEY_EPOCH`]): the epoch it moves the chain to.
    pub fn next_epoch(&self) -> Option<u32> {
        if self.action != Action::KEY_EPOCH {
            return None;
        }
        self.resource.id.as_str().parse().ok()
    }
}
