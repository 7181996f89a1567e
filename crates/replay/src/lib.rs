//! Refuse a request that was seen before, across every instance of a service.
//!
//! ```
//! use std::sync::Arc;
//! use palisade_replay::{MemoryNonceStore, ReplayError, ReplayGuard};
//! use palisade_webhook::{FixedClock, Message, Request, SecretString, StandardWebhooks, Stripe, Verifier};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // One clock for the example, so the published Standard Webhooks vector is "now".
//! let clock = Arc::new(FixedClock::new(1_614_265_330));
//! let guard = ReplayGuard::new(Arc::new(MemoryNonceStore::new())).with_clock(clock.clone());
//!
//! // A Standard Webhooks (Svix) request: the vector of the reference libraries.
//! let standard = Verifier::new(
//!     StandardWebhooks,
//!     [SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
//! )?
//! .with_clock(clock.clone());
//! let headers = [
//!     ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
//!     ("webhook-timestamp", "1614265330"),
//!     ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
//! ];
//! let body = br#"{"test": 2432232314}"#;
//! let verified = standard.verify(&Request::new(&headers, body))?;
//! guard.check_verified(&verified, None).await?; // first delivery: accepted
//!
//! // A Stripe request, signed as Stripe would sign it.
//! let stripe = Verifier::new(Stripe, [SecretString::from("whsec_test_0123456789abcdef")])?.with_clock(clock.clone());
//! let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
//! let headers = stripe.sign(&Message::new(body))?;
//! let verified = stripe.verify(&Request::new(&headers, body))?;
//! guard.check_verified(&verified, Some("tenant-42")).await?;
//!
//! // The same Stripe request again, a minute later: still validly signed, but a replay.
//! clock.advance(60);
//! let again = stripe.verify(&Request::new(&headers, body))?;
//! assert!(matches!(guard.check_verified(&again, Some("tenant-42")).await, Err(ReplayError::Replayed)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Pieces
//!
//! - [`NonceStore`]: atomic operations on ids with a TTL, each one round trip:
//!   insert-if-absent, answering [`Freshness::Fresh`] or [`Freshness::Replayed`]; and delivery
//!   claims: [`claim`](NonceStore::claim) (in flight under a [`LeaseToken`] for a short
//!   lease, answering [`ClaimOutcome`]), [`complete`](NonceStore::complete) (remembered as
//!   handled for the TTL) and [`release`](NonceStore::release) (forgotten, so a retry runs
//!   again). [`MemoryNonceStore`] here; Redis and Postgres stores in `palisade-redis` /
//!   `palisade-postgres`; all pass [`testing`]'s conformance suite (feature `testing`).
//! - [`ReplayGuard`]: a timestamp [`Window`] (maximum age, maximum future skew, injectable
//!   clock) combined with a store, in [`Namespace`]s per provider and tenant. The TTL it gives
//!   the store is derived from the window, so an id can never expire while its timestamp is
//!   still accepted. [`ReplayGuard::check`] refuses any id seen before;
//!   [`ReplayGuard::claim`] gives a [`Lease`] to [complete](ReplayGuard::complete) when the
//!   handler succeeded or [release](ReplayGuard::release) when it failed, so that a provider's
//!   retry of a failed delivery is handled again and only a completed one is a duplicate.
//! - [`SequenceWindow`]: the RFC 4303 / RFC 6479 sliding window for increasing counters.
//! - [`Idempotency`]: "process, wait or skip" on a provider's event id, for business retries,
//!   with the same claim, complete and release (and the same [`Lease`]); not a security
//!   check, and [`Idempotency`]'s docs say why the two differ.
//!
//! # Providers that sign no timestamp
//!
//! Standard Webhooks, Stripe and Slack sign a timestamp: the window bounds how long an id must
//! be remembered, and a captured request is useless after it. GitHub, Meta, Shopify, Twilio and
//! Vapi's secret header sign none: `palisade-webhook` derives their replay key from the signed
//! bytes, and the guard remembers it for [`ReplayGuard::with_untimestamped_ttl`] (72 hours by
//! default). That stops re-sends within that time only; beyond it, a captured request could be
//! replayed, which is why TLS (so requests are not captured) and idempotent handlers still
//! matter for those providers.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod guard;
mod idempotency;
mod memory;
mod sequence;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::ReplayError;
pub use guard::{Lease, Namespace, ReplayGuard, Window};
pub use idempotency::{Claim, Idempotency};
pub use memory::{FullPolicy, MemoryNonceStore, MemoryNonceStoreBuilder};
pub use sequence::SequenceWindow;
pub use store::{
    ClaimOutcome, Freshness, LeaseToken, NonceStore, check_arguments, check_namespace, ttl_millis,
};
