//! Stable event and metric names.
//!
//! Every refusal and every verified webhook emits one `tracing` event whose *name* (the
//! `name:` of the event, visible to subscribers as `Metadata::name`) and whose `event` field
//! are one of the constants below, with target `palisade_tower`. Subscribers and log
//! pipelines can match either. Events never carry a body, a secret, a signature or a query
//! value: only provider names, outcomes, status codes, parameter *names* and the `Display` of
//! error types that are documented as secret-free.
//!
//! Counters go through the [`metrics`] facade: install any recorder
//! (`metrics-exporter-prometheus`, …) to collect them; without one they cost an atomic load.

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
pub const RATELIMIT_REFUSED: &str = "ratelimit.refused";
/// A request admitted although the rate-limit store failed (fail-open mode).
pub const RATELIMIT_STORE_FAILED: &str = "ratelimit.store_failed";
/// A request refused because its query string carries a credential parameter (400).
pub const AUTH_QUERY_TOKEN_REFUSED: &str = "auth.query_token_refused";
/// A request refused because of its media type (415).
pub const HTTP_UNSUPPORTED_MEDIA_TYPE: &str = "http.unsupported_media_type";

/// Counter `palisade_webhook_requests_total{provider, outcome}`: one per request seen by a
/// [`WebhookLayer`](crate::WebhookLayer). `provider` is
/// [`Provider::as_str`](palisade_webhook::Provider::as_str); `outcome` is one of `verified`,
/// `signature_invalid`, `malformed`, `too_large`, `replay` (a duplicate of a completed
/// delivery), `in_progress` (a duplicate of a delivery being handled), `replay_store_failed`,
/// `config_error`.
pub const METRIC_WEBHOOK_REQUESTS: &str = "palisade_webhook_requests_total";
/// Counter `palisade_webhook_deliveries_total{provider, outcome}`: one per delivery claimed by
/// a [`WebhookLayer`](crate::WebhookLayer) with a replay guard, when its claim is settled.
/// `outcome` is one of `completed`, `released`, `lease_lost`, `complete_failed`,
/// `release_failed`, `lease_expiring`.
pub const METRIC_WEBHOOK_DELIVERIES: &str = "palisade_webhook_deliveries_total";
/// Counter `palisade_ratelimit_decisions_total{outcome}`: one per request seen by a
/// [`RateLimitLayer`](crate::RateLimitLayer). `outcome` is one of `admitted`, `refused`,
/// `failed_open`, `failed_closed`, `error`.
pub const METRIC_RATELIMIT_DECISIONS: &str = "palisade_ratelimit_decisions_total";
/// Counter `palisade_query_credential_refusals_total`: requests refused by a
/// [`QueryCredentialLayer`](crate::QueryCredentialLayer).
pub const METRIC_QUERY_CREDENTIAL_REFUSALS: &str = "palisade_query_credential_refusals_total";
/// Counter `palisade_unsupported_media_type_total`: requests refused by a
/// [`ContentTypeLayer`](crate::ContentTypeLayer).
pub const METRIC_UNSUPPORTED_MEDIA_TYPE: &str = "palisade_unsupported_media_type_total";

/// Emits one event named `$name` (also in its `event` field) with target `palisade_tower`.
macro_rules! emit {
    ($level:expr, $name:expr, $($fields:tt)+) => {
        ::tracing::event!(name: $name, target: "palisade_tower", $level, event = $name, $($fields)+)
    };
}
pub(crate) use emit;
