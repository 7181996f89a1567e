//! What was done: an open set of dotted lower-case names with the standard ones as constants.

use std::borrow::Cow;
use std::fmt;

use crate::error::AuditError;

/// The longest action or resource type accepted, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// The prefix of the chain's own actions ([`Action::KEY_EPOCH`]); refused by [`Action::new`].
pub const RESERVED_PREFIX: &str = "audit.";

/// What an actor did: `read`, `export`, `credential.read`, or any name of the application's
/// (`invoice.void`): 1 to 64 bytes of `[a-z0-9_.-]`, starting with a letter. Names starting
/// with `audit.` are reserved for the chain's own events.
///
/// ```
/// use palisade_audit::Action;
/// assert_eq!(Action::EXPORT.as_str(), "export");
/// assert_eq!(Action::new("invoice.void")?.as_str(), "invoice.void");
/// assert!(Action::new("Read").is_err());
/// # Ok::<(), palisade_audit::AuditError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Action(Cow<'static, str>);

impl Action {
    /// A record was created.
    pub const CREATE: Self = Self(Cow::Borrowed("create"));
    /// A record was read (shown, fetched).
    pub const READ: Self = Self(Cow::Borrowed("read"));
    /// A record was changed.
    pub const UPDATE: Self = Self(Cow::Borrowed("update"));
    /// A record was deleted.
    pub const DELETE: Self = Self(Cow::Borrowed("delete"));
    /// Data left the system (download, report, bulk export). Requires a reason by default.
    pub const EXPORT: Self = Self(Cow::Borrowed("export"));
    /// Personal data was anonymized (erasure request). Requires a reason by default.
    pub const ANONYMIZE: Self = Self(Cow::Borrowed("anonymize"));
    /// A subject logged in.
    pub const LOGIN: Self = Self(Cow::Borrowed("login"));
    /// A stored credential (API key, provider token) was read.
    pub const CREDENTIAL_READ: Self = Self(Cow::Borrowed("credential.read"));
    /// A field of personal data was decrypted (the `palisade-pii` hook,
    /// [`AuditedKeyring`](crate::decrypt::AuditedKeyring)).
    pub const PII_DECRYPT: Self = Self(Cow::Borrowed("pii.decrypt"));
    /// The chain's own event: the chain key changed epoch. Its resource is
    /// `audit_key:<new epoch>`. Written by the sinks, never by [`Action::new`].
    pub const KEY_EPOCH: Self = Self(Cow::Borrowed("audit.key_epoch"));

    /// Checks and wraps an action name.
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidField`] for a name that is empty, longer than
    /// [`MAX_NAME_LEN`], not starting with a letter or holding a byte outside
    /// `[a-z0-9_.-]`; [`AuditError::ReservedAction`] for the `audit.` namespace.
    pub fn new(name: impl AsRef<str>) -> Result<Self, AuditError> {
        let name = name.as_ref();
        check_name("action", name)?;
        if name.starts_with(RESERVED_PREFIX) {
            return Err(AuditError::ReservedAction);
        }
        Ok(Self(Cow::Owned(name.to_owned())))
    }

    /// Parses an action read back from storage: [`Action::new`]'s rules, the reserved
    /// [`Action::KEY_EPOCH`] included (for stores other than this crate's).
    ///
    /// # Errors
    ///
    /// As [`Action::new`].
    pub fn from_stored(name: &str) -> Result<Self, AuditError> {
        if name == Self::KEY_EPOCH.as_str() {
            return Ok(Self::KEY_EPOCH);
        }
        Self::new(name)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Action {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// Checks a dotted lower-case name: 1 to [`MAX_NAME_LEN`] bytes of `[a-z0-9_.-]`, the
/// first a letter.
pub(crate) fn check_name(field: &'static str, name: &str) -> Result<(), AuditError> {
    let Some(first) = name.bytes().next() else {
        return Err(AuditError::field(field, "empty"));
    };
    if name.len() > MAX_NAME_LEN {
        return Err(AuditError::field(field, "longer than 64 bytes"));
    }
    if !first.is_ascii_lowercase() {
        return Err(AuditError::field(field, "must start with a letter a-z"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(AuditError::field(field, "bytes outside [a-z0-9_.-]"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_the_audit_namespace_is_reserved() {
        assert!(Action::new("credential.read").is_ok());
        assert_eq!(
            Action::new("audit.key_epoch"),
            Err(AuditError::ReservedAction)
        );
        assert!(Action::new("").is_err());
        assert!(Action::new("1read").is_err());
        assert!(Action::new("re ad").is_err());
        assert!(Action::new("x".repeat(65)).is_err());
        assert_eq!(
            Action::from_stored("audit.key_epoch"),
            Ok(Action::KEY_EPOCH)
        );
        for a in [
            Action::CREATE,
            Action::READ,
            Action::UPDATE,
            Action::DELETE,
            Action::EXPORT,
            Action::ANONYMIZE,
            Action::LOGIN,
            Action::CREDENTIAL_READ,
            Action::PII_DECRYPT,
        ] {
            assert_eq!(Action::new(a.as_str()), Ok(a));
        }
    }
}
