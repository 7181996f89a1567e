//! `palisade rbac lint`: every problem of a policy file, not just the first.

use std::fmt;

use crate::analyze::{Effect, RuleDef, analyze};
use crate::error::{Location, PolicyError};
use crate::scope::Scope;
use crate::source::{Drafts, parse_json, parse_toml};

/// One problem of a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// What refuses compilation: an unknown role in `inherits`, a cycle, an invalid role name
    /// or scope, a policy too large.
    Error(PolicyError),
    /// A deny that can never be the one that refuses: another deny of the same role, or of a
    /// role it inherits, already refuses everything it refuses (`denies = ["calls:*",
    /// "calls:delete"]`, or a deny repeated down the inheritance chain).
    UnreachableDeny {
        /// Where (the role declaring it, its line).
        at: Location,
        /// The deny.
        scope: Scope,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Error(e) => e.fmt(f),
            Self::UnreachableDeny { at, scope } => write!(
                f,
                "{at}: deny `{scope}` is unreachable: another deny of the role or of a role it inherits covers it"
            ),
        }
    }
}

/// Every problem of a TOML policy (empty: it compiles and has no dead deny).
///
/// # Errors
///
/// [`PolicyError::Syntax`] (or `TooLarge`) when the text cannot be read as a policy at all.
pub fn lint_toml(text: &str, file: Option<&str>) -> Result<Vec<Problem>, PolicyError> {
    Ok(lint(&parse_toml(text, file)?))
}

/// Every problem of a JSON policy.
///
/// # Errors
///
/// As [`lint_toml`].
pub fn lint_json(text: &str, file: Option<&str>) -> Result<Vec<Problem>, PolicyError> {
    Ok(lint(&parse_json(text, file)?))
}

fn lint(drafts: &Drafts) -> Vec<Problem> {
    let analysis = analyze(drafts);
    let mut problems: Vec<Problem> = analysis.errors.into_iter().map(Problem::Error).collect();
    let denies: Vec<(usize, &RuleDef)> = analysis
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.effect == Effect::Deny)
        .collect();
    for &(index, deny) in &denies {
        let closure = reachable(&analysis.edges, deny.role);
        let shadowed = denies.iter().any(|&(other_index, other)| {
            other_index != index
                && closure.contains(&other.role)
                && other.scope.covers(&deny.scope)
                // Two equal denies of one role: the later one is the dead one.
                && (other.role != deny.role || other_index < index || !deny.scope.covers(&other.scope))
        });
        if shadowed {
            problems.push(Problem::UnreachableDeny {
                at: drafts.at(
                    deny.line,
                    analysis.names.get(deny.role as usize).map(String::as_str),
                ),
                scope: deny.scope.clone(),
            });
        }
    }
    problems
}

/// `role` and every role it inherits, directly or not (cycles tolerated).
fn reachable(edges: &[Vec<u32>], role: u32) -> Vec<u32> {
    let mut seen = vec![role];
    let mut todo = vec![role];
    while let Some(r) = todo.pop() {
        for &next in edges.get(r as usize).into_iter().flatten() {
            if !seen.contains(&next) {
                seen.push(next);
                todo.push(next);
            }
        }
    }
    seen
}
