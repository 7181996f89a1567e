//! The Vapi webhook (palisade-webhook's Vapi HMAC scheme through palisade-tower's
//! `WebhookLayer`, deliveries claimed in palisade-replay's Postgres nonce store): an
//! end-of-call report creates a call in the tenant the signed body names
//! (`message.call.metadata.tenant`; never the URL, which is not signed).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use palisade_postgres::sqlx;
use palisade_rbac::TenantId;
use palisade_tower::VerifiedWebhook;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::routes::calls::{check_audio_url, insert_call, normalize_phone};
use crate::state::AppState;

fn text<'a>(body: &'a Value, pointer: &str) -> Option<&'a str> {
    body.pointer(pointer).and_then(Value::as_str)
}

/// `POST /webhooks/vapi`: 200 with the call created (or `ignored` for other message types);
/// 400 for a body without a tenant; 404 for an unknown tenant. A recording URL the SSRF
/// policy refuses is dropped (`url.blocked`), the call kept.
pub(crate) async fn vapi(
    State(state): State<Arc<AppState>>,
    Extension(webhook): Extension<VerifiedWebhook>,
) -> Result<Json<Value>, ApiError> {
    let body: Value =
        serde_json::from_slice(&webhook.body).map_err(|_| ApiError::BadRequest("not JSON"))?;
    if text(&body, "/message/type") != Some("end-of-call-report") {
        return Ok(Json(json!({ "ignored": true })));
    }
    let tenant = text(&body, "/message/call/metadata/tenant")
        .and_then(|t| TenantId::new(t).ok())
        .ok_or(ApiError::BadRequest(
            "message.call.metadata.tenant is required",
        ))?;
    let known: Option<(String,)> =
        sqlx::query_as(state.sql("SELECT id FROM __S__.tenants WHERE id = $1"))
            .bind(tenant.as_str())
            .fetch_optional(&state.pool)
            .await?;
    if known.is_none() {
        return Err(ApiError::NotFound);
    }
    let phone = match text(&body, "/message/call/customer/number")
        .or_else(|| text(&body, "/message/customer/number"))
    {
        Some(p) => Some(normalize_phone(p)?),
        None => None,
    };
    let audio = text(&body, "/message/artifact/recordingUrl")
        .or_else(|| text(&body, "/message/recordingUrl"))
        .and_then(|url| check_audio_url(&state, tenant.as_str(), url).ok());
    let external = text(&body, "/message/call/id");
    let id = insert_call(
        &state,
        tenant.as_str(),
        phone.as_deref(),
        None,
        audio.as_deref(),
        "vapi",
        external,
    )
    .await?;
    Ok(Json(json!({ "call_id": id, "recording": audio.is_some() })))
}
