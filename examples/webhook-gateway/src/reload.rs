//! The routes' signing secrets, read through `palisade-secrets` and rotated without a restart:
//! each route's verifier is a `Rotation` behind `arc-swap`, rebuilt on `SIGHUP`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use palisade_secrets::{
    CachedSource, DEFAULT_TTL, DirectorySource, DotenvSource, EnvSource, Environment, ExposeSecret,
    Reload, Rotation, SecretSet, SecretSource, SecretsError, require,
};
use palisade_webhook::{AnyScheme, Provider, SecretString, Verifier};

use crate::GatewayError;
use crate::config::{Config, RouteConfig, SecretsConfig, checked_events_token, is_demo_value};

/// The secret source of a configuration, behind its cache.
pub(crate) type Source = Arc<CachedSource<Arc<dyn SecretSource>>>;

/// A route's verifier, rebuilt when its secrets change.
pub(crate) type RouteRotation = Rotation<Verifier<AnyScheme>>;

/// The source the `[secrets]` table names.
pub(crate) fn source(config: &SecretsConfig) -> Result<Source, GatewayError> {
    let inner: Arc<dyn SecretSource> = match config.source.as_str() {
        "env" => Arc::new(EnvSource::new()),
        "dir" => {
            let dir = config.dir.as_deref().ok_or_else(|| {
                GatewayError::Config("`[secrets]` source \"dir\" needs `dir`".to_owned())
            })?;
            Arc::new(DirectorySource::new(dir))
        }
        "dotenv" => Arc::new(
            DotenvSource::new(
                config.file.as_deref().unwrap_or(".env"),
                Environment::from_env(),
            )
            .map_err(secrets_error)?,
        ),
        other => {
            return Err(GatewayError::Config(format!(
                "`[secrets]` source `{other}`: use \"env\", \"dir\" or \"dotenv\""
            )));
        }
    };
    let ttl = config
        .cache_ttl_secs
        .map_or(DEFAULT_TTL, Duration::from_secs);
    Ok(Arc::new(CachedSource::new(inner).ttl(ttl)))
}

pub(crate) fn secrets_error(error: SecretsError) -> GatewayError {
    GatewayError::Config(format!("secrets: {error}"))
}

/// Startup validation: every route's named secrets, fetched at once; one error names every
/// missing one. Refuses the public demo secrets from the source on a non-loopback address.
pub(crate) async fn validate(
    config: &Config,
    source: &Source,
    listen: &[SocketAddr],
) -> Result<(), GatewayError> {
    let mut names: Vec<&str> = Vec::new();
    if let (None, Some(name)) = (&config.events_token, &config.events_token_env) {
        names.push(name);
    }
    for route in config.routes.values() {
        for name in &route.secrets_env {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    let set = require(source, &names).await.map_err(secrets_error)?;
    let demo = set
        .iter()
        .any(|(_, secret)| secret.lines().any(|l| is_demo_value(l.expose_secret())));
    if let Some(addr) = listen
        .iter()
        .find(|addr| demo && !addr.ip().to_canonical().is_loopback())
    {
        return Err(GatewayError::DemoSecretsOnPublicAddress { addr: *addr });
    }
    Ok(())
}

/// The bearer token of `GET /events`: `events_token` from the file, or the secret
/// `events_token_env` names, read through the `[secrets]` source (an environment variable by
/// default); `None` when neither is set.
pub(crate) async fn events_token(
    config: &Config,
    source: &Source,
) -> Result<Option<SecretString>, GatewayError> {
    let (None, Some(name)) = (&config.events_token, &config.events_token_env) else {
        return config.events_token();
    };
    let secret = source
        .fetch(name)
        .await
        .map_err(secrets_error)?
        .ok_or_else(|| {
            GatewayError::Config(format!("`events_token_env`: secret {name} is not set"))
        })?;
    checked_events_token(secret.value().clone()).map(Some)
}

/// The signing secrets of a route: those written in the file, then each line of each named
/// secret, in order.
fn route_secrets(route: &RouteConfig, set: &SecretSet) -> Vec<SecretString> {
    let mut out: Vec<SecretString> = route
        .secrets
        .iter()
        .map(|s| SecretString::from(s.as_str()))
        .collect();
    for name in &route.secrets_env {
        if let Some(secret) = set.get(name) {
            out.extend(secret.lines());
        }
    }
    out
}

/// The verifier rotation of route `name`.
pub(crate) async fn route_rotation(
    name: &str,
    route: &RouteConfig,
    provider: Provider,
    source: &Source,
    max_age: Option<Duration>,
) -> Result<RouteRotation, GatewayError> {
    if route.secrets.is_empty() && route.secrets_env.is_empty() {
        return Err(GatewayError::Config(format!(
            "route `{name}`: no `secrets` or `secrets_env`"
        )));
    }
    let names: Vec<&str> = route.secrets_env.iter().map(String::as_str).collect();
    let build_route = route.clone();
    let build = move |set: &SecretSet| {
        Verifier::new(
            AnyScheme::for_provider(provider)?,
            route_secrets(&build_route, set),
        )
    };
    let rotation = Rotation::new(Arc::clone(source), &names, build)
        .await
        .map_err(|e| GatewayError::Config(format!("route `{name}`: {e}")))?;
    Ok(match max_age {
        Some(max) => rotation.with_max_age(max),
        None => rotation,
    })
}

/// Re-reads the routes' secrets and swaps in new verifiers: what `SIGHUP` does. Clones share
/// the same routes.
#[derive(Clone)]
pub struct Reloader {
    source: Source,
    routes: Arc<[(String, Arc<RouteRotation>)]>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field(
                "routes",
                &self.routes.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// What a [`Reloader::reload`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reloaded {
    /// Routes whose verifier was rebuilt and swapped in.
    pub swapped: Vec<String>,
    /// Routes whose secrets could not be reloaded (a missing secret, a refused value): they
    /// keep verifying with their previous secrets. The errors name secrets, never values.
    pub failed: Vec<(String, String)>,
}

impl Reloader {
    pub(crate) fn new(source: Source, routes: Vec<(String, Arc<RouteRotation>)>) -> Self {
        Self {
            source,
            routes: routes.into(),
        }
    }

    /// Clears the secrets cache, re-reads every route's secrets, and swaps in a new verifier
    /// for each route whose secrets changed. Requests being verified finish with the verifier
    /// they loaded; a route whose reload fails keeps its previous verifier.
    pub async fn reload(&self) -> Reloaded {
        self.source.invalidate();
        let mut out = Reloaded::default();
        for (name, rotation) in self.routes.iter() {
            match rotation.reload().await {
                Ok(Reload::Swapped) => out.swapped.push(name.clone()),
                Ok(_) => {}
                Err(error) => out.failed.push((name.clone(), error.to_string())),
            }
        }
        tracing::info!(
            swapped = ?out.swapped,
            failed = out.failed.len(),
            "secrets reloaded"
        );
        out
    }
}

/// Reloads the secrets ([`Reloader::reload`]) on every `SIGHUP`, in a task on the current
/// runtime. The signal handler is installed before this returns, so a `SIGHUP` sent
/// afterwards never terminates the process (its default action).
///
/// # Errors
/// The I/O error of installing the signal handler.
#[cfg(unix)]
pub fn reload_on_sighup(reloader: Reloader) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading secrets");
            reloader.reload().await;
        }
    }))
}
