//! Assistants: the provider's API key encrypted at rest (palisade-pii), shown masked; in
//! clear only for `assistants:credential:read` (admins) with a reason, recorded by the audit
//! layer (palisade-audit, action `credential.read`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use palisade_pii::{Context, ExposeSecret, Masked};
use palisade_postgres::sqlx::{self, Row};
use palisade_rbac::Principal;
use palisade_sanitize::text::TextCleaner;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// `POST /assistants`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAssistant {
    name: String,
    provider_api_key: secrecy::SecretString,
}

/// `POST /assistants`: 201 with the assistant, its key masked.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Json(body): Json<NewAssistant>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = principal.tenant().as_str();
    let name = TextCleaner::new().single_line().clean(&body.name);
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::BadRequest("name: 1 to 200 characters"));
    }
    let key = body.provider_api_key.expose_secret();
    if key.len() < 8 || key.len() > 512 {
        return Err(ApiError::BadRequest("provider_api_key: 8 to 512 bytes"));
    }
    let mask = Masked::secret(key).to_string();
    let id: i64 = sqlx::query(state.sql(
        "INSERT INTO __S__.assistants (tenant_id, name, provider_key_enc, provider_key_mask) \
         VALUES ($1, $2, '', $3) RETURNING id",
    ))
    .bind(tenant)
    .bind(&name)
    .bind(&mask)
    .fetch_one(&state.pool)
    .await?
    .try_get("id")?;
    let row = id.to_string();
    let enc = state.keyring.encrypt_to_text(
        &Context::new(tenant, "assistants", "provider_key", &row),
        key.as_bytes(),
    )?;
    sqlx::query(
        state.sql(
            "UPDATE __S__.assistants SET provider_key_enc = $3 WHERE tenant_id = $1 AND id = $2",
        ),
    )
    .bind(tenant)
    .bind(id)
    .bind(enc)
    .execute(&state.pool)
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "name": name, "provider_api_key": mask })),
    ))
}

/// `GET /assistants`: the tenant's assistants, keys masked.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let rows = sqlx::query(state.sql(
        "SELECT id, name, provider_key_mask FROM __S__.assistants WHERE tenant_id = $1 ORDER BY id",
    ))
    .bind(principal.tenant().as_str())
    .fetch_all(&state.pool)
    .await?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(json!({
                "id": r.try_get::<i64, _>("id")?,
                "name": r.try_get::<String, _>("name")?,
                "provider_api_key": r.try_get::<String, _>("provider_key_mask")?,
            }))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(json!({ "assistants": list })))
}

/// `GET /assistants/{id}`: the assistant, key masked; 404 for another tenant's.
pub(crate) async fn get_one(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let r = sqlx::query(state.sql(
        "SELECT id, name, provider_key_mask FROM __S__.assistants WHERE tenant_id = $1 AND id = $2",
    ))
    .bind(principal.tenant().as_str())
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::NotFound)?;
    Ok(Json(json!({
        "id": r.try_get::<i64, _>("id")?,
        "name": r.try_get::<String, _>("name")?,
        "provider_api_key": r.try_get::<String, _>("provider_key_mask")?,
    })))
}

/// `GET /assistants/{id}/credential`: the provider key in clear (admins, with
/// `X-Audit-Reason`; the audit layer refuses a request without one, 400, and records every
/// attempt); 404 for another tenant's assistant.
pub(crate) async fn credential(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let tenant = principal.tenant().as_str();
    let r = sqlx::query(
        state.sql("SELECT provider_key_enc FROM __S__.assistants WHERE tenant_id = $1 AND id = $2"),
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::NotFound)?;
    let enc: String = r.try_get("provider_key_enc")?;
    let row = id.to_string();
    let clear = state.keyring.decrypt_text(
        &Context::new(tenant, "assistants", "provider_key", &row),
        &enc,
    )?;
    let key = String::from_utf8_lossy(clear.expose_secret()).into_owned();
    Ok(Json(json!({ "id": id, "provider_api_key": key })))
}
