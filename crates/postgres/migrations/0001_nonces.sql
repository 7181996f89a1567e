-- palisade-postgres: the nonce table of palisade-replay's NonceStore.
-- Idempotent: applied by PostgresNonceStore::migrate() on every start-up.
-- "__SCHEMA__" is replaced by the store's validated, double-quoted schema name.
CREATE SCHEMA IF NOT EXISTS "__SCHEMA__";

-- One row per remembered id. expires_at is on the database clock (clock_timestamp()).
CREATE TABLE IF NOT EXISTS "__SCHEMA__".nonces (
    namespace  text        NOT NULL,
    id         bytea       NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (namespace, id)
);

-- For cleanup(): finds expired rows without scanning the table.
CREATE INDEX IF NOT EXISTS nonces_expires_at_idx ON "__SCHEMA__".nonces (expires_at);
