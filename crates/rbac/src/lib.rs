//! Roles, permissions and scopes with one segment-wise wildcard syntax, compiled policies
//! (inheritance closure and permission bitsets, deny wins, hot reload), tenant isolation,
//! ownership checks that answer 404 rather than leak existence, and the [`Principal`]
//! (tenant, subject, roles, scopes) that authentication puts into a request and authorization
//! reads.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod analyze;
mod authorizer;
mod compile;
mod error;
mod lint;
mod memory;
mod policy;
mod principal;
mod reload;
mod roleset;
mod scope;
mod source;
mod store;
mod verdict;

#[cfg(feature = "testing")]
pub mod testing;

pub use analyze::{Effect, MAX_ROLES, MAX_RULES};
pub use authorizer::Authorizer;
pub use compile::{MAX_PERMISSIONS, PolicyCompiler};
pub use error::{Location, PolicyError, StoreError};
pub use lint::{Problem, lint_json, lint_toml};
pub use memory::{MemoryAssignmentStore, MemoryRelationStore};
pub use policy::{Assignments, Decision, Member, PermissionId, Policy, RoleId, Rule};
pub use principal::{IdError, MAX_ID_LEN, Principal, RoleName, SubjectId, TenantId};
pub use reload::SharedPolicy;
pub use roleset::RoleSet;
pub use scope::{MAX_LEN, MAX_SEGMENTS, Permission, Scope, ScopeError, ScopeSet};
pub use source::{MAX_POLICY_BYTES, PolicySource, RoleSource};
pub use store::{AssignmentStore, Ownership, RelationStore, ResourceRef};
pub use verdict::{Existence, Explanation, Refusal, Verdict};
