//! Why the service could not start ([`StartError`]), and how a request is refused
//! ([`ApiError`]: a status and a short fixed message, never a secret or a stored value).

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is invalid, or a secret is missing.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A Postgres store could not be reached or migrated (the URL is never quoted).
    #[error("postgres: {0}")]
    Store(String),
    /// The keyring could not be read.
    #[error("keyring: {0}")]
    Pii(palisade_pii::PiiError),
    /// A Palisade component refused its settings.
    #[error("{0}")]
    Component(String),
    /// Binding or serving failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl StartError {
    /// A component's error, as text (no component error quotes a secret).
    pub(crate) fn component(e: impl std::fmt::Display) -> Self {
        Self::Component(e.to_string())
    }
}

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400, with what was wrong with the input.
    BadRequest(&'static str),
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404: no such record in the caller's tenant (another tenant's record answers the same).
    NotFound,
    /// 409.
    Conflict(&'static str),
    /// 422, with what was refused (an outbound URL).
    Unprocessable(String),
    /// 429.
    TooManyRequests(&'static str),
    /// 502: the recording server failed.
    BadGateway,
    /// 503: a store failed.
    Unavailable,
}

impl ApiError {
    /// A store failed: logged without its details' values, answered 503.
    pub(crate) fn store(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "store failed");
        Self::Unavailable
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m.to_owned()),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized".to_owned()),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden".to_owned()),
            Self::NotFound => (StatusCode::NOT_FOUND, "not found".to_owned()),
            Self::Conflict(m) => (StatusCode::CONFLICT, m.to_owned()),
            Self::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, m),
            Self::TooManyRequests(m) => (StatusCode::TOO_MANY_REQUESTS, m.to_owned()),
            Self::BadGateway => (StatusCode::BAD_GATEWAY, "recording unavailable".to_owned()),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable".to_owned()),
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

impl From<palisade_postgres::sqlx::Error> for ApiError {
    fn from(e: palisade_postgres::sqlx::Error) -> Self {
        Self::store(e)
    }
}

impl From<palisade_rbac::StoreError> for ApiError {
    fn from(e: palisade_rbac::StoreError) -> Self {
        Self::store(e)
    }
}

impl From<palisade_pii::PiiError> for ApiError {
    fn from(e: palisade_pii::PiiError) -> Self {
        tracing::error!(error = %e, "encryption failed");
        Self::Unavailable
    }
}
