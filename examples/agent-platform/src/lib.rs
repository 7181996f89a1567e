//! `agent-platform`: a multi-tenant voice-agent, booking, messaging and CRM API on Postgres,
//! composed from the Palisade crates only (nothing of theirs re-implemented here):
//!
//! | concern | crate |
//! |---|---|
//! | roles `owner`/`admin`/`agent`/`customer` (`policy.toml`), route permissions, ownership | palisade-rbac, palisade-tower `AuthorizeLayer` |
//! | session JWTs signed by the service, API keys with scopes, the retired shared token | palisade-auth, palisade-tower `AuthLayer` |
//! | passwords (argon2id), SMS one-time codes (attempts counted atomically) | palisade-otp |
//! | phones, e-mails, provider keys encrypted with blind indexes, masks | palisade-pii |
//! | E.164 phones, SSRF-guarded recording fetches, text cleaning | palisade-sanitize |
//! | audit of credential reads, recordings, exports, anonymization (reason required) | palisade-audit, palisade-tower `AuditLayer` |
//! | per-route limits and tier quotas with `RateLimit` headers | palisade-ratelimit, palisade-tower `RateLimitLayer` |
//! | the Vapi webhook and its replays | palisade-webhook, palisade-replay, palisade-tower `WebhookLayer` |
//! | every store on Postgres | palisade-postgres |
//! | origins, security headers | palisade-tower |
//! | secrets from the environment, a directory or a `.env` file | palisade-secrets |
//! | event and metric names | palisade-telemetry |
//!
//! [`build`] connects, migrates (palisade-postgres's tables and `migrations/`) and returns
//! the [`Platform`]: its router (tests drive it in-process) and the operator functions
//! ([`Platform::create_tenant`], [`Platform::create_user`], [`Platform::issue_api_key`],
//! [`Platform::seed_demo`]). [`serve`] runs it until a shutdown signal.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod error;
mod operator;
mod router;
mod routes;
mod state;
mod tier;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;

pub use config::{
    Config, DEFAULT_LISTEN, DEFAULT_SCHEMA, DEMO_LEGACY_TOKEN, Limits, SECRET_NAMES, Secrets, Ssrf,
    sha256_hex,
};
pub use error::{ApiError, StartError};
pub use operator::{DEMO_PASSWORD, NewUser};
pub use state::{API_KEY_PREFIX, ISSUER, POLICY_TOML, SESSION_TTL_SECS};

/// A built service.
#[derive(Debug)]
pub struct Platform {
    /// The routes (serve with [`serve`], or drive with `tower::ServiceExt::oneshot` after
    /// inserting a `ConnectInfo<SocketAddr>` extension: rate limits key on the peer).
    pub router: Router,
    state: Arc<state::AppState>,
}

/// The benchmark's baseline (feature `bench-hooks`, for `benches/throughput.rs` only).
#[cfg(feature = "bench-hooks")]
#[doc(hidden)]
pub mod bench_hooks {
    use axum::Router;
    use axum::routing::get;
    use palisade_rbac::Principal;

    use crate::Platform;

    impl Platform {
        /// `GET /calls` with the service's own handler and no layer at all: no
        /// authentication, authorization, rate limit, tier quota, audit or header layer;
        /// every request acts as `principal`.
        pub fn bare_calls_router(&self, principal: Principal) -> Router {
            Router::new()
                .route("/calls", get(crate::routes::calls::list))
                .with_state(std::sync::Arc::clone(&self.state))
                .layer(axum::Extension(principal))
        }
    }
}

/// Connects to `database_url`, applies every migration in `config.schema`, reads the secrets
/// and builds the router.
///
/// # Errors
/// [`StartError`]: invalid configuration, missing secrets (all named at once), Postgres
/// unreachable, or the public demo secrets with a non-loopback `listen`.
pub async fn build(config: &Config, database_url: &str) -> Result<Platform, StartError> {
    check_listen(config)?;
    let state = state::build_state(config, database_url).await?;
    let router = router::router(&state, config)?;
    Ok(Platform { router, state })
}

/// The demo secrets are published: refuse them on an address others can reach.
fn check_listen(config: &Config) -> Result<(), StartError> {
    if !config.uses_demo_secrets() {
        return Ok(());
    }
    let addr: SocketAddr = config.listen.parse().map_err(|_| {
        StartError::Config(format!("listen: `{}` is not an address", config.listen))
    })?;
    if addr.ip().to_canonical().is_loopback() {
        Ok(())
    } else {
        Err(StartError::Config(
            "the demo secrets are public: listen on a loopback address, or pass --config with \
             a [secrets] source"
                .to_owned(),
        ))
    }
}

/// The router served with the peer address the layers read, stopped gracefully.
pub use palisade_tower::serve::{serve, shutdown_signal};
