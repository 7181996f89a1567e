//! The policy file: TOML (with the line of every entry, for located errors) or JSON (through
//! serde), read into the roles the compiler takes.
//!
//! ```toml
//! [roles.admin]
//! inherits = ["agent"]
//! grants = ["admin:*"]
//!
//! [roles.agent]
//! inherits = ["customer"]
//! grants = ["bookings:read", "bookings:write", "calls:*"]
//! denies = ["bookings:delete"]
//!
//! [roles.customer]
//! grants = ["bookings:read"]
//!
//! [roles.operator]
//! global = true          # a platform operator: assigned outside any tenant
//! grants = ["*"]
//! ```

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Location, PolicyError};

/// The most bytes of policy text read (1 MiB).
pub const MAX_POLICY_BYTES: usize = 1 << 20;

/// A policy as written, before compilation: the shape of the TOML file and of its JSON
/// equivalent (`{"roles": {"admin": {"inherits": ["agent"], "grants": ["admin:*"]}}}`).
/// Unknown keys are refused (a misspelt `deny` must not silently allow).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySource {
    /// The roles by name.
    #[serde(default)]
    pub roles: BTreeMap<String, RoleSource>,
}

/// One role as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSource {
    /// A global role (platform operators): honoured only from a *global* assignment (one
    /// made outside any tenant), and then in every tenant. A tenant assignment of a global
    /// role is ignored, and so is a global assignment of a tenant role.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub global: bool,
    /// Roles whose grants and denies this one has too (a DAG: cycles are refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<String>,
    /// Scopes granted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
    /// Scopes denied: a deny wins over every grant, at any depth of inheritance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denies: Vec<String>,
}

/// One entry with its line (1-based), when known.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) text: String,
    pub(crate) line: Option<usize>,
}

/// One role ready for the compiler: its text and where each part is.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) name: String,
    pub(crate) line: Option<usize>,
    pub(crate) global: bool,
    pub(crate) inherits: Vec<Entry>,
    pub(crate) grants: Vec<Entry>,
    pub(crate) denies: Vec<Entry>,
}

/// The roles of a policy text, in name order, with the file name for errors.
#[derive(Debug, Clone)]
pub(crate) struct Drafts {
    pub(crate) file: Option<String>,
    pub(crate) roles: Vec<Draft>,
}

impl Drafts {
    /// A location in this file.
    pub(crate) fn at(&self, line: Option<usize>, role: Option<&str>) -> Location {
        Location {
            file: self.file.as_deref().map(Into::into),
            line,
            role: role.map(Into::into),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlPolicy {
    #[serde(default)]
    roles: BTreeMap<Spanned<String>, TomlRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlRole {
    #[serde(default)]
    global: bool,
    #[serde(default)]
    inherits: Vec<Spanned<String>>,
    #[serde(default)]
    grants: Vec<Spanned<String>>,
    #[serde(default)]
    denies: Vec<Spanned<String>>,
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()
        .get(..end)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}

fn too_long(file: Option<&str>) -> PolicyError {
    PolicyError::TooLarge {
        at: Location {
            file: file.map(Into::into),
            ..Location::default()
        },
        what: "bytes",
        max: MAX_POLICY_BYTES,
    }
}

/// Reads a TOML policy, keeping the line of every role and entry.
pub(crate) fn parse_toml(text: &str, file: Option<&str>) -> Result<Drafts, PolicyError> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(too_long(file));
    }
    let parsed: TomlPolicy = toml::from_str(text).map_err(|e| PolicyError::Syntax {
        at: Location {
            file: file.map(Into::into),
            line: e.span().map(|s: Range<usize>| line_of(text, s.start)),
            role: None,
        },
        message: e.message().trim().to_owned(),
    })?;
    let entries = |list: Vec<Spanned<String>>| -> Vec<Entry> {
        list.into_iter()
            .map(|s| Entry {
                line: Some(line_of(text, s.span().start)),
                text: s.into_inner(),
            })
            .collect()
    };
    let roles = parsed
        .roles
        .into_iter()
        .map(|(name, role)| Draft {
            line: Some(line_of(text, name.span().start)),
            name: name.into_inner(),
            global: role.global,
            inherits: entries(role.inherits),
            grants: entries(role.grants),
            denies: entries(role.denies),
        })
        .collect();
    Ok(Drafts {
        file: file.map(str::to_owned),
        roles,
    })
}

/// Reads a JSON policy (lines known for syntax errors only).
pub(crate) fn parse_json(text: &str, file: Option<&str>) -> Result<Drafts, PolicyError> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(too_long(file));
    }
    let source: PolicySource = serde_json::from_str(text).map_err(|e| PolicyError::Syntax {
        at: Location {
            file: file.map(Into::into),
            line: Some(e.line()),
            role: None,
        },
        message: e.to_string(),
    })?;
    Ok(source.drafts(file))
}

impl PolicySource {
    /// Reads a TOML policy (the issue's format). Errors: [`PolicyError::Syntax`] with the
    /// line.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let drafts = parse_toml(text, None)?;
        Ok(Self::from_drafts(drafts))
    }

    /// Reads a JSON policy. Errors: [`PolicyError::Syntax`] with the line.
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        serde_json::from_str(text).map_err(|e| PolicyError::Syntax {
            at: Location {
                line: Some(e.line()),
                ..Location::default()
            },
            message: e.to_string(),
        })
    }

    fn from_drafts(drafts: Drafts) -> Self {
        let texts = |list: Vec<Entry>| list.into_iter().map(|e| e.text).collect();
        Self {
            roles: drafts
                .roles
                .into_iter()
                .map(|d| {
                    (
                        d.name,
                        RoleSource {
                            global: d.global,
                            inherits: texts(d.inherits),
                            grants: texts(d.grants),
                            denies: texts(d.denies),
                        },
                    )
                })
                .collect(),
        }
    }

    pub(crate) fn drafts(self, file: Option<&str>) -> Drafts {
        let entries = |list: Vec<String>| {
            list.into_iter()
                .map(|text| Entry { text, line: None })
                .collect()
        };
        Drafts {
            file: file.map(str::to_owned),
            roles: self
                .roles
                .into_iter()
                .map(|(name, role)| Draft {
                    name,
                    line: None,
                    global: role.global,
                    inherits: entries(role.inherits),
                    grants: entries(role.grants),
                    denies: entries(role.denies),
                })
                .collect(),
        }
    }
}
