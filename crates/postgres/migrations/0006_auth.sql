-- palisade-postgres: the table and function of palisade-auth's ApiKeyStore.
-- Idempotent: applied by PostgresApiKeyStore::migrate() on every start-up (IF NOT EXISTS,
-- CREATE OR REPLACE). "__SCHEMA__" is replaced by the store's validated schema name.
--
-- Time is the server's clock_timestamp(). Instants cross the wire as bigint microseconds
-- since the Unix epoch.
CREATE SCHEMA IF NOT EXISTS "__SCHEMA__";

-- One row per API key: its public id and metadata, and the 32-byte keyed HMAC-SHA256 of its
-- secret under the pepper named pepper_id (never the secret). scopes: space-separated.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".auth_api_keys (
    id           text        PRIMARY KEY,
    prefix       text        NOT NULL,
    tenant       text        NOT NULL,
    owner        text        NOT NULL,
    scopes       text        NOT NULL,
    pepper_id    text        NOT NULL,
    mac          bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
-- list(tenant), oldest first.
CREATE INDEX IF NOT EXISTS auth_api_keys_tenant_idx
    ON "__SCHEMA__".auth_api_keys (tenant, created_at, id);

CREATE OR REPLACE FUNCTION "__SCHEMA__".auth_micros(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT trunc(extract(epoch FROM t) * 1000000)::bigint
$fn$;

-- auth_check: one lookup by id; the stored MAC compared with the candidate naming its
-- pepper; only on a match are revoked and expired told apart from valid, and last_used_at
-- written when it is older than the interval (µs). Returns one row: outcome 'valid',
-- 'invalid', 'revoked' or 'expired', and for 'valid' the key's metadata (µs instants).
-- No row lock is taken: a revocation committed before the call is seen by it.
CREATE OR REPLACE FUNCTION "__SCHEMA__".auth_check(
    p_id text, p_pepper_ids text[], p_macs bytea[], p_interval_us bigint
) RETURNS TABLE (
    o_outcome text, o_prefix text, o_tenant text, o_owner text, o_scopes text,
    o_created_us bigint, o_expires_us bigint, o_last_used_us bigint
)
LANGUAGE plpgsql AS $fn$
DECLARE
    r "__SCHEMA__".auth_api_keys%ROWTYPE;
    now_ts timestamptz := clock_timestamp();
BEGIN
    SELECT * INTO r FROM "__SCHEMA__".auth_api_keys k WHERE k.id = p_id;
    IF NOT FOUND OR NOT EXISTS (
        SELECT 1 FROM unnest(p_pepper_ids, p_macs) AS c(pid, mac)
        WHERE c.pid = r.pepper_id AND c.mac = r.mac
    ) THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::text, NULL::text, NULL::text, NULL::text,
            NULL::bigint, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;
    IF r.revoked_at IS NOT NULL THEN
        RETURN QUERY SELECT 'revoked'::text, NULL::text, NULL::text, NULL::text, NULL::text,
            NULL::bigint, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;
    IF r.expires_at IS NOT NULL AND r.expires_at <= now_ts THEN
        RETURN QUERY SELECT 'expired'::text, NULL::text, NULL::text, NULL::text, NULL::text,
            NULL::bigint, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;
    IF r.last_used_at IS NULL
       OR r.last_used_at <= now_ts - p_interval_us * interval '1 microsecond' THEN
        UPDATE "__SCHEMA__".auth_api_keys k SET last_used_at = now_ts
        WHERE k.id = p_id
          AND (k.last_used_at IS NULL
               OR k.last_used_at <= now_ts - p_interval_us * interval '1 microsecond')
        RETURNING k.last_used_at INTO r.last_used_at;
    END IF;
    RETURN QUERY SELECT 'valid'::text, r.prefix, r.tenant, r.owner, r.scopes,
        "__SCHEMA__".auth_micros(r.created_at), "__SCHEMA__".auth_micros(r.expires_at),
        "__SCHEMA__".auth_micros(r.last_used_at);
END
$fn$;
