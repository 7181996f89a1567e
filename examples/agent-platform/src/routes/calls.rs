//! Calls: the caller's phone normalized to E.164 (palisade-sanitize), encrypted with a blind
//! index (palisade-pii) so it is searchable however it is written; the recording URL checked
//! and fetched through the SSRF guard (palisade-sanitize, DNS pinned). Every query names the
//! caller's tenant: another tenant's call answers 404.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use palisade_pii::{Context, ExposeSecret, Masked};
use palisade_postgres::sqlx::{self, Row};
use palisade_rbac::Principal;
use palisade_sanitize::phone::{PhoneNumber, Region};
use palisade_sanitize::url::UrlError;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// The region of national phone numbers (`(415) 555-0123`).
const DEFAULT_REGION: &str = "US";
/// The largest recording relayed, in bytes.
const MAX_RECORDING_BYTES: usize = 10 * 1024 * 1024;

/// `POST /calls`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCall {
    caller_phone: String,
    #[serde(default)]
    assistant_id: Option<i64>,
    #[serde(default)]
    audio_url: Option<String>,
}

/// `GET /calls?phone=…`.
#[derive(Debug, Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    phone: Option<String>,
}

/// The caller's phone in E.164, or 400.
pub(crate) fn normalize_phone(input: &str) -> Result<String, ApiError> {
    let region = Region::new(DEFAULT_REGION).map_err(|_| ApiError::BadRequest("region"))?;
    PhoneNumber::parse(input, Some(region))
        .map(|p| p.e164().to_owned())
        .map_err(|_| ApiError::BadRequest("caller_phone is not a valid phone number"))
}

/// Checks an outbound URL with the SSRF policy: 422 and `url.blocked` when refused.
pub(crate) fn check_audio_url(
    state: &AppState,
    tenant: &str,
    url: &str,
) -> Result<String, ApiError> {
    match state.url_policy.check(url) {
        Ok(checked) => Ok(checked.url().to_string()),
        Err(e) => Err(blocked(tenant, &e)),
    }
}

fn blocked(tenant: &str, e: &UrlError) -> ApiError {
    // palisade-sanitize has emitted `url.blocked` (its reason label, no URL); this line adds
    // the tenant that asked.
    tracing::info!(tenant, "audio_url refused");
    ApiError::Unprocessable(format!("audio_url refused: {e}"))
}

/// Inserts a call for `tenant` and returns its id: the phone encrypted under the row's
/// context, its blind index and mask beside it.
pub(crate) async fn insert_call(
    state: &AppState,
    tenant: &str,
    e164: Option<&str>,
    assistant_id: Option<i64>,
    audio_url: Option<&str>,
    source: &str,
    external_id: Option<&str>,
) -> Result<i64, ApiError> {
    let id: i64 = sqlx::query(state.sql(
        "INSERT INTO __S__.calls (tenant_id, assistant_id, audio_url, source, external_id) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    ))
    .bind(tenant)
    .bind(assistant_id)
    .bind(audio_url)
    .bind(source)
    .bind(external_id)
    .fetch_one(&state.pool)
    .await?
    .try_get("id")?;
    if let Some(phone) = e164 {
        let row = id.to_string();
        let enc = state.keyring.encrypt_to_text(
            &Context::new(tenant, "calls", "phone", &row),
            phone.as_bytes(),
        )?;
        let idx = state
            .keyring
            .blind_index(&state.call_phone_index, tenant, phone)?
            .to_hex();
        sqlx::query(state.sql(
            "UPDATE __S__.calls SET phone_enc = $3, phone_idx = $4, phone_mask = $5 \
             WHERE tenant_id = $1 AND id = $2",
        ))
        .bind(tenant)
        .bind(id)
        .bind(enc)
        .bind(idx)
        .bind(Masked::phone(phone).to_string())
        .execute(&state.pool)
        .await?;
    }
    Ok(id)
}

/// `POST /calls`: 201 with the call (phone masked); 400 for a phone that is not one; 422
/// for a refused recording URL.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Json(body): Json<NewCall>,
) -> Result<Response, ApiError> {
    let tenant = principal.tenant().as_str();
    let phone = normalize_phone(&body.caller_phone)?;
    let audio = match &body.audio_url {
        Some(url) => Some(check_audio_url(&state, tenant, url)?),
        None => None,
    };
    let id = insert_call(
        &state,
        tenant,
        Some(&phone),
        body.assistant_id,
        audio.as_deref(),
        "api",
        None,
    )
    .await?;
    let call = json!({
        "id": id,
        "caller_phone": Masked::phone(&phone).to_string(),
        "audio_url": audio,
    });
    Ok((http::StatusCode::CREATED, Json(call)).into_response())
}

fn call_json(row: &sqlx::postgres::PgRow) -> Result<Value, sqlx::Error> {
    Ok(json!({
        "id": row.try_get::<i64, _>("id")?,
        "assistant_id": row.try_get::<Option<i64>, _>("assistant_id")?,
        "caller_phone": row.try_get::<Option<String>, _>("phone_mask")?,
        "has_recording": row.try_get::<Option<String>, _>("audio_url")?.is_some(),
        "source": row.try_get::<String, _>("source")?,
        "anonymized": row.try_get::<bool, _>("anonymized")?,
    }))
}

const CALL_COLUMNS: &str = "id, assistant_id, phone_mask, audio_url, source, anonymized";

/// `GET /calls` (the tenant's latest 100), `GET /calls?phone=…` (by blind index: the number
/// however it is written, `+1 (415) 555-0123` or `4155550123`).
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Query(search): Query<Search>,
) -> Result<Json<Value>, ApiError> {
    let tenant = principal.tenant().as_str();
    let rows = match &search.phone {
        Some(phone) => {
            let e164 = normalize_phone(phone)?;
            let idx = state
                .keyring
                .blind_index(&state.call_phone_index, tenant, &e164)?
                .to_hex();
            sqlx::query(state.sql(&format!(
                "SELECT {CALL_COLUMNS} FROM __S__.calls WHERE tenant_id = $1 AND phone_idx = $2 \
                 ORDER BY id DESC LIMIT 100"
            )))
            .bind(tenant)
            .bind(idx)
            .fetch_all(&state.pool)
            .await?
        }
        None => {
            sqlx::query(state.sql(&format!(
                "SELECT {CALL_COLUMNS} FROM __S__.calls WHERE tenant_id = $1 \
                 ORDER BY id DESC LIMIT 100"
            )))
            .bind(tenant)
            .fetch_all(&state.pool)
            .await?
        }
    };
    let calls = rows.iter().map(call_json).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "calls": calls })))
}

async fn find(state: &AppState, tenant: &str, id: i64) -> Result<sqlx::postgres::PgRow, ApiError> {
    sqlx::query(state.sql(&format!(
        "SELECT {CALL_COLUMNS}, phone_enc FROM __S__.calls WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::NotFound)
}

/// `GET /calls/{id}`: the call, phone masked; 404 for another tenant's.
pub(crate) async fn get_one(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let row = find(&state, principal.tenant().as_str(), id).await?;
    Ok(Json(call_json(&row)?))
}

/// `GET /calls/{id}/recording` (audited with its reason by the audit layer): the recording
/// fetched through the SSRF-guarded client; 422 when its URL is refused (at connect time
/// too: every address a name resolves to is checked, and the connection goes to those).
pub(crate) async fn recording(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let tenant = principal.tenant().as_str();
    let row = find(&state, tenant, id).await?;
    let url: Option<String> = row.try_get("audio_url")?;
    let url = url.ok_or(ApiError::NotFound)?;
    let request = state.fetcher.get(&url).map_err(|e| blocked(tenant, &e))?;
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Err(fetch_error(tenant, &e)),
    };
    if !response.status().is_success() {
        return Err(ApiError::BadGateway);
    }
    let bytes = response.bytes().await.map_err(|_| ApiError::BadGateway)?;
    if bytes.len() > MAX_RECORDING_BYTES {
        return Err(ApiError::BadGateway);
    }
    let mut res = Response::new(Body::from(bytes));
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/octet-stream"),
    );
    Ok(res)
}

/// A failed fetch: 422 when the SSRF resolver or redirect policy refused it, 502 otherwise.
fn fetch_error(tenant: &str, e: &reqwest::Error) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(url_error) = err.downcast_ref::<UrlError>() {
            return blocked(tenant, url_error);
        }
        source = err.source();
    }
    ApiError::BadGateway
}

/// `POST /calls/{id}/anonymize` (audited, reason required): the phone and recording removed.
pub(crate) async fn anonymize(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let done = sqlx::query(state.sql(
        "UPDATE __S__.calls SET phone_enc = NULL, phone_idx = NULL, phone_mask = NULL, \
         audio_url = NULL, anonymized = true WHERE tenant_id = $1 AND id = $2",
    ))
    .bind(principal.tenant().as_str())
    .bind(id)
    .execute(&state.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(Json(json!({ "id": id, "anonymized": true })))
}

/// `GET /calls/export` (audited, reason required): the tenant's calls with phones in clear.
pub(crate) async fn export(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let tenant = principal.tenant().as_str();
    let rows = sqlx::query(state.sql(
        "SELECT id, phone_enc, source FROM __S__.calls WHERE tenant_id = $1 ORDER BY id LIMIT 10000",
    ))
    .bind(tenant)
    .fetch_all(&state.pool)
    .await?;
    let mut calls = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let enc: Option<String> = row.try_get("phone_enc")?;
        let phone = match enc {
            Some(enc) => {
                let id_text = id.to_string();
                let ctx = Context::new(tenant, "calls", "phone", &id_text);
                let clear = state.keyring.decrypt_text(&ctx, &enc)?;
                Some(String::from_utf8_lossy(clear.expose_secret()).into_owned())
            }
            None => None,
        };
        calls.push(json!({ "id": id, "caller_phone": phone, "source": row.try_get::<String, _>("source")? }));
    }
    Ok(Json(json!({ "calls": calls })))
}
