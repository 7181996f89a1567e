//! The compiled, immutable policy and its checks.
//!
//! # How a check runs
//!
//! At compile time every role's inheritance closure is computed (a DAG: cycles are refused),
//! and every permission the policy names exactly (each grant or deny without `*`, plus the
//! [`known permissions`](PolicyCompiler::known_permissions) given to the compiler, such as a
//! router's table) is interned. For each interned permission the compiler stores two bitsets
//! over roles: the roles whose closure grants it (a literal grant, or a wildcard grant that
//! matches it) and the roles whose closure denies it. A check of an interned permission is
//! then: one hash lookup of the permission's text (none with [`Policy::permission_id`]
//! done ahead), and per 64 roles two AND operations — deny first, so a deny at any depth wins.
//!
//! A permission the compiler never saw (say `admin:users:delete` under a grant of `admin:*`)
//! cannot be in the table, and no literal rule can match it (its text would have been
//! interned). For those, the check falls back to the segment-wise matcher over the wildcard
//! rules of the held roles' closures (kept per role at compile time): deny rules first, then
//! grants. Both paths give the same answer; the property tests check them against a naive
//! evaluator.

use std::collections::HashMap;
use std::path::Path;

use crate::analyze::Effect;
use crate::compile::PolicyCompiler;
use crate::error::PolicyError;
use crate::principal::{RoleName, TenantId};
use crate::roleset::RoleSet;
use crate::scope::{Permission, Scope};
use crate::verdict::Explanation;

/// A role of a compiled policy (an index; meaningful only with the policy that gave it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleId(u32);

/// A permission interned by a compiled policy (see [`Policy::permission_id`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PermissionId {
    policy: u64,
    index: u32,
}

/// One grant or deny of a compiled policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub(crate) role: RoleName,
    pub(crate) effect: Effect,
    pub(crate) scope: Scope,
    pub(crate) line: Option<usize>,
}

impl Rule {
    /// The role that declares it.
    pub fn role(&self) -> &RoleName {
        &self.role
    }
    /// Grant or deny.
    pub fn effect(&self) -> Effect {
        self.effect
    }
    /// The scope as written.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    /// Its line in the policy file, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }
}

#[derive(Debug)]
pub(crate) struct Role {
    pub(crate) name: RoleName,
    pub(crate) global: bool,
    /// The role and every role it inherits, directly or not (ids, increasing).
    pub(crate) closure: Vec<u32>,
    /// The wildcard grants and denies of the closure (rule ids), for permissions not interned.
    pub(crate) wild_grants: Vec<u32>,
    pub(crate) wild_denies: Vec<u32>,
}

/// Where the rule that decided is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// This rule.
    Rule(u32),
    /// The first rule of the held role's closure that matches this interned permission (found
    /// when explaining: the check itself only reads bits).
    Interned(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Granted { held: u32, via: Via },
    Denied { held: u32, via: Via },
    NoGrant,
    NotInTenant,
    OtherPolicy,
}

/// The answer of a [`Policy`] check: allowed or not, and which rule decided. `Copy`, no
/// allocation; [`explain`](Self::explain) names the role and the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    why: Why,
}

impl Decision {
    /// Whether the permission is allowed.
    #[inline]
    pub fn is_allowed(&self) -> bool {
        matches!(self.why, Why::Granted { .. })
    }

    /// What decided, with names: the rule and its role, the held role it came through.
    /// `policy` must be the policy that decided (another gives
    /// [`Explanation::OtherPolicy`]-like answers only by chance: keep the two together).
    pub fn explain(&self, policy: &Policy) -> Explanation {
        match self.why {
            Why::Granted { held, via } | Why::Denied { held, via } => {
                let denied = matches!(self.why, Why::Denied { .. });
                let effect = if denied { Effect::Deny } else { Effect::Grant };
                let rule = match via {
                    Via::Rule(rule) => Some(rule),
                    Via::Interned(p) => policy.find_rule(held, effect, p),
                };
                match (
                    policy.roles.get(held as usize),
                    rule.and_then(|r| policy.rule(r)),
                ) {
                    (Some(role), Some(rule)) if denied => Explanation::Denied {
                        held: role.name.clone(),
                        role: rule.role.clone(),
                        scope: rule.scope.clone(),
                    },
                    (Some(role), Some(rule)) => Explanation::Granted {
                        held: role.name.clone(),
                        role: rule.role.clone(),
                        scope: rule.scope.clone(),
                    },
                    _ => Explanation::OtherPolicy,
                }
            }
            Why::NoGrant => Explanation::NoGrant,
            Why::NotInTenant => Explanation::NotInTenant,
            Why::OtherPolicy => Explanation::OtherPolicy,
        }
    }
}

/// A subject's roles as an assignment store holds them for one tenant: its roles in that
/// tenant, and its global roles (assigned outside any tenant).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignments {
    /// Roles assigned in the tenant. Empty: the subject is not a member of the tenant.
    pub tenant_roles: Vec<RoleName>,
    /// Roles assigned outside any tenant; only roles the policy marks `global` count.
    pub global_roles: Vec<RoleName>,
}

/// A subject's roles in one tenant, resolved against one policy ([`Policy::member`]): what a
/// check in a tenant reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    tenant: TenantId,
    in_tenant: bool,
    /// Tenant roles (non-global) and honoured global roles.
    all: RoleSet,
    /// Honoured global roles only.
    global: RoleSet,
}

impl Member {
    /// The tenant the tenant roles are for.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The roles a check in `tenant` reads: all of them in the member's own tenant, only the
    /// global ones elsewhere, `None` when there are none.
    #[inline]
    fn roles_in(&self, tenant: &TenantId) -> Option<&RoleSet> {
        if self.in_tenant && self.tenant == *tenant {
            Some(&self.all)
        } else if !self.global.is_empty() {
            Some(&self.global)
        } else {
            None
        }
    }
}

/// A compiled policy: immutable, shared behind an `Arc` (and swapped whole on reload, see
/// [`SharedPolicy`](crate::reload::SharedPolicy)). See the module docs for how checks run.
#[derive(Debug)]
pub struct Policy {
    pub(crate) id: u64,
    pub(crate) roles: Vec<Role>,
    pub(crate) by_name: HashMap<Box<str>, u32>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) perms: HashMap<Box<str>, u32>,
    pub(crate) perm_names: Vec<Permission>,
    /// Words per permission in the bitsets (one per 64 roles).
    pub(crate) words: usize,
    /// Per interned permission, `words` words: the roles whose closure grants it.
    pub(crate) allowed_by: Vec<u64>,
    /// Likewise, denies.
    pub(crate) denied_by: Vec<u64>,
}

impl Policy {
    /// Compiles a TOML policy (see [`PolicyCompiler`] for a file name and known
    /// permissions). Errors: the first [`PolicyError`], located.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        PolicyCompiler::new().toml(text)
    }

    /// Compiles a JSON policy. Errors: the first [`PolicyError`].
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        PolicyCompiler::new().json(text)
    }

    /// Reads and compiles a policy file (`.json`: JSON, otherwise TOML). Errors: the first
    /// [`PolicyError`], located in that file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        PolicyCompiler::new().load(path)
    }

    /// The role named `name`, if the policy defines it.
    pub fn role_id(&self, name: &str) -> Option<RoleId> {
        self.by_name.get(name).map(|&id| RoleId(id))
    }

    /// The roles' names, in id order.
    pub fn role_names(&self) -> impl Iterator<Item = &RoleName> {
        self.roles.iter().map(|r| &r.name)
    }

    /// Whether `name` is a global role (`global = true`).
    pub fn is_global(&self, name: &str) -> bool {
        self.by_name
            .get(name)
            .and_then(|&id| self.roles.get(id as usize))
            .is_some_and(|r| r.global)
    }

    /// Every grant and deny, in file order (role by role, in name order).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    fn rule(&self, id: u32) -> Option<&Rule> {
        self.rules.get(id as usize)
    }

    /// The interned id of `permission`, to check it without hashing its text each time.
    /// `None` when the policy never names it (checks still work, through the matcher).
    pub fn permission_id(&self, permission: &Permission) -> Option<PermissionId> {
        self.perms
            .get(permission.as_str())
            .map(|&index| PermissionId {
                policy: self.id,
                index,
            })
    }

    /// The named roles as a set; names the policy does not define are left out (they grant
    /// nothing).
    pub fn role_set<'a>(&self, names: impl IntoIterator<Item = &'a RoleName>) -> RoleSet {
        let mut set = RoleSet::empty(self.id);
        for name in names {
            if let Some(&id) = self.by_name.get(name.as_str()) {
                set.insert(id);
            }
        }
        set
    }

    /// `assignments` of a subject in `tenant`, resolved: tenant roles that are not global,
    /// and global roles that are (see [`RoleSource::global`](crate::source::RoleSource)).
    pub fn member(&self, tenant: &TenantId, assignments: &Assignments) -> Member {
        let mut all = RoleSet::empty(self.id);
        let mut global = RoleSet::empty(self.id);
        for name in &assignments.tenant_roles {
            if let Some(&id) = self.by_name.get(name.as_str())
                && self.roles.get(id as usize).is_some_and(|r| !r.global)
            {
                all.insert(id);
            }
        }
        for name in &assignments.global_roles {
            if let Some(&id) = self.by_name.get(name.as_str())
                && self.roles.get(id as usize).is_some_and(|r| r.global)
            {
                global.insert(id);
            }
        }
        all.union_with(&global);
        Member {
            tenant: tenant.clone(),
            in_tenant: !assignments.tenant_roles.is_empty(),
            all,
            global,
        }
    }

    /// Whether `member` may do `permission` in `tenant`. A subject with no role in `tenant`
    /// (and no global role) is refused before any rule is read
    /// ([`Explanation::NotInTenant`]); in another tenant than its own, only its global roles
    /// count. Then a deny in the closure of any role it holds wins; then a grant allows.
    #[inline]
    pub fn check(&self, tenant: &TenantId, member: &Member, permission: &Permission) -> Decision {
        match member.roles_in(tenant) {
            Some(roles) => self.check_roles(roles, permission),
            None => Decision {
                why: Why::NotInTenant,
            },
        }
    }

    /// [`check`](Self::check) of an interned permission: bit operations only.
    #[inline]
    pub fn check_id(
        &self,
        tenant: &TenantId,
        member: &Member,
        permission: PermissionId,
    ) -> Decision {
        match member.roles_in(tenant) {
            Some(roles) => self.check_roles_id(roles, permission),
            None => Decision {
                why: Why::NotInTenant,
            },
        }
    }

    /// Whether the roles of `roles` allow `permission`, whatever the tenant (for tools such as
    /// `palisade rbac check`; requests go through [`check`](Self::check)).
    #[inline]
    pub fn check_roles(&self, roles: &RoleSet, permission: &Permission) -> Decision {
        match self.perms.get(permission.as_str()) {
            Some(&index) => self.check_roles_id(
                roles,
                PermissionId {
                    policy: self.id,
                    index,
                },
            ),
            None => self.check_by_matcher(roles, permission),
        }
    }

    /// [`check_roles`](Self::check_roles) of an interned permission.
    #[inline]
    pub fn check_roles_id(&self, roles: &RoleSet, permission: PermissionId) -> Decision {
        if roles.policy != self.id || permission.policy != self.id {
            return Decision {
                why: Why::OtherPolicy,
            };
        }
        let p = permission.index;
        let start = p as usize * self.words;
        let range = start..start + self.words;
        if let Some(held) = self
            .denied_by
            .get(range.clone())
            .and_then(|bits| roles.first_common(bits))
        {
            return Decision {
                why: Why::Denied {
                    held,
                    via: Via::Interned(p),
                },
            };
        }
        if let Some(held) = self
            .allowed_by
            .get(range)
            .and_then(|bits| roles.first_common(bits))
        {
            return Decision {
                why: Why::Granted {
                    held,
                    via: Via::Interned(p),
                },
            };
        }
        Decision { why: Why::NoGrant }
    }

    /// The matcher over the wildcard rules of the held roles' closures: denies first.
    fn check_by_matcher(&self, roles: &RoleSet, permission: &Permission) -> Decision {
        if roles.policy != self.id {
            return Decision {
                why: Why::OtherPolicy,
            };
        }
        let first_match = |pick: fn(&Role) -> &[u32]| {
            roles.ids().find_map(|held| {
                let role = self.roles.get(held as usize)?;
                pick(role)
                    .iter()
                    .find(|&&r| self.rule(r).is_some_and(|r| r.scope.matches(permission)))
                    .map(|&rule| (held, rule))
            })
        };
        if let Some((held, rule)) = first_match(|r| &r.wild_denies) {
            return Decision {
                why: Why::Denied {
                    held,
                    via: Via::Rule(rule),
                },
            };
        }
        if let Some((held, rule)) = first_match(|r| &r.wild_grants) {
            return Decision {
                why: Why::Granted {
                    held,
                    via: Via::Rule(rule),
                },
            };
        }
        Decision { why: Why::NoGrant }
    }

    /// The first rule of `held`'s closure with `effect` that matches interned permission `p`.
    fn find_rule(&self, held: u32, effect: Effect, p: u32) -> Option<u32> {
        let role = self.roles.get(held as usize)?;
        let perm = self.perm_names.get(p as usize)?;
        (0u32..).zip(&self.rules).find_map(|(id, rule)| {
            let declared_in = self.by_name.get(rule.role.as_str())?;
            (rule.effect == effect
                && role.closure.binary_search(declared_in).is_ok()
                && rule.scope.matches(perm))
            .then_some(id)
        })
    }
}
