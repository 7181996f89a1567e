//! The per-tenant daily quota of its service tier (palisade-ratelimit's `Tiers`: free 10,
//! basic 100, pro 1000 requests a day, enterprise unlimited), on the Postgres store, with
//! `RateLimit` headers (draft-ietf-httpapi-ratelimit-headers) on every answer.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue};
use palisade_postgres::sqlx;
use palisade_ratelimit::{HeaderStyle, KeyBuilder, RateLimitHeaders, Tier, TierLimit};
use palisade_rbac::Principal;

use crate::error::ApiError;
use crate::state::AppState;

/// The tier of `tenant` (`free` when the stored name is not a tier).
pub(crate) async fn tier_of(state: &AppState, tenant: &str) -> Result<Tier, ApiError> {
    let row: Option<(String,)> =
        sqlx::query_as(state.sql("SELECT tier FROM __S__.tenants WHERE id = $1"))
            .bind(tenant)
            .fetch_optional(&state.pool)
            .await?;
    Ok(row.and_then(|(t,)| t.parse().ok()).unwrap_or(Tier::Free))
}

/// Charges one request to the principal's tenant's daily quota: 429 when it is spent.
pub(crate) async fn limit(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(tenant) = request
        .extensions()
        .get::<Principal>()
        .map(|p| p.tenant().as_str().to_owned())
    else {
        return ApiError::Unauthorized.into_response();
    };
    let tier = match tier_of(&state, &tenant).await {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let key = KeyBuilder::new("tier").str(&tenant).build();
    let verdict = match state.tiers.check(&*state.rates, tier, &key, 1).await {
        Ok(v) => v,
        Err(e) => return ApiError::store(e).into_response(),
    };
    let pairs = match state.tiers.limit(tier) {
        Ok(TierLimit::Limited(policy)) => {
            RateLimitHeaders::new(policy, &verdict).to_pairs(HeaderStyle::Draft)
        }
        _ => Vec::new(),
    };
    let mut response = if verdict.is_allowed() {
        next.run(request).await
    } else {
        tracing::info!(tenant, tier = tier.as_str(), "tier quota spent");
        ApiError::TooManyRequests("daily quota of the tenant's tier spent").into_response()
    };
    for (name, value) in pairs {
        // `from_bytes` lower-cases the drafts' spelling (`RateLimit-Policy`).
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
