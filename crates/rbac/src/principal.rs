//! Who a request acts for: a tenant, a subject, the subject's roles in that tenant, and the
//! scopes it holds.

use std::fmt;

use crate::scope::{ScopeSet, is_name_byte};

/// The longest tenant or subject id accepted, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// Why a tenant id, subject id or role name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The id is empty.
    #[error("empty id")]
    Empty,
    /// The id is longer than [`MAX_ID_LEN`] bytes.
    #[error("id longer than {max} bytes")]
    TooLong {
        /// [`MAX_ID_LEN`].
        max: usize,
    },
    /// A control character or whitespace in a tenant or subject id (ids reach logs and
    /// store keys).
    #[error("control character or whitespace in an id")]
    ControlOrSpace,
    /// A byte outside `[a-z0-9_.-]` in a role name.
    #[error("role name byte {byte:#04x} is not one of [a-z0-9_.-]")]
    InvalidRoleByte {
        /// The refused byte.
        byte: u8,
    },
}

fn validate_id(text: &str) -> Result<(), IdError> {
    if text.is_empty() {
        return Err(IdError::Empty);
    }
    if text.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { max: MAX_ID_LEN });
    }
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(IdError::ControlOrSpace);
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Box<str>);

        impl $name {
            /// Checks and wraps an id: 1 to [`MAX_ID_LEN`] bytes of UTF-8, no control
            /// character, no whitespace. Errors: [`IdError`].
            pub fn new(id: impl AsRef<str>) -> Result<Self, IdError> {
                let id = id.as_ref();
                validate_id(id)?;
                Ok(Self(id.into()))
            }

            /// The id as given.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
    };
}

id_type!(
    /// A tenant: the isolation boundary every check takes (an organisation, an account, a
    /// workspace). Any opaque id (UUID, number, slug).
    TenantId
);
id_type!(
    /// A subject: the user or API client a request acts for, unique within the deployment
    /// (a user id, an API key's public id).
    SubjectId
);

/// A role's name, as the policy file names it (`admin`, `agent`, `customer`): one or more
/// of `[a-z0-9_.-]`, at most [`MAX_ID_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleName(Box<str>);

impl RoleName {
    /// Checks and wraps a role name. Errors: [`IdError::Empty`], [`IdError::TooLong`],
    /// [`IdError::InvalidRoleByte`].
    pub fn new(name: impl AsRef<str>) -> Result<Self, IdError> {
        let name = name.as_ref();
        if name.is_empty() {
            return Err(IdError::Empty);
        }
        if name.len() > MAX_ID_LEN {
            return Err(IdError::TooLong { max: MAX_ID_LEN });
        }
        if let Some(&byte) = name.as_bytes().iter().find(|b| !is_name_byte(**b)) {
            return Err(IdError::InvalidRoleByte { byte });
        }
        Ok(Self(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RoleName {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// Who a request acts for, in which tenant: built by authentication (`palisade-auth`, from an
/// API key or a JWT) and put into the request's extensions, read by authorization.
///
/// `roles` are the subject's roles in `tenant` as the credential or the assignment store
/// states them; `scopes` are what an API client or token holds directly. A principal never
/// carries a secret: it is safe in `Debug` and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    tenant: TenantId,
    subject: SubjectId,
    roles: Vec<RoleName>,
    global_roles: Vec<RoleName>,
    scopes: ScopeSet,
}

impl Principal {
    /// A principal with no role and no scope (it is allowed nothing until given some).
    pub fn new(tenant: TenantId, subject: SubjectId) -> Self {
        Self {
            tenant,
            subject,
            roles: Vec::new(),
            global_roles: Vec::new(),
            scopes: ScopeSet::new(),
        }
    }

    /// Adds roles (each kept once).
    #[must_use]
    pub fn with_roles(mut self, roles: impl IntoIterator<Item = RoleName>) -> Self {
        for role in roles {
            if !self.roles.contains(&role) {
                self.roles.push(role);
            }
        }
        self
    }

    /// Adds global roles (each kept once): roles assigned outside any tenant (platform
    /// operators), honoured by a policy only for roles it marks `global = true`, and then in
    /// every tenant. Only a trusted source (the operators' identity provider, a global
    /// assignment store) may set them.
    #[must_use]
    pub fn with_global_roles(mut self, roles: impl IntoIterator<Item = RoleName>) -> Self {
        for role in roles {
            if !self.global_roles.contains(&role) {
                self.global_roles.push(role);
            }
        }
        self
    }

    /// Replaces the scopes.
    #[must_use]
    pub fn with_scopes(mut self, scopes: ScopeSet) -> Self {
        self.scopes = scopes;
        self
    }

    /// The tenant the request acts in.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The user or client.
    pub fn subject(&self) -> &SubjectId {
        &self.subject
    }

    /// The subject's roles in the tenant.
    pub fn roles(&self) -> &[RoleName] {
        &self.roles
    }

    /// The subject's global roles (see [`with_global_roles`](Self::with_global_roles)).
    pub fn global_roles(&self) -> &[RoleName] {
        &self.global_roles
    }

    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.as_str() == role)
    }

    /// The scopes held directly.
    pub fn scopes(&self) -> &ScopeSet {
        &self.scopes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_what_would_corrupt_logs_or_keys() {
        assert_eq!(TenantId::new(""), Err(IdError::Empty));
        assert_eq!(TenantId::new("a b"), Err(IdError::ControlOrSpace));
        assert_eq!(SubjectId::new("a\nb"), Err(IdError::ControlOrSpace));
        assert_eq!(
            SubjectId::new("x".repeat(MAX_ID_LEN + 1)),
            Err(IdError::TooLong { max: MAX_ID_LEN })
        );
        assert!(TenantId::new("7c9e6679-7425-40de-944b-e07fc1f90ae7").is_ok());
        assert_eq!(
            RoleName::new("Admin"),
            Err(IdError::InvalidRoleByte { byte: b'A' })
        );
    }

    #[test]
    fn roles_are_kept_once() {
        let agent = RoleName::new("agent").unwrap();
        let p = Principal::new(TenantId::new("t").unwrap(), SubjectId::new("s").unwrap())
            .with_roles([agent.clone(), agent]);
        assert_eq!(p.roles().len(), 1);
        assert!(p.has_role("agent"));
        assert!(!p.has_role("admin"));
    }
}
