// Cargo.toml: palisade = { version = "0.1", features = ["tower"] }, axum = "0.8",
// tokio = { version = "1", features = ["full"] }, serde = { version = "1", features = ["derive"] }
use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use palisade::ratelimit::{Limit, MemoryStore, Policy, Quota};
use palisade::replay::{MemoryNonceStore, ReplayGuard};
use palisade::tower::{RateLimitLayer, VerifiedWebhook, WebhookLayer};
use palisade::webhook::{SecretString, Stripe, Verifier};
use serde::Deserialize;

#[derive(Deserialize)]
struct StripeEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

// Runs only for a verified delivery not seen before; `Json` parses the verified raw bytes.
async fn stripe_webhook(
    Extension(webhook): Extension<VerifiedWebhook>,
    Json(event): Json<StripeEvent>,
) -> String {
    format!(
        "{} {} from {}",
        event.kind,
        event.id,
        webhook.verified.provider.as_str()
    )
}

pub fn app(stripe_secret: SecretString) -> Result<Router, Box<dyn std::error::Error>> {
    // 10 requests a second per client IP, in bursts of 10 (palisade::ratelimit's policy types).
    let policy = Policy::single(Limit::gcra("stripe", Quota::per_second(10)?)?)?;
    let rate_limit = RateLimitLayer::new("webhooks", MemoryStore::new(), policy);
    let verify = WebhookLayer::new(Verifier::new(Stripe, [stripe_secret])?)
        .replay_guard(ReplayGuard::new(MemoryNonceStore::new()));
    // The last layer added is the outermost: floods are refused (429) before any body is
    // buffered and its signature checked (401).
    let webhooks = Router::new()
        .route("/webhooks/stripe", post(stripe_webhook))
        .route_layer(verify)
        .route_layer(rate_limit);
    // Merged after its layers: `/healthz` is neither signature-checked nor rate-limited.
    Ok(Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(webhooks))
}

#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = SecretString::from(std::env::var("STRIPE_WEBHOOK_SECRET")?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    // The peer address the rate limit keys on: without it, the rate-limited route answers 500.
    let app = app(secret)?.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}
