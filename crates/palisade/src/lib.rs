//! Palisade: security building blocks for services that receive webhooks, hold personal data
//! and expose public endpoints. This facade re-exports each `palisade-*` crate behind a cargo
//! feature of the same name.
//!
//! | feature | crate | what |
//! |---|---|---|
//! | `webhook` (default) | [`palisade-webhook`](webhook) | verify and sign webhook requests for Standard Webhooks, Stripe, GitHub, Meta, Slack, Twilio, Shopify, Vapi and any HMAC scheme |
//! | `ed25519` | | Standard Webhooks `v1a` (Ed25519) signatures |
//! | `replay` | [`palisade-replay`](replay) | refuse replays: timestamp windows, nonce stores, sequence windows, idempotency |
//! | `ratelimit` | [`palisade-ratelimit`](ratelimit) | rate limits that hold behind a load balancer: GCRA, token and leaky buckets, fixed and sliding windows, multi-limit policies, penalty box, memory and fallback stores |
//! | `pii` | [`palisade-pii`](pii) | field-level encryption of personal data: AES-256-GCM(-SIV) envelopes bound to their row, keyrings with rotation and KEK-protected keysets, blind indexes for lookups, masking |
//! | `redis` | [`palisade-redis`](redis) | Redis stores: the replay nonce store with delivery leases, and the rate-limit store (one Lua script per decision, on Redis `TIME`); Redis Cluster, per-call timeouts, a reconnecting connection |
//! | `postgres` | [`palisade-postgres`](postgres) | PostgreSQL stores: the replay nonce store with delivery leases, and the rate-limit store (one statement per decision, on the database clock); shipped migrations, batched cleanup (Rust 1.94) |
//! | `tower` | [`palisade-tower`](tower) | tower layers for axum, hyper and tonic: webhook verification with replay refusal, rate limiting behind trusted proxies, credential-in-URL refusal, content-type enforcement |
//! | `sanitize` | [`palisade-sanitize`](sanitize) | SSRF-safe outbound URLs: every IANA special-purpose IPv4/IPv6 range refused in any spelling (decimal, octal, hex, IPv4 inside IPv6), internal names, allowlists, DNS answers checked (`dns`), a reqwest resolver and redirect policy (`reqwest`); credential-in-URL detection |
//!
//! ```
//! # #[cfg(feature = "webhook")] {
//! use palisade::webhook::{GitHub, Request, Verifier};
//! use palisade::webhook::SecretString;
//!
//! // GitHub's documented example delivery.
//! let v = Verifier::new(GitHub::new(), [SecretString::from("It's a Secret to Everybody")])?;
//! let headers = [(
//!     "X-Hub-Signature-256",
//!     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
//! )];
//! v.verify(&Request::new(&headers, b"Hello, World!"))?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "webhook")]
#[doc(inline)]
pub use palisade_webhook as webhook;

#[cfg(feature = "replay")]
#[doc(inline)]
pub use palisade_replay as replay;

#[cfg(feature = "ratelimit")]
#[doc(inline)]
pub use palisade_ratelimit as ratelimit;

#[cfg(feature = "pii")]
#[doc(inline)]
pub use palisade_pii as pii;

#[cfg(feature = "redis")]
#[doc(inline)]
pub use palisade_redis as redis;

#[cfg(feature = "postgres")]
#[doc(inline)]
pub use palisade_postgres as postgres;

#[cfg(feature = "tower")]
#[doc(inline)]
pub use palisade_tower as tower;

#[cfg(feature = "sanitize")]
#[doc(inline)]
pub use palisade_sanitize as sanitize;
