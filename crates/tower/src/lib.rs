//! Tower layers that put Palisade in front of axum, hyper and tonic services: webhook
//! verification with replay refusal, rate limiting behind trusted proxies, refusal of
//! credentials in URLs, and content-type enforcement.
//!
//! ```
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use palisade_replay::{MemoryNonceStore, ReplayGuard};
//! use palisade_tower::{ContentTypeLayer, QueryCredentialLayer, VerifiedWebhook, WebhookBody, WebhookLayer};
//! use palisade_webhook::{Message, SecretString, Stripe, Verifier};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let verifier = Verifier::new(Stripe, [SecretString::from("whsec_test_0123456789abcdef")])?;
//! // As Stripe would sign it (in a real service, Stripe does this).
//! let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
//! let signed = verifier.sign(&Message::new(body))?.to_header_map()?;
//!
//! let service = ServiceBuilder::new()
//!     .layer(QueryCredentialLayer::new())
//!     .layer(ContentTypeLayer::json())
//!     .layer(
//!         WebhookLayer::new(verifier)
//!             .replay_guard(ReplayGuard::new(MemoryNonceStore::new()))
//!             .max_body(64 * 1024),
//!     )
//!     .service(service_fn(|req: Request<WebhookBody>| async move {
//!         // Only verified, first-time deliveries get here.
//!         let webhook = req.extensions().get::<VerifiedWebhook>().cloned();
//!         let provider = webhook.map_or("none", |w| w.verified.provider.as_str());
//!         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(provider))))
//!     }));
//!
//! let request = || {
//!     let mut req = Request::post("/webhooks/stripe")
//!         .header("content-type", "application/json")
//!         .body(Full::new(Bytes::from_static(body)))
//!         .unwrap();
//!     req.headers_mut().extend(signed.clone());
//!     req
//! };
//! let first = service.clone().oneshot(request()).await?;
//! assert_eq!(first.status(), StatusCode::OK);
//! let again = service.clone().oneshot(request()).await?;
//! assert_eq!(again.status(), StatusCode::CONFLICT); // a replay
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The layers
//!
//! | layer | refuses with | reads |
//! |---|---|---|
//! | [`WebhookLayer`] | 401 bad signature, 400 malformed, 413 too large, 409 replay (configurable), 503 replay store down, 500 misconfigured | the body (buffered up to a limit), headers, method, public URL |
//! | [`RateLimitLayer`] | 429 with `Retry-After` and `RateLimit` fields; 503 when the store fails (fail closed, the default) or admit (fail open) | client IP ([`ClientIp`]: socket peer, proxy headers from trusted proxies only), an identity, the path |
//! | [`QueryCredentialLayer`] | 400 for `token`, `access_token`, `api_key` in the query string | the query string |
//! | [`ContentTypeLayer`] | 415 unless JSON and/or form-encoded | `Content-Type` |
//!
//! Each layer works with any `http` request body and any response body that converts
//! `From<Bytes>` (axum's `Body`, `http_body_util::Full<Bytes>`); refusals are short
//! `text/plain` bodies that never carry a secret. Services are `Clone` (shared state is in an
//! `Arc`) and their futures are boxed and `Send`. With axum, add them with
//! `Router::layer` / `route_layer`; the webhook layer replaces the body with the buffered
//! bytes ([`WebhookBody`]), which axum's extractors read as usual.
//!
//! **Order** (outermost first): rate limit, query credentials, content type, webhook
//! verification, handler — so that floods are refused before any body is buffered, and
//! signatures are checked before anything parses the body.
//!
//! # What comes from `tower-http`
//!
//! CORS (`tower_http::cors`), security response headers (`SetResponseHeaderLayer`:
//! `Strict-Transport-Security`, `X-Content-Type-Options`, …), request body limits for routes
//! other than webhooks (`RequestBodyLimitLayer`), timeouts and tracing of requests are
//! `tower-http`'s; this crate does not re-implement them, and they compose with these layers
//! in the same `ServiceBuilder`.
//!
//! # Telemetry
//!
//! Events (target `palisade_tower`, with the name as the event's `name:` and its `event`
//! field) and `metrics` counters are listed in [`telemetry`]. No event carries a body, a
//! secret, a signature, a query value or a rate-limit key.
//!
//! See `docs/threat-model/tower.md` for trusted proxies, body limits and fail-closed defaults.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client_ip;
mod content_type;
mod error;
mod query;
mod ratelimit;
mod response;
pub mod telemetry;
mod webhook;

use std::future::Future;
use std::pin::Pin;

pub use client_ip::{ClientIp, ForwardedHeader, IpNetwork};
pub use content_type::{ContentTypeLayer, ContentTypeService};
pub use error::TowerError;
pub use query::{DEFAULT_CREDENTIAL_PARAMS, QueryCredentialLayer, QueryCredentialService};
pub use ratelimit::{OnStoreFailure, RateLimitLayer, RateLimitService};
pub use webhook::{DEFAULT_MAX_BODY, VerifiedWebhook, WebhookBody, WebhookLayer, WebhookService};

/// The error type bodies are converted into.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, `Send` future.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
