//! Sign-in: a password (palisade-otp's argon2id `Passwords`, the same time for unknown users)
//! or a one-time code by SMS (palisade-otp's `Challenges` on the Postgres store: attempts
//! counted and compared in one statement, the third wrong code locks the challenge). The SMS
//! goes to the `sms_outbox` table (recipient and body encrypted) and to the log, since there
//! is no SMS provider here. A success answers a session JWT signed by the service
//! (palisade-auth's `JwtSigner`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use palisade_otp::{CheckOutcome, OtpError, SecretString, SubjectKey};
use palisade_pii::{Context, ExposeSecret, Masked};
use palisade_postgres::sqlx::{self, Row};
use palisade_rbac::TenantId;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::routes::calls::normalize_phone;
use crate::routes::now_secs;
use crate::state::{AppState, ISSUER, SESSION_TTL_SECS};

/// The purpose of the SMS sign-in challenges.
const SMS_PURPOSE: &str = "sms-login";

/// `POST /auth/password`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordSignIn {
    tenant: String,
    email: String,
    password: SecretString,
}

/// `POST /auth/otp/start`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OtpStart {
    tenant: String,
    phone: String,
}

/// `POST /auth/otp/verify`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OtpVerify {
    tenant: String,
    phone: String,
    code: SecretString,
}

fn tenant_id(text: &str) -> Result<TenantId, ApiError> {
    TenantId::new(text).map_err(|_| ApiError::BadRequest("tenant is not a tenant id"))
}

/// The session token of user `id` with `role` in `tenant`.
pub(crate) fn session(
    state: &AppState,
    tenant: &str,
    id: i64,
    role: &str,
) -> Result<String, ApiError> {
    let now = now_secs();
    let mut claims = Map::new();
    claims.insert("iss".into(), ISSUER.into());
    claims.insert("sub".into(), format!("u-{id}").into());
    claims.insert("tenant".into(), tenant.into());
    claims.insert("roles".into(), json!([role]));
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), now.saturating_add(SESSION_TTL_SECS).into());
    state.signer.sign(&claims).map_err(|e| {
        tracing::error!(error = %e, "session token not signed");
        ApiError::Unavailable
    })
}

fn token_response(token: String) -> Json<Value> {
    Json(json!({ "token": token, "token_type": "Bearer", "expires_in": SESSION_TTL_SECS }))
}

/// `POST /auth/password`: 200 with a session token, 401 for any wrong tenant, e-mail or
/// password (the same answer, after the same argon2id work).
pub(crate) async fn password(
    State(state): State<Arc<AppState>>,
    Json(body): Json<PasswordSignIn>,
) -> Result<Json<Value>, ApiError> {
    let tenant = tenant_id(&body.tenant)?;
    let idx = state
        .keyring
        .blind_index(&state.email_index, tenant.as_str(), &body.email)
        .map_err(|_| ApiError::BadRequest("email"))?
        .to_hex();
    let row = sqlx::query(state.sql(
        "SELECT id, role, password_phc FROM __S__.users WHERE tenant_id = $1 AND email_idx = $2",
    ))
    .bind(tenant.as_str())
    .bind(idx)
    .fetch_optional(&state.pool)
    .await?;
    let user = match &row {
        Some(r) => Some((
            r.try_get::<i64, _>("id")?,
            r.try_get::<String, _>("role")?,
            r.try_get::<Option<String>, _>("password_phc")?,
        )),
        None => None,
    };
    let phc = user.as_ref().and_then(|(_, _, phc)| phc.clone());
    let passwords = Arc::clone(&state.passwords);
    let typed = body.password;
    // argon2id takes tens of milliseconds of CPU: off the async workers.
    let valid = tokio::task::spawn_blocking(move || match phc {
        Some(phc) => passwords.verify(&typed, &phc),
        None => passwords.verify_unknown_user(&typed),
    })
    .await
    .map_err(|_| ApiError::Unavailable)?
    .map_err(|_| ApiError::Unauthorized)?;
    match user {
        Some((id, role, Some(_))) if valid => {
            Ok(token_response(session(&state, tenant.as_str(), id, &role)?))
        }
        _ => Err(ApiError::Unauthorized),
    }
}

async fn user_by_phone(
    state: &AppState,
    tenant: &TenantId,
    e164: &str,
) -> Result<Option<(i64, String)>, ApiError> {
    let idx = state
        .keyring
        .blind_index(&state.user_phone_index, tenant.as_str(), e164)?
        .to_hex();
    let row =
        sqlx::query(state.sql(
            "SELECT id, role FROM __S__.users WHERE tenant_id = $1 AND phone_idx = $2 LIMIT 1",
        ))
        .bind(tenant.as_str())
        .bind(idx)
        .fetch_optional(&state.pool)
        .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("id")?, r.try_get("role")?)),
        None => None,
    })
}

/// `POST /auth/otp/start`: 202 whether or not the number belongs to a user (no enumeration);
/// for a user, a 6-digit code in the SMS outbox. 429 within the resend cooldown.
pub(crate) async fn otp_start(
    State(state): State<Arc<AppState>>,
    Json(body): Json<OtpStart>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = tenant_id(&body.tenant)?;
    let e164 = normalize_phone(&body.phone)?;
    if let Some((id, _)) = user_by_phone(&state, &tenant, &e164).await? {
        let key = SubjectKey::new(tenant.as_str(), SMS_PURPOSE, format!("u-{id}"));
        let issued = match state.challenges.issue(&key).await {
            Ok(issued) => issued,
            Err(OtpError::Cooldown { .. } | OtpError::RateLimited { .. }) => {
                return Err(ApiError::TooManyRequests("a code was sent recently"));
            }
            Err(e) => return Err(ApiError::store(e)),
        };
        let text = format!(
            "Your agent-platform code is {}",
            issued.code.expose_secret()
        );
        enqueue_sms(&state, tenant.as_str(), &e164, &text).await?;
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "sent": true }))))
}

/// Writes a text message to the outbox (recipient and body encrypted under the row's
/// context) and to the log, which stands for the SMS provider in this example.
async fn enqueue_sms(state: &AppState, tenant: &str, to: &str, text: &str) -> Result<(), ApiError> {
    let mask = Masked::phone(to).to_string();
    let id: i64 = sqlx::query(state.sql(
        "INSERT INTO __S__.sms_outbox (tenant_id, to_enc, to_mask, body_enc) \
         VALUES ($1, '', $2, '') RETURNING id",
    ))
    .bind(tenant)
    .bind(&mask)
    .fetch_one(&state.pool)
    .await?
    .try_get("id")?;
    let row = id.to_string();
    let to_enc = state.keyring.encrypt_to_text(
        &Context::new(tenant, "sms_outbox", "to", &row),
        to.as_bytes(),
    )?;
    let body_enc = state.keyring.encrypt_to_text(
        &Context::new(tenant, "sms_outbox", "body", &row),
        text.as_bytes(),
    )?;
    sqlx::query(state.sql(
        "UPDATE __S__.sms_outbox SET to_enc = $3, body_enc = $4 WHERE tenant_id = $1 AND id = $2",
    ))
    .bind(tenant)
    .bind(id)
    .bind(to_enc)
    .bind(body_enc)
    .execute(&state.pool)
    .await?;
    // The demo's SMS provider: the log (the recipient masked).
    tracing::info!(target: "sms_outbox", tenant, to = %mask, outbox_id = id, "SMS: {text}");
    Ok(())
}

/// `POST /auth/otp/verify`: 200 with a session token; 401 for a wrong code (with the
/// attempts left), 429 once the challenge is locked (third wrong code: `otp.locked`).
pub(crate) async fn otp_verify(
    State(state): State<Arc<AppState>>,
    Json(body): Json<OtpVerify>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = tenant_id(&body.tenant)?;
    let e164 = normalize_phone(&body.phone)?;
    let Some((id, role)) = user_by_phone(&state, &tenant, &e164).await? else {
        return Err(ApiError::Unauthorized);
    };
    let key = SubjectKey::new(tenant.as_str(), SMS_PURPOSE, format!("u-{id}"));
    let outcome = state
        .challenges
        .verify(&key, body.code.expose_secret())
        .await
        .map_err(ApiError::store)?;
    // palisade-otp emits `otp.locked` itself when the last attempt is used.
    match outcome {
        CheckOutcome::Verified => Ok((
            StatusCode::OK,
            token_response(session(&state, tenant.as_str(), id, &role)?),
        )),
        CheckOutcome::Wrong { attempts_left } => Ok((
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "wrong code", "attempts_left": attempts_left })),
        )),
        CheckOutcome::Locked => Err(ApiError::TooManyRequests("code locked: request a new one")),
        _ => Err(ApiError::Unauthorized),
    }
}
