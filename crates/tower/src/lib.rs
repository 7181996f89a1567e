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
//!         // Only verified deliveries that are neither completed nor in progress get here.
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
//! // The provider sends it again (it did not see our answer): the handler does not run, and
//! // the answer says so.
//! let again = service.clone().oneshot(request()).await?;
//! assert_eq!(again.status(), StatusCode::OK);
//! assert_eq!(again.headers()[palisade_tower::DUPLICATE_HEADER], "completed");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The layers
//!
//! | layer | refuses with | reads |
//! |---|---|---|
//! | [`WebhookLayer`] | 401 bad signature, 400 malformed, 413 too large, 503 replay store down, 500 misconfigured; duplicates answered without the handler: 200 (configurable) for a completed delivery, 409 for one in progress, with a `Palisade-Webhook-Duplicate` header | the body (buffered up to a limit), headers, method, public URL, the matched route |
//! | [`RateLimitLayer`] | 429 with `Retry-After` and `RateLimit` fields; 503 when the store fails (fail closed, the default) or admit (fail open); 500 when no peer address is known | client IP ([`ClientIp`]: socket peer, proxy headers from trusted proxies only), an identity, the route |
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
//! **Webhook deliveries** are handled as Stripe, Svix and GitHub document receiving should
//! work: with a replay guard, a verified delivery is *claimed* before the handler runs,
//! *completed* when it answers 2xx (and other 4xx), *released* when it answers 5xx, 408 or
//! 429, fails, or its response future is dropped, so that a provider's retry after a failure
//! runs the handler again, and a retry after a success is answered 200 without it. Replay
//! namespaces are per provider, route and tenant ([`WebhookLayer::route`]).
//!
//! **Order** (outermost first): rate limit, query credentials, content type, webhook
//! verification, handler — so that floods are refused before any body is buffered, and
//! signatures are checked before anything parses the body.
//!
//! # Client IP and rate-limit keys
//!
//! [`RateLimitLayer`] keys requests by client IP through [`ClientIp`]:
//!
//! - **The peer** is the socket address: a [`SocketAddr`](std::net::SocketAddr) extension, or
//!   with feature **`axum`** axum's `ConnectInfo<SocketAddr>` (serve the app with
//!   `into_make_service_with_connect_info::<SocketAddr>()`), or a closure
//!   ([`ClientIp::with_peer`]). Without one, the layer answers 500 and its event says the fix
//!   (opt into one shared bucket with
//!   [`RateLimitLayer::allow_shared_bucket_without_peer`]): axum's plain `serve(listener, app)`
//!   records no peer, and one key for every client would let one flood lock out everyone.
//! - **Proxy headers** (`X-Forwarded-For`, or `Forwarded` per RFC 7239) are read only from
//!   trusted proxies ([`ClientIp::trust`], networks as `ipnet`'s [`IpNetwork`]), from the
//!   right, from their raw bytes: a non-ASCII byte or an unbalanced quote in the part the
//!   client wrote spoils only that element.
//! - **IPv6 clients are keyed by their `/64`** ([`DEFAULT_IPV6_PREFIX`];
//!   [`ClientIp::ipv6_prefix`]`(56)` for residential ISPs, which delegate a `/56` per
//!   customer), IPv4-mapped IPv6 addresses as IPv4.
//! - **Per route** ([`RateLimitLayer::per_route`]): the matched route template (axum's
//!   `MatchedPath`, feature `axum`), otherwise the percent-decoded, normalized path, so one
//!   resource spelled several ways is one bucket.
//!
//! `docs/threat-model/ratelimit.md` says what a client can and cannot do with keys.
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
//! # Features
//!
//! - `axum` (default): the route identity of a webhook replay namespace is axum 0.8's
//!   `MatchedPath` when [`WebhookLayer::route`] is not set.
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

pub use client_ip::{ClientIp, DEFAULT_IPV6_PREFIX, ForwardedHeader, IpNetwork};
pub use content_type::{ContentTypeLayer, ContentTypeService};
pub use error::TowerError;
pub use query::{DEFAULT_CREDENTIAL_PARAMS, QueryCredentialLayer, QueryCredentialService};
pub use ratelimit::{OnStoreFailure, RateLimitLayer, RateLimitService};
pub use webhook::{
    DEFAULT_MAX_BODY, DUPLICATE_HEADER, VerifiedWebhook, WebhookBody, WebhookLayer, WebhookService,
};

/// The error type bodies are converted into.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, `Send` future.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
