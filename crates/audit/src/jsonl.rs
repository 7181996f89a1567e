//! The JSON line form of an event: one JSON object per line, the form of the JSONL sink, the
//! CLI's log and retention exports.
//!
//! ```text
//! {"v":1,"tenant":"t1","seq":1,"epoch":1,"time":1764972000000,"actor":"u-7","role":"agent",
//!  "action":"export","resource":"lead:lead-17","reason":"customer asked","outcome":"success",
//!  "client":"net:203.0.113.0/24","prev":"00…00","mac":"3f…a1"}
//! ```
//!
//! (one line in the file). `time` is milliseconds since the Unix epoch; `role`, `reason` and
//! `client` may be `null`; `prev` and `mac` are 64 lowercase hex digits. Unknown fields are
//! refused: every field of a version-1 line is covered by its MAC.

use palisade_rbac::{RoleName, TenantId};
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::client::ClientAddress;
use crate::error::AuditError;
use crate::event::{Event, FORMAT_VERSION};
use crate::fields::{Actor, Outcome, Reason, Resource};
use crate::key::ChainMac;

/// The longest line accepted by the parsers, in bytes.
pub const MAX_LINE_LEN: usize = 8 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    v: u8,
    #[serde(borrow)]
    tenant: std::borrow::Cow<'a, str>,
    seq: u64,
    epoch: u32,
    time: u64,
    #[serde(borrow)]
    actor: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    role: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    action: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    resource: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    reason: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    outcome: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    client: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    prev: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    mac: std::borrow::Cow<'a, str>,
}

/// A `serde_json` error as a position and a category, never the input's content.
pub(crate) fn json_error(what: &'static str, e: &serde_json::Error) -> AuditError {
    let category = match e.classify() {
        serde_json::error::Category::Io => "i/o error",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "missing, unknown or mistyped field",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    AuditError::malformed(what, format!("{category} at column {}", e.column()))
}

impl Event {
    /// The JSON line form (no trailing newline).
    pub fn to_json_line(&self) -> String {
        let client = self.client.as_ref().map(ToString::to_string);
        let line = Line {
            v: FORMAT_VERSION,
            tenant: self.tenant.as_str().into(),
            seq: self.seq,
            epoch: self.epoch,
            time: self.time_ms,
            actor: self.actor.subject().as_str().into(),
            role: self.actor.role().map(|r| r.as_str().into()),
            action: self.action.as_str().into(),
            resource: self.resource.to_string().into(),
            reason: self.reason.as_ref().map(|r| r.as_str().into()),
            outcome: self.outcome.as_str().into(),
            client: client.map(Into::into),
            prev: self.prev.to_hex().into(),
            mac: self.mac.to_hex().into(),
        };
        // Serializing strings and integers into a String cannot fail.
        serde_json::to_string(&line).unwrap_or_default()
    }

    /// Parses one JSON line (surrounding whitespace allowed) into an event, checking every
    /// field's shape (not the MAC: that is [`verify`](crate::chain::verify)'s job).
    ///
    /// # Errors
    ///
    /// [`AuditError::Malformed`] (`event`) for a line longer than [`MAX_LINE_LEN`], invalid
    /// JSON, a missing or unknown field, another version; the field errors of the typed
    /// fields ([`AuditError::InvalidField`], [`AuditError::PlaintextPii`]).
    pub fn from_json_line(line: &str) -> Result<Self, AuditError> {
        if line.len() > MAX_LINE_LEN {
            return Err(AuditError::malformed("event", "line longer than 8 KiB"));
        }
        let l: Line<'_> = serde_json::from_str(line).map_err(|e| json_error("event", &e))?;
        if l.v != FORMAT_VERSION {
            return Err(AuditError::malformed("event", "unsupported version"));
        }
        let tenant = TenantId::new(&*l.tenant)
            .map_err(|_| AuditError::field("tenant", "not a valid tenant id"))?;
        let mut actor = Actor::parse(&l.actor)?;
        if let Some(role) = l.role {
            let role =
                RoleName::new(&*role).map_err(|_| AuditError::field("role", "not a role name"))?;
            actor = actor.with_role(role);
        }
        let outcome = Outcome::parse(&l.outcome).ok_or(AuditError::field(
            "outcome",
            "not success, denied or failure",
        ))?;
        Ok(Self {
            tenant,
            seq: l.seq,
            epoch: l.epoch,
            time_ms: l.time,
            actor,
            action: Action::from_stored(&l.action)?,
            resource: Resource::parse_stored(&l.resource)?,
            reason: l.reason.map(Reason::new).transpose()?,
            outcome,
            client: l.client.as_deref().map(ClientAddress::parse).transpose()?,
            prev: ChainMac::from_hex(&l.prev)?,
            mac: ChainMac::from_hex(&l.mac)?,
        })
    }
}
