//! The shared state of the handlers: the Postgres pool and every Palisade component, built
//! once at start from the configuration and its secrets.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use palisade_audit::{Action, ChainKey, ChainKeys, ReasonPolicy, ResourceType, Sealer};
use palisade_auth::{
    ApiKeyPrefix, ApiKeys, Authenticator, JwtSigner, JwtValidation, JwtVerifier, KeySet,
    LegacyTokens,
};
use palisade_otp::{ChallengePolicy, Challenges, PasswordPolicy, Passwords, Pepper, Peppers};
use palisade_pii::{BlindIndex, Keyring, Normalizer};
use palisade_postgres::sqlx::postgres::PgPoolOptions;
use palisade_postgres::sqlx::{AssertSqlSafe, PgPool};
use palisade_postgres::{
    PostgresApiKeyStore, PostgresAuditSink, PostgresChallengeStore, PostgresNonceStore,
    PostgresRateLimitStore, PostgresRbacTables,
};
use palisade_ratelimit::{AlgorithmKind, Limit, Policy as RatePolicy, Quota, Tier, Tiers};
use palisade_rbac::{AssignmentStore, Authorizer, Policy, RelationStore, SharedPolicy};
use palisade_sanitize::reqwest::{Guarded, client_builder};
use palisade_sanitize::url::{IpLiterals, UrlPolicy};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::config::{Config, LoadedSecrets, load_secrets};
use crate::error::StartError;

/// The role policy of the example (`policy.toml`).
pub const POLICY_TOML: &str = include_str!("../policy.toml");
/// The service's own tables (`migrations/0001_platform.sql`).
const MIGRATION: &str = include_str!("../migrations/0001_platform.sql");
/// The issuer (`iss`) of the session tokens the service signs.
pub const ISSUER: &str = "agent-platform";
/// How long a session token lives, in seconds.
pub const SESSION_TTL_SECS: u64 = 3600;
/// The prefix of the API keys the service issues.
pub const API_KEY_PREFIX: &str = "ap";

/// Everything the handlers share.
pub(crate) struct AppState {
    pub(crate) pool: PgPool,
    pub(crate) schema: String,
    pub(crate) keyring: Keyring,
    pub(crate) email_index: BlindIndex,
    pub(crate) user_phone_index: BlindIndex,
    pub(crate) call_phone_index: BlindIndex,
    pub(crate) authz: Authorizer,
    pub(crate) assignments: Arc<dyn AssignmentStore>,
    pub(crate) relations: Arc<dyn RelationStore>,
    pub(crate) audit: Arc<PostgresAuditSink>,
    pub(crate) chain_key: SecretString,
    pub(crate) api_keys: Arc<ApiKeys<Arc<PostgresApiKeyStore>>>,
    pub(crate) challenges: Challenges,
    pub(crate) passwords: Arc<Passwords>,
    pub(crate) signer: JwtSigner,
    pub(crate) tiers: Tiers,
    pub(crate) rates: Arc<PostgresRateLimitStore>,
    pub(crate) nonces: Arc<PostgresNonceStore>,
    pub(crate) url_policy: Arc<UrlPolicy>,
    pub(crate) fetcher: Guarded,
    pub(crate) metrics: Option<PrometheusHandle>,
    pub(crate) policy: SharedPolicy,
    pub(crate) authenticator: Authenticator,
    pub(crate) vapi_secret: SecretString,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// SQL text with `__S__` replaced by the quoted schema (validated as an identifier at
    /// start, so the text stays a constant of this crate); values are always bound.
    pub(crate) fn sql(&self, text: &str) -> AssertSqlSafe<String> {
        AssertSqlSafe(text.replace("__S__", &format!("\"{}\"", self.schema)))
    }

    /// The chain keys of the audit log (for `GET /audit/verify`).
    pub(crate) fn chain_keys(&self) -> Result<ChainKeys, palisade_audit::AuditError> {
        ChainKey::from_hex(1, self.chain_key.expose_secret()).map(ChainKeys::new)
    }
}

/// The installed Prometheus recorder (one per process), or `None` when another recorder was
/// installed first.
fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .clone()
}

fn valid_schema(schema: &str) -> bool {
    !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.starts_with(|c: char| c.is_ascii_digit())
}

/// Tier quotas per tenant and day: free 10, basic 100, pro 1000, enterprise unlimited.
fn tiers() -> Result<Tiers, StartError> {
    let daily = |name: &str, n: u64| -> Result<RatePolicy, StartError> {
        let quota = Quota::per_day(n).map_err(StartError::component)?;
        let limit =
            Limit::new(name, AlgorithmKind::FixedWindow, quota).map_err(StartError::component)?;
        RatePolicy::single(limit).map_err(StartError::component)
    };
    Ok(Tiers::new()
        .with(Tier::Free, daily("free", 10)?)
        .with(Tier::Basic, daily("basic", 100)?)
        .with(Tier::Pro, daily("pro", 1000)?)
        .with_unlimited(Tier::Enterprise))
}

/// The SSRF policy of recording URLs: http and https, public addresses only, names only
/// (IP literals refused) unless the configuration says otherwise.
pub(crate) fn url_policy(config: &Config) -> Result<UrlPolicy, StartError> {
    let mut policy = UrlPolicy::new().schemes(["http", "https"]);
    if !config.ssrf.allow_ip_literals {
        policy = policy.ip_literals(IpLiterals::Refuse);
    }
    for net in &config.ssrf.exempt_nets {
        let net = net.parse().map_err(|_| {
            StartError::Config(format!("ssrf.exempt_nets: `{net}` is not a network"))
        })?;
        policy = policy.exempt_net(net);
    }
    for port in &config.ssrf.allow_ports {
        policy = policy.allow_port(*port);
    }
    Ok(policy)
}

fn pepper(secret: &SecretString) -> Result<Pepper, StartError> {
    let bytes: Box<[u8]> = secret.expose_secret().as_bytes().into();
    Pepper::new("p1", SecretBox::new(bytes)).map_err(StartError::component)
}

/// Connects to Postgres, applies every migration (palisade-postgres's and the service's) in
/// `config.schema`, reads the secrets and builds the state.
pub(crate) async fn build_state(
    config: &Config,
    database_url: &str,
) -> Result<Arc<AppState>, StartError> {
    if !valid_schema(&config.schema) {
        return Err(StartError::Config(
            "schema: lower-case letters, digits and `_`, at most 63 bytes".to_owned(),
        ));
    }
    let schema = config.schema.as_str();
    let LoadedSecrets {
        jwt_secret,
        pepper: pepper_secret,
        keyring,
        audit_chain_key,
        vapi_secret,
    } = load_secrets(&config.secrets).await?;
    // sqlx errors may quote the connection string: a fixed message instead.
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(3))
        .connect(database_url)
        .await
        .map_err(|_| StartError::Store("could not connect".to_owned()))?;
    let store = |e: palisade_postgres::PostgresStoreError| StartError::Store(e.to_string());

    let nonces = PostgresNonceStore::new(pool.clone())
        .with_schema(schema)
        .map_err(store)?;
    let rates = PostgresRateLimitStore::new(pool.clone())
        .with_schema(schema)
        .map_err(store)?;
    let challenge_store = PostgresChallengeStore::new(pool.clone())
        .with_schema(schema)
        .map_err(store)?;
    let rbac = PostgresRbacTables::new(pool.clone())
        .with_schema(schema)
        .map_err(store)?;
    let key_store = Arc::new(
        PostgresApiKeyStore::new(pool.clone())
            .with_schema(schema)
            .map_err(store)?,
    );
    // Credential reads need a reason too (export, anonymize and recordings do by default).
    let sealer = Sealer::new(ChainKeys::new(
        ChainKey::from_hex(1, audit_chain_key.expose_secret()).map_err(StartError::component)?,
    ))
    .with_policy(
        ReasonPolicy::default()
            .require_for_action(Action::CREDENTIAL_READ)
            .require_for_resource(ResourceType::new("api_key").map_err(StartError::component)?),
    );
    let audit = PostgresAuditSink::new(pool.clone(), sealer)
        .with_schema(schema)
        .map_err(store)?;
    nonces.migrate().await.map_err(store)?;
    rates.migrate().await.map_err(store)?;
    challenge_store.migrate().await.map_err(store)?;
    rbac.migrate().await.map_err(store)?;
    key_store.migrate().await.map_err(store)?;
    audit.migrate().await.map_err(store)?;
    palisade_postgres::sqlx::raw_sql(AssertSqlSafe(MIGRATION.replace("__SCHEMA__", schema)))
        .execute(&pool)
        .await
        .map_err(|e| StartError::Store(format!("the service's migration: {e}")))?;

    let policy = SharedPolicy::new(Policy::from_toml(POLICY_TOML).map_err(StartError::component)?);
    let assignments: Arc<dyn AssignmentStore> = Arc::new(rbac.assignment_store());
    let relations: Arc<dyn RelationStore> = Arc::new(rbac.relation_store());
    let authz = Authorizer::new(
        policy.clone(),
        Arc::clone(&assignments),
        Arc::clone(&relations),
    );

    let peppers = Peppers::new(pepper(&pepper_secret)?);
    let prefix = ApiKeyPrefix::new(API_KEY_PREFIX).map_err(StartError::component)?;
    let api_keys = Arc::new(ApiKeys::new(
        Arc::clone(&key_store),
        Peppers::new(pepper(&pepper_secret)?),
        prefix.clone(),
    ));
    let challenges = Challenges::new(
        Arc::new(challenge_store),
        Arc::new(peppers),
        ChallengePolicy::default(),
    )
    .map_err(StartError::component)?;
    let passwords = Arc::new(
        Passwords::new(PasswordPolicy::OWASP)
            .with_pepper(pepper(&pepper_secret)?)
            .map_err(StartError::component)?,
    );
    let signer = JwtSigner::hs256(jwt_secret.expose_secret().as_bytes())
        .map_err(StartError::component)?
        .with_kid("session-1");
    let jwt = JwtVerifier::with_keys(
        KeySet::single(signer.verifying_key().map_err(StartError::component)?),
        JwtValidation::new().issuer(ISSUER),
    );
    let legacy = LegacyTokens::new()
        .with_sha256_hex(config.legacy_token_sha256.iter().map(String::as_str))
        .map_err(StartError::component)?;
    let authenticator = Authenticator::new()
        .api_keys(ApiKeys::new(
            key_store,
            Peppers::new(pepper(&pepper_secret)?),
            prefix,
        ))
        .jwt(jwt)
        .legacy_tokens(legacy);
    let url_policy = Arc::new(url_policy(config)?);
    let client = client_builder(Arc::clone(&url_policy))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(StartError::component)?;
    let fetcher = Guarded::from_parts(client, Arc::clone(&url_policy));

    Ok(Arc::new(AppState {
        pool,
        schema: schema.to_owned(),
        keyring,
        email_index: BlindIndex::new("users", "email", Normalizer::Email),
        user_phone_index: BlindIndex::new("users", "phone", Normalizer::Phone),
        call_phone_index: BlindIndex::new("calls", "phone", Normalizer::Phone),
        authz,
        assignments,
        relations,
        audit: Arc::new(audit),
        chain_key: audit_chain_key,
        api_keys,
        challenges,
        passwords,
        signer,
        tiers: tiers()?,
        rates: Arc::new(rates),
        nonces: Arc::new(nonces),
        url_policy,
        fetcher,
        metrics: metrics_handle(),
        policy,
        authenticator,
        vapi_secret,
    }))
}
