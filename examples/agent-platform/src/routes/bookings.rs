//! Bookings with ownership (palisade-rbac's `Authorizer`, on the Postgres relation store):
//! customers read and change only their own (`authorize_owned`: another's booking answers
//! 404, like one that does not exist); staff (`bookings:manage`) any of their tenant
//! (`authorize_in_tenant`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use palisade_postgres::sqlx::{self, Row};
use palisade_rbac::{Permission, Principal, Refusal, ResourceRef, Verdict};
use palisade_sanitize::text::TextCleaner;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// `POST /bookings` and `PATCH /bookings/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BookingBody {
    #[serde(default)]
    slot: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

fn clean(text: &str, max: usize, what: &'static str) -> Result<String, ApiError> {
    let cleaned = TextCleaner::new().single_line().clean(text);
    if cleaned.chars().count() > max {
        return Err(ApiError::BadRequest(what));
    }
    Ok(cleaned)
}

fn permission(text: &str) -> Result<Permission, ApiError> {
    text.parse().map_err(|_| ApiError::Unavailable)
}

fn resource(id: i64) -> Result<ResourceRef, ApiError> {
    ResourceRef::new("bookings", id.to_string()).map_err(|_| ApiError::NotFound)
}

/// Staff may act on any booking of the tenant; others on their own only.
async fn may(
    state: &AppState,
    principal: &Principal,
    action: &str,
    id: i64,
) -> Result<(), ApiError> {
    let (tenant, subject) = (principal.tenant(), principal.subject());
    let record = resource(id)?;
    let staff = state
        .authz
        .authorize(tenant, subject, &permission("bookings:manage")?)
        .await?
        .is_allowed();
    let verdict: Verdict = if staff {
        state
            .authz
            .authorize_in_tenant(tenant, subject, &permission(action)?, &record)
            .await?
    } else {
        state
            .authz
            .authorize_owned(tenant, subject, &permission(action)?, &record)
            .await?
    };
    match verdict.refusal() {
        None => Ok(()),
        Some(Refusal::NotFound) => Err(ApiError::NotFound),
        Some(_) => Err(ApiError::Forbidden),
    }
}

fn booking_json(r: &sqlx::postgres::PgRow) -> Result<Value, sqlx::Error> {
    Ok(json!({
        "id": r.try_get::<i64, _>("id")?,
        "owner": r.try_get::<String, _>("owner")?,
        "slot": r.try_get::<String, _>("slot")?,
        "note": r.try_get::<String, _>("note")?,
    }))
}

/// `POST /bookings`: 201, owned by the caller.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Json(body): Json<BookingBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let slot = clean(
        body.slot.as_deref().unwrap_or(""),
        64,
        "slot: at most 64 characters",
    )?;
    if slot.is_empty() {
        return Err(ApiError::BadRequest("slot is required"));
    }
    let note = clean(
        body.note.as_deref().unwrap_or(""),
        500,
        "note: at most 500 characters",
    )?;
    let tenant = principal.tenant();
    let owner = principal.subject();
    let row = sqlx::query(state.sql(
        "INSERT INTO __S__.bookings (tenant_id, owner, slot, note) VALUES ($1, $2, $3, $4) \
         RETURNING id, owner, slot, note",
    ))
    .bind(tenant.as_str())
    .bind(owner.as_str())
    .bind(&slot)
    .bind(&note)
    .fetch_one(&state.pool)
    .await?;
    let id: i64 = row.try_get("id")?;
    state
        .relations
        .set_owner(&resource(id)?, tenant, owner)
        .await?;
    Ok((StatusCode::CREATED, Json(booking_json(&row)?)))
}

/// `GET /bookings`: staff see the tenant's bookings, customers their own.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let (tenant, subject) = (principal.tenant(), principal.subject());
    let staff = state
        .authz
        .authorize(tenant, subject, &permission("bookings:manage")?)
        .await?
        .is_allowed();
    let rows = if staff {
        sqlx::query(state.sql(
            "SELECT id, owner, slot, note FROM __S__.bookings WHERE tenant_id = $1 ORDER BY id LIMIT 500",
        ))
        .bind(tenant.as_str())
        .fetch_all(&state.pool)
        .await?
    } else {
        sqlx::query(state.sql(
            "SELECT id, owner, slot, note FROM __S__.bookings WHERE tenant_id = $1 AND owner = $2 \
             ORDER BY id LIMIT 500",
        ))
        .bind(tenant.as_str())
        .bind(subject.as_str())
        .fetch_all(&state.pool)
        .await?
    };
    let list = rows
        .iter()
        .map(booking_json)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "bookings": list })))
}

/// `GET /bookings/{id}`: 404 for another customer's or another tenant's booking.
pub(crate) async fn get_one(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    may(&state, &principal, "bookings:read", id).await?;
    let row =
        sqlx::query(state.sql(
            "SELECT id, owner, slot, note FROM __S__.bookings WHERE tenant_id = $1 AND id = $2",
        ))
        .bind(principal.tenant().as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(booking_json(&row)?))
}

/// `PATCH /bookings/{id}`: as reading, with `bookings:write`.
pub(crate) async fn update(
    State(state): State<Arc<AppState>>,
    axum::Extension(principal): axum::Extension<Principal>,
    Path(id): Path<i64>,
    Json(body): Json<BookingBody>,
) -> Result<Json<Value>, ApiError> {
    may(&state, &principal, "bookings:write", id).await?;
    let slot = match &body.slot {
        Some(s) => Some(clean(s, 64, "slot: at most 64 characters")?),
        None => None,
    };
    let note = match &body.note {
        Some(n) => Some(clean(n, 500, "note: at most 500 characters")?),
        None => None,
    };
    let row = sqlx::query(state.sql(
        "UPDATE __S__.bookings SET slot = COALESCE($3, slot), note = COALESCE($4, note) \
         WHERE tenant_id = $1 AND id = $2 RETURNING id, owner, slot, note",
    ))
    .bind(principal.tenant().as_str())
    .bind(id)
    .bind(slot)
    .bind(note)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::NotFound)?;
    Ok(Json(booking_json(&row)?))
}
