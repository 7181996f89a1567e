//! [`PostgresApiKeyStore`]: palisade-auth's [`ApiKeyStore`] on PostgreSQL, one statement or
//! one PL/pgSQL function call per operation.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use palisade_auth::{
    ApiKeyRecord, ApiKeyStore, AuthError, CodeHash, KeyCheck, KeyId, LAST_USED_INTERVAL, NewApiKey,
    ScopeSet, SubjectId, TenantId,
};
use palisade_ratelimit::Timestamp;
use sqlx::{AssertSqlSafe, PgPool};

use crate::PostgresStoreError;
use crate::calls::{Calls, check_timeout, micros, timestamp_from_micros};
use crate::schema::{AUTH_SQL, DEFAULT_SCHEMA, check_schema, render};

/// The default timeout of one [`PostgresApiKeyStore`] call (2 seconds).
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_secs(2);

/// The columns of a record, in [`RecordRow`]'s order.
const COLUMNS: &str = "id, prefix, tenant, owner, scopes, auth_micros(created_at), \
                       auth_micros(expires_at), auth_micros(last_used_at), \
                       auth_micros(revoked_at)";

struct Statements {
    migrate: Arc<str>,
    insert: Arc<str>,
    check: Arc<str>,
    get: Arc<str>,
    revoke: Arc<str>,
    expire: Arc<str>,
    list: Arc<str>,
}

impl Statements {
    fn new(schema: &str) -> Self {
        let s = format!("\"{schema}\"");
        let columns = COLUMNS.replace("auth_micros(", &format!("{s}.auth_micros("));
        Self {
            migrate: render(AUTH_SQL, schema).into(),
            insert: format!(
                "INSERT INTO {s}.auth_api_keys AS k (id, prefix, tenant, owner, scopes, \
                 pepper_id, mac, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp(), \
                 clock_timestamp() + $8 * interval '1 microsecond') \
                 ON CONFLICT (id) DO NOTHING RETURNING {}",
                columns.replace("id,", "k.id,")
            )
            .into(),
            check: format!("SELECT * FROM {s}.auth_check($1, $2, $3, $4)").into(),
            get: format!("SELECT {columns} FROM {s}.auth_api_keys WHERE id = $1").into(),
            revoke: format!(
                "UPDATE {s}.auth_api_keys SET revoked_at = clock_timestamp() \
                 WHERE id = $1 AND revoked_at IS NULL"
            )
            .into(),
            expire: format!(
                "UPDATE {s}.auth_api_keys SET expires_at = LEAST(\
                 COALESCE(expires_at, 'infinity'::timestamptz), \
                 clock_timestamp() + $2 * interval '1 microsecond') \
                 WHERE id = $1 RETURNING {columns}"
            )
            .into(),
            list: format!(
                "SELECT {columns} FROM {s}.auth_api_keys WHERE tenant = $1 \
                 ORDER BY created_at, id"
            )
            .into(),
        }
    }
}

/// An [`ApiKeyStore`] on PostgreSQL (14 or later), deciding with the database's clock
/// (`clock_timestamp()`).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use palisade_auth::{ApiKeyPrefix, ApiKeys, KeySpec, Pepper, Peppers, ScopeSet};
/// use palisade_postgres::PostgresApiKeyStore;
/// use palisade_postgres::sqlx::postgres::PgPoolOptions;
///
/// // Needs a PostgreSQL server.
/// let pool = PgPoolOptions::new().connect("postgres://postgres@127.0.0.1:5432/test").await?;
/// let store = PostgresApiKeyStore::new(pool).with_schema("palisade")?;
/// store.migrate().await?; // table and function, IF NOT EXISTS / CREATE OR REPLACE
///
/// let keys = ApiKeys::new(store, Peppers::new(Pepper::generate("2026-01")?), ApiKeyPrefix::new("pal")?);
/// let issued = keys
///     .issue(KeySpec {
///         tenant: "acme".parse()?,
///         owner: "client-7".parse()?,
///         scopes: ScopeSet::parse_list("calls:read")?,
///         ttl: None,
///     })
///     .await?;
/// # let _ = issued;
/// # Ok(())
/// # }
/// ```
///
/// # Table
///
/// Created by [`migrate`](Self::migrate) (`migrations/0006_auth.sql`) in the store's schema:
/// `auth_api_keys`, one row per key (id, prefix, tenant, owner, space-separated scopes, the
/// pepper id and the 32-byte MAC of the secret, creation, expiry, last use and revocation
/// instants). Never a secret.
///
/// # One round trip per operation
///
/// - [`check`](ApiKeyStore::check): `auth_check(…)`: one lookup by id, the MAC compared with
///   the candidate naming its pepper, then revoked / expired, and `last_used_at` written only
///   when older than [`LAST_USED_INTERVAL`] (an `UPDATE … WHERE last_used_at <= now −
///   interval`, so concurrent checks write it once). No cache: a revocation is visible to
///   the next check on every instance.
/// - [`insert`](ApiKeyStore::insert): `INSERT … ON CONFLICT (id) DO NOTHING RETURNING` (no
///   row: [`AuthError::DuplicateKeyId`]).
/// - [`revoke`](ApiKeyStore::revoke), [`expire_within`](ApiKeyStore::expire_within): one
///   `UPDATE` each; [`get`](ApiKeyStore::get), [`list`](ApiKeyStore::list): one `SELECT`.
///
/// The MAC comparison is SQL equality on `bytea`, not constant-time: the values are
/// HMAC-SHA256 outputs under a pepper the database never sees, so their timing reveals
/// nothing an attacker can use (the memory store compares in constant time).
///
/// # Timeouts and errors
///
/// Each call runs under the store's timeout ([`DEFAULT_AUTH_TIMEOUT`], 2 s, unless
/// [`with_timeout`](Self::with_timeout) says otherwise). Every failure is
/// [`AuthError::StoreUnavailable`] with a reason beginning `postgres:`, never a verdict.
#[derive(Clone)]
pub struct PostgresApiKeyStore {
    pool: PgPool,
    schema: Arc<str>,
    sql: Arc<Statements>,
    timeout: Duration,
}

impl fmt::Debug for PostgresApiKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresApiKeyStore")
            .field("schema", &self.schema)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresApiKeyStore {
    /// A store on `pool` in [`DEFAULT_SCHEMA`], with [`DEFAULT_AUTH_TIMEOUT`].
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            schema: DEFAULT_SCHEMA.into(),
            sql: Arc::new(Statements::new(DEFAULT_SCHEMA)),
            timeout: DEFAULT_AUTH_TIMEOUT,
        }
    }

    /// Uses the table in `schema` instead of [`DEFAULT_SCHEMA`].
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] unless `schema` is a plain identifier.
    pub fn with_schema(mut self, schema: &str) -> Result<Self, PostgresStoreError> {
        check_schema(schema)?;
        self.schema = schema.into();
        self.sql = Arc::new(Statements::new(schema));
        Ok(self)
    }

    /// Sets the timeout of each call (default [`DEFAULT_AUTH_TIMEOUT`]).
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] for a zero timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, PostgresStoreError> {
        self.timeout = check_timeout(timeout)?;
        Ok(self)
    }

    /// The schema of the store's table.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Creates the schema, table and function if they do not exist, in one transaction
    /// under the crate's advisory lock: safe at every start-up of every instance.
    ///
    /// # Errors
    /// [`PostgresStoreError::Unavailable`] when the database refuses (permissions, …).
    pub async fn migrate(&self) -> Result<(), PostgresStoreError> {
        self.calls().migrate(&self.sql.migrate).await
    }

    fn calls(&self) -> Calls<'_> {
        Calls {
            pool: &self.pool,
            timeout: self.timeout,
        }
    }
}

fn unexpected() -> AuthError {
    AuthError::StoreUnavailable("postgres: unexpected reply".to_owned())
}

/// An instant in µs since the epoch as a timestamp.
fn instant(us: i64) -> Result<Timestamp, AuthError> {
    timestamp_from_micros(us).ok_or_else(unexpected)
}

fn optional(us: Option<i64>) -> Result<Option<Timestamp>, AuthError> {
    us.map(instant).transpose()
}

type RecordRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

type CheckRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn record(row: RecordRow) -> Result<ApiKeyRecord, AuthError> {
    let (id, prefix, tenant, owner, scopes, created, expires, last_used, revoked) = row;
    Ok(ApiKeyRecord {
        id: KeyId::new(&id).map_err(|_| unexpected())?,
        prefix,
        tenant: TenantId::new(&tenant).map_err(|_| unexpected())?,
        owner: SubjectId::new(&owner).map_err(|_| unexpected())?,
        scopes: ScopeSet::parse_list(&scopes).map_err(|_| unexpected())?,
        created_at: instant(created)?,
        expires_at: optional(expires)?,
        last_used_at: optional(last_used)?,
        revoked_at: optional(revoked)?,
    })
}

fn store_error(e: PostgresStoreError) -> AuthError {
    AuthError::StoreUnavailable(format!("postgres: {e}"))
}

#[async_trait]
impl ApiKeyStore for PostgresApiKeyStore {
    async fn insert(&self, key: NewApiKey) -> Result<ApiKeyRecord, AuthError> {
        let query = sqlx::query_as::<_, RecordRow>(AssertSqlSafe(self.sql.insert.clone()))
            .bind(key.id.as_str())
            .bind(&key.prefix)
            .bind(key.tenant.as_str())
            .bind(key.owner.as_str())
            .bind(key.scopes.to_string())
            .bind(key.hash.pepper_id())
            .bind(&key.hash.mac()[..])
            .bind(key.ttl.map(micros));
        let row = self
            .calls()
            .run(query.fetch_optional(&self.pool))
            .await
            .map_err(store_error)?;
        record(row.ok_or(AuthError::DuplicateKeyId)?)
    }

    async fn check(&self, id: &KeyId, candidates: &[CodeHash]) -> Result<KeyCheck, AuthError> {
        let (ids, macs): (Vec<String>, Vec<Vec<u8>>) = candidates
            .iter()
            .map(|h| (h.pepper_id().to_owned(), h.mac().to_vec()))
            .unzip();
        let query = sqlx::query_as::<_, CheckRow>(AssertSqlSafe(self.sql.check.clone()))
            .bind(id.as_str())
            .bind(ids)
            .bind(macs)
            .bind(micros(LAST_USED_INTERVAL));
        let (outcome, prefix, tenant, owner, scopes, created, expires, last_used) = self
            .calls()
            .run(query.fetch_one(&self.pool))
            .await
            .map_err(store_error)?;
        match outcome.as_str() {
            "invalid" => Ok(KeyCheck::Invalid),
            "revoked" => Ok(KeyCheck::Revoked),
            "expired" => Ok(KeyCheck::Expired),
            "valid" => {
                let row = (
                    id.as_str().to_owned(),
                    prefix.ok_or_else(unexpected)?,
                    tenant.ok_or_else(unexpected)?,
                    owner.ok_or_else(unexpected)?,
                    scopes.ok_or_else(unexpected)?,
                    created.ok_or_else(unexpected)?,
                    expires,
                    last_used,
                    None,
                );
                Ok(KeyCheck::Valid(record(row)?))
            }
            _ => Err(unexpected()),
        }
    }

    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, AuthError> {
        let query =
            sqlx::query_as::<_, RecordRow>(AssertSqlSafe(self.sql.get.clone())).bind(id.as_str());
        let row = self
            .calls()
            .run(query.fetch_optional(&self.pool))
            .await
            .map_err(store_error)?;
        row.map(record).transpose()
    }

    async fn revoke(&self, id: &KeyId) -> Result<bool, AuthError> {
        let query = sqlx::query(AssertSqlSafe(self.sql.revoke.clone())).bind(id.as_str());
        let done = self
            .calls()
            .run(query.execute(&self.pool))
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn expire_within(
        &self,
        id: &KeyId,
        within: Duration,
    ) -> Result<Option<ApiKeyRecord>, AuthError> {
        let query = sqlx::query_as::<_, RecordRow>(AssertSqlSafe(self.sql.expire.clone()))
            .bind(id.as_str())
            .bind(micros(within));
        let row = self
            .calls()
            .run(query.fetch_optional(&self.pool))
            .await
            .map_err(store_error)?;
        row.map(record).transpose()
    }

    async fn list(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, AuthError> {
        let query = sqlx::query_as::<_, RecordRow>(AssertSqlSafe(self.sql.list.clone()))
            .bind(tenant.as_str());
        let rows = self
            .calls()
            .run(query.fetch_all(&self.pool))
            .await
            .map_err(store_error)?;
        rows.into_iter().map(record).collect()
    }
}
