//! A webhook gateway built from the Palisade crates: each configured route verifies the
//! provider's signature (`palisade-webhook`), refuses replays on a memory, Redis or Postgres
//! nonce store (`palisade-replay`, `palisade-redis`, `palisade-postgres`), rate-limits per
//! client IP on the same store (`palisade-ratelimit`; on Redis or Postgres behind a
//! `FallbackStore` with its over-limit shield, falling back to per-process limits), refuses credentials in URLs and unexpected media types
//! (`palisade-tower`), and keeps each accepted event in memory with its phone numbers
//! encrypted, blind-indexed and masked (`palisade-pii`).
//!
//! | route | answer |
//! |---|---|
//! | `POST /webhooks/<name>` | 200 `accepted` for a verified delivery, stored once; a duplicate of a stored one: 200 with `Palisade-Webhook-Duplicate: completed`, not stored again; 409 while the same delivery is being handled; 401, 400, 413, 415, 429, 503 per `palisade-tower` |
//! | `GET /events` | the accepted events as JSON, phone numbers masked; only with a configured bearer token (401 without it) |
//! | `GET /healthz` | 200 `ok` |
//! | `GET /metrics` | Prometheus text (`palisade_webhook_requests_total`, …) |
//!
//! [`build`] makes the router from a [`Config`]; [`serve`] runs it until a shutdown signal.
//! Route secrets are read through `palisade-secrets` (the `[secrets]` table); [`build_gateway`]
//! also returns the [`Reloader`] that re-reads them and swaps the routes' verifiers without a
//! restart ([`reload_on_sighup`] on `SIGHUP`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bearer;
mod config;
mod events;
mod payload;
mod phones;
mod reload;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, StatusCode};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use palisade_pii::{BlindIndex, Keyring, PiiError};
use palisade_ratelimit::{
    AlgorithmKind, DEFAULT_SHIELD_CAP, FallbackMode, FallbackStore, Limit, MemoryStore, Policy,
    Quota, RateLimitError, RateLimitStore,
};
use palisade_replay::{DEFAULT_NONCE_CAP, MemoryNonceStore, NonceStore, ReplayGuard};
use palisade_tower::{
    ClientIp, ContentTypeLayer, QueryCredentialLayer, RateLimitLayer, VerifiedWebhook, WebhookLayer,
};
use palisade_webhook::twilio::PublicUrl;
use palisade_webhook::{AnyScheme, Provider, WebhookError};
use tower::ServiceBuilder;

pub use config::{
    Config, DEFAULT_LISTEN, DEFAULT_MAX_BODY, DEMO_EVENTS_TOKEN, DEMO_SECRETS, DEMO_TWILIO_URL,
    MIN_EVENTS_TOKEN_LEN, RateLimitConfig, RouteConfig, SecretsConfig,
};
pub use events::{StoredEvent, StoredPhone};
#[cfg(unix)]
pub use reload::reload_on_sighup;
pub use reload::{Reloaded, Reloader};

/// At most this many events are kept; older ones are dropped first.
pub const MAX_EVENTS: usize = 10_000;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A route's webhook verifier could not be built (unknown provider, bad secret).
    #[error("route `{route}`: {source}")]
    Webhook {
        /// The route's name.
        route: String,
        /// What the webhook crate said (never quotes a secret).
        source: WebhookError,
    },
    /// A route's rate limit is invalid.
    #[error("route `{route}`: invalid rate limit: {source}")]
    RateLimit {
        /// The route's name.
        route: String,
        /// What the rate-limit crate said.
        source: RateLimitError,
    },
    /// The replay or rate-limit store could not be reached or prepared (the URL is never
    /// quoted).
    #[error("store: {0}")]
    Store(String),
    /// The dev keyring could not be generated.
    #[error("keyring: {0}")]
    Pii(#[from] PiiError),
    /// Binding or serving failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration uses the public demo secrets (or the demo `GET /events` token) and
    /// would listen on a non-loopback address ([`Config::check_listen`]).
    #[error(
        "refusing to listen on {addr} with the public demo secrets: they are published in the \
         README, so anyone could sign webhooks or read GET /events; listen on a loopback \
         address (127.0.0.1, [::1]) or pass --config with a configuration of real secrets \
         (see gateway.example.toml)"
    )]
    DemoSecretsOnPublicAddress {
        /// The address that was refused.
        addr: SocketAddr,
    },
}

/// The events and the keys that protect them, shared by the handlers.
struct AppState {
    keyring: Keyring,
    phone_index: BlindIndex,
    events: Mutex<Events>,
    metrics: Option<PrometheusHandle>,
    /// How many of the next event writes fail (0 but in this crate's tests: `test_hooks`).
    failing_writes: AtomicU32,
}

#[derive(Default)]
struct Events {
    next: u64,
    list: std::collections::VecDeque<StoredEvent>,
}

/// The installed Prometheus recorder (one per process: the `metrics` facade has one global
/// recorder), or `None` when another recorder was installed first.
fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => Some(handle),
            Err(error) => {
                tracing::warn!(%error, "could not install the Prometheus recorder; /metrics answers 503");
                None
            }
        })
        .clone()
}

/// The replay and rate-limit stores the configuration's `store` names.
struct Stores {
    nonces: Arc<dyn NonceStore>,
    rates: Arc<dyn RateLimitStore>,
}

/// Rate limits on a shared (Redis or Postgres) store: if it fails, each gateway falls back to
/// its own in-memory limits (the quota holds per instance until the store answers again), and
/// the over-limit shield answers keys already refused without a round trip.
fn shared_rates<P: RateLimitStore + 'static>(primary: P) -> Arc<dyn RateLimitStore> {
    Arc::new(
        FallbackStore::new(primary, MemoryStore::new(), FallbackMode::Secondary)
            .with_shield(DEFAULT_SHIELD_CAP),
    )
}

/// The stores the configuration names: `memory` (this process only), `redis://…` or
/// `postgres://…` (shared by every gateway on the same server).
async fn stores(store: &str, nonce_cap: Option<usize>) -> Result<Stores, GatewayError> {
    if store == "memory" {
        let cap = nonce_cap.unwrap_or(DEFAULT_NONCE_CAP);
        let nonces = MemoryNonceStore::builder()
            .cap(cap)
            .build()
            .map_err(|e| GatewayError::Config(format!("nonce_cap: {e}")))?;
        tracing::info!(
            store = "memory",
            nonce_cap = cap,
            "replay and rate limits: in-memory stores (this process only)"
        );
        return Ok(Stores {
            nonces: Arc::new(nonces),
            rates: Arc::new(MemoryStore::new()),
        });
    }
    if nonce_cap.is_some() {
        return Err(GatewayError::Config(
            "nonce_cap sets the cap of the memory store; Redis and Postgres have none".to_owned(),
        ));
    }
    if store.starts_with("redis://") || store.starts_with("rediss://") {
        let nonces =
            palisade_redis::RedisNonceStore::connect(store, palisade_redis::DEFAULT_TIMEOUT)
                .await
                .map_err(|e| GatewayError::Store(format!("redis: {e}")))?;
        // One reconnecting, multiplexed connection serves both stores.
        let rates = palisade_redis::RedisRateLimitStore::new(nonces.connection().clone());
        tracing::info!(
            store = "redis",
            "replay and rate limits: Redis stores (shared by every gateway on this server)"
        );
        return Ok(Stores {
            nonces: Arc::new(nonces),
            rates: shared_rates(rates),
        });
    }
    if store.starts_with("postgres://") || store.starts_with("postgresql://") {
        use palisade_postgres::sqlx::postgres::PgPoolOptions;
        // sqlx errors may quote the connection string: a fixed message instead.
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(2))
            .connect(store)
            .await
            .map_err(|_| GatewayError::Store("could not connect to postgres".to_owned()))?;
        let nonces = palisade_postgres::PostgresNonceStore::new(pool.clone());
        let rates = palisade_postgres::PostgresRateLimitStore::new(pool);
        let migrated = match nonces.migrate().await {
            Ok(()) => rates.migrate().await,
            Err(e) => Err(e),
        };
        migrated.map_err(|e| GatewayError::Store(format!("postgres: {e}")))?;
        tracing::info!(
            store = "postgres",
            "replay and rate limits: Postgres stores (shared by every gateway on this server)"
        );
        return Ok(Stores {
            nonces: Arc::new(nonces),
            rates: shared_rates(rates),
        });
    }
    Err(GatewayError::Config(
        "`store` must be \"memory\", \"redis://…\" or \"postgres://…\"".to_owned(),
    ))
}

fn policy(name: &str, limit: &RateLimitConfig) -> Result<Policy, GatewayError> {
    let wrap = |source| GatewayError::RateLimit {
        route: name.to_owned(),
        source,
    };
    let kind: AlgorithmKind = limit.algorithm.parse().map_err(|_| {
        GatewayError::Config(format!(
            "route `{name}`: unknown rate-limit algorithm `{}`",
            limit.algorithm
        ))
    })?;
    let mut quota =
        Quota::new(limit.limit, Duration::from_secs(limit.period_secs)).map_err(wrap)?;
    if let Some(burst) = limit.burst {
        quota = quota.with_burst(burst).map_err(wrap)?;
    }
    Policy::single(Limit::new(name, kind, quota).map_err(wrap)?).map_err(wrap)
}

/// The Twilio-style public URL of a route: a full URL ending in the route's path becomes its
/// base.
fn public_url(configured: &str, path: &str) -> PublicUrl {
    let trimmed = configured.trim_end_matches('/');
    let base = trimmed.strip_suffix(path).unwrap_or(trimmed);
    PublicUrl::Configured(base.to_owned())
}

fn valid_route_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Builds the gateway's router from `config`: connects the stores, generates the dev
/// keyring, installs the Prometheus recorder (once per process).
///
/// Serve it with [`serve`] (or with `into_make_service_with_connect_info::<SocketAddr>()`:
/// the rate limiter keys on the socket peer from `ConnectInfo`).
///
/// `GET /events` is served only when the configuration has a bearer token
/// ([`Config::events_token`]).
///
/// # Errors
/// [`GatewayError`] for an invalid route, an unreachable store, or a keyring failure;
/// [`GatewayError::DemoSecretsOnPublicAddress`] when `config.listen` is not a loopback address
/// and the configuration uses the public demo secrets.
pub async fn build(config: &Config) -> Result<Router, GatewayError> {
    Ok(build_with(config, 0).await?.router)
}

/// A built gateway: its router, and the [`Reloader`] that re-reads its secrets (on `SIGHUP`:
/// [`reload_on_sighup`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct Gateway {
    /// The routes (serve with [`serve`]).
    pub router: Router,
    /// Reloads the routes' secrets from the `[secrets]` source and swaps in new verifiers,
    /// without a restart.
    pub reloader: Reloader,
}

/// As [`build`], with the [`Reloader`] of the routes' secrets: each route verifies with the
/// secrets read through `palisade-secrets` (the configuration's `[secrets]` source) at start,
/// and with new ones after a reload.
///
/// # Errors
/// As [`build`]; a missing secret stops the start, every missing one named in one error.
pub async fn build_gateway(config: &Config) -> Result<Gateway, GatewayError> {
    build_with(config, 0).await
}

/// Test hooks, for this crate's own tests (feature `test-hooks`, enabled by its
/// dev-dependencies only).
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod test_hooks {
    use axum::Router;

    use crate::{Config, GatewayError};

    /// As [`build`](crate::build), with an event store whose next `failures` writes fail (the
    /// handler answers 500 `event store unavailable`), as a database outage would.
    ///
    /// # Errors
    /// As [`build`](crate::build).
    pub async fn build_failing_writes(
        config: &Config,
        failures: u32,
    ) -> Result<Router, GatewayError> {
        Ok(crate::build_with(config, failures).await?.router)
    }
}

async fn build_with(config: &Config, failing_writes: u32) -> Result<Gateway, GatewayError> {
    if config.routes.is_empty() {
        return Err(GatewayError::Config("no routes".to_owned()));
    }
    let listen = tokio::net::lookup_host(config.listen.as_str())
        .await
        .map_err(|_| {
            GatewayError::Config(format!(
                "`listen`: `{}` is not a socket address (such as 127.0.0.1:8080)",
                config.listen
            ))
        })?;
    let listen: Vec<SocketAddr> = listen.collect();
    for addr in &listen {
        config.check_listen(*addr)?;
    }
    // Every route's named secrets, read through the `[secrets]` source at once: one error
    // names every missing one.
    let secret_source = reload::source(&config.secrets)?;
    reload::validate(config, &secret_source, &listen).await?;
    let events_token = reload::events_token(config, &secret_source).await?;
    let max_age = config
        .secrets
        .max_age_days
        .map(|days| Duration::from_secs(days.saturating_mul(24 * 60 * 60)));
    let mut rotations = Vec::new();
    let metrics = metrics_handle();
    let Stores {
        nonces,
        rates: rate_store,
    } = stores(&config.store, config.nonce_cap).await?;
    let keyring = Keyring::generate()?;
    tracing::warn!(
        "dev keyring generated in memory at start: stored phone numbers cannot be decrypted after a restart; load a keyset (Keyring::from_json) in production"
    );
    let state = Arc::new(AppState {
        keyring,
        phone_index: events::phone_index(),
        events: Mutex::new(Events::default()),
        metrics,
        failing_writes: AtomicU32::new(failing_writes),
    });

    let mut router: Router<Arc<AppState>> = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics_route));
    match events_token {
        Some(token) => {
            let token = Arc::new(token);
            router = router.route(
                "/events",
                get(
                    move |State(state): State<Arc<AppState>>, headers: HeaderMap| {
                        let token = Arc::clone(&token);
                        async move {
                            if bearer::authorized(&token, &headers) {
                                events_route(&state)
                            } else {
                                bearer::unauthorized()
                            }
                        }
                    },
                ),
            );
        }
        None => tracing::info!(
            "GET /events is not served: set `events_token_env` (or `events_token`) in the configuration to serve it"
        ),
    }
    for (name, route) in &config.routes {
        if !valid_route_name(name) {
            return Err(GatewayError::Config(format!(
                "route name `{name}`: use letters, digits, `-` and `_`"
            )));
        }
        let path = format!("/webhooks/{name}");
        let webhook_err = |source| GatewayError::Webhook {
            route: name.clone(),
            source,
        };
        let provider: Provider = route.provider.parse().map_err(webhook_err)?;
        AnyScheme::for_provider(provider).map_err(webhook_err)?;
        // The route's verifier, rebuilt from its secrets on reload (SIGHUP).
        let rotation =
            Arc::new(reload::route_rotation(name, route, provider, &secret_source, max_age).await?);
        rotations.push((name.clone(), Arc::clone(&rotation)));
        // Deliveries are claimed per (provider, route name, `replay_namespace`): a sender that
        // holds one route's secret cannot claim ids that another route will receive.
        let mut webhook = WebhookLayer::rotating(rotation.handle())
            .replay_guard(ReplayGuard::new(Arc::clone(&nonces)))
            .route(name.clone());
        if let Some(prefix) = &config.replay_namespace {
            webhook = webhook.tenant(prefix.clone());
        }
        let mut webhook = webhook.max_body(
            route
                .max_body
                .or(config.max_body)
                .unwrap_or(DEFAULT_MAX_BODY),
        );
        match (&route.public_url, provider) {
            (Some(url), _) => webhook = webhook.public_url(public_url(url, &path)),
            (None, Provider::Twilio) => {
                return Err(GatewayError::Config(format!(
                    "route `{name}`: twilio needs `public_url`"
                )));
            }
            (None, _) => {}
        }
        let content_type = match provider {
            Provider::Slack => ContentTypeLayer::form(),
            Provider::Twilio => ContentTypeLayer::json_or_form(),
            _ => ContentTypeLayer::json(),
        };
        let route_name: Arc<str> = Arc::from(name.as_str());
        // The request itself, not `Extension` + `HeaderMap` extractors: those clone the
        // verified webhook and every header; the handler only reads them.
        let handler = post(
            move |State(state): State<Arc<AppState>>, req: axum::extract::Request| {
                let route = Arc::clone(&route_name);
                async move {
                    let (parts, _) = req.into_parts();
                    match parts.extensions.get::<VerifiedWebhook>() {
                        Some(webhook) => accept(&state, &route, webhook, &parts.headers),
                        None => not_verified(),
                    }
                }
            },
        );
        let handler = match &route.rate_limit {
            Some(limit) => {
                let rate = RateLimitLayer::new(name, Arc::clone(&rate_store), policy(name, limit)?)
                    .client_ip(ClientIp::new().with_peer(|parts| {
                        parts
                            .extensions
                            .get::<ConnectInfo<SocketAddr>>()
                            .map(|c| c.0.ip())
                    }));
                handler.layer(
                    ServiceBuilder::new()
                        .layer(rate)
                        .layer(QueryCredentialLayer::new())
                        .layer(content_type)
                        .layer(webhook),
                )
            }
            None => handler.layer(
                ServiceBuilder::new()
                    .layer(QueryCredentialLayer::new())
                    .layer(content_type)
                    .layer(webhook),
            ),
        };
        tracing::info!(route = %name, provider = %provider, path = %path, "webhook route");
        router = router.route(&path, handler);
    }
    Ok(Gateway {
        router: router.with_state(state),
        reloader: Reloader::new(secret_source, rotations),
    })
}

/// Stores a verified delivery and answers 200 (500 when the write fails: the claim is released
/// and the provider's retry is stored).
fn accept(
    state: &AppState,
    route: &str,
    webhook: &VerifiedWebhook,
    headers: &HeaderMap,
) -> Response {
    let failed = state
        .failing_writes
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failed {
        tracing::error!(route, "event not stored: the event store failed");
        return (StatusCode::INTERNAL_SERVER_ERROR, "event store unavailable").into_response();
    }
    // The lock is held only to number the event and to append it: parsing, finding phone
    // numbers and encrypting them run outside it, so concurrent deliveries do not queue on it.
    let index = {
        let mut events = state.events.lock().unwrap_or_else(PoisonError::into_inner);
        let index = events.next;
        events.next = index.saturating_add(1);
        index
    };
    let event = events::record(
        &state.keyring,
        &state.phone_index,
        &events::Incoming {
            index,
            route,
            provider: webhook.verified.provider,
            headers,
            body: &webhook.body,
            received_at: now_secs(),
        },
    );
    tracing::info!(
        route,
        provider = event.provider,
        index,
        event_id = event.event_id.as_deref().unwrap_or("-"),
        phones = event.phones.len(),
        "event accepted"
    );
    // The oldest event, once full, is freed after the lock is released: freeing it is not work
    // the other workers should queue behind.
    let dropped = {
        let mut events = state.events.lock().unwrap_or_else(PoisonError::into_inner);
        let dropped = if events.list.len() >= MAX_EVENTS {
            events.list.pop_front()
        } else {
            None
        };
        events.list.push_back(event);
        dropped
    };
    drop(dropped);
    (StatusCode::OK, "accepted").into_response()
}

/// The answer when the webhook layer handed over no [`VerifiedWebhook`] (it always does: this
/// is what axum's `Extension` extractor would answer).
fn not_verified() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Missing request extension: the webhook layer did not verify this request",
    )
        .into_response()
}

/// The stored events as JSON (the caller checked the bearer token).
fn events_route(state: &AppState) -> Response {
    let body = {
        let events = state.events.lock().unwrap_or_else(PoisonError::into_inner);
        serde_json::to_vec(&events.list)
    };
    match body {
        Ok(body) => {
            let mut res = Response::new(Body::from(body));
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn metrics_route(State(state): State<Arc<AppState>>) -> Response {
    match &state.metrics {
        Some(handle) => {
            let mut res = Response::new(Body::from(handle.render()));
            res.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            res
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response(),
    }
}

/// The router served with the peer address the layers read, stopped gracefully.
pub use palisade_tower::serve::{serve, shutdown_signal};
