//! The configuration file, and the demo configuration used without one.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;

use crate::GatewayError;

/// Where the gateway listens when neither the file nor `--listen` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The default largest webhook body, in bytes (64 KiB).
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// The demo secrets, one per provider, used by [`Config::demo`]. They are public (listed in the
/// README): never use them for a real route.
pub const DEMO_SECRETS: [(&str, &str); 8] = [
    // Standard Webhooks keys are base64 (24 to 64 bytes once decoded), `whsec_` optional.
    (
        "standard",
        "whsec_cGFsaXNhZGUtZGVtby1zdGFuZGFyZC1zZWNyZXQtMzI=",
    ),
    ("stripe", "whsec_palisade_demo_stripe"),
    ("github", "palisade-demo-github"),
    ("meta", "palisade-demo-meta-app-secret"),
    ("slack", "palisade-demo-slack-signing-secret"),
    ("twilio", "palisade-demo-twilio-auth-token"),
    ("shopify", "palisade-demo-shopify-client-secret"),
    ("vapi", "palisade-demo-vapi-secret"),
];

/// The bearer token of `GET /events` in the demo configuration. Public like [`DEMO_SECRETS`]
/// (listed in the README): the demo runs on a loopback address only.
pub const DEMO_EVENTS_TOKEN: &str = "palisade-demo-events-token";

/// The shortest bearer token accepted for `GET /events`, in characters (a token is a password
/// sent on every request: `openssl rand -hex 32` makes a good one).
pub const MIN_EVENTS_TOKEN_LEN: usize = 16;

/// The public URL of the demo Twilio route (what Twilio would be configured with).
pub const DEMO_TWILIO_URL: &str = "https://hooks.example.com/webhooks/twilio";

/// The gateway's configuration (a TOML file).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The socket address to listen on (`127.0.0.1:8080`).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The store of replay nonces and rate limits: `memory` (this process only), `redis://…` or
    /// `postgres://…` (shared by every gateway on that server).
    #[serde(default = "default_store")]
    pub store: String,
    /// With `store = "memory"`: the cap on live replay ids (`palisade_replay::DEFAULT_NONCE_CAP`,
    /// one million, when absent; about 33 bytes of heap each, so 33 MB at the default). A
    /// timestamped delivery's id stays live for 601 s (the 300 s tolerance each way, plus a
    /// second), so the default holds about 1,660 deliveries a second; past the cap, deliveries
    /// are refused with 503 (fail closed: no id is forgotten, and providers retry). Refused
    /// with a Redis or Postgres store, which have no cap of their own.
    #[serde(default)]
    pub nonce_cap: Option<usize>,
    /// A name added to every route's replay namespace (which is the provider and the route
    /// name alone when absent), so that gateways sharing a Redis or Postgres store keep apart
    /// what must not meet, such as staging and production.
    #[serde(default)]
    pub replay_namespace: Option<String>,
    /// The default largest webhook body, in bytes ([`DEFAULT_MAX_BODY`] when absent).
    #[serde(default)]
    pub max_body: Option<usize>,
    /// The bearer token that `GET /events` requires (`Authorization: Bearer <token>`, at least
    /// [`MIN_EVENTS_TOKEN_LEN`] characters). Without it (nor `events_token_env`), the route is
    /// not served. Prefer `events_token_env`: a TOML parse error quotes the offending line.
    #[serde(default, deserialize_with = "secret_option")]
    pub events_token: Option<SecretString>,
    /// The name of an environment variable holding the `GET /events` token (read at start).
    #[serde(default)]
    pub events_token_env: Option<String>,
    /// Where the secrets named by `secrets_env` come from (environment variables when
    /// absent), how long they are cached, and their maximum age.
    #[serde(default)]
    pub secrets: SecretsConfig,
    /// The routes, by name: route `x` is served at `POST /webhooks/x`.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteConfig>,
}

/// The `[secrets]` table: the source the routes' `secrets_env` names are read from
/// (`palisade-secrets`), at start and again on `SIGHUP`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// `env` (default: environment variables), `dir` (a directory of files: Docker's
    /// `/run/secrets`, a Kubernetes secret volume; rotation without restart on `SIGHUP`) or
    /// `dotenv` (a `.env` file; refused when `PALISADE_ENV=production`).
    #[serde(default = "default_source")]
    pub source: String,
    /// The directory of `source = "dir"`.
    #[serde(default)]
    pub dir: Option<String>,
    /// The file of `source = "dotenv"` (`.env` when absent).
    #[serde(default)]
    pub file: Option<String>,
    /// How long fetched secrets are cached, in seconds (300 when absent). `SIGHUP` clears the
    /// cache before it reloads.
    #[serde(default)]
    pub cache_ttl_secs: Option<u64>,
    /// Secrets older than this many days (by their file's modification time, or
    /// `<NAME>_CREATED_AT`) are reported at start and at each reload (`secrets.too_old`
    /// warning and the `palisade_secret_age_seconds` gauge); none when absent.
    #[serde(default)]
    pub max_age_days: Option<u64>,
}

impl Default for SecretsConfig {
    fn default() -> Self {
        Self {
            source: default_source(),
            dir: None,
            file: None,
            cache_ttl_secs: None,
            max_age_days: None,
        }
    }
}

fn default_source() -> String {
    "env".to_owned()
}

/// One webhook route.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// `standard`, `stripe`, `github`, `meta` (or `whatsapp`), `slack`, `twilio`, `shopify`,
    /// `vapi`.
    pub provider: String,
    /// The signing secrets, newest first (several during a rotation).
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Names of secrets holding signing secrets, read from the `[secrets]` source
    /// (environment variables by default) at start and on `SIGHUP` (also spelled
    /// `secret_names`). A value may hold several signing secrets, one per line, newest first
    /// (during a rotation). Every missing one stops the gateway at start, all named in one
    /// error.
    #[serde(default, alias = "secret_names")]
    pub secrets_env: Vec<String>,
    /// The public URL the provider posts to (required for Twilio): the full URL of this route,
    /// or the base URL (`https://hooks.example.com`) that the request path is appended to.
    #[serde(default)]
    pub public_url: Option<String>,
    /// The route's rate limit, per client IP (none when absent).
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// The largest body of this route, in bytes (the top-level `max_body` when absent).
    #[serde(default)]
    pub max_body: Option<usize>,
}

/// A rate limit: `limit` requests per `period_secs` seconds per client IP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// `gcra` (default), `token-bucket`, `leaky-bucket`, `fixed-window`,
    /// `sliding-window-log`, `sliding-window-counter`.
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// Requests admitted per period.
    pub limit: u64,
    /// The period, in seconds.
    pub period_secs: u64,
    /// The burst (GCRA, token and leaky bucket only; the limit when absent).
    #[serde(default)]
    pub burst: Option<u64>,
}

/// `token`, unless it is shorter than [`MIN_EVENTS_TOKEN_LEN`] characters.
pub(crate) fn checked_events_token(token: SecretString) -> Result<SecretString, GatewayError> {
    if token.expose_secret().chars().count() < MIN_EVENTS_TOKEN_LEN {
        return Err(GatewayError::Config(format!(
            "the `GET /events` token is shorter than {MIN_EVENTS_TOKEN_LEN} characters \
             (make one with `openssl rand -hex 32`)"
        )));
    }
    Ok(token)
}

/// Whether `secret` is one of the public demo values ([`DEMO_SECRETS`],
/// [`DEMO_EVENTS_TOKEN`]), compared in constant time.
pub(crate) fn is_demo_value(secret: &str) -> bool {
    DEMO_SECRETS
        .iter()
        .map(|(_, demo)| *demo)
        .chain([DEMO_EVENTS_TOKEN])
        .fold(false, |found, demo| {
            found | bool::from(secret.as_bytes().ct_eq(demo.as_bytes()))
        })
}

fn secret_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
}

fn default_listen() -> String {
    DEFAULT_LISTEN.to_owned()
}

fn default_store() -> String {
    "memory".to_owned()
}

fn default_algorithm() -> String {
    "gcra".to_owned()
}

impl Config {
    /// Parses a configuration file's text.
    ///
    /// # Errors
    /// [`GatewayError::Config`] with the TOML parser's message (which quotes the offending
    /// line: keep secrets in `secrets_env` rather than in the file).
    pub fn from_toml(text: &str) -> Result<Self, GatewayError> {
        toml::from_str(text).map_err(|e| GatewayError::Config(e.to_string()))
    }

    /// The demo configuration: one route per provider at `/webhooks/<provider>`, with
    /// [`DEMO_SECRETS`], an in-memory store, 100 requests per minute per client IP and route
    /// (GCRA), and a 64 KiB body limit.
    pub fn demo() -> Self {
        let routes = DEMO_SECRETS
            .iter()
            .map(|(provider, secret)| {
                let route = RouteConfig {
                    provider: (*provider).to_owned(),
                    secrets: vec![(*secret).to_owned()],
                    secrets_env: Vec::new(),
                    public_url: (*provider == "twilio").then(|| DEMO_TWILIO_URL.to_owned()),
                    rate_limit: Some(RateLimitConfig {
                        algorithm: default_algorithm(),
                        limit: 100,
                        period_secs: 60,
                        burst: None,
                    }),
                    max_body: None,
                };
                ((*provider).to_owned(), route)
            })
            .collect();
        Self {
            listen: default_listen(),
            store: default_store(),
            nonce_cap: None,
            replay_namespace: None,
            max_body: Some(DEFAULT_MAX_BODY),
            events_token: Some(SecretString::from(DEMO_EVENTS_TOKEN)),
            events_token_env: None,
            secrets: SecretsConfig::default(),
            routes,
        }
    }

    /// The bearer token of `GET /events`: `events_token`, or the value of the environment
    /// variable `events_token_env` names; `None` when neither is set (the route is then not
    /// served).
    ///
    /// # Errors
    /// [`GatewayError::Config`] when both are set, when the variable is not set, or when the
    /// token is shorter than [`MIN_EVENTS_TOKEN_LEN`] characters (the message never quotes it).
    pub fn events_token(&self) -> Result<Option<SecretString>, GatewayError> {
        let token = match (&self.events_token, &self.events_token_env) {
            (Some(_), Some(_)) => {
                return Err(GatewayError::Config(
                    "set `events_token` or `events_token_env`, not both".to_owned(),
                ));
            }
            (Some(token), None) => token.clone(),
            (None, Some(var)) => std::env::var(var).map(SecretString::from).map_err(|_| {
                GatewayError::Config(format!(
                    "`events_token_env`: environment variable {var} is not set"
                ))
            })?,
            (None, None) => return Ok(None),
        };
        checked_events_token(token).map(Some)
    }

    /// Whether a route secret or the `GET /events` token is one of the public demo values
    /// ([`DEMO_SECRETS`], [`DEMO_EVENTS_TOKEN`]), whether from the file, from the environment
    /// variables it names, or from [`Config::demo`]. Unset variables count as not demo (the
    /// gateway refuses them at start anyway).
    pub fn uses_demo_secrets(&self) -> bool {
        let from_env = |var: &String| std::env::var(var).ok().map(SecretString::from);
        let mut secrets: Vec<SecretString> = Vec::new();
        for route in self.routes.values() {
            secrets.extend(route.secrets.iter().map(|s| SecretString::from(s.as_str())));
            secrets.extend(route.secrets_env.iter().filter_map(from_env));
        }
        secrets.extend(self.events_token.clone());
        secrets.extend(self.events_token_env.iter().filter_map(from_env));
        secrets
            .iter()
            .any(|secret| is_demo_value(secret.expose_secret()))
    }

    /// Refuses to serve this configuration on `addr` when it is not a loopback address
    /// (`127.0.0.0/8`, `::1`, or either IPv4-mapped) and the configuration uses the public demo
    /// secrets ([`Config::uses_demo_secrets`]): anyone who read the README could sign webhooks
    /// or read `GET /events`.
    ///
    /// # Errors
    /// [`GatewayError::DemoSecretsOnPublicAddress`].
    pub fn check_listen(&self, addr: SocketAddr) -> Result<(), GatewayError> {
        if addr.ip().to_canonical().is_loopback() || !self.uses_demo_secrets() {
            return Ok(());
        }
        Err(GatewayError::DemoSecretsOnPublicAddress { addr })
    }
}
