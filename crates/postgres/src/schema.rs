//! Schema names and the shipped migrations.

use crate::PostgresStoreError;

/// The default schema of every table this crate creates.
pub const DEFAULT_SCHEMA: &str = "palisade";

/// The nonce table's migrations (the table, then its lease column), with `__SCHEMA__` standing
/// for the schema name.
#[cfg_attr(not(feature = "replay"), allow(dead_code))]
pub(crate) const NONCES_SQL: &str = concat!(
    include_str!("../migrations/0001_nonces.sql"),
    "\n",
    include_str!("../migrations/0003_nonce_leases.sql")
);

/// The rate-limit tables' and functions' migration, with `__SCHEMA__` standing for the schema
/// name.
#[cfg(feature = "ratelimit")]
pub(crate) const RATELIMIT_SQL: &str = include_str!("../migrations/0002_ratelimit.sql");

/// The one-time-code tables' and functions' migration, with `__SCHEMA__` standing for the
/// schema name.
#[cfg(feature = "otp")]
pub(crate) const OTP_SQL: &str = include_str!("../migrations/0004_otp.sql");

/// The role-assignment and relation tables' migration, with `__SCHEMA__` standing for the
/// schema name.
#[cfg(feature = "rbac")]
pub(crate) const RBAC_SQL: &str = include_str!("../migrations/0005_rbac.sql");
/// The API-key table's and function's migration, with `__SCHEMA__` standing for the schema
/// name.
#[cfg(feature = "auth")]
pub(crate) const AUTH_SQL: &str = include_str!("../migrations/0006_auth.sql");
/// The audit tables' and functions' migration, with `__SCHEMA__` standing for the schema
/// name.
#[cfg(feature = "audit")]
pub(crate) const AUDIT_SQL: &str = include_str!("../migrations/0007_audit.sql");

/// Checks that `name` is a plain identifier: 1 to 63 ASCII letters, digits and underscores,
/// not starting with a digit, and not `pg_…` (reserved by PostgreSQL). Such a name needs no
/// escaping inside double quotes, so it can be spliced into SQL without injection.
pub(crate) fn check_schema(name: &str) -> Result<(), PostgresStoreError> {
    let invalid = |reason| Err(PostgresStoreError::InvalidConfig { reason });
    let Some(first) = name.chars().next() else {
        return invalid("empty schema name");
    };
    if name.len() > 63 {
        return invalid("schema name longer than 63 bytes");
    }
    if !(first.is_ascii_alphabetic() || first == '_') {
        return invalid("schema name must start with a letter or an underscore");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return invalid("schema name may hold only ASCII letters, digits and underscores");
    }
    if name.to_ascii_lowercase().starts_with("pg_") {
        return invalid("schema names starting with pg_ are reserved");
    }
    Ok(())
}

/// `sql` with every `__SCHEMA__` replaced by `schema` (already checked).
pub(crate) fn render(sql: &str, schema: &str) -> String {
    sql.replace("__SCHEMA__", schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_identifiers_pass() {
        for ok in ["palisade", "_x", "Palisade_2", "a", &"a".repeat(63)] {
            assert!(check_schema(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "1abc",
            "a b",
            "a\"b",
            "x\"; DROP TABLE users; --",
            "a.b",
            "a-b",
            "é",
            "pg_catalog",
            "PG_x",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(
                    check_schema(bad),
                    Err(PostgresStoreError::InvalidConfig { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_migration_names_only_the_placeholder_schema() {
        let sql = render(NONCES_SQL, "s1");
        assert!(!sql.contains("__SCHEMA__"));
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"s1\".nonces"));
        assert!(sql.contains("ALTER TABLE \"s1\".nonces ADD COLUMN IF NOT EXISTS lease_token"));
    }

    #[cfg(feature = "ratelimit")]
    #[test]
    fn the_ratelimit_migration_names_only_the_placeholder_schema() {
        let sql = render(RATELIMIT_SQL, "s1");
        assert!(!sql.contains("__SCHEMA__"));
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"s1\".ratelimit_state"));
        assert!(sql.contains("FUNCTION \"s1\".ratelimit_apply("));
    }

    #[cfg(feature = "rbac")]
    #[test]
    fn the_rbac_migration_names_only_the_placeholder_schema() {
        let sql = render(RBAC_SQL, "s1");
        assert!(!sql.contains("__SCHEMA__"));
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"s1\".rbac_assignments"));
        assert!(sql.contains("REFERENCES \"s1\".rbac_tenants (tenant) ON DELETE CASCADE"));
    }

    #[cfg(feature = "otp")]
    #[test]
    fn the_otp_migration_names_only_the_placeholder_schema() {
        let sql = render(OTP_SQL, "s1");
        assert!(!sql.contains("__SCHEMA__"));
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"s1\".otp_challenges"));
        assert!(sql.contains("FUNCTION \"s1\".otp_check("));
    }

    #[cfg(feature = "auth")]
    #[test]
    fn the_auth_migration_names_only_the_placeholder_schema() {
        let sql = render(AUTH_SQL, "s1");
        assert!(!sql.contains("__SCHEMA__"));
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"s1\".auth_api_keys"));
        assert!(sql.contains("FUNCTION \"s1\".auth_check("));
    }
}
