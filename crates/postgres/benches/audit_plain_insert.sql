-- The baseline of benches/audit.rs: one plain single-row INSERT of the same width as an
-- audit event (the same columns and values, into a table LIKE audit_events INCLUDING
-- INDEXES), one tenant per pgbench connection, a random seq (collisions: ~0). No head row,
-- no function, no trigger. "__SCHEMA__" is replaced by the bench's schema.
\set s random(1, 9000000000000000000)
INSERT INTO "__SCHEMA__".audit_plain
    (tenant, seq, epoch, time_ms, actor, role, action, resource_type, resource_id, reason,
     outcome, client, prev, mac)
VALUES ('bench-plain-' || :client_id, :s, 1, 1764972000000, 'u-7', 'agent', 'read', 'lead',
        'lead-17', NULL, 0, NULL,
        '\xa7f1cb7a00e9ddae8fd195a34045732ffa215170b5e38400be98268737ab8a00'::bytea,
        '\x37161ba676d3af3c09f251ff27225cc1272f54e7efaa757e1e2cc17bc97fe22f'::bytea);
