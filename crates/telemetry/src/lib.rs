//! The stable names of Palisade's security events and metrics: one list, shared by every
//! `palisade-*` crate, so that log pipelines, alerts and dashboards match names that do not
//! change between releases (a rename is a breaking change, listed in the changelog).
//!
//! Every event is a `tracing` event whose *name* (`Metadata::name`) and whose `event` field
//! are one of the `&str` constants below; its target is the emitting crate
//! (`palisade_tower`, `palisade_auth`, …). Events never carry a body, a secret, a signature,
//! a token, a code or personal data in clear: only names, outcomes, status codes, ids and the
//! `Display` of error types documented as secret-free.
//!
//! Metrics go through the `metrics` facade: install any recorder
//! (`metrics-exporter-prometheus`, …) to collect them; without one they cost an atomic load.
//!
//! ```
//! assert_eq!(palisade_telemetry::AUTHZ_DENIED, "authz.denied");
//! assert!(palisade_telemetry::EVENTS.contains(&"webhook.signature_invalid"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(feature = "testing"), no_std)]

#[cfg(feature = "testing")]
pub mod testing;

// Events emitted by palisade-tower (webhook, rate limit, query credential, media type).

/// A webhook whose signature, timestamp or body hash did not verify (401).
pub const WEBHOOK_SIGNATURE_INVALID: &str = "webhook.signature_invalid";
/// A webhook request that was malformed: missing or unparsable headers, bad URL, unreadable
/// or oversized body (400, 413).
pub const WEBHOOK_MALFORMED: &str = "webhook.malformed";
/// A duplicate webhook delivery answered without the handler (a completed delivery: 200 or
/// the configured status; one in progress: 409), or one whose claim could not be made (503
/// when the nonce store failed).
pub const WEBHOOK_REPLAY: &str = "webhook.replay";
/// A webhook that verified (and was claimed, when a replay guard is configured).
pub const WEBHOOK_VERIFIED: &str = "webhook.verified";
/// A claimed webhook delivery settled after the handler: completed, released, or not (its
/// lease was lost, the store failed, or it was dropped outside a runtime). Fields `outcome`
/// (the labels of [`METRIC_WEBHOOK_DELIVERIES`]) and `cause` (`answered`, `error`,
/// `dropped`); the store's error when it failed.
pub const WEBHOOK_DELIVERY: &str = "webhook.delivery";
/// A webhook layer that cannot verify because of its configuration (500).
pub const WEBHOOK_CONFIG_ERROR: &str = "webhook.config_error";
/// A request refused by the rate limiter (429), or by a failing store in fail-closed mode
/// (503), or for want of a peer address to key it by (500, `cause = "no_peer_address"`).
/// Field `scope`: `request` (`RateLimitLayer`) or `body` (`BodyRateLimitLayer`, whose own
/// refusals add `cause = "not_verified"` (500) and `"missing_field"` (400)).
pub const RATELIMIT_REFUSED: &str = "ratelimit.refused";
/// A request admitted although the rate-limit store failed (fail-open mode).
pub const RATELIMIT_STORE_FAILED: &str = "ratelimit.store_failed";
/// A key put in the penalty box (the flood quarantine), emitted by `palisade-ratelimit`'s
/// `Quarantine`: fields `key_id` (the key's fingerprint, never the key), `reason` (`penalty`,
/// `explicit`) and `block_ms`.
pub const RATELIMIT_BLOCKED: &str = "ratelimit.blocked";
/// A key's block ended, emitted by `palisade-ratelimit`'s `Quarantine`: fields `key_id` and
/// `reason` (`released` by an operator or `expired`, found by `release_ended`).
pub const RATELIMIT_BLOCK_ENDED: &str = "ratelimit.block_ended";
/// A request refused because its client IP's abuse score is above the threshold, or
/// because the reputation service failed in fail-closed mode, emitted by palisade-tower's
/// rate-limit layer: fields `status`, `cause` (`bad_reputation`, `reputation_failed`) and,
/// when known, `score`; never the address.
pub const RATELIMIT_REPUTATION_REFUSED: &str = "ratelimit.reputation_refused";
/// A request refused because its query string carries a credential parameter (400).
pub const AUTH_QUERY_TOKEN_REFUSED: &str = "auth.query_token_refused";
/// A request refused because of its media type (415).
pub const HTTP_UNSUPPORTED_MEDIA_TYPE: &str = "http.unsupported_media_type";

/// Counter `palisade_webhook_requests_total{provider, outcome}`: one per request seen by a
/// `palisade_tower::WebhookLayer`. `provider` is
/// `palisade_webhook::Provider::as_str`; `outcome` is one of `verified`,
/// `signature_invalid`, `malformed`, `too_large`, `replay` (a duplicate of a completed
/// delivery), `in_progress` (a duplicate of a delivery being handled), `replay_store_failed`,
/// `config_error`.
pub const METRIC_WEBHOOK_REQUESTS: &str = "palisade_webhook_requests_total";
/// Counter `palisade_webhook_deliveries_total{provider, outcome}`: one per delivery claimed by
/// a `palisade_tower::WebhookLayer` with a replay guard, when its claim is settled.
/// `outcome` is one of `completed`, `released`, `lease_lost`, `complete_failed`,
/// `release_failed`, `lease_expiring`.
pub const METRIC_WEBHOOK_DELIVERIES: &str = "palisade_webhook_deliveries_total";
/// Counter `palisade_ratelimit_decisions_total{outcome}`: one per request seen by a
/// `palisade_tower::RateLimitLayer`. `outcome` is one of `admitted`, `refused`,
/// `failed_open`, `failed_closed`, `error`.
pub const METRIC_RATELIMIT_DECISIONS: &str = "palisade_ratelimit_decisions_total";
/// Counter `palisade_ratelimit_tier_decisions_total{tier, outcome}`: one per
/// `palisade_ratelimit::Tiers::check`. `tier` is `free`, `basic`, `pro` or `enterprise`;
/// `outcome` one of `admitted`, `refused`, `unlimited` (a tier without a limit: no store round
/// trip, still counted), `error`.
pub const METRIC_RATELIMIT_TIER_DECISIONS: &str = "palisade_ratelimit_tier_decisions_total";
/// Counter `palisade_query_credential_refusals_total`: requests refused by a
/// `palisade_tower::QueryCredentialLayer`.
pub const METRIC_QUERY_CREDENTIAL_REFUSALS: &str = "palisade_query_credential_refusals_total";
/// Counter `palisade_unsupported_media_type_total`: requests refused by a
/// `palisade_tower::ContentTypeLayer`.
pub const METRIC_UNSUPPORTED_MEDIA_TYPE: &str = "palisade_unsupported_media_type_total";
/// Counter `palisade_http_origin_refusals_total`: requests refused (403) by a
/// `palisade_tower::OriginGuard` because their `Origin` is not on the allowlist.
pub const METRIC_HTTP_ORIGIN_REFUSALS: &str = "palisade_http_origin_refusals_total";
/// Histogram `palisade_webhook_signature_check_seconds{provider}`: the time, in seconds, a
/// `palisade_tower::WebhookLayer` spends verifying one request's signature (URL resolution
/// and `Verifier::verify`, after the body is buffered; not the replay claim).
pub const METRIC_WEBHOOK_SIGNATURE_SECONDS: &str = "palisade_webhook_signature_check_seconds";
/// Counter `palisade_webhook_report_only_total{provider, outcome}`: requests that did not
/// verify and were passed to the handler by a `palisade_tower::WebhookLayer` in report-only
/// mode; `outcome` is what enforce mode would have counted (`signature_invalid`,
/// `malformed`, `config_error`). These requests count `outcome="report_only"` in
/// [`METRIC_WEBHOOK_REQUESTS`].
pub const METRIC_WEBHOOK_REPORT_ONLY: &str = "palisade_webhook_report_only_total";
/// Counter `palisade_webhook_handshakes_total{outcome}`: Meta verification handshakes seen
/// by a `palisade_tower::MetaHandshakeLayer`; `outcome` is `answered` or `refused`.
pub const METRIC_WEBHOOK_HANDSHAKES: &str = "palisade_webhook_handshakes_total";
/// Gauge `palisade_secret_age_seconds{secret}`: the age, in seconds, of a named secret whose
/// creation time is known, set by `palisade_secrets` each time it checks key ages (at load
/// and at each reload). The label is the secret's *name*, never its value.
pub const METRIC_SECRET_AGE: &str = "palisade_secret_age_seconds";
/// Counter `palisade_secret_reloads_total{outcome}`: reloads of a `palisade_secrets`
/// rotation; `outcome` is `unchanged`, `swapped` or `failed`.
pub const METRIC_SECRET_RELOADS: &str = "palisade_secret_reloads_total";

/// Counter `palisade_auth_failures_total{reason}`: one per request palisade-tower's
/// `AuthLayer` refuses; `reason` is `palisade_auth::AuthError::reason` (`missing_credential`,
/// `expired`, `legacy_token`, …).
pub const METRIC_AUTH_FAILURES: &str = "palisade_auth_failures_total";
/// Counter `palisade_auth_successes_total{method}`: one per request palisade-tower's
/// `AuthLayer` authenticates; `method` is `api_key`, `jwt` or `legacy_token`.
pub const METRIC_AUTH_SUCCESSES: &str = "palisade_auth_successes_total";

// Events of the other crates: each crate emits these names and no others for its own
// security events.

/// A request whose credential (API key, JWT, configured header) was missing or did not
/// verify (401), emitted by `palisade-auth`; field `reason` is a fixed, secret-free label.
pub const AUTH_FAILED: &str = "auth.failed";
/// A request that presented a retired shared token (401 whatever else it carries), emitted by
/// `palisade-auth`; the token is never in the event.
pub const AUTH_LEGACY_TOKEN_BLOCKED: &str = "auth.legacy_token_blocked";
/// A retired shared token accepted during an explicit, time-limited migration window,
/// emitted by `palisade-auth`.
pub const AUTH_LEGACY_TOKEN_ALLOWED: &str = "auth.legacy_token_allowed";
/// An authorization refused (403, or 404 where existence must not leak), emitted by
/// `palisade-rbac`: tenant, subject, permission and the rule that decided; no personal data.
pub const AUTHZ_DENIED: &str = "authz.denied";
/// An outbound URL refused by the SSRF policy (private, loopback, metadata or otherwise
/// special-purpose address, internal name, scheme or port), emitted by `palisade-sanitize`
/// and the layers that use it; the reason is a fixed label, the URL's host is not logged.
pub const URL_BLOCKED: &str = "url.blocked";
/// A one-time-code challenge locked after its last allowed wrong answer, emitted by
/// `palisade-otp`.
pub const OTP_LOCKED: &str = "otp.locked";
/// A request refused because its `Origin` is not on the allowlist (403), emitted by
/// palisade-tower's origin guard.
pub const HTTP_ORIGIN_REFUSED: &str = "http.origin_refused";
/// A webhook that did not verify but was passed to the handler because the layer runs in
/// report-only mode, emitted by palisade-tower.
pub const WEBHOOK_REPORT_ONLY: &str = "webhook.report_only";
/// A secret or key older than the configured maximum age (a rotation is due), emitted by
/// `palisade-secrets`; fields `secret` (the name), `age_secs`, `max_age_secs`.
pub const SECRET_TOO_OLD: &str = "secrets.too_old";
/// A Meta webhook verification handshake refused (403), emitted by palisade-tower; field
/// `reason` (`mode`, `token`, `challenge`, `duplicate`), never the token.
pub const WEBHOOK_HANDSHAKE_REFUSED: &str = "webhook.handshake_refused";
/// Secrets re-read from their source were different and the value built from them was
/// swapped in, emitted by `palisade-secrets`; field `secrets` (the names).
pub const SECRETS_ROTATED: &str = "secrets.rotated";
/// A reload of secrets failed (a source error, a missing secret, or a value the builder
/// refused): the previous value stays in use; emitted by `palisade-secrets`.
pub const SECRETS_RELOAD_FAILED: &str = "secrets.reload_failed";
/// An audit event refused before anything was written (a required reason missing, a chain
/// conflict), emitted by `palisade-audit`.
pub const AUDIT_REFUSED: &str = "audit.refused";

/// Every event name above, for tests and for log-pipeline allowlists.
pub const EVENTS: &[&str] = &[
    WEBHOOK_SIGNATURE_INVALID,
    WEBHOOK_MALFORMED,
    WEBHOOK_REPLAY,
    WEBHOOK_VERIFIED,
    WEBHOOK_DELIVERY,
    WEBHOOK_CONFIG_ERROR,
    WEBHOOK_REPORT_ONLY,
    RATELIMIT_REFUSED,
    RATELIMIT_STORE_FAILED,
    RATELIMIT_BLOCKED,
    RATELIMIT_BLOCK_ENDED,
    RATELIMIT_REPUTATION_REFUSED,
    AUTH_QUERY_TOKEN_REFUSED,
    AUTH_FAILED,
    AUTH_LEGACY_TOKEN_BLOCKED,
    AUTH_LEGACY_TOKEN_ALLOWED,
    AUTHZ_DENIED,
    URL_BLOCKED,
    OTP_LOCKED,
    HTTP_UNSUPPORTED_MEDIA_TYPE,
    HTTP_ORIGIN_REFUSED,
    WEBHOOK_HANDSHAKE_REFUSED,
    SECRET_TOO_OLD,
    SECRETS_ROTATED,
    SECRETS_RELOAD_FAILED,
    AUDIT_REFUSED,
];

#[cfg(test)]
mod tests {
    use super::EVENTS;

    #[test]
    fn names_are_unique_and_dotted_lower_case() {
        for (i, name) in EVENTS.iter().enumerate() {
            assert!(!EVENTS[..i].contains(name), "{name} listed twice");
            let (area, what) = name.split_once('.').unwrap();
            for part in [area, what] {
                assert!(!part.is_empty());
                assert!(
                    part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{name}"
                );
            }
        }
    }
}
