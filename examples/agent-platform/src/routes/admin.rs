//! Admin routes: API keys for machine clients (palisade-auth, stored as peppered HMACs in
//! Postgres), the audit log of the caller's tenant (palisade-audit's Postgres sink) and the
//! check of its hash chain, and `GET /me`.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Query as QueryParams, State};
use http::StatusCode;
use palisade_audit::{AuditSink, ChainVerifier, Event, Head, Query};
use palisade_auth::{KeySpec, ScopeSet, SubjectId};
use palisade_pii::ExposeSecret;
use palisade_rbac::Principal;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// `POST /api-keys`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewKey {
    /// Who the key is for (a machine client's name: `crm-sync`).
    client: String,
    /// Space-separated scopes (`calls:read`, `admin:*`).
    scopes: String,
    /// Lifetime in days (none: no expiry).
    #[serde(default)]
    ttl_days: Option<u64>,
}

/// `GET /audit?limit=…`.
#[derive(Deserialize)]
pub(crate) struct AuditParams {
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /me`: who the request acts for.
pub(crate) async fn me(axum::Extension(principal): axum::Extension<Principal>) -> Json<Value> {
    Json(json!({
        "tenant": principal.tenant().as_str(),
        "subject": principal.subject().as_str(),
        "roles": principal.roles().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "scopes": principal.scopes().to_string(),
    }))
}

/// `POST /api-keys`: 201 with the key, shown once; 400 for an invalid scope list.
pub(crate) async fn create_key(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Json(body): Json<NewKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let owner =
        SubjectId::new(&body.client).map_err(|_| ApiError::BadRequest("client is not an id"))?;
    let scopes = ScopeSet::parse_list(&body.scopes)
        .map_err(|_| ApiError::BadRequest("scopes: space-separated `resource:action` scopes"))?;
    let issued = state
        .api_keys
        .issue(KeySpec {
            tenant: principal.tenant().clone(),
            owner,
            scopes,
            ttl: body
                .ttl_days
                .map(|d| Duration::from_secs(d.saturating_mul(86_400))),
        })
        .await
        .map_err(ApiError::store)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": issued.record.id.as_str(),
            "key": issued.key.expose_secret(),
            "client": issued.record.owner.as_str(),
            "scopes": issued.record.scopes.to_string(),
        })),
    ))
}

fn event_json(e: &Event) -> Value {
    json!({
        "seq": e.seq,
        "time_ms": e.time_ms,
        "actor": e.actor.subject().as_str(),
        "role": e.actor.role().map(|r| r.as_str()),
        "action": e.action.as_str(),
        "resource": e.resource.to_string(),
        "reason": e.reason.as_ref().map(|r| r.as_str()),
        "outcome": e.outcome.to_string(),
        "client": e.client.as_ref().map(ToString::to_string),
    })
}

/// `GET /audit`: the caller's tenant's events, newest first (100 by default, at most 1000).
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    QueryParams(params): QueryParams<AuditParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    let events = state
        .audit
        .query(principal.tenant(), &Query::new().limit(limit))
        .await
        .map_err(ApiError::store)?;
    Ok(Json(
        json!({ "events": events.iter().map(event_json).collect::<Vec<_>>() }),
    ))
}

/// `GET /audit/verify`: walks the tenant's chain from its first event and checks every MAC
/// and link (what `palisade audit verify` does): 200 `{"valid": true, "events": n}`, or 409
/// naming the first bad sequence number.
pub(crate) async fn verify(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let keys = state.chain_keys().map_err(ApiError::store)?;
    let tenant = principal.tenant();
    let mut verifier = ChainVerifier::new(&keys, tenant.clone(), Head::GENESIS);
    let mut after = 0;
    loop {
        let page = state
            .audit
            .read(tenant, after, 1000)
            .await
            .map_err(ApiError::store)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for event in &page {
            if let Err(e) = verifier.push(event) {
                return Ok((
                    StatusCode::CONFLICT,
                    Json(json!({ "valid": false, "seq": e.seq, "fault": e.to_string() })),
                ));
            }
        }
    }
    Ok((
        StatusCode::OK,
        Json(json!({ "valid": true, "events": verifier.head().seq })),
    ))
}
