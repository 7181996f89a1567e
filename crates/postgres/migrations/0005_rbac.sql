-- palisade-postgres: the tables of palisade-rbac's AssignmentStore and RelationStore.
-- Idempotent: applied by PostgresRbacTables::migrate() on every start-up (IF NOT EXISTS).
-- "__SCHEMA__" is replaced by the store's validated schema name.
CREATE SCHEMA IF NOT EXISTS "__SCHEMA__";

-- One row per tenant that holds assignments or records. Deleting it deletes the tenant's
-- assignments and relations (ON DELETE CASCADE).
CREATE TABLE IF NOT EXISTS "__SCHEMA__".rbac_tenants (
    tenant text PRIMARY KEY
);

-- Subject -> role in a tenant. A subject with no row in a tenant is not a member of it.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".rbac_assignments (
    tenant  text NOT NULL REFERENCES "__SCHEMA__".rbac_tenants (tenant) ON DELETE CASCADE,
    subject text NOT NULL,
    role    text NOT NULL,
    PRIMARY KEY (tenant, subject, role)
);

-- Subject -> global role, assigned outside any tenant (platform operators).
CREATE TABLE IF NOT EXISTS "__SCHEMA__".rbac_global_assignments (
    subject text NOT NULL,
    role    text NOT NULL,
    PRIMARY KEY (subject, role)
);

-- Record -> tenant and owner, looked up by record only (kind, id unique across tenants).
CREATE TABLE IF NOT EXISTS "__SCHEMA__".rbac_relations (
    kind        text NOT NULL,
    resource_id text NOT NULL,
    tenant      text NOT NULL REFERENCES "__SCHEMA__".rbac_tenants (tenant) ON DELETE CASCADE,
    owner       text NOT NULL,
    PRIMARY KEY (kind, resource_id)
);
-- The cascade's lookups.
CREATE INDEX IF NOT EXISTS rbac_relations_tenant_idx ON "__SCHEMA__".rbac_relations (tenant);
