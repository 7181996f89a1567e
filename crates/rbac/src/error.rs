//! The errors of policy files (located: file, line, role) and of the stores.

use std::fmt;

use crate::principal::IdError;
use crate::scope::ScopeError;

/// Where in a policy file a problem is: the file (when the policy came from one), the 1-based
/// line (when the format gives it: TOML always, JSON for syntax errors), the role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file's path as given, or `None` for a policy compiled from a string.
    pub file: Option<Box<str>>,
    /// The 1-based line.
    pub line: Option<usize>,
    /// The role being read.
    pub role: Option<Box<str>>,
}

impl fmt::Display for Location {
    /// `file:line: role NAME` with the parts that are known (`<policy>` for no file).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file.as_deref().unwrap_or("<policy>"))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(role) = &self.role {
            write!(f, ": role {role}")?;
        }
        Ok(())
    }
}

/// Why a policy could not be read or compiled. Each variant says where ([`Location`]);
/// messages quote role names and scopes from the file, never anything else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("{file}: cannot read the policy: {reason}")]
    Io {
        /// The path as given.
        file: String,
        /// The operating system's reason.
        reason: String,
    },
    /// Not TOML (or JSON), or not the policy's shape: an unknown key (`grant` for `grants`),
    /// a string where a list is expected.
    #[error("{at}: {message}")]
    Syntax {
        /// Where.
        at: Location,
        /// The parser's message.
        message: String,
    },
    /// A role name outside `[a-z0-9_.-]` (or empty, or too long).
    #[error("{at}: invalid role name: {error}")]
    InvalidRoleName {
        /// Where.
        at: Location,
        /// What is wrong.
        error: IdError,
    },
    /// A grant or deny that is not a valid scope (`admin*`, `a::b`).
    #[error("{at}: {field}[{index}] `{text}`: {error}")]
    InvalidScope {
        /// Where.
        at: Location,
        /// `grants` or `denies`.
        field: &'static str,
        /// The entry's 0-based index in the list.
        index: usize,
        /// The entry as written.
        text: String,
        /// What is wrong.
        error: ScopeError,
    },
    /// `inherits` names a role the policy does not define.
    #[error("{at}: inherits unknown role `{unknown}`")]
    UnknownRole {
        /// Where (the inheriting role).
        at: Location,
        /// The name that is not defined.
        unknown: String,
    },
    /// Inheritance loops back: the roles of the cycle, in order, the first repeated last
    /// (`admin -> agent -> admin`).
    #[error("{at}: inheritance cycle {}", cycle.join(" -> "))]
    Cycle {
        /// Where (the role the cycle was found from).
        at: Location,
        /// The cycle, its first role repeated at the end.
        cycle: Vec<String>,
    },
    /// More roles, rules or known permissions than a compiled policy holds.
    #[error("{at}: policy too large: more than {max} {what}")]
    TooLarge {
        /// Where.
        at: Location,
        /// `roles`, `grants and denies` or `permissions`.
        what: &'static str,
        /// The limit.
        max: usize,
    },
}

impl PolicyError {
    /// Where the problem is (`None` for [`PolicyError::Io`]).
    pub fn location(&self) -> Option<&Location> {
        match self {
            Self::Io { .. } => None,
            Self::Syntax { at, .. }
            | Self::InvalidRoleName { at, .. }
            | Self::InvalidScope { at, .. }
            | Self::UnknownRole { at, .. }
            | Self::Cycle { at, .. }
            | Self::TooLarge { at, .. } => Some(at),
        }
    }
}

/// Why an assignment or relation store could not answer. Never a verdict: a caller refuses
/// the request (fail closed). Messages hold no connection string or credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or answered with an error.
    #[error("{store} store unavailable: {reason}")]
    Unavailable {
        /// Which store (`memory`, `postgres`).
        store: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The store did not answer in time.
    #[error("{store} store did not answer within {millis} ms")]
    Timeout {
        /// Which store.
        store: &'static str,
        /// The timeout, in milliseconds.
        millis: u64,
    },
}
