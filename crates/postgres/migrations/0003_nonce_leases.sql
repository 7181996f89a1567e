-- palisade-postgres: delivery claims in the nonce table (NonceStore::claim/complete/release).
-- Idempotent: applied by PostgresNonceStore::migrate() after 0001_nonces.sql on every
-- start-up. "__SCHEMA__" is replaced by the store's validated, double-quoted schema name.

-- NULL: the id is completed (recorded by insert_if_absent or complete). Otherwise the
-- 16-byte LeaseToken of the claim holding the delivery in flight until expires_at (the lease).
ALTER TABLE "__SCHEMA__".nonces ADD COLUMN IF NOT EXISTS lease_token bytea;
