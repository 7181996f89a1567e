//! Reading roles as written into checked parts: role names, inheritance edges, rules, cycles.
//! Shared by the compiler (which stops at the first error) and the linter (which reports them
//! all).

use std::collections::HashMap;

use crate::error::PolicyError;
use crate::principal::RoleName;
use crate::scope::Scope;
use crate::source::{Drafts, Entry};

/// The most roles a policy holds.
pub const MAX_ROLES: usize = 1024;
/// The most grants and denies a policy holds, all roles together.
pub const MAX_RULES: usize = 8192;

/// Whether a rule grants or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// A grant.
    Grant,
    /// A deny (wins over any grant).
    Deny,
}

/// One grant or deny, as declared by a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleDef {
    pub(crate) role: u32,
    pub(crate) effect: Effect,
    pub(crate) scope: Scope,
    pub(crate) line: Option<usize>,
}

/// What could be read of a policy: every role gets an id (in name order), even when its name
/// is invalid, so that the rest can still be checked.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    pub(crate) names: Vec<String>,
    pub(crate) role_names: Vec<Option<RoleName>>,
    pub(crate) lines: Vec<Option<usize>>,
    pub(crate) globals: Vec<bool>,
    pub(crate) edges: Vec<Vec<u32>>,
    pub(crate) rules: Vec<RuleDef>,
    pub(crate) errors: Vec<PolicyError>,
    /// Cycles found, each as role ids with its first repeated last.
    pub(crate) cycles: Vec<Vec<u32>>,
}

impl Analysis {
    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("?", String::as_str)
    }
}

/// Checks every role of `drafts`. Errors are collected in order of the roles (cycles last).
pub(crate) fn analyze(drafts: &Drafts) -> Analysis {
    let mut a = Analysis::default();
    if drafts.roles.len() > MAX_ROLES {
        a.errors.push(PolicyError::TooLarge {
            at: drafts.at(None, None),
            what: "roles",
            max: MAX_ROLES,
        });
        return a;
    }
    let ids: HashMap<&str, u32> = drafts
        .roles
        .iter()
        .zip(0u32..)
        .map(|(d, id)| (d.name.as_str(), id))
        .collect();
    let total_rules: usize = drafts
        .roles
        .iter()
        .map(|d| d.grants.len() + d.denies.len())
        .sum();
    if total_rules > MAX_RULES {
        a.errors.push(PolicyError::TooLarge {
            at: drafts.at(None, None),
            what: "grants and denies",
            max: MAX_RULES,
        });
        return a;
    }
    for (draft, id) in drafts.roles.iter().zip(0u32..) {
        let at = |line: Option<usize>| drafts.at(line.or(draft.line), Some(&draft.name));
        a.names.push(draft.name.clone());
        a.lines.push(draft.line);
        a.globals.push(draft.global);
        match RoleName::new(&draft.name) {
            Ok(name) => a.role_names.push(Some(name)),
            Err(error) => {
                a.role_names.push(None);
                a.errors.push(PolicyError::InvalidRoleName {
                    at: at(None),
                    error,
                });
            }
        }
        let mut edges = Vec::new();
        for entry in &draft.inherits {
            match ids.get(entry.text.as_str()) {
                Some(&to) => {
                    if !edges.contains(&to) {
                        edges.push(to);
                    }
                }
                None => a.errors.push(PolicyError::UnknownRole {
                    at: at(entry.line),
                    unknown: entry.text.clone(),
                }),
            }
        }
        a.edges.push(edges);
        let mut rules = |list: &[Entry], effect: Effect, field: &'static str| {
            for (index, entry) in list.iter().enumerate() {
                match Scope::new(&entry.text) {
                    Ok(scope) => a.rules.push(RuleDef {
                        role: id,
                        effect,
                        scope,
                        line: entry.line.or(draft.line),
                    }),
                    Err(error) => a.errors.push(PolicyError::InvalidScope {
                        at: at(entry.line),
                        field,
                        index,
                        text: entry.text.clone(),
                        error,
                    }),
                }
            }
        };
        rules(&draft.grants, Effect::Grant, "grants");
        rules(&draft.denies, Effect::Deny, "denies");
    }
    a.cycles = find_cycles(&a.edges);
    for cycle in &a.cycles {
        let first = cycle.first().copied().unwrap_or(0);
        let names: Vec<String> = cycle.iter().map(|&r| a.name(r).to_owned()).collect();
        a.errors.push(PolicyError::Cycle {
            at: drafts.at(
                a.lines.get(first as usize).copied().flatten(),
                Some(a.name(first)),
            ),
            cycle: names,
        });
    }
    a
}

/// Every elementary cycle met by a depth-first search (each back edge gives one), rotated to
/// start at its smallest id and kept once.
fn find_cycles(edges: &[Vec<u32>]) -> Vec<Vec<u32>> {
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let n = edges.len();
    let mut color = vec![WHITE; n];
    let mut cycles: Vec<Vec<u32>> = Vec::new();
    // An explicit stack of (node, next edge index): no recursion on deep chains.
    let mut path: Vec<u32> = Vec::new();
    let mut stack: Vec<(u32, usize)> = Vec::new();
    for start in 0..n {
        let Ok(start) = u32::try_from(start) else {
            break;
        };
        if color.get(start as usize) != Some(&WHITE) {
            continue;
        }
        stack.push((start, 0));
        path.push(start);
        if let Some(c) = color.get_mut(start as usize) {
            *c = GREY;
        }
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let child = edges.get(node as usize).and_then(|e| e.get(*next)).copied();
            *next += 1;
            match child {
                None => {
                    stack.pop();
                    path.pop();
                    if let Some(c) = color.get_mut(node as usize) {
                        *c = BLACK;
                    }
                }
                Some(child) => match color.get(child as usize).copied() {
                    Some(WHITE) => {
                        if let Some(c) = color.get_mut(child as usize) {
                            *c = GREY;
                        }
                        stack.push((child, 0));
                        path.push(child);
                    }
                    Some(GREY) => {
                        let from = path.iter().position(|&r| r == child).unwrap_or(0);
                        let mut cycle: Vec<u32> = path.get(from..).unwrap_or(&[]).to_vec();
                        if let Some(min_at) = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, r)| **r)
                            .map(|(i, _)| i)
                        {
                            cycle.rotate_left(min_at);
                        }
                        if let Some(&first) = cycle.first() {
                            cycle.push(first);
                        }
                        if !cycles.contains(&cycle) {
                            cycles.push(cycle);
                        }
                    }
                    _ => {}
                },
            }
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_found_once_each() {
        // 0 -> 1 -> 2 -> 0, 3 -> 3.
        let edges = vec![vec![1], vec![2], vec![0], vec![3]];
        assert_eq!(find_cycles(&edges), vec![vec![0, 1, 2, 0], vec![3, 3]]);
        let dag = vec![vec![1, 2], vec![2], vec![]];
        assert!(find_cycles(&dag).is_empty());
    }
}
