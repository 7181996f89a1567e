//! Tower layers that put Palisade in front of axum, hyper and tonic services: webhook
//! verification with replay refusal, rate limiting behind trusted proxies, refusal of
//! credentials in URLs, and content-type enforcement.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body_limit;
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

pub use body_limit::{BodyField, BodyRateLimitLayer, BodyRateLimitService, MissingField};
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
