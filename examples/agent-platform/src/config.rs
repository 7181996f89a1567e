//! The configuration file (TOML) and the secrets it names, read through `palisade-secrets`.

use std::sync::Arc;

use async_trait::async_trait;
use palisade_pii::{Kek, Keyring};
use palisade_secrets::{
    CachedSource, DirectorySource, DotenvSource, EnvSource, Environment, ExposeSecret, Secret,
    SecretSet, SecretSource, SecretsError, require,
};
use secrecy::SecretString;
use serde::Deserialize;

use crate::error::StartError;

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8090";
/// The default Postgres schema of every table (the service's and palisade-postgres's).
pub const DEFAULT_SCHEMA: &str = "agent_platform";
/// The retired shared token of the demo configuration (refused with 401, its SHA-256 is in the
/// demo configuration): what the old integration used to send.
pub const DEMO_LEGACY_TOKEN: &str = "palisade-demo-legacy-shared-token";

/// The names of the secrets the service reads at start, all required.
pub const SECRET_NAMES: [&str; 6] = [
    "jwt_secret",
    "pepper",
    "pii_kek",
    "pii_keyset",
    "audit_chain_key",
    "vapi_secret",
];

/// The service's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// The address to listen on.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The Postgres schema of every table (a plain identifier).
    #[serde(default = "default_schema")]
    pub schema: String,
    /// Browser origins allowed to call the API (exact `scheme://host[:port]`); other origins
    /// are refused (403) on state-changing requests.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// SHA-256 (hex) of retired shared tokens: refused with 401 and `auth.legacy_token_blocked`.
    #[serde(default)]
    pub legacy_token_sha256: Vec<String>,
    /// Rate limits per route class, per minute.
    #[serde(default)]
    pub limits: Limits,
    /// Outbound fetches of recordings (the SSRF guard).
    #[serde(default)]
    pub ssrf: Ssrf,
    /// Where the secrets are read.
    #[serde(default)]
    pub secrets: Secrets,
}

/// Per-route rate limits (requests per minute): `auth` per client IP and route, `api` per
/// principal, `webhook` per client IP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Limits {
    /// Sign-in routes.
    pub auth_per_minute: u64,
    /// The API.
    pub api_per_minute: u64,
    /// The Vapi webhook.
    pub webhook_per_minute: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            auth_per_minute: 5,
            api_per_minute: 100,
            webhook_per_minute: 10,
        }
    }
}

/// The SSRF guard's exceptions, for a local recording server in tests only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Ssrf {
    /// Networks exempted from the refused ranges (`127.0.0.2/32`): explicit, never by default.
    #[serde(default)]
    pub exempt_nets: Vec<String>,
    /// Ports allowed besides 80 and 443.
    #[serde(default)]
    pub allow_ports: Vec<u16>,
    /// Allow IP-literal hosts that pass the range checks (off: names only).
    #[serde(default)]
    pub allow_ip_literals: bool,
}

/// The secret source: `demo` (the public demo values; loopback only), `env`, `dir` or `dotenv`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Secrets {
    /// `demo`, `env`, `dir` or `dotenv`.
    pub source: String,
    /// The directory of `dir`.
    #[serde(default)]
    pub dir: Option<String>,
    /// The file of `dotenv`.
    #[serde(default)]
    pub file: Option<String>,
}

impl Default for Secrets {
    fn default() -> Self {
        Self {
            source: "env".to_owned(),
            dir: None,
            file: None,
        }
    }
}

fn default_listen() -> String {
    DEFAULT_LISTEN.to_owned()
}

fn default_schema() -> String {
    DEFAULT_SCHEMA.to_owned()
}

impl Config {
    /// Parses a TOML configuration.
    ///
    /// # Errors
    /// [`StartError::Config`] naming the problem.
    pub fn from_toml(text: &str) -> Result<Self, StartError> {
        toml::from_str(text).map_err(|e| StartError::Config(e.to_string()))
    }

    /// The demo configuration: the public demo secrets (loopback addresses only), the demo
    /// legacy token retired, `http://localhost:5173` as the browser origin.
    pub fn demo() -> Self {
        Self {
            listen: default_listen(),
            schema: default_schema(),
            allowed_origins: vec!["http://localhost:5173".to_owned()],
            legacy_token_sha256: vec![sha256_hex(DEMO_LEGACY_TOKEN)],
            limits: Limits::default(),
            ssrf: Ssrf::default(),
            secrets: Secrets {
                source: "demo".to_owned(),
                dir: None,
                file: None,
            },
        }
    }

    /// Whether the secrets are the public demo ones.
    pub fn uses_demo_secrets(&self) -> bool {
        self.secrets.source == "demo"
    }
}

/// The lower-case hex SHA-256 of `text` (the form `legacy_token_sha256` takes).
pub fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The secrets the service runs on, read once at start.
pub(crate) struct LoadedSecrets {
    pub(crate) jwt_secret: SecretString,
    pub(crate) pepper: SecretString,
    pub(crate) keyring: Keyring,
    pub(crate) audit_chain_key: SecretString,
    pub(crate) vapi_secret: SecretString,
}

/// Reads every required secret from the configured source (one error names every missing one).
pub(crate) async fn load_secrets(config: &Secrets) -> Result<LoadedSecrets, StartError> {
    let inner: Arc<dyn SecretSource> = match config.source.as_str() {
        "demo" => Arc::new(DemoSource::new()?),
        "env" => Arc::new(EnvSource::new()),
        "dir" => Arc::new(DirectorySource::new(config.dir.as_deref().ok_or_else(
            || StartError::Config("[secrets] source \"dir\" needs `dir`".to_owned()),
        )?)),
        "dotenv" => Arc::new(
            DotenvSource::new(
                config.file.as_deref().unwrap_or(".env"),
                Environment::from_env(),
            )
            .map_err(secrets)?,
        ),
        other => {
            return Err(StartError::Config(format!(
                "[secrets] source `{other}`: use \"env\", \"dir\", \"dotenv\" or \"demo\""
            )));
        }
    };
    let source = CachedSource::new(inner);
    let set = require(&source, &SECRET_NAMES).await.map_err(secrets)?;
    let get = |name: &str| -> Result<SecretString, StartError> {
        set.get(name)
            .map(|s| s.value().clone())
            .ok_or_else(|| StartError::Config(format!("secret `{name}` is missing")))
    };
    let kek = Kek::parse(get("pii_kek")?.expose_secret()).map_err(StartError::Pii)?;
    let keyring =
        Keyring::from_json(get("pii_keyset")?.expose_secret(), &kek).map_err(StartError::Pii)?;
    Ok(LoadedSecrets {
        jwt_secret: get("jwt_secret")?,
        pepper: get("pepper")?,
        keyring,
        audit_chain_key: get("audit_chain_key")?,
        vapi_secret: get("vapi_secret")?,
    })
}

fn secrets(e: SecretsError) -> StartError {
    StartError::Config(format!("secrets: {e}"))
}

/// The public demo secrets, as a secret source: fixed values (published in the README, so
/// the service refuses them on a non-loopback address), and a keyset generated at start
/// under the demo KEK (what was encrypted is unreadable after a restart).
struct DemoSource {
    set: SecretSet,
}

/// The demo key-encryption key of the demo keyset.
const DEMO_KEK: &str = "0000000000000000000000000000000000000000000000000000000000000001";

/// The demo values, by name (the keyset is generated).
const DEMO_VALUES: [(&str, &str); 5] = [
    ("jwt_secret", "palisade-demo-jwt-secret-0123456789abcdef"),
    ("pepper", "palisade-demo-pepper-0123456789abcdef0123"),
    ("pii_kek", DEMO_KEK),
    (
        "audit_chain_key",
        "0000000000000000000000000000000000000000000000000000000000000002",
    ),
    ("vapi_secret", "palisade-demo-vapi-secret"),
];

impl DemoSource {
    fn new() -> Result<Self, StartError> {
        let mut set = SecretSet::new();
        for (name, value) in DEMO_VALUES {
            set.insert(name, Secret::new(SecretString::from(value), None));
        }
        let kek = Kek::parse(DEMO_KEK).map_err(StartError::Pii)?;
        let keyset = Keyring::generate()
            .and_then(|k| k.to_json(&kek))
            .map_err(StartError::Pii)?;
        set.insert("pii_keyset", Secret::new(SecretString::from(keyset), None));
        Ok(Self { set })
    }
}

#[async_trait]
impl SecretSource for DemoSource {
    async fn fetch(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        Ok(self.set.get(name).cloned())
    }

    async fn health(&self) -> Result<(), SecretsError> {
        Ok(())
    }
}
