//! Compiling a policy: checked roles (see `analyze`) into the closures and bitsets of a
//! [`Policy`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::analyze::{Analysis, Effect, RuleDef, analyze};
use crate::error::{Location, PolicyError};
use crate::policy::{Policy, Role, Rule};
use crate::principal::RoleName;
use crate::scope::Permission;
use crate::source::{Drafts, PolicySource, parse_json, parse_toml};

/// The most distinct permissions a compiled policy interns.
pub const MAX_PERMISSIONS: usize = 16384;

/// Each compiled policy's id, so that role sets of one are not used with another.
static NEXT_POLICY: AtomicU64 = AtomicU64::new(1);

/// Compiles policies: optionally with a file name (for located errors) and the permissions
/// the application checks (interned, so their checks are bit operations; others work too,
/// through the matcher).
#[derive(Debug, Clone, Default)]
pub struct PolicyCompiler {
    file: Option<String>,
    known: Vec<Permission>,
}

impl PolicyCompiler {
    /// A compiler with no file name and no extra permission.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the file in errors.
    #[must_use]
    pub fn file(mut self, name: impl Into<String>) -> Self {
        self.file = Some(name.into());
        self
    }

    /// Permissions to intern besides those the policy names literally (a router's table).
    #[must_use]
    pub fn known_permissions(mut self, permissions: impl IntoIterator<Item = Permission>) -> Self {
        self.known.extend(permissions);
        self
    }

    /// Compiles a TOML policy. Errors: the first [`PolicyError`], located.
    pub fn toml(&self, text: &str) -> Result<Policy, PolicyError> {
        self.drafts(parse_toml(text, self.file.as_deref())?)
    }

    /// Compiles a JSON policy. Errors: the first [`PolicyError`] (lines for syntax errors).
    pub fn json(&self, text: &str) -> Result<Policy, PolicyError> {
        self.drafts(parse_json(text, self.file.as_deref())?)
    }

    /// Compiles a policy built in code (or read with serde from elsewhere).
    pub fn source(&self, source: &PolicySource) -> Result<Policy, PolicyError> {
        self.drafts(source.clone().drafts(self.file.as_deref()))
    }

    /// Reads and compiles `path`: JSON when its extension is `.json`, TOML otherwise. The path
    /// names the file in errors (unless [`file`](Self::file) was given).
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let name = self
            .file
            .clone()
            .unwrap_or_else(|| path.display().to_string());
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Io {
            file: name.clone(),
            reason: e.to_string(),
        })?;
        let compiler = Self {
            file: Some(name),
            known: self.known.clone(),
        };
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            compiler.json(&text)
        } else {
            compiler.toml(&text)
        }
    }

    fn drafts(&self, drafts: Drafts) -> Result<Policy, PolicyError> {
        let mut analysis = analyze(&drafts);
        if !analysis.errors.is_empty() {
            return Err(analysis.errors.swap_remove(0));
        }
        build(analysis, &self.known, drafts.at(None, None))
    }
}

fn build(a: Analysis, known: &[Permission], at: Location) -> Result<Policy, PolicyError> {
    let n = a.names.len();
    let words = n.div_ceil(64).max(1);
    let role_names: Vec<RoleName> = a.role_names.into_iter().flatten().collect();
    // Inheritance closures (the analysis refused cycles).
    let mut closures: Vec<Vec<u32>> = Vec::with_capacity(n);
    for start in 0..n {
        let mut seen = vec![false; n];
        let mut todo = vec![start];
        while let Some(r) = todo.pop() {
            if let Some(s) = seen.get_mut(r)
                && !*s
            {
                *s = true;
                todo.extend(a.edges.get(r).into_iter().flatten().map(|&e| e as usize));
            }
        }
        closures.push(
            (0u32..)
                .zip(seen)
                .filter_map(|(id, s)| s.then_some(id))
                .collect(),
        );
    }
    // Interned permissions: literal rules, then the known ones.
    let mut perms: HashMap<Box<str>, u32> = HashMap::new();
    let mut perm_names: Vec<Permission> = Vec::new();
    let literal = a
        .rules
        .iter()
        .filter(|r| r.scope.is_exact())
        .filter_map(|r| Permission::new(r.scope.as_str()).ok());
    for p in literal.chain(known.iter().cloned()) {
        if !perms.contains_key(p.as_str()) {
            let Ok(index) = u32::try_from(perm_names.len()) else {
                break;
            };
            if perm_names.len() >= MAX_PERMISSIONS {
                return Err(PolicyError::TooLarge {
                    at,
                    what: "permissions",
                    max: MAX_PERMISSIONS,
                });
            }
            perms.insert(p.as_str().into(), index);
            perm_names.push(p);
        }
    }
    // Per declaring role, the interned permissions its own grants and denies match.
    let pw = perm_names.len().div_ceil(64);
    let mut own_grants = vec![vec![0u64; pw]; n];
    let mut own_denies = vec![vec![0u64; pw]; n];
    for rule in &a.rules {
        let target = match rule.effect {
            Effect::Grant => own_grants.get_mut(rule.role as usize),
            Effect::Deny => own_denies.get_mut(rule.role as usize),
        };
        let Some(bits) = target else { continue };
        for (p, perm) in perm_names.iter().enumerate() {
            if rule.scope.matches(perm)
                && let Some(w) = bits.get_mut(p / 64)
            {
                *w |= 1 << (p % 64);
            }
        }
    }
    // Transposed through the closures: per permission, the roles that grant / deny it.
    let mut allowed_by = vec![0u64; perm_names.len() * words];
    let mut denied_by = vec![0u64; perm_names.len() * words];
    let mut roles = Vec::with_capacity(n);
    for (r, closure) in closures.into_iter().enumerate() {
        let mut granted = vec![0u64; pw];
        let mut denied = vec![0u64; pw];
        for &d in &closure {
            for (acc, own) in [(&mut granted, &own_grants), (&mut denied, &own_denies)] {
                if let Some(own) = own.get(d as usize) {
                    for (x, y) in acc.iter_mut().zip(own) {
                        *x |= y;
                    }
                }
            }
        }
        for (acc, table) in [(&granted, &mut allowed_by), (&denied, &mut denied_by)] {
            for p in 0..perm_names.len() {
                if acc.get(p / 64).is_some_and(|w| w & (1 << (p % 64)) != 0)
                    && let Some(w) = table.get_mut(p * words + r / 64)
                {
                    *w |= 1 << (r % 64);
                }
            }
        }
        let wild = |effect: Effect| -> Vec<u32> {
            (0u32..)
                .zip(&a.rules)
                .filter(|(_, rule)| {
                    rule.effect == effect
                        && !rule.scope.is_exact()
                        && closure.binary_search(&rule.role).is_ok()
                })
                .map(|(id, _)| id)
                .collect()
        };
        let Some(name) = role_names.get(r).cloned() else {
            continue;
        };
        roles.push(Role {
            name,
            global: a.globals.get(r).copied().unwrap_or(false),
            wild_grants: wild(Effect::Grant),
            wild_denies: wild(Effect::Deny),
            closure,
        });
    }
    let by_name = (0u32..)
        .zip(&roles)
        .map(|(id, role)| (Box::from(role.name.as_str()), id))
        .collect();
    let rules = a
        .rules
        .into_iter()
        .filter_map(
            |RuleDef {
                 role,
                 effect,
                 scope,
                 line,
             }| {
                Some(Rule {
                    role: role_names.get(role as usize)?.clone(),
                    effect,
                    scope,
                    line,
                })
            },
        )
        .collect();
    Ok(Policy {
        id: NEXT_POLICY.fetch_add(1, Ordering::Relaxed),
        roles,
        by_name,
        rules,
        perms,
        perm_names,
        words,
        allowed_by,
        denied_by,
    })
}
