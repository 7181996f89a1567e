//! The routes and the layers that guard them, outermost first:
//!
//! ```text
//! every answer   SecurityHeaders → CORS → OriginGuard (palisade-tower)
//! /auth/*        RateLimitLayer "auth" (5/min per client IP and route)
//! /webhooks/vapi RateLimitLayer "webhook" (10/min per IP) → QueryCredential → ContentType
//!                → WebhookLayer (Vapi HMAC, replay claims on Postgres)
//! API routes     AuthLayer (API key | session JWT | retired token 401) → RateLimitLayer
//!                tier quota (per tenant and day) → RateLimitLayer "api" (100/min per principal) →
//!                AuditLayer (designated routes, reason required) → AuthorizeLayer (route
//!                permission, roles and scopes) → handler (tenant in every query,
//!                authorize_owned for bookings)
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use http::StatusCode;
use palisade_audit::{Action, AuditSink, ResourceType};
use palisade_ratelimit::{Limit, Policy as RatePolicy, Quota};
use palisade_rbac::{Permission, Principal};
use palisade_replay::ReplayGuard;
use palisade_tower::{
    AllowedOrigins, AuditLayer, AuditRoute, AuthLayer, AuthorizeLayer, ClientIp, ContentTypeLayer,
    QueryCredentialLayer, RateLimitLayer, RoutePermissions, SecurityHeaders, WebhookLayer,
};
use palisade_webhook::{Vapi, Verifier};
use tower::ServiceBuilder;

use crate::config::Config;
use crate::error::StartError;
use crate::routes::{admin, assistants, bookings, calls, signin, webhook};
use crate::state::AppState;
use crate::tier;

/// The largest webhook body read, in bytes.
const MAX_WEBHOOK_BODY: usize = 256 * 1024;

/// The permission of each API route (a route missing here is refused: fail closed).
const PERMISSIONS: [(&str, &str, &str); 18] = [
    ("GET", "/me", "me:read"),
    ("POST", "/assistants", "assistants:write"),
    ("GET", "/assistants", "assistants:read"),
    ("GET", "/assistants/{id}", "assistants:read"),
    (
        "GET",
        "/assistants/{id}/credential",
        "assistants:credential:read",
    ),
    ("POST", "/calls", "calls:write"),
    ("GET", "/calls", "calls:read"),
    ("GET", "/calls/export", "calls:export"),
    ("GET", "/calls/{id}", "calls:read"),
    ("GET", "/calls/{id}/recording", "calls:recording:read"),
    ("POST", "/calls/{id}/anonymize", "calls:anonymize"),
    ("POST", "/bookings", "bookings:write"),
    ("GET", "/bookings", "bookings:read"),
    ("GET", "/bookings/{id}", "bookings:read"),
    ("PATCH", "/bookings/{id}", "bookings:write"),
    ("POST", "/api-keys", "admin:apikeys:write"),
    ("GET", "/audit", "admin:audit:read"),
    ("GET", "/audit/verify", "admin:audit:read"),
];

fn route_permissions() -> Result<RoutePermissions, StartError> {
    let mut table = RoutePermissions::new();
    for (method, route, permission) in PERMISSIONS {
        let method: Method = method.parse().map_err(StartError::component)?;
        let permission: Permission = permission.parse().map_err(StartError::component)?;
        table = table.route(method, route, permission);
    }
    Ok(table)
}

/// The routes recorded in the audit log (a reason is required for each: recordings, exports
/// and anonymization by palisade-audit's default policy, credential reads by ours).
fn audit_routes() -> Result<Vec<AuditRoute>, StartError> {
    let kind = |k: &str| ResourceType::new(k).map_err(StartError::component);
    let route = |m: Method, path: &str, k: ResourceType, a: Action| {
        AuditRoute::new(m, path, k, a).map_err(StartError::component)
    };
    Ok(vec![
        route(
            Method::GET,
            "/assistants/{id}/credential",
            kind("api_key")?,
            Action::CREDENTIAL_READ,
        )?,
        route(
            Method::GET,
            "/calls/{id}/recording",
            kind("recording")?,
            Action::READ,
        )?,
        route(Method::GET, "/calls/export", kind("call")?, Action::EXPORT)?,
        route(
            Method::POST,
            "/calls/{id}/anonymize",
            kind("call")?,
            Action::ANONYMIZE,
        )?,
    ])
}

/// The client's address: the socket peer (serve with `ConnectInfo<SocketAddr>`).
fn peer() -> ClientIp {
    ClientIp::new().with_peer(|parts| {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    })
}

fn per_minute(name: &str, n: u64) -> Result<RatePolicy, StartError> {
    let quota = Quota::per_minute(n).map_err(StartError::component)?;
    RatePolicy::single(Limit::gcra(name, quota).map_err(StartError::component)?)
        .map_err(StartError::component)
}

/// The service's router on `state` (serve it with `ConnectInfo<SocketAddr>`: see
/// [`serve`](crate::serve)).
pub(crate) fn router(state: &Arc<AppState>, config: &Config) -> Result<Router, StartError> {
    let rates = Arc::clone(&state.rates);
    let auth = Router::new()
        .route("/auth/password", post(signin::password))
        .route("/auth/otp/start", post(signin::otp_start))
        .route("/auth/otp/verify", post(signin::otp_verify))
        .route_layer(
            RateLimitLayer::new(
                "auth",
                Arc::clone(&rates),
                per_minute("auth", config.limits.auth_per_minute)?,
            )
            .client_ip(peer())
            .per_route(true),
        );

    let vapi = Verifier::new(
        Vapi::hmac(Vapi::default_hmac_plan()),
        [state.vapi_secret.clone()],
    )
    .map_err(StartError::component)?;
    let hooks = Router::new()
        .route("/webhooks/vapi", post(webhook::vapi))
        .route_layer(
            ServiceBuilder::new()
                .layer(
                    RateLimitLayer::new(
                        "webhook",
                        Arc::clone(&rates),
                        per_minute("webhook", config.limits.webhook_per_minute)?,
                    )
                    .client_ip(peer()),
                )
                .layer(QueryCredentialLayer::new())
                .layer(ContentTypeLayer::json())
                .layer(
                    WebhookLayer::new(vapi)
                        .replay_guard(ReplayGuard::new(Arc::clone(&state.nonces)))
                        .route("vapi")
                        .max_body(MAX_WEBHOOK_BODY),
                ),
        );

    let sink: Arc<dyn AuditSink> = state.audit.clone();
    let api = Router::new()
        .route("/me", get(admin::me))
        .route(
            "/assistants",
            post(assistants::create).get(assistants::list),
        )
        .route("/assistants/{id}", get(assistants::get_one))
        .route("/assistants/{id}/credential", get(assistants::credential))
        .route("/calls", post(calls::create).get(calls::list))
        .route("/calls/export", get(calls::export))
        .route("/calls/{id}", get(calls::get_one))
        .route("/calls/{id}/recording", get(calls::recording))
        .route("/calls/{id}/anonymize", post(calls::anonymize))
        .route("/bookings", post(bookings::create).get(bookings::list))
        .route(
            "/bookings/{id}",
            get(bookings::get_one).merge(patch(bookings::update)),
        )
        .route("/api-keys", post(admin::create_key))
        .route("/audit", get(admin::list))
        .route("/audit/verify", get(admin::verify))
        .route_layer(
            ServiceBuilder::new()
                .layer(QueryCredentialLayer::new())
                .layer(AuthLayer::new(state.authenticator.clone()).realm("agent-platform"))
                // The tier's headers are appended after the route limit set its own: both
                // policies show in `RateLimit-Policy`.
                .layer(axum::middleware::from_fn_with_state(
                    Arc::clone(state),
                    tier::limit,
                ))
                .layer(
                    RateLimitLayer::new(
                        "api",
                        Arc::clone(&rates),
                        per_minute("api", config.limits.api_per_minute)?,
                    )
                    .without_client_ip()
                    .identity(|parts| {
                        parts
                            .extensions
                            .get::<Principal>()
                            .map(|p| format!("{}/{}", p.tenant(), p.subject()))
                    }),
                )
                .layer(AuditLayer::new(sink, audit_routes()?).client_ip(peer()))
                .layer(AuthorizeLayer::routes(
                    state.policy.clone(),
                    route_permissions()?,
                )),
        );

    let origins = AllowedOrigins::new(config.allowed_origins.iter().map(String::as_str))
        .map_err(StartError::component)?;
    Ok(Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(auth)
        .merge(hooks)
        .merge(api)
        .with_state(Arc::clone(state))
        .layer(
            ServiceBuilder::new()
                .layer(SecurityHeaders::new())
                .layer(origins.cors())
                .layer(origins.guard()),
        ))
}

/// `GET /healthz`: 200 when Postgres answers, 503 otherwise.
async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match palisade_postgres::sqlx::query("SELECT 1")
        .execute(&state.pool)
        .await
    {
        Ok(_) => "ok".into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

/// `GET /metrics`: Prometheus text.
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response(),
    }
}
