//! Refuse a request that was seen before, across every instance of a service.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod guard;
mod idempotency;
mod memory;
mod outbox;
mod sequence;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::ReplayError;
pub use guard::{Lease, Namespace, ReplayGuard};
pub use idempotency::{Claim, Idempotency};
pub use memory::{
    DEFAULT_NONCE_CAP, DEFAULT_NONCE_CAP_POLICY, MemoryNonceStore, MemoryNonceStoreBuilder,
};
pub use outbox::{
    IDEMPOTENCY_KEY_HEADER, IdempotencyKey, MAX_IDEMPOTENCY_KEY_LEN, Outbox, OutboxError, Sent,
};
pub use palisade_webhook::{CapPolicy, Tolerance};
pub use sequence::SequenceWindow;
pub use store::{
    ClaimOutcome, Freshness, LeaseToken, NonceStore, check_arguments, check_namespace, ttl_millis,
};
