//! Tower layers that put Palisade in front of axum, hyper and tonic services: webhook
//! verification with replay refusal, rate limiting behind trusted proxies, refusal of
//! credentials in URLs, content-type enforcement, strict origins (with `tower-http`'s CORS),
//! security response headers and Meta's verification handshake.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "audit")]
mod audit;
#[cfg(feature = "auth")]
mod auth;
#[cfg(feature = "rbac")]
mod authorize;
mod body_limit;
mod client_ip;
mod content_type;
mod error;
mod guard;
mod headers;
mod meta;
mod origin;
mod query;
mod ratelimit;
mod response;
#[cfg(feature = "serve")]
pub mod serve;
pub mod telemetry;
mod webhook;

use std::future::Future;
use std::pin::Pin;

/// `arc-swap`'s [`ArcSwap`], which [`WebhookLayer::rotating`] reads its
/// verifier from, re-exported so callers need no direct dependency.
pub use arc_swap::{self, ArcSwap};
#[cfg(feature = "audit")]
pub use audit::{AuditLayer, AuditRoute, AuditRouteError, AuditService, DEFAULT_REASON_HEADER};
#[cfg(feature = "auth")]
pub use auth::{AuthLayer, AuthService, FailedAttempt};
#[cfg(feature = "rbac")]
pub use authorize::{AuthorizeLayer, AuthorizeService, RoutePermissions};
pub use body_limit::{BodyField, BodyRateLimitLayer, BodyRateLimitService, MissingField};
pub use client_ip::{ClientIp, DEFAULT_IPV6_PREFIX, ForwardedHeader, IpNetwork};
pub use content_type::{ContentTypeLayer, ContentTypeService};
pub use error::TowerError;
pub use guard::{Guard, GuardService};
pub use headers::{
    DEFAULT_CSP, DEFAULT_HSTS, DEFAULT_PERMISSIONS_POLICY, SecurityHeaderError, SecurityHeaders,
    SecurityHeadersService,
};
pub use meta::{MAX_CHALLENGE_LEN, MetaHandshakeError, MetaHandshakeLayer, MetaHandshakeService};
pub use origin::{AllowedOrigins, OriginError, OriginGuard, OriginGuardService};
pub use query::{DEFAULT_CREDENTIAL_PARAMS, QueryCredentialLayer, QueryCredentialService};
pub use ratelimit::{OnStoreFailure, RateLimitLayer, RateLimitService};
/// `tower-http`, whose [`CorsLayer`](tower_http::cors::CorsLayer) ([`AllowedOrigins::cors`])
/// and [`SetResponseHeaderLayer`](tower_http::set_header::SetResponseHeaderLayer)
/// ([`SecurityHeaders`]) these layers build, re-exported for their builder methods.
pub use tower_http;
pub use webhook::{
    DEFAULT_MAX_BODY, DUPLICATE_HEADER, UnverifiedWebhook, VerifiedWebhook, WebhookBody,
    WebhookLayer, WebhookService,
};

/// The error type bodies are converted into.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, `Send` future.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
