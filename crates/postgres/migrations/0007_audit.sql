-- palisade-postgres: the tables and functions of palisade-audit's AuditSink.
-- Idempotent: applied by PostgresAuditSink::migrate() on every start-up (IF NOT EXISTS,
-- CREATE OR REPLACE). "__SCHEMA__" is replaced by the sink's validated schema name.
--
-- The MACs are computed by the application (the database never sees a chain key); the
-- database guarantees that a tenant's chain only grows by its next sequence number on top of
-- its current head: audit_append() takes the tenant's transaction-level advisory lock, reads
-- the head (the last event, through the primary key), compares it with the (seq - 1, prev)
-- the event was sealed on, and inserts the event in the same transaction, or answers the
-- current head so the caller reseals on it. Concurrent appenders queue on that lock, and the
-- primary key (tenant, seq) refuses a duplicate: no gap, no fork.
CREATE SCHEMA IF NOT EXISTS "__SCHEMA__";

-- One row per purged tenant: the checkpoint its last purge left (seq, MAC, epoch of the next
-- event, and its JSON line): the head of a tenant whose every event was purged.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".audit_heads (
    tenant text    PRIMARY KEY,
    seq    bigint  NOT NULL,
    mac    bytea   NOT NULL,
    epoch  integer,
    anchor text
);

-- The events, append-only: the columns of palisade-audit's canonical encoding.
-- outcome: 0 success, 1 denied, 2 failure; time_ms: milliseconds since the Unix epoch.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".audit_events (
    tenant        text     NOT NULL,
    seq           bigint   NOT NULL,
    epoch         integer  NOT NULL,
    time_ms       bigint   NOT NULL,
    actor         text     NOT NULL,
    role          text,
    action        text     NOT NULL,
    resource_type text     NOT NULL,
    resource_id   text     NOT NULL,
    reason        text,
    outcome       smallint NOT NULL,
    client        text,
    prev          bytea    NOT NULL,
    mac           bytea    NOT NULL,
    PRIMARY KEY (tenant, seq)
);
-- The queries: by actor, by resource (type, id), by action, by time range; newest first.
CREATE INDEX IF NOT EXISTS audit_events_actor_idx
    ON "__SCHEMA__".audit_events (tenant, actor, seq DESC);
CREATE INDEX IF NOT EXISTS audit_events_resource_idx
    ON "__SCHEMA__".audit_events (tenant, resource_type, resource_id, seq DESC);
CREATE INDEX IF NOT EXISTS audit_events_action_idx
    ON "__SCHEMA__".audit_events (tenant, action, seq DESC);
CREATE INDEX IF NOT EXISTS audit_events_time_idx
    ON "__SCHEMA__".audit_events (tenant, time_ms);

-- UPDATE, DELETE and TRUNCATE are refused, except the DELETE of audit_purge(), which marks
-- its own transaction (a transaction-local setting holding its transaction id). This stops
-- application code and mistaken statements; a role that can run arbitrary SQL can forge the
-- mark or drop the trigger, which the chain then reveals (docs/threat-model/audit.md). Give
-- the application role INSERT/SELECT and EXECUTE on the functions only.
CREATE OR REPLACE FUNCTION "__SCHEMA__".audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('palisade.audit_purge', true) = txid_current()::text THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'palisade audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$fn$;

CREATE OR REPLACE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON "__SCHEMA__".audit_events
    FOR EACH ROW EXECUTE FUNCTION "__SCHEMA__".audit_refuse_change();
CREATE OR REPLACE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON "__SCHEMA__".audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION "__SCHEMA__".audit_refuse_change();

-- head: where the tenant's chain stands: its last event (seq, MAC, and the epoch of the next
-- event: the new one after a key-epoch event), else the anchor of its last purge, else the
-- empty chain (0, 32 zero bytes, NULL).
CREATE OR REPLACE FUNCTION "__SCHEMA__".audit_head(p_tenant text)
RETURNS TABLE (head_seq bigint, head_mac bytea, head_epoch integer)
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    RETURN QUERY
        SELECT e.seq, e.mac,
               CASE WHEN e.action = 'audit.key_epoch' THEN e.resource_id::integer
                    ELSE e.epoch END
        FROM "__SCHEMA__".audit_events e
        WHERE e.tenant = p_tenant ORDER BY e.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT h.seq, h.mac, h.epoch FROM "__SCHEMA__".audit_heads h
            WHERE h.tenant = p_tenant;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 0::bigint,
                '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
                NULL::integer;
        END IF;
    END IF;
END
$fn$;

-- append: under the tenant's transaction-level advisory lock (concurrent appends of one tenant
-- queue there), stores the event sealed on head (p_seq - 1, p_prev) when that is still the
-- head, or stores nothing and answers the current head.
CREATE OR REPLACE FUNCTION "__SCHEMA__".audit_append(
    p_tenant text, p_seq bigint, p_prev bytea, p_next_epoch integer, p_epoch integer,
    p_time_ms bigint, p_actor text, p_role text, p_action text, p_resource_type text,
    p_resource_id text, p_reason text, p_outcome smallint, p_client text, p_mac bytea)
RETURNS TABLE (appended boolean, head_seq bigint, head_mac bytea, head_epoch integer)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    h record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('palisade-audit/' || p_tenant, 0));
    SELECT * INTO h FROM "__SCHEMA__".audit_head(p_tenant);
    IF h.head_seq <> p_seq - 1 OR h.head_mac <> p_prev THEN
        RETURN QUERY SELECT false, h.head_seq, h.head_mac, h.head_epoch;
        RETURN;
    END IF;
    INSERT INTO "__SCHEMA__".audit_events
        (tenant, seq, epoch, time_ms, actor, role, action, resource_type, resource_id,
         reason, outcome, client, prev, mac)
    VALUES (p_tenant, p_seq, p_epoch, p_time_ms, p_actor, p_role, p_action, p_resource_type,
            p_resource_id, p_reason, p_outcome, p_client, p_prev, p_mac);
    RETURN QUERY SELECT true, p_seq, p_mac, p_next_epoch;
END
$fn$;

-- purge: under the tenant's lock, deletes the tenant's events up to p_seq when the stored
-- event at p_seq has MAC p_mac, and keeps the checkpoint as the tenant's anchor (its head once
-- every event is purged; p_anchor is its JSON line). Returns the number deleted, -1 when no
-- event is stored at p_seq, -2 when its MAC differs.
CREATE OR REPLACE FUNCTION "__SCHEMA__".audit_purge(
    p_tenant text, p_seq bigint, p_mac bytea, p_epoch integer, p_anchor text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_mac bytea;
    v_deleted bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('palisade-audit/' || p_tenant, 0));
    SELECT mac INTO v_mac FROM "__SCHEMA__".audit_events
        WHERE tenant = p_tenant AND seq = p_seq;
    IF NOT FOUND THEN
        RETURN -1;
    END IF;
    IF v_mac <> p_mac THEN
        RETURN -2;
    END IF;
    PERFORM set_config('palisade.audit_purge', txid_current()::text, true);
    DELETE FROM "__SCHEMA__".audit_events WHERE tenant = p_tenant AND seq <= p_seq;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    PERFORM set_config('palisade.audit_purge', '', true);
    INSERT INTO "__SCHEMA__".audit_heads (tenant, seq, mac, epoch, anchor)
        VALUES (p_tenant, p_seq, p_mac, p_epoch, p_anchor)
        ON CONFLICT (tenant) DO UPDATE SET seq = EXCLUDED.seq, mac = EXCLUDED.mac,
            epoch = EXCLUDED.epoch, anchor = EXCLUDED.anchor;
    RETURN v_deleted;
END
$fn$;
