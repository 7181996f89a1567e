//! Roles, permissions and scopes with one segment-wise wildcard syntax, tenant isolation, and
//! the [`Principal`] (tenant, subject, roles, scopes) that authentication puts into a request
//! and authorization reads.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod principal;
mod scope;

pub use principal::{IdError, MAX_ID_LEN, Principal, RoleName, SubjectId, TenantId};
pub use scope::{MAX_LEN, MAX_SEGMENTS, Permission, Scope, ScopeError, ScopeSet};
