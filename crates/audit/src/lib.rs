//! A tamper-evident record of who touched personal data and credentials, and why: events
//! with typed fields that refuse plaintext personal data, a required reason where the policy
//! says so, one HMAC-SHA256 chain per tenant over a versioned canonical encoding, Ed25519
//! checkpoints that detect truncation, retention by export then purge, and memory and JSONL
//! sinks (Postgres in `palisade-postgres`).
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod action;
mod chain;
mod checkpoint;
mod client;
mod decrypt;
mod error;
mod event;
mod fields;
mod file;
mod jsonl;
mod key;
mod memory;
mod policy;
mod query;
mod retention;
mod sink;

#[cfg(feature = "testing")]
pub mod testing;

pub use action::{Action, MAX_NAME_LEN, RESERVED_PREFIX};
pub use chain::{ChainVerifier, Head, KEY_RESOURCE_TYPE, SYSTEM_SUBJECT, Sealer, verify};
pub use checkpoint::{
    CHECKPOINT_DOMAIN, Checkpoint, CheckpointSigner, public_key_from_hex, verify_with_checkpoints,
};
pub use client::{ClientAddress, IPV4_PREFIX, IPV6_PREFIX, KEYED_BITS};
pub use decrypt::AuditedKeyring;
pub use error::{AuditError, ChainError, Fault};
pub use event::{CANONICAL_MAGIC, Event, EventDraft, FORMAT_VERSION};
pub use fields::{
    Actor, MAX_ID_LEN, MAX_REASON_LEN, Outcome, Reason, Resource, ResourceId, ResourceType,
};
pub use file::{FsyncPolicy, JsonlSink, read_events};
pub use jsonl::MAX_LINE_LEN;
pub use key::{ChainKey, ChainKeys, ChainMac, KEY_LEN};
pub use memory::MemorySink;
pub use policy::ReasonPolicy;
pub use query::{DEFAULT_LIMIT, MAX_LIMIT, Query};
pub use retention::export;
pub use sink::AuditSink;

/// The ids of `palisade-rbac` an event is made of (so a user needs no direct dependency).
pub use palisade_rbac::{Principal, RoleName, SubjectId, TenantId};

/// The Ed25519 public key type of checkpoints (`ed25519-dalek`).
pub use ed25519_dalek::VerifyingKey;
/// The `secrecy` types keys come in.
pub use secrecy::{ExposeSecret, SecretBox};
