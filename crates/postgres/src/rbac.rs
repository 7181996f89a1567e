//! [`PostgresAssignmentStore`] and [`PostgresRelationStore`]: palisade-rbac's
//! [`AssignmentStore`] and [`RelationStore`] on PostgreSQL, one statement per operation.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use palisade_rbac::{
    AssignmentStore, Assignments, Ownership, RelationStore, ResourceRef, RoleName, StoreError,
    SubjectId, TenantId,
};
use sqlx::{AssertSqlSafe, PgPool};

use crate::PostgresStoreError;
use crate::calls::{Calls, check_timeout};
use crate::schema::{DEFAULT_SCHEMA, RBAC_SQL, check_schema, render};

/// The default timeout of one call of the rbac stores (2 seconds).
pub const DEFAULT_RBAC_TIMEOUT: Duration = Duration::from_secs(2);

/// The SQL of each operation, rendered once for the schema.
struct Statements {
    migrate: Arc<str>,
    assignments: Arc<str>,
    assign: Arc<str>,
    revoke: Arc<str>,
    assign_global: Arc<str>,
    revoke_global: Arc<str>,
    delete_tenant_assignments: Arc<str>,
    owner: Arc<str>,
    set_owner: Arc<str>,
    remove: Arc<str>,
    delete_tenant_relations: Arc<str>,
}

impl Statements {
    fn new(schema: &str) -> Self {
        let s = format!("\"{schema}\"");
        // Deleting the tenant's row deletes its assignments and relations (ON DELETE
        // CASCADE); the count reported is read in the same statement.
        let delete_tenant = |table: &str| -> Arc<str> {
            format!(
                "WITH counted AS (SELECT count(*) AS n FROM {s}.{table} WHERE tenant = $1), \
                 gone AS (DELETE FROM {s}.rbac_tenants WHERE tenant = $1) \
                 SELECT n FROM counted"
            )
            .into()
        };
        Self {
            migrate: render(RBAC_SQL, schema).into(),
            assignments: format!(
                "SELECT role, false FROM {s}.rbac_assignments WHERE tenant = $1 AND subject = $2 \
                 UNION ALL \
                 SELECT role, true FROM {s}.rbac_global_assignments WHERE subject = $2"
            )
            .into(),
            assign: format!(
                "WITH t AS (INSERT INTO {s}.rbac_tenants (tenant) VALUES ($1) \
                 ON CONFLICT DO NOTHING) \
                 INSERT INTO {s}.rbac_assignments (tenant, subject, role) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING"
            )
            .into(),
            revoke: format!(
                "DELETE FROM {s}.rbac_assignments WHERE tenant = $1 AND subject = $2 AND role = $3"
            )
            .into(),
            assign_global: format!(
                "INSERT INTO {s}.rbac_global_assignments (subject, role) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING"
            )
            .into(),
            revoke_global: format!(
                "DELETE FROM {s}.rbac_global_assignments WHERE subject = $1 AND role = $2"
            )
            .into(),
            delete_tenant_assignments: delete_tenant("rbac_assignments"),
            owner: format!(
                "SELECT tenant, owner FROM {s}.rbac_relations WHERE kind = $1 AND resource_id = $2"
            )
            .into(),
            set_owner: format!(
                "WITH t AS (INSERT INTO {s}.rbac_tenants (tenant) VALUES ($3) \
                 ON CONFLICT DO NOTHING) \
                 INSERT INTO {s}.rbac_relations AS r (kind, resource_id, tenant, owner) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (kind, resource_id) DO UPDATE SET owner = EXCLUDED.owner \
                 WHERE r.tenant = EXCLUDED.tenant"
            )
            .into(),
            remove: format!("DELETE FROM {s}.rbac_relations WHERE kind = $1 AND resource_id = $2")
                .into(),
            delete_tenant_relations: delete_tenant("rbac_relations"),
        }
    }
}

/// The pool, schema and timeout the two rbac stores share, and their migration
/// (`migrations/0005_rbac.sql`): tables `rbac_tenants`, `rbac_assignments` and
/// `rbac_relations` (both with a foreign key to `rbac_tenants` and `ON DELETE CASCADE`), and
/// `rbac_global_assignments`.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use palisade_postgres::PostgresRbacTables;
/// use palisade_postgres::sqlx::postgres::PgPoolOptions;
/// use palisade_rbac::{AssignmentStore, RoleName, SubjectId, TenantId};
///
/// // Needs a PostgreSQL server.
/// let pool = PgPoolOptions::new().connect("postgres://postgres@127.0.0.1:5432/test").await?;
/// let tables = PostgresRbacTables::new(pool).with_schema("palisade")?;
/// tables.migrate().await?;
/// let assignments = tables.assignment_store();
/// let (tenant, subject) = (TenantId::new("acme")?, SubjectId::new("user-42")?);
/// assignments.assign(&tenant, &subject, &RoleName::new("agent")?).await?;
/// let roles = assignments.assignments(&tenant, &subject).await?; // one query
/// # let _ = roles;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PostgresRbacTables {
    pool: PgPool,
    schema: Arc<str>,
    sql: Arc<Statements>,
    timeout: Duration,
}

impl fmt::Debug for PostgresRbacTables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresRbacTables")
            .field("schema", &self.schema)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresRbacTables {
    /// The tables on `pool` in [`DEFAULT_SCHEMA`], with [`DEFAULT_RBAC_TIMEOUT`].
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            schema: DEFAULT_SCHEMA.into(),
            sql: Arc::new(Statements::new(DEFAULT_SCHEMA)),
            timeout: DEFAULT_RBAC_TIMEOUT,
        }
    }

    /// Uses the tables in `schema` instead of [`DEFAULT_SCHEMA`].
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] unless `schema` is a plain identifier (1–63 ASCII
    /// letters, digits and underscores, not starting with a digit or `pg_`).
    pub fn with_schema(mut self, schema: &str) -> Result<Self, PostgresStoreError> {
        check_schema(schema)?;
        self.schema = schema.into();
        self.sql = Arc::new(Statements::new(schema));
        Ok(self)
    }

    /// Sets the timeout of each call (default [`DEFAULT_RBAC_TIMEOUT`]).
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] for a zero timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, PostgresStoreError> {
        self.timeout = check_timeout(timeout)?;
        Ok(self)
    }

    /// The schema of the tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Creates the schema and tables if they do not exist, in one transaction under the
    /// crate's advisory lock: safe at every start-up of every instance.
    ///
    /// # Errors
    /// [`PostgresStoreError::Unavailable`] when the database refuses (permissions, …).
    pub async fn migrate(&self) -> Result<(), PostgresStoreError> {
        self.calls().migrate(&self.sql.migrate).await
    }

    /// The assignment store on these tables.
    pub fn assignment_store(&self) -> PostgresAssignmentStore {
        PostgresAssignmentStore(self.clone())
    }

    /// The relation store on these tables.
    pub fn relation_store(&self) -> PostgresRelationStore {
        PostgresRelationStore(self.clone())
    }

    fn calls(&self) -> Calls<'_> {
        Calls {
            pool: &self.pool,
            timeout: self.timeout,
        }
    }

    async fn execute(&self, sql: &Arc<str>, binds: &[&str]) -> Result<u64, StoreError> {
        let mut query = sqlx::query(AssertSqlSafe(sql.clone()));
        for b in binds {
            query = query.bind(*b);
        }
        Ok(self
            .calls()
            .run(query.execute(&self.pool))
            .await
            .map_err(store_error)?
            .rows_affected())
    }

    async fn count(&self, sql: &Arc<str>, tenant: &TenantId) -> Result<u64, StoreError> {
        let query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.clone())).bind(tenant.as_str());
        let n = self
            .calls()
            .run(query.fetch_one(&self.pool))
            .await
            .map_err(store_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// A Postgres failure as palisade-rbac's store error (never a verdict: refuse the request).
fn store_error(e: PostgresStoreError) -> StoreError {
    match e {
        PostgresStoreError::Timeout { millis } => StoreError::Timeout {
            store: "postgres",
            millis,
        },
        other => StoreError::Unavailable {
            store: "postgres",
            reason: other.to_string(),
        },
    }
}

fn unexpected(what: &str) -> StoreError {
    StoreError::Unavailable {
        store: "postgres",
        reason: format!("unexpected reply: {what}"),
    }
}

/// palisade-rbac's [`AssignmentStore`] on PostgreSQL (build it with
/// [`PostgresRbacTables::assignment_store`]).
///
/// One statement per operation: [`assignments`](AssignmentStore::assignments) is one `SELECT
/// … UNION ALL SELECT …` of the tenant roles and the global roles; `assign` one `INSERT … ON
/// CONFLICT DO NOTHING` (with the tenant's row, in a CTE); `revoke` one `DELETE`.
/// [`delete_tenant`](AssignmentStore::delete_tenant) deletes the tenant's row in
/// `rbac_tenants`: its assignments **and its relations** go with it (`ON DELETE CASCADE`);
/// it reports the number of assignments. Role names are stored as given.
#[derive(Debug, Clone)]
pub struct PostgresAssignmentStore(PostgresRbacTables);

/// palisade-rbac's [`RelationStore`] on PostgreSQL (build it with
/// [`PostgresRbacTables::relation_store`]).
///
/// One statement per operation: `owner` one `SELECT` by (kind, id); `set_owner` one `INSERT
/// … ON CONFLICT (kind, resource_id) DO UPDATE … WHERE tenant = EXCLUDED.tenant` (a record of
/// another tenant is never moved: no row written); `remove` one `DELETE`;
/// [`delete_tenant`](RelationStore::delete_tenant) deletes the tenant's row (its
/// assignments and relations go with it) and reports the number of relations.
#[derive(Debug, Clone)]
pub struct PostgresRelationStore(PostgresRbacTables);

#[async_trait]
impl AssignmentStore for PostgresAssignmentStore {
    async fn assignments(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
    ) -> Result<Assignments, StoreError> {
        let t = &self.0;
        let query = sqlx::query_as::<_, (String, bool)>(AssertSqlSafe(t.sql.assignments.clone()))
            .bind(tenant.as_str())
            .bind(subject.as_str());
        let rows = t
            .calls()
            .run(query.fetch_all(&t.pool))
            .await
            .map_err(store_error)?;
        let mut out = Assignments::default();
        for (role, global) in rows {
            let role = RoleName::new(&role).map_err(|_| unexpected("an invalid role name"))?;
            if global {
                out.global_roles.push(role);
            } else {
                out.tenant_roles.push(role);
            }
        }
        Ok(out)
    }

    async fn assign(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        role: &RoleName,
    ) -> Result<bool, StoreError> {
        let binds = [tenant.as_str(), subject.as_str(), role.as_str()];
        Ok(self.0.execute(&self.0.sql.assign, &binds).await? == 1)
    }

    async fn revoke(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        role: &RoleName,
    ) -> Result<bool, StoreError> {
        let binds = [tenant.as_str(), subject.as_str(), role.as_str()];
        Ok(self.0.execute(&self.0.sql.revoke, &binds).await? == 1)
    }

    async fn assign_global(
        &self,
        subject: &SubjectId,
        role: &RoleName,
    ) -> Result<bool, StoreError> {
        let binds = [subject.as_str(), role.as_str()];
        Ok(self.0.execute(&self.0.sql.assign_global, &binds).await? == 1)
    }

    async fn revoke_global(
        &self,
        subject: &SubjectId,
        role: &RoleName,
    ) -> Result<bool, StoreError> {
        let binds = [subject.as_str(), role.as_str()];
        Ok(self.0.execute(&self.0.sql.revoke_global, &binds).await? == 1)
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        self.0
            .count(&self.0.sql.delete_tenant_assignments, tenant)
            .await
    }
}

#[async_trait]
impl RelationStore for PostgresRelationStore {
    async fn owner(&self, resource: &ResourceRef) -> Result<Option<Ownership>, StoreError> {
        let t = &self.0;
        let query = sqlx::query_as::<_, (String, String)>(AssertSqlSafe(t.sql.owner.clone()))
            .bind(resource.kind())
            .bind(resource.id());
        let row = t
            .calls()
            .run(query.fetch_optional(&t.pool))
            .await
            .map_err(store_error)?;
        row.map(|(tenant, owner)| {
            Ok(Ownership {
                tenant: TenantId::new(&tenant).map_err(|_| unexpected("an invalid tenant"))?,
                owner: SubjectId::new(&owner).map_err(|_| unexpected("an invalid owner"))?,
            })
        })
        .transpose()
    }

    async fn set_owner(
        &self,
        resource: &ResourceRef,
        tenant: &TenantId,
        owner: &SubjectId,
    ) -> Result<bool, StoreError> {
        let binds = [
            resource.kind(),
            resource.id(),
            tenant.as_str(),
            owner.as_str(),
        ];
        Ok(self.0.execute(&self.0.sql.set_owner, &binds).await? == 1)
    }

    async fn remove(&self, resource: &ResourceRef) -> Result<bool, StoreError> {
        let binds = [resource.kind(), resource.id()];
        Ok(self.0.execute(&self.0.sql.remove, &binds).await? == 1)
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        self.0
            .count(&self.0.sql.delete_tenant_relations, tenant)
            .await
    }
}
