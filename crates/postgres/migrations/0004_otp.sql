-- palisade-postgres: the tables and functions of palisade-otp's ChallengeStore.
-- Idempotent: applied by PostgresChallengeStore::migrate() on every start-up (IF NOT EXISTS,
-- CREATE OR REPLACE). "__SCHEMA__" is replaced by the store's validated schema name.
--
-- Time is the server's clock_timestamp() (microseconds), read after the row lock. Instants
-- cross the wire as bigint microseconds since the Unix epoch.
CREATE SCHEMA IF NOT EXISTS "__SCHEMA__";

-- One row per (tenant, purpose, subject): the live challenge. mac is the 32-byte keyed
-- HMAC-SHA256 of the code under the pepper named pepper_id (never the code). state: 'p'ending,
-- 'c'onsumed, 'l'ocked, 'e'xpired (a pending row past expires_at reads expired).
CREATE TABLE IF NOT EXISTS "__SCHEMA__".otp_challenges (
    tenant         text        NOT NULL,
    purpose        text        NOT NULL,
    subject        text        NOT NULL,
    id             text        NOT NULL,
    pepper_id      text        NOT NULL,
    mac            bytea       NOT NULL,
    issued_at      timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    cooldown_until timestamptz NOT NULL,
    attempts       integer     NOT NULL,
    max_attempts   integer     NOT NULL,
    state          text        NOT NULL CHECK (state IN ('p', 'c', 'l', 'e')),
    PRIMARY KEY (tenant, purpose, subject)
);
-- For cleanup(): rows past both their expiry and their cooldown.
CREATE INDEX IF NOT EXISTS otp_challenges_expires_idx
    ON "__SCHEMA__".otp_challenges (expires_at);

-- The last accepted HOTP counter / TOTP step per key, as step - 2^63 (the u64's order kept in
-- a bigint).
CREATE TABLE IF NOT EXISTS "__SCHEMA__".otp_steps (
    tenant  text   NOT NULL,
    purpose text   NOT NULL,
    subject text   NOT NULL,
    step    bigint NOT NULL,
    PRIMARY KEY (tenant, purpose, subject)
);

-- Unused recovery codes: one row per code, its keyed MAC and pepper id.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".otp_recovery_codes (
    tenant    text  NOT NULL,
    purpose   text  NOT NULL,
    subject   text  NOT NULL,
    pepper_id text  NOT NULL,
    mac       bytea NOT NULL,
    PRIMARY KEY (tenant, purpose, subject, mac, pepper_id)
);

CREATE OR REPLACE FUNCTION "__SCHEMA__".otp_micros(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT trunc(extract(epoch FROM t) * 1000000)::bigint
$fn$;

-- issue: stores the challenge unless the previous one for the key was issued less than its
-- cooldown ago. The upsert locks the existing row (even when its WHERE refuses the update),
-- so concurrent issues are serialised. Returns (true, issued_at µs, expires_at µs, 0) or
-- (false, 0, 0, cooldown left µs).
CREATE OR REPLACE FUNCTION "__SCHEMA__".otp_issue(
    p_tenant text, p_purpose text, p_subject text, p_id text, p_pepper_id text, p_mac bytea,
    p_ttl_us bigint, p_cooldown_us bigint, p_max integer)
RETURNS TABLE (issued boolean, issued_at_us bigint, expires_at_us bigint, retry_us bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_now timestamptz := clock_timestamp();
    v_exp timestamptz := v_now + p_ttl_us * interval '1 microsecond';
    v_cd  timestamptz;
BEGIN
    INSERT INTO "__SCHEMA__".otp_challenges AS c
        (tenant, purpose, subject, id, pepper_id, mac, issued_at, expires_at, cooldown_until,
         attempts, max_attempts, state)
    VALUES (p_tenant, p_purpose, p_subject, p_id, p_pepper_id, p_mac, v_now, v_exp,
            v_now + p_cooldown_us * interval '1 microsecond', 0, p_max, 'p')
    ON CONFLICT (tenant, purpose, subject) DO UPDATE SET
        id = EXCLUDED.id, pepper_id = EXCLUDED.pepper_id, mac = EXCLUDED.mac,
        issued_at = EXCLUDED.issued_at, expires_at = EXCLUDED.expires_at,
        cooldown_until = EXCLUDED.cooldown_until, attempts = 0,
        max_attempts = EXCLUDED.max_attempts, state = 'p'
    WHERE c.cooldown_until <= EXCLUDED.issued_at;
    IF FOUND THEN
        RETURN QUERY SELECT true, "__SCHEMA__".otp_micros(v_now), "__SCHEMA__".otp_micros(v_exp),
                            0::bigint;
        RETURN;
    END IF;
    SELECT c.cooldown_until INTO v_cd FROM "__SCHEMA__".otp_challenges c
     WHERE c.tenant = p_tenant AND c.purpose = p_purpose AND c.subject = p_subject;
    RETURN QUERY SELECT false, 0::bigint, 0::bigint,
        greatest("__SCHEMA__".otp_micros(v_cd) - "__SCHEMA__".otp_micros(v_now), 0);
END
$fn$;

-- check-and-count: locks the row (FOR UPDATE: concurrent answers queue here), then refuses an
-- unknown, consumed, locked or expired challenge without comparing; counts the attempt;
-- compares the stored MAC with the candidate naming its pepper; consumes on a match, locks on
-- the last wrong answer. Returns {0} verified, {1, left} wrong, {2} locked, {3} expired,
-- {4} consumed, {5} not found. bytea equality is not constant-time: the values are keyed
-- MACs under a pepper the database never sees, so its timing reveals nothing usable.
CREATE OR REPLACE FUNCTION "__SCHEMA__".otp_check(
    p_tenant text, p_purpose text, p_subject text, p_pepper_ids text[], p_macs bytea[])
RETURNS integer[]
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    r      record;
    v_ok   boolean := false;
    v_left integer;
BEGIN
    SELECT c.state, c.expires_at, c.attempts, c.max_attempts, c.pepper_id, c.mac INTO r
      FROM "__SCHEMA__".otp_challenges c
     WHERE c.tenant = p_tenant AND c.purpose = p_purpose AND c.subject = p_subject
       FOR UPDATE;
    IF NOT FOUND THEN RETURN ARRAY[5]; END IF;
    IF r.state = 'c' THEN RETURN ARRAY[4]; END IF;
    IF r.state = 'l' THEN RETURN ARRAY[2]; END IF;
    IF r.state = 'e' THEN RETURN ARRAY[3]; END IF;
    IF clock_timestamp() >= r.expires_at THEN
        UPDATE "__SCHEMA__".otp_challenges SET state = 'e'
         WHERE tenant = p_tenant AND purpose = p_purpose AND subject = p_subject;
        RETURN ARRAY[3];
    END IF;
    IF r.attempts >= r.max_attempts THEN
        UPDATE "__SCHEMA__".otp_challenges SET state = 'l'
         WHERE tenant = p_tenant AND purpose = p_purpose AND subject = p_subject;
        RETURN ARRAY[2];
    END IF;
    FOR i IN 1 .. coalesce(array_length(p_pepper_ids, 1), 0) LOOP
        IF p_pepper_ids[i] = r.pepper_id AND p_macs[i] = r.mac THEN
            v_ok := true;
        END IF;
    END LOOP;
    v_left := greatest(r.max_attempts - r.attempts - 1, 0);
    UPDATE "__SCHEMA__".otp_challenges
       SET attempts = r.attempts + 1,
           state = CASE WHEN v_ok THEN 'c' WHEN v_left = 0 THEN 'l' ELSE 'p' END
     WHERE tenant = p_tenant AND purpose = p_purpose AND subject = p_subject;
    IF v_ok THEN RETURN ARRAY[0]; END IF;
    RETURN ARRAY[1, v_left];
END
$fn$;

-- replace_recovery_codes: the key's codes become exactly the given ones.
CREATE OR REPLACE FUNCTION "__SCHEMA__".otp_replace_recovery(
    p_tenant text, p_purpose text, p_subject text, p_pepper_ids text[], p_macs bytea[])
RETURNS void
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    DELETE FROM "__SCHEMA__".otp_recovery_codes
     WHERE tenant = p_tenant AND purpose = p_purpose AND subject = p_subject;
    INSERT INTO "__SCHEMA__".otp_recovery_codes (tenant, purpose, subject, pepper_id, mac)
    SELECT p_tenant, p_purpose, p_subject, u.pepper_id, u.mac
      FROM unnest(p_pepper_ids, p_macs) AS u (pepper_id, mac)
    ON CONFLICT DO NOTHING;
END
$fn$;

-- consume_recovery_code: deletes the code a candidate matches (a concurrent use of the same
-- code waits on the row lock, then finds it gone); returns the codes left, or -1 when none
-- matched.
CREATE OR REPLACE FUNCTION "__SCHEMA__".otp_consume_recovery(
    p_tenant text, p_purpose text, p_subject text, p_pepper_ids text[], p_macs bytea[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_deleted bigint;
BEGIN
    DELETE FROM "__SCHEMA__".otp_recovery_codes r
     WHERE r.tenant = p_tenant AND r.purpose = p_purpose AND r.subject = p_subject
       AND (r.pepper_id, r.mac) IN (SELECT * FROM unnest(p_pepper_ids, p_macs));
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    IF v_deleted = 0 THEN RETURN -1; END IF;
    RETURN (SELECT count(*) FROM "__SCHEMA__".otp_recovery_codes r
             WHERE r.tenant = p_tenant AND r.purpose = p_purpose AND r.subject = p_subject);
END
$fn$;
