-- palisade-postgres: the tables and functions of palisade-ratelimit's RateLimitStore.
-- Idempotent: applied by PostgresRateLimitStore::migrate() on every start-up (IF NOT EXISTS,
-- CREATE OR REPLACE). "__SCHEMA__" is replaced by the store's validated schema name.
--
-- Units: every instant is in nanoseconds since the Unix epoch, every duration in nanoseconds,
-- both as exact integers (`numeric`, so the whole unsigned 64-bit range of the Rust types
-- fits). The clock is the server's clock_timestamp() (microseconds) times 1,000.
-- Unsigned 64-bit values cross the wire as bigint holding the same 64 bits (two's
-- complement): ratelimit_u64 / ratelimit_i64 convert.
CREATE SCHEMA IF NOT EXISTS "__SCHEMA__";

-- One row per (key, policy): the states of all the policy's limits, one segment per limit,
-- [algorithm code, n, v1 … vn] (see ratelimit_apply), and when they are all back to new.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".ratelimit_state (
    key           bytea     NOT NULL,
    policy_id     bigint    NOT NULL,
    states        numeric[] NOT NULL,
    expires_at_ns numeric   NOT NULL,
    PRIMARY KEY (key, policy_id)
);
CREATE INDEX IF NOT EXISTS ratelimit_state_expires_idx
    ON "__SCHEMA__".ratelimit_state (expires_at_ns);

-- One row per blocked key (explicit block or penalty box), across policies.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".ratelimit_blocks (
    key      bytea   PRIMARY KEY,
    until_ns numeric NOT NULL
);
CREATE INDEX IF NOT EXISTS ratelimit_blocks_until_idx
    ON "__SCHEMA__".ratelimit_blocks (until_ns);

-- The 64 bits of a bigint read as an unsigned integer.
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_u64(x bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
    SELECT CASE WHEN x < 0 THEN x::numeric + 18446744073709551616 ELSE x::numeric END
$fn$;

-- An unsigned 64-bit integer (0 ≤ x < 2^64) as the bigint holding the same 64 bits.
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_i64(x numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
    SELECT CASE WHEN x >= 9223372036854775808 THEN (x - 18446744073709551616)::bigint
                ELSE x::bigint END
$fn$;

-- The server's clock in ns since the epoch (exact: extract gives numeric microseconds).
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_now() RETURNS numeric
LANGUAGE sql VOLATILE PARALLEL SAFE AS $fn$
    SELECT trunc(extract(epoch FROM clock_timestamp()) * 1000000000)
$fn$;

-- Each algorithm: palisade-ratelimit's `eval` on one state, in exact saturating u64
-- arithmetic (m = 2^64 − 1). Returns the decision (remaining, reset and retry in ns; retry 0
-- when admitted), the state to keep if every limit admits, and when that state expires.

-- GCRA. s = [tat]; a = limit, b = T (emission interval), c = τ (tolerance).
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_gcra(
    s numeric[], now numeric, n numeric, a numeric, b numeric, c numeric,
    OUT allowed boolean, OUT remaining numeric, OUT reset_ns numeric, OUT retry_ns numeric,
    OUT next numeric[], OUT expires numeric)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    m constant numeric := 18446744073709551615;
    t numeric := GREATEST(b, 1);
    tat numeric := GREATEST(COALESCE(s[1], 0), now);
    new_tat numeric;
    allow_at numeric;
    horizon numeric;
BEGIN
    new_tat := LEAST(tat + LEAST(n * t, m), m);
    allow_at := GREATEST(new_tat - c, 0);
    horizon := LEAST(now + c, m);
    IF allow_at <= now THEN
        allowed := true;
        remaining := div(GREATEST(horizon - new_tat, 0), t);
        reset_ns := new_tat - now;
        retry_ns := 0;
    ELSE
        allowed := false;
        remaining := div(GREATEST(horizon - tat, 0), t);
        reset_ns := tat - now;
        retry_ns := allow_at - now;
    END IF;
    next := ARRAY[new_tat];
    expires := new_tat;
END
$fn$;

-- Token bucket. s = [tokens, last] (new: [cap, 0]); a = unit, b = per_ns, c = cap.
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_token_bucket(
    s numeric[], now numeric, n numeric, a numeric, b numeric, c numeric,
    OUT allowed boolean, OUT remaining numeric, OUT reset_ns numeric, OUT retry_ns numeric,
    OUT next numeric[], OUT expires numeric)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    m constant numeric := 18446744073709551615;
    tokens0 numeric := COALESCE(s[1], c);
    last0 numeric := COALESCE(s[2], 0);
    last numeric := GREATEST(last0, now);
    tokens numeric;
    need numeric := LEAST(n * a, m);
    left_ numeric;
BEGIN
    tokens := LEAST(tokens0 + LEAST(GREATEST(now - last0, 0) * b, m, c), m, c);
    IF tokens >= need THEN
        left_ := tokens - need;
        allowed := true;
        remaining := div(left_, a);
        reset_ns := div(c - left_ + b - 1, b);
        retry_ns := 0;
    ELSE
        allowed := false;
        remaining := div(tokens, a);
        reset_ns := div(c - tokens + b - 1, b);
        retry_ns := div(need - tokens + b - 1, b);
    END IF;
    next := ARRAY[GREATEST(tokens - need, 0), last];
    expires := LEAST(last + div(GREATEST(c - GREATEST(tokens - need, 0), 0) + b - 1, b), m);
END
$fn$;

-- Leaky bucket (meter). s = [level, last] (new: [0, 0]); a = unit, b = per_ns, c = cap.
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_leaky_bucket(
    s numeric[], now numeric, n numeric, a numeric, b numeric, c numeric,
    OUT allowed boolean, OUT remaining numeric, OUT reset_ns numeric, OUT retry_ns numeric,
    OUT next numeric[], OUT expires numeric)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    m constant numeric := 18446744073709551615;
    level0 numeric := COALESCE(s[1], 0);
    last0 numeric := COALESCE(s[2], 0);
    last numeric := GREATEST(last0, now);
    level numeric;
    after numeric;
BEGIN
    level := GREATEST(level0 - LEAST(GREATEST(now - last0, 0) * b, m, c), 0);
    after := LEAST(level + LEAST(n * a, m), m);
    IF after <= c THEN
        allowed := true;
        remaining := div(c - after, a);
        reset_ns := div(after + b - 1, b);
        retry_ns := 0;
    ELSE
        allowed := false;
        remaining := div(GREATEST(c - level, 0), a);
        reset_ns := div(level + b - 1, b);
        retry_ns := div(after - c + b - 1, b);
    END IF;
    next := ARRAY[after, last];
    expires := LEAST(last + div(after + b - 1, b), m);
END
$fn$;

-- Fixed window. s = [window, count] (new: [0, 0]); a = limit, b = period.
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_fixed_window(
    s numeric[], now numeric, n numeric, a numeric, b numeric, c numeric,
    OUT allowed boolean, OUT remaining numeric, OUT reset_ns numeric, OUT retry_ns numeric,
    OUT next numeric[], OUT expires numeric)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    m constant numeric := 18446744073709551615;
    w0 numeric := COALESCE(s[1], 0);
    c0 numeric := COALESCE(s[2], 0);
    cur numeric := div(now, b);
    win numeric;
    cnt numeric;
    after numeric;
BEGIN
    IF cur > w0 THEN win := cur; cnt := 0; ELSE win := w0; cnt := c0; END IF;
    reset_ns := GREATEST(LEAST(LEAST(win + 1, m) * b, m) - now, 0);
    after := LEAST(cnt + n, m);
    IF after <= a THEN
        allowed := true;
        remaining := a - cnt - n;
        retry_ns := 0;
    ELSE
        allowed := false;
        remaining := GREATEST(a - cnt, 0);
        retry_ns := reset_ns;
    END IF;
    next := ARRAY[win, after];
    expires := CASE WHEN after = 0 THEN 0 ELSE LEAST(LEAST(win + 1, m) * b, m) END;
END
$fn$;

-- Sliding window log. s = [at1, cost1, at2, cost2, …], oldest first (new: []);
-- a = limit, b = period.
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_sliding_log(
    s numeric[], now numeric, n numeric, a numeric, b numeric, c numeric,
    OUT allowed boolean, OUT remaining numeric, OUT reset_ns numeric, OUT retry_ns numeric,
    OUT next numeric[], OUT expires numeric)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    m constant numeric := 18446744073709551615;
    len int := COALESCE(array_length(s, 1), 0) / 2;
    first int := 1;
    total numeric := 0;
    newest numeric;
    need numeric;
    freed numeric := 0;
    i int;
BEGIN
    -- Forget the entries that left the window.
    WHILE first <= len AND LEAST(s[2 * first - 1] + b, m) <= now LOOP
        first := first + 1;
    END LOOP;
    FOR i IN first .. len LOOP
        total := LEAST(total + s[2 * i], m);
    END LOOP;
    IF first <= len THEN
        next := s[2 * first - 1 : 2 * len];
        newest := GREATEST(s[2 * len - 1], now);
    ELSE
        next := '{}';
        newest := now;
    END IF;
    IF LEAST(total + n, m) <= a THEN
        allowed := true;
        remaining := a - total - n;
        reset_ns := GREATEST(LEAST(newest + b, m) - now, 0);
        retry_ns := 0;
        -- Record the admission, merged with an entry at the same instant (or later).
        IF first <= len AND s[2 * len - 1] >= now THEN
            next[array_length(next, 1)] := LEAST(next[array_length(next, 1)] + n, m);
        ELSE
            next := next || ARRAY[now, n];
        END IF;
    ELSE
        allowed := false;
        remaining := GREATEST(a - total, 0);
        IF first <= len THEN
            reset_ns := GREATEST(LEAST(s[2 * len - 1] + b, m) - now, 0);
        ELSE
            reset_ns := 0;
        END IF;
        retry_ns := reset_ns;
        need := total + n - a;
        FOR i IN first .. len LOOP
            freed := LEAST(freed + s[2 * i], m);
            IF freed >= need THEN
                retry_ns := GREATEST(LEAST(s[2 * i - 1] + b, m) - now, 0);
                EXIT;
            END IF;
        END LOOP;
    END IF;
    IF COALESCE(array_length(next, 1), 0) >= 2 THEN
        expires := LEAST(next[array_length(next, 1) - 1] + b, m);
    ELSE
        expires := 0;
    END IF;
END
$fn$;

-- Sliding window counter. s = [window, current, previous] (new: [0, 0, 0]);
-- a = limit, b = period.
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_sliding_counter(
    s numeric[], now numeric, n numeric, a numeric, b numeric, c numeric,
    OUT allowed boolean, OUT remaining numeric, OUT reset_ns numeric, OUT retry_ns numeric,
    OUT next numeric[], OUT expires numeric)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    m constant numeric := 18446744073709551615;
    w0 numeric := COALESCE(s[1], 0);
    cur0 numeric := COALESCE(s[2], 0);
    prev0 numeric := COALESCE(s[3], 0);
    w numeric := div(now, b);
    win numeric;
    cur numeric;
    prev numeric;
    e numeric;
    start numeric;
    estimate numeric;
    next_cur numeric;
    reset_at numeric;
    retry_at numeric;
    room numeric;
    off numeric;
BEGIN
    IF w = w0 THEN
        win := w; cur := cur0; prev := prev0; e := now - LEAST(w * b, m);
    ELSIF w = LEAST(w0 + 1, m) THEN
        win := w; cur := 0; prev := cur0; e := now - LEAST(w * b, m);
    ELSIF w > w0 THEN
        win := w; cur := 0; prev := 0; e := now - LEAST(w * b, m);
    ELSE
        win := w0; cur := cur0; prev := prev0; e := 0;
    END IF;
    start := LEAST(win * b, m);
    -- ⌈previous · (period − e) / period⌉
    estimate := LEAST(LEAST(div(prev * (b - LEAST(e, b)) + b - 1, b), m) + cur, m);
    next_cur := LEAST(cur + n, m);
    allowed := LEAST(estimate + n, m) <= a;
    IF allowed THEN
        reset_at := LEAST(LEAST(win + CASE WHEN next_cur > 0 THEN 2 ELSE 1 END, m) * b, m);
        retry_at := 0;
    ELSE
        reset_at := LEAST(LEAST(win + CASE WHEN cur > 0 THEN 2 ELSE 1 END, m) * b, m);
        IF a >= LEAST(cur + n, m) THEN
            room := a - LEAST(cur + n, m);
            off := CASE WHEN prev = 0 THEN 0 ELSE GREATEST(b - div(room * b, prev), 0) END;
            retry_at := LEAST(start + off, m);
        ELSE
            room := a - n;
            off := CASE WHEN cur = 0 THEN 0 ELSE GREATEST(b - div(room * b, cur), 0) END;
            retry_at := LEAST(LEAST(LEAST(win + 1, m) * b, m) + off, m);
        END IF;
    END IF;
    remaining := GREATEST(GREATEST(a - estimate, 0) - CASE WHEN allowed THEN n ELSE 0 END, 0);
    reset_ns := GREATEST(reset_at - now, 0);
    retry_ns := GREATEST(retry_at - now, 0);
    next := ARRAY[win, next_cur, prev];
    expires := CASE
        WHEN next_cur > 0 THEN LEAST(LEAST(win + 2, m) * b, m)
        WHEN prev > 0 THEN LEAST(LEAST(win + 1, m) * b, m)
        ELSE 0 END;
END
$fn$;

-- One decision: RateLimitStore::apply for key p_key under policy p_policy, atomically, on
-- the database clock.
--   p_cost    the request's cost (already checked against every limit's capacity)
--   p_block   the policy's penalty-box duration in ns (u64 bits), 0 for none
--   p_kinds   the limits' algorithm codes, in the policy's order: 1 gcra, 2 token bucket,
--             3 leaky bucket, 4 fixed window, 5 sliding window log, 6 sliding window counter
--   p_params  3 parameters per limit (u64 bits), as each algorithm function documents
-- Returns the decision instant (ns, u64 bits); when the key is blocked, how long it stays
-- blocked (ns, u64 bits) and no decisions; otherwise 4 values per limit: admitted (1/0),
-- remaining, reset after (ns), retry after (ns; 0 when admitted), all u64 bits. When some limit
-- refuses, nothing is charged (each limit still reports its remaining as if charged: the
-- caller gives the cost back, Policy::verdict_from); with p_block > 0 the key is then blocked until now + p_block (extended, never shortened).
--
-- The state row is locked (SELECT … FOR UPDATE, after INSERT … ON CONFLICT DO NOTHING for a
-- new key) before the clock is read, so concurrent decisions on one (key, policy) are
-- serialised at READ COMMITTED, and each sees the state the previous one committed. A call
-- locks at most its state row, then the key's block row: always in that order.
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_apply(
    p_key bytea, p_policy bigint, p_cost bigint, p_block bigint,
    p_kinds smallint[], p_params bigint[])
RETURNS TABLE (decided_at bigint, blocked_for bigint, verdicts bigint[])
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    m constant numeric := 18446744073709551615;
    v_now numeric;
    v_until numeric;
    v_cost numeric := p_cost;
    v_block numeric := "__SCHEMA__".ratelimit_u64(p_block);
    v_states numeric[];
    v_count int := COALESCE(array_length(p_kinds, 1), 0);
    v_starts int[] := '{}';
    v_lens int[] := '{}';
    v_pos int := 1;
    v_total int;
    v_ok boolean;
    v_seg numeric[];
    v_new numeric[] := '{}';
    v_expires numeric := 0;
    v_all boolean := true;
    v_allowed boolean[] := '{}';
    v_rem numeric[] := '{}';
    v_reset numeric[] := '{}';
    v_retry numeric[] := '{}';
    v_out numeric[] := '{}';
    -- The parameters as numbers, converted in one query (a call of ratelimit_u64 per value
    -- costs a SQL-function call each).
    v_params numeric[] := ARRAY(
        SELECT CASE WHEN x < 0 THEN x::numeric + 18446744073709551616 ELSE x::numeric END
        FROM unnest(p_params) WITH ORDINALITY AS u(x, o) ORDER BY o);
    r record;
    k int;
    i int;
    pa numeric;
    pb numeric;
    pc numeric;
BEGIN
    -- Commit without waiting for the WAL flush (this transaction only): a decision is then
    -- about 3x cheaper, and a crash of the server can forget at most the last few hundred
    -- milliseconds of decisions (3 x wal_writer_delay), which only ever lets a client be
    -- admitted slightly more than its quota right after a crash. Never for nonces.
    PERFORM set_config('synchronous_commit', 'off', true);
    LOOP
        SELECT st.states INTO v_states FROM "__SCHEMA__".ratelimit_state st
            WHERE st.key = p_key AND st.policy_id = p_policy FOR UPDATE;
        EXIT WHEN FOUND;
        INSERT INTO "__SCHEMA__".ratelimit_state (key, policy_id, states, expires_at_ns)
            VALUES (p_key, p_policy, '{}', 0) ON CONFLICT DO NOTHING;
    END LOOP;
    v_now := "__SCHEMA__".ratelimit_now();

    SELECT bl.until_ns INTO v_until FROM "__SCHEMA__".ratelimit_blocks bl WHERE bl.key = p_key;
    IF FOUND AND v_until > v_now THEN
        RETURN QUERY SELECT "__SCHEMA__".ratelimit_i64(v_now),
                            "__SCHEMA__".ratelimit_i64(v_until - v_now), NULL::bigint[];
        RETURN;
    END IF;

    -- Split the stored states into segments [code, len, values…]; any mismatch with the
    -- policy's limits means new states for all.
    v_total := COALESCE(array_length(v_states, 1), 0);
    v_ok := true;
    FOR i IN 1 .. v_count LOOP
        IF v_pos + 1 > v_total THEN v_ok := false; EXIT; END IF;
        v_starts := v_starts || (v_pos + 2);
        v_lens := v_lens || v_states[v_pos + 1]::int;
        v_pos := v_pos + 2 + v_states[v_pos + 1]::int;
        IF v_pos - 1 > v_total THEN v_ok := false; EXIT; END IF;
    END LOOP;
    IF v_ok AND v_pos - 1 <> v_total THEN v_ok := false; END IF;

    FOR i IN 1 .. v_count LOOP
        k := p_kinds[i];
        IF v_ok AND v_states[v_starts[i] - 2] = k THEN
            v_seg := v_states[v_starts[i] : v_starts[i] + v_lens[i] - 1];
        ELSE
            v_seg := '{}';
        END IF;
        pa := v_params[3 * i - 2];
        pb := v_params[3 * i - 1];
        pc := v_params[3 * i];
        CASE k
            WHEN 1 THEN SELECT * INTO r FROM "__SCHEMA__".ratelimit_gcra(v_seg, v_now, v_cost, pa, pb, pc);
            WHEN 2 THEN SELECT * INTO r FROM "__SCHEMA__".ratelimit_token_bucket(v_seg, v_now, v_cost, pa, pb, pc);
            WHEN 3 THEN SELECT * INTO r FROM "__SCHEMA__".ratelimit_leaky_bucket(v_seg, v_now, v_cost, pa, pb, pc);
            WHEN 4 THEN SELECT * INTO r FROM "__SCHEMA__".ratelimit_fixed_window(v_seg, v_now, v_cost, pa, pb, pc);
            WHEN 5 THEN SELECT * INTO r FROM "__SCHEMA__".ratelimit_sliding_log(v_seg, v_now, v_cost, pa, pb, pc);
            WHEN 6 THEN SELECT * INTO r FROM "__SCHEMA__".ratelimit_sliding_counter(v_seg, v_now, v_cost, pa, pb, pc);
            ELSE RAISE EXCEPTION 'palisade: unknown algorithm code %', k;
        END CASE;
        v_all := v_all AND r.allowed;
        v_allowed := v_allowed || r.allowed;
        v_rem := v_rem || r.remaining;
        v_reset := v_reset || r.reset_ns;
        v_retry := v_retry || r.retry_ns;
        v_new := v_new || ARRAY[k::numeric, COALESCE(array_length(r.next, 1), 0)::numeric] || r.next;
        v_expires := GREATEST(v_expires, r.expires);
    END LOOP;

    IF v_all THEN
        UPDATE "__SCHEMA__".ratelimit_state st SET states = v_new, expires_at_ns = v_expires
            WHERE st.key = p_key AND st.policy_id = p_policy;
    ELSIF v_block > 0 THEN
        INSERT INTO "__SCHEMA__".ratelimit_blocks AS bl (key, until_ns)
            VALUES (p_key, LEAST(v_now + v_block, m))
            ON CONFLICT (key) DO UPDATE SET until_ns = GREATEST(bl.until_ns, EXCLUDED.until_ns);
    END IF;

    FOR i IN 1 .. v_count LOOP
        v_out := v_out || ARRAY[
            CASE WHEN v_allowed[i] THEN 1 ELSE 0 END,
            v_rem[i],
            v_reset[i],
            v_retry[i]];
    END LOOP;
    -- Back to u64 bits in one query (see v_params).
    RETURN QUERY SELECT "__SCHEMA__".ratelimit_i64(v_now), NULL::bigint, ARRAY(
        SELECT CASE WHEN x >= 9223372036854775808 THEN (x - 18446744073709551616)::bigint
                    ELSE x::bigint END
        FROM unnest(v_out) WITH ORDINALITY AS u(x, o) ORDER BY o);
END
$fn$;

-- RateLimitStore::block: blocks p_key until now + p_ns (u64 bits), extending, never
-- shortening, a block in place. Returns the decision instant (ns, u64 bits).
CREATE OR REPLACE FUNCTION "__SCHEMA__".ratelimit_block(p_key bytea, p_ns bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_now numeric := "__SCHEMA__".ratelimit_now();
BEGIN
    INSERT INTO "__SCHEMA__".ratelimit_blocks AS bl (key, until_ns)
        VALUES (p_key, LEAST(v_now + "__SCHEMA__".ratelimit_u64(p_ns), 18446744073709551615))
        ON CONFLICT (key) DO UPDATE SET until_ns = GREATEST(bl.until_ns, EXCLUDED.until_ns);
    RETURN "__SCHEMA__".ratelimit_i64(v_now);
END
$fn$;
