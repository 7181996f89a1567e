//! The fields of an event that name who, what and why: identifiers and masked values only.
//!
//! The guard against plaintext personal data is in the types: a resource id, a subject and
//! a reason are checked when built, and refuse what looks like an email address, a phone
//! number or a card number. A value that must identify a person goes in masked
//! ([`ResourceId::masked`], with `palisade-pii`'s [`Masked`]) or as a keyed hash
//! ([`ResourceId::from_index`], a `palisade-pii` blind index).

use std::fmt;

use palisade_pii::{IndexValue, Masked};
use palisade_rbac::{Principal, RoleName, SubjectId};

use crate::action::check_name;
use crate::error::AuditError;

/// The longest resource id accepted, in bytes.
pub const MAX_ID_LEN: usize = 128;
/// The longest reason accepted, in bytes.
pub const MAX_REASON_LEN: usize = 512;

/// Whether `text` holds something shaped like an email address: an `@` with a character
/// before it and a dot after it.
fn looks_like_email(text: &str) -> bool {
    text.match_indices('@').any(|(i, _)| {
        let (before, after) = text.split_at(i);
        let after = after.get(1..).unwrap_or("");
        let local = before
            .chars()
            .next_back()
            .is_some_and(|c| !c.is_whitespace());
        let domain: String = after.chars().take_while(|c| !c.is_whitespace()).collect();
        local && domain.contains('.')
    })
}

/// Whether `text` holds a phone- or card-like number: a run of at least `min_digits` digits,
/// separators (space, `-`, `.`, `(`, `)`) allowed inside, or a `+` followed by a digit.
fn looks_like_number(text: &str, min_digits: usize) -> bool {
    let mut digits = 0;
    let mut prev_plus = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if prev_plus {
                return true;
            }
            digits += 1;
            if digits >= min_digits {
                return true;
            }
        } else if !matches!(c, ' ' | '-' | '.' | '(' | ')') {
            digits = 0;
        }
        prev_plus = c == '+';
    }
    false
}

/// The identifier guard: no control character or whitespace, no email-like value, no `+`
/// and digits (E.164).
fn check_identifier(field: &'static str, id: &str) -> Result<(), AuditError> {
    if id.is_empty() {
        return Err(AuditError::field(field, "empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(AuditError::field(field, "longer than 128 bytes"));
    }
    if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(AuditError::field(field, "control character or whitespace"));
    }
    if id.contains('@') || looks_like_number_plus(id) {
        return Err(AuditError::PlaintextPii { field });
    }
    Ok(())
}

fn looks_like_number_plus(id: &str) -> bool {
    id.as_bytes()
        .windows(2)
        .any(|w| matches!(w, [b'+', d] if d.is_ascii_digit()))
}

/// The kind of thing acted on (`lead`, `recording`, `api_key`): 1 to 64 bytes of
/// `[a-z0-9_.-]`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceType(pub(crate) Box<str>);

impl ResourceType {
    /// Checks and wraps a resource type.
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidField`] (`resource_type`).
    pub fn new(name: impl AsRef<str>) -> Result<Self, AuditError> {
        let name = name.as_ref();
        check_name("resource_type", name)?;
        Ok(Self(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which one was acted on: the row's key (`lead-17`, a UUID, `4411`), 1 to 128 bytes with
/// no control character or whitespace. Refused as [`AuditError::PlaintextPii`]: anything
/// with an `@` (an email address), or a `+` followed by a digit (an E.164 phone number).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(Box<str>);

impl ResourceId {
    /// Checks and wraps an id.
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidField`], [`AuditError::PlaintextPii`] (`resource_id`).
    pub fn new(id: impl AsRef<str>) -> Result<Self, AuditError> {
        let id = id.as_ref();
        check_identifier("resource_id", id)?;
        Ok(Self(id.into()))
    }

    /// A resource known only by a personal value, kept as its keyed hash: the lowercase hex
    /// of a `palisade-pii` blind index (`Keyring::blind_index`), prefixed `idx:`.
    pub fn from_index(index: &IndexValue) -> Self {
        Self(format!("idx:{index}").into())
    }

    /// A resource known only by a personal value, kept masked (`palisade-pii`'s
    /// [`Masked`], e.g. `Masked::phone(…)` gives `+1******7409`), prefixed `masked:`.
    /// Spaces in the masked form become `_`.
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidField`] when the masked form is longer than the limit.
    pub fn masked(value: Masked<'_>) -> Result<Self, AuditError> {
        let text: String = format!("masked:{value}")
            .chars()
            .map(|c| {
                if c.is_whitespace() || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        if text.len() > MAX_ID_LEN {
            return Err(AuditError::field("resource_id", "longer than 128 bytes"));
        }
        Ok(Self(text.into()))
    }

    /// Parses an id read back from storage: [`ResourceId::new`]'s rules, except that the
    /// masked form (whose `+` and digits are the mask's) is taken as stored.
    ///
    /// # Errors
    ///
    /// As [`ResourceId::new`].
    pub fn from_stored(id: &str) -> Result<Self, AuditError> {
        match id.strip_prefix("masked:") {
            Some(_) if id.len() <= MAX_ID_LEN && !id.chars().any(char::is_control) => {
                Ok(Self(id.into()))
            }
            _ => Self::new(id),
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What was acted on: a type and an id, written `type:id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    /// The kind.
    pub kind: ResourceType,
    /// Which one.
    pub id: ResourceId,
}

impl Resource {
    /// `kind` `id`.
    pub fn new(kind: ResourceType, id: ResourceId) -> Self {
        Self { kind, id }
    }

    /// Parses `type:id` (split at the first `:`).
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidField`] without a `:`, then as [`ResourceType::new`] and
    /// [`ResourceId::new`].
    pub fn parse(text: &str) -> Result<Self, AuditError> {
        let (kind, id) = text
            .split_once(':')
            .ok_or(AuditError::field("resource", "expected TYPE:ID"))?;
        Ok(Self::new(ResourceType::new(kind)?, ResourceId::new(id)?))
    }

    pub(crate) fn parse_stored(text: &str) -> Result<Self, AuditError> {
        let (kind, id) = text
            .split_once(':')
            .ok_or(AuditError::field("resource", "expected TYPE:ID"))?;
        Ok(Self::new(
            ResourceType::new(kind)?,
            ResourceId::from_stored(id)?,
        ))
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// Who acted: a subject (`palisade-rbac`'s [`SubjectId`]: a user id, an API key's public
/// id) and, optionally, the role it acted in. The subject is checked like a resource id: an
/// email address or a phone number as a subject is refused ([`AuditError::PlaintextPii`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    subject: SubjectId,
    role: Option<RoleName>,
}

impl Actor {
    /// `subject`, with no role.
    ///
    /// # Errors
    ///
    /// [`AuditError::PlaintextPii`] (`actor`).
    pub fn new(subject: SubjectId) -> Result<Self, AuditError> {
        check_identifier("actor", subject.as_str())?;
        Ok(Self {
            subject,
            role: None,
        })
    }

    /// Parses a subject id, as [`Actor::new`].
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidField`], [`AuditError::PlaintextPii`] (`actor`).
    pub fn parse(subject: &str) -> Result<Self, AuditError> {
        let subject = SubjectId::new(subject)
            .map_err(|_| AuditError::field("actor", "not a valid subject id"))?;
        Self::new(subject)
    }

    /// Acting in `role`.
    #[must_use]
    pub fn with_role(mut self, role: RoleName) -> Self {
        self.role = Some(role);
        self
    }

    /// The principal's subject, acting in its first role (if any).
    ///
    /// # Errors
    ///
    /// As [`Actor::new`].
    pub fn from_principal(principal: &Principal) -> Result<Self, AuditError> {
        let actor = Self::new(principal.subject().clone())?;
        Ok(match principal.roles().first() {
            Some(role) => actor.with_role(role.clone()),
            None => actor,
        })
    }

    /// The subject.
    pub fn subject(&self) -> &SubjectId {
        &self.subject
    }

    /// The role acted in.
    pub fn role(&self) -> Option<&RoleName> {
        self.role.as_ref()
    }
}

/// Why: free text chosen by the actor or the application (`refund dispute 4411`,
/// `erasure request by the customer`), 1 to 512 bytes, no control character. Refused as
/// [`AuditError::PlaintextPii`]: anything that looks like an email address, or a number of 9
/// or more digits (phone, card; separators included), or `+` and a digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reason(Box<str>);

impl Reason {
    /// Checks and wraps a reason.
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidField`], [`AuditError::PlaintextPii`] (`reason`).
    pub fn new(text: impl AsRef<str>) -> Result<Self, AuditError> {
        let text = text.as_ref();
        if text.trim().is_empty() {
            return Err(AuditError::field("reason", "empty"));
        }
        if text.len() > MAX_REASON_LEN {
            return Err(AuditError::field("reason", "longer than 512 bytes"));
        }
        if text.chars().any(char::is_control) {
            return Err(AuditError::field("reason", "control character"));
        }
        if looks_like_email(text) || looks_like_number(text, 9) {
            return Err(AuditError::PlaintextPii { field: "reason" });
        }
        Ok(Self(text.into()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Outcome {
    /// It was done (the default).
    #[default]
    Success,
    /// It was refused (authorization, policy).
    Denied,
    /// It was attempted and failed.
    Failure,
}

impl Outcome {
    /// `success`, `denied` or `failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failure => "failure",
        }
    }

    /// The byte of the canonical encoding: 0 success, 1 denied, 2 failure.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Denied => 1,
            Self::Failure => 2,
        }
    }

    /// The inverse of [`Outcome::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Success),
            1 => Some(Self::Denied),
            2 => Some(Self::Failure),
            _ => None,
        }
    }

    /// The inverse of [`Outcome::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "success" => Some(Self::Success),
            "denied" => Some(Self::Denied),
            "failure" => Some(Self::Failure),
            _ => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_refuse_emails_and_phone_numbers() {
        assert!(ResourceId::new("lead-17").is_ok());
        assert!(ResourceId::new("2147483647").is_ok());
        assert!(ResourceId::new("7c9e6679-7425-40de-944b-e07fc1f90ae7").is_ok());
        for pii in ["jean@example.com", "+14389007409", "tel:+33123456789"] {
            assert_eq!(
                ResourceId::new(pii),
                Err(AuditError::PlaintextPii {
                    field: "resource_id"
                })
            );
        }
        assert!(Actor::parse("jean@example.com").is_err());
        assert!(Actor::parse("u-42").is_ok());
    }

    #[test]
    fn masked_and_indexed_ids_are_accepted() {
        let id = ResourceId::masked(Masked::phone("+14389007409")).unwrap();
        assert_eq!(id.as_str(), "masked:+1******7409");
        assert_eq!(ResourceId::from_stored(id.as_str()), Ok(id));
        let id = ResourceId::masked(Masked::name("Jean Tremblay")).unwrap();
        assert_eq!(id.as_str(), "masked:J***_T*******");
    }

    #[test]
    fn reasons_refuse_what_looks_like_personal_data() {
        for ok in [
            "refund dispute 4411",
            "erasure request by the customer",
            "ticket T-20261205",
            "support: user@ mentioned",
        ] {
            assert!(Reason::new(ok).is_ok(), "{ok}");
        }
        for pii in [
            "call jean.tremblay@example.com",
            "callback 438 900 7409",
            "card 4111-1111-1111-1111",
            "number +1 438",
        ] {
            assert_eq!(
                Reason::new(pii),
                Err(AuditError::PlaintextPii { field: "reason" }),
                "{pii}"
            );
        }
        assert!(Reason::new(" ").is_err());
        assert!(Reason::new("a\nb").is_err());
        assert!(Reason::new("x".repeat(513)).is_err());
    }

    #[test]
    fn resources_parse_type_colon_id() {
        let r = Resource::parse("recording:rec-9").unwrap();
        assert_eq!(r.kind.as_str(), "recording");
        assert_eq!(r.id.as_str(), "rec-9");
        assert_eq!(r.to_string(), "recording:rec-9");
        assert!(Resource::parse("recording").is_err());
        assert!(Resource::parse("Rec:1").is_err());
        for o in [Outcome::Success, Outcome::Denied, Outcome::Failure] {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
    }
}
