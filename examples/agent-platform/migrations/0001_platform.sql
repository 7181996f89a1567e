-- examples/agent-platform: the service's own tables. Idempotent, applied at every start next
-- to palisade-postgres's migrations, in the same schema ("__SCHEMA__" is replaced by the
-- validated schema name). Every table is keyed by tenant: every query names it.
CREATE SCHEMA IF NOT EXISTS "__SCHEMA__";

-- A tenant and its service tier (palisade-ratelimit's Tier: free, basic, pro, enterprise).
CREATE TABLE IF NOT EXISTS "__SCHEMA__".tenants (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    tier       text NOT NULL DEFAULT 'free',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Users: e-mail and phone encrypted (palisade-pii, `pii1.` text) with blind indexes for
-- sign-in lookups; the password as an argon2id PHC string (palisade-otp). The role is also
-- assigned in palisade-rbac's tables, which authorization reads.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".users (
    id            bigserial PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES "__SCHEMA__".tenants (id) ON DELETE CASCADE,
    role          text NOT NULL,
    email_enc     text NOT NULL,
    email_idx     text NOT NULL,
    phone_enc     text,
    phone_idx     text,
    password_phc  text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, email_idx)
);
CREATE INDEX IF NOT EXISTS users_phone_idx ON "__SCHEMA__".users (tenant_id, phone_idx);

-- Voice assistants: the provider's API key encrypted, its mask kept for display.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".assistants (
    id              bigserial PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES "__SCHEMA__".tenants (id) ON DELETE CASCADE,
    name            text NOT NULL,
    provider_key_enc  text NOT NULL,
    provider_key_mask text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Calls: the caller's E.164 phone encrypted with a blind index (search by phone however it
-- was written), the recording URL as the SSRF check canonicalized it.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".calls (
    id            bigserial PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES "__SCHEMA__".tenants (id) ON DELETE CASCADE,
    assistant_id  bigint,
    phone_enc     text,
    phone_idx     text,
    phone_mask    text,
    audio_url     text,
    source        text NOT NULL DEFAULT 'api',
    external_id   text,
    anonymized    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS calls_phone_idx ON "__SCHEMA__".calls (tenant_id, phone_idx);

-- Bookings: owned by a user (the owner is also recorded in palisade-rbac's relations).
CREATE TABLE IF NOT EXISTS "__SCHEMA__".bookings (
    id          bigserial PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES "__SCHEMA__".tenants (id) ON DELETE CASCADE,
    owner       text NOT NULL,
    slot        text NOT NULL,
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS bookings_owner_idx ON "__SCHEMA__".bookings (tenant_id, owner);

-- Text messages to send (there is no SMS provider here): the recipient and the body encrypted.
CREATE TABLE IF NOT EXISTS "__SCHEMA__".sms_outbox (
    id          bigserial PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES "__SCHEMA__".tenants (id) ON DELETE CASCADE,
    to_enc      text NOT NULL,
    to_mask     text NOT NULL,
    body_enc    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
