//! Palisade: security building blocks for services that receive webhooks, hold personal data
//! and expose public endpoints. This facade re-exports each `palisade-*` crate behind a cargo
//! feature of the same name.
//!
//! | feature | crate | what |
//! |---|---|---|
//! | `webhook` (default) | [`palisade-webhook`](webhook) | verify and sign webhook requests for Standard Webhooks, Stripe, GitHub, Meta, Slack, Twilio, Shopify, Vapi and any HMAC scheme |
//! | `ed25519` | | Standard Webhooks `v1a` (Ed25519) signatures |
//! | `replay` | [`palisade-replay`](replay) | refuse replays: timestamp tolerance, nonce stores, sequence windows, idempotency |
//! | `ratelimit` | [`palisade-ratelimit`](ratelimit) | rate limits that hold behind a load balancer: GCRA, token and leaky buckets, fixed and sliding windows, multi-limit policies, penalty box, memory and fallback stores |
//! | `pii` | [`palisade-pii`](pii) | field-level encryption of personal data: AES-256-GCM(-SIV) envelopes bound to their row, keyrings with rotation and KEK-protected keysets, blind indexes for lookups, masking |
//! | `otp` | [`palisade-otp`](otp) | one-time codes that cannot be brute-forced or raced: keyed hashes under rotating peppers, one atomic check-and-count per answer, resend cooldown and issue rate limit; HOTP with a look-ahead window and TOTP (RFC 4226/6238), no reuse, throttled checks; `otpauth://` Key URIs; recovery codes |
//! | `redis` | [`palisade-redis`](redis) | Redis stores: the replay nonce store with delivery leases, the one-time-code challenge store, and the rate-limit store (one Lua script per decision, on Redis `TIME`); Redis Cluster, per-call timeouts, a reconnecting connection |
//! | `postgres` | [`palisade-postgres`](postgres) | PostgreSQL stores: the replay nonce store with delivery leases, the one-time-code challenge store, the rate-limit store (one statement per decision, on the database clock) and the append-only audit sink (one call per append, gapless per-tenant chains); shipped migrations, batched cleanup (Rust 1.94) |
//! | `tower` | [`palisade-tower`](tower) | tower layers for axum, hyper and tonic: webhook verification with replay refusal (report-only rollout, secrets rotated without restart), rate limiting behind trusted proxies, credential-in-URL refusal, content-type enforcement, strict origins with `tower-http`'s CORS, security response headers, Meta's verification handshake |
//! | `sanitize` | [`palisade-sanitize`](sanitize) | SSRF-safe outbound URLs: every IANA special-purpose IPv4/IPv6 range refused in any spelling (decimal, octal, hex, IPv4 inside IPv6), internal names, allowlists, DNS answers checked (`dns`), a reqwest resolver and redirect policy (`reqwest`); credential-in-URL detection; E.164 phone numbers (libphonenumber's metadata), safe path joins, text cleaning (Trojan Source, CR/LF), JSON limits and NoSQL operator keys |
//! | `auth` | [`palisade-auth`](auth) | who is calling: API keys `<prefix>_<id>_<secret><checksum>` stored as peppered HMACs (one lookup, constant-time comparison, revocation seen by the next check), JWT bearer tokens verified with the key's own algorithm (`alg: none` and algorithm confusion refused, JWKS with `kid` selection), a kill switch for retired shared tokens, one `Principal`; with `tower`, the `AuthLayer` |
//! | `secrets` | [`palisade-secrets`](secrets) | named secrets from environment variables, Docker/Kubernetes secret files or `.env` files (development only), cached with a TTL, validated at startup (every missing secret in one error), rotated without restart behind `arc-swap`, key-age warnings and gauge |
//! | `rbac` | [`palisade-rbac`](rbac) | roles, permissions and scopes with one segment-wise wildcard syntax (`admin:*` never matches `administrator:read`); policy files compiled to bitset checks (inheritance closure, deny wins, located errors, hot reload); tenants and explicit global roles; ownership checks answering 404 rather than leaking existence; assignment and relation stores; the `Principal` authentication hands to authorization |
//! | `audit` | [`palisade-audit`](audit) | a tamper-evident record of who touched personal data and credentials, and why: typed events that refuse plaintext personal data, required reasons (`export`, `anonymize`, recordings), per-tenant HMAC-SHA256 chains with key epochs, Ed25519 checkpoints that detect truncation, retention by export then purge, memory and JSONL sinks (Postgres in `postgres`), an audited `palisade-pii` decryption |
//! | `sanitize-html` | | rich-text HTML cleaning with `ammonia` (`palisade_sanitize::html`), URL attributes checked by the SSRF policy |
//! | `core` | [`palisade-core`](core) | the vocabulary the crates share, one type per concept: the `Clock` and its nanosecond `Timestamp`, `SystemClock`, `ManualClock` for tests, the `CapPolicy` of bounded tables, the `HmacAlgorithm` of webhook signatures and HOTP/TOTP; enabled by `webhook` and `ratelimit`, which re-export them |
//! | `telemetry` | [`palisade-telemetry`](telemetry) | the stable names of the security events (`tracing`) and metrics every crate emits, one list for log pipelines, alerts and dashboards; enabled by `ratelimit`, `tower`, `auth`, `rbac`, `audit` and `secrets` |
//!
//! With `tower`, the `auth`, `rbac` and `audit` features also enable palisade-tower's
//! `AuthLayer`, `AuthorizeLayer` and `AuditLayer`. The `palisade` command is the
//! `palisade-cli` crate (`cargo install palisade-cli`), not a feature of this library.
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
//!
//! The README's snippets and every crate's documentation use these paths
//! (`palisade::webhook::…`, `palisade::tower::…`): each compiles with this crate as the only
//! Palisade dependency, which its doctests check (with `-D warnings`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Doctests of this crate (its docs, the README, each crate's docs) deny warnings: unused
// variables or imports in an example fail the build.
#![doc(test(attr(deny(warnings))))]

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

#[cfg(feature = "otp")]
#[doc(inline)]
pub use palisade_otp as otp;

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

#[cfg(feature = "rbac")]
#[doc(inline)]
pub use palisade_rbac as rbac;

#[cfg(feature = "auth")]
#[doc(inline)]
pub use palisade_auth as auth;

#[cfg(feature = "audit")]
#[doc(inline)]
pub use palisade_audit as audit;
#[cfg(feature = "secrets")]
#[doc(inline)]
pub use palisade_secrets as secrets;

#[cfg(feature = "telemetry")]
#[doc(inline)]
pub use palisade_telemetry as telemetry;

#[cfg(feature = "core")]
#[doc(inline)]
pub use palisade_core as core;

// The README's Rust snippets and each crate's docs (`crates/<name>/src/lib.md`, the crate's
// `//!` docs), compiled and run here as doctests with the facade's paths only: an example
// that needs a type this facade does not re-export fails `cargo test -p palisade --doc`.
#[cfg(all(doctest, feature = "tower", feature = "pii"))]
#[doc = include_str!("../../../README.md")]
mod readme {}

#[cfg(all(doctest, feature = "webhook"))]
#[doc = include_str!("../../webhook/src/lib.md")]
mod webhook_docs {}

#[cfg(all(doctest, feature = "replay"))]
#[doc = include_str!("../../replay/src/lib.md")]
mod replay_docs {}

#[cfg(all(doctest, feature = "ratelimit"))]
#[doc = include_str!("../../ratelimit/src/lib.md")]
mod ratelimit_docs {}

#[cfg(all(doctest, feature = "pii"))]
#[doc = include_str!("../../pii/src/lib.md")]
mod pii_docs {}

#[cfg(all(doctest, feature = "redis"))]
#[doc = include_str!("../../redis/src/lib.md")]
mod redis_docs {}

#[cfg(all(doctest, feature = "postgres"))]
#[doc = include_str!("../../postgres/src/lib.md")]
mod postgres_docs {}

#[cfg(all(doctest, feature = "tower"))]
#[doc = include_str!("../../tower/src/lib.md")]
mod tower_docs {}

#[cfg(all(doctest, feature = "otp"))]
#[doc = include_str!("../../otp/src/lib.md")]
mod otp_docs {}

#[cfg(all(doctest, feature = "sanitize"))]
#[doc = include_str!("../../sanitize/src/lib.md")]
mod sanitize_docs {}

#[cfg(all(doctest, feature = "rbac"))]
#[doc = include_str!("../../rbac/src/lib.md")]
mod rbac_docs {}

#[cfg(all(doctest, feature = "auth"))]
#[doc = include_str!("../../auth/src/lib.md")]
mod auth_docs {}

#[cfg(all(doctest, feature = "audit"))]
#[doc = include_str!("../../audit/src/lib.md")]
mod audit_docs {}
// Its examples rotate a webhook verifier (tower) and a pii keyring.
#[cfg(all(doctest, feature = "secrets", feature = "tower", feature = "pii"))]
#[doc = include_str!("../../secrets/src/lib.md")]
mod secrets_docs {}

// The event and metric names through the facade, as a log pipeline or dashboard names them.
/// ```
/// use palisade::telemetry::{AUTHZ_DENIED, EVENTS, METRIC_WEBHOOK_REQUESTS};
///
/// assert_eq!(AUTHZ_DENIED, "authz.denied");
/// assert!(EVENTS.contains(&"webhook.signature_invalid"));
/// assert_eq!(METRIC_WEBHOOK_REQUESTS, "palisade_webhook_requests_total");
/// ```
#[cfg(all(doctest, feature = "telemetry"))]
mod telemetry_docs {}

// palisade-tower's AuditLayer, reached with the facade's `tower` and `audit` features: a
// designated route without an authenticated `Principal` is refused before its handler, and
// other routes pass through.
/// ```
/// use std::sync::Arc;
///
/// use axum::Router;
/// use axum::body::Body;
/// use axum::http::{Method, Request, StatusCode};
/// use axum::routing::get;
/// use palisade::audit::{Action, ChainKey, ChainKeys, MemorySink, ResourceType, SecretBox, Sealer};
/// use palisade::tower::{AuditLayer, AuditRoute};
/// use tower::ServiceExt;
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let key = ChainKey::new(1, SecretBox::new(Box::new([7u8; 32])))?;
///     let sink = Arc::new(MemorySink::new(Sealer::new(ChainKeys::new(key))));
///     let listen = AuditRoute::new(
///         Method::GET,
///         "/recordings/{id}",
///         ResourceType::new("recording")?,
///         Action::READ,
///     )?;
///     let app = Router::new()
///         .route("/recordings/{id}", get(|| async { "audio" }))
///         .route("/healthz", get(|| async { "ok" }))
///         .layer(AuditLayer::new(sink, [listen]));
///
///     let get = |uri: &str| Request::get(uri).body(Body::empty());
///     let refused = app.clone().oneshot(get("/recordings/rec-9")?).await?;
///     assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
///     let passed = app.oneshot(get("/healthz")?).await?;
///     assert_eq!(passed.status(), StatusCode::OK);
///     Ok(())
/// }
/// ```
#[cfg(all(doctest, feature = "tower", feature = "audit"))]
mod tower_audit_docs {}
