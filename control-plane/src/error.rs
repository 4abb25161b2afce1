//! The one error type of the HTTP API.
//!
//! Every error answers JSON: `{"error": {"code", "message", "problems"?}}`.
//! Internal errors are logged in full and answered with a generic 500, so
//! no detail of the database or the file system leaks to callers.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portcullis_policy::ValidationReport;
use serde_json::json;

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The caller did not prove who it is.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The admin API is off: no admin token is configured.
    #[error("the policy API is disabled: start the control plane with --admin-token (or PORTCULLIS_ADMIN_TOKEN) to enable it")]
    AdminDisabled,
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the route accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body's content type is not one the route reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A token (an approver's OIDC token) was refused; the message says why.
    #[error("the token is not valid: {0}")]
    InvalidToken(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing at this address.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the state of the resource, such as deciding an
    /// expired hold.
    #[error("{message}")]
    Conflict {
        /// Stable code, such as `hold_expired`.
        code: &'static str,
        /// What happened.
        message: String,
    },
    /// Something the route needs is not there yet, such as a policy.
    #[error("{0}")]
    Unavailable(String),
    /// The request body was refused; the report lists every problem.
    #[error("the document is not valid")]
    Invalid(ValidationReport),
    /// Anything unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, problems) = match &self {
            ApiError::Unauthorized(message) => (StatusCode::UNAUTHORIZED, "unauthorized", (*message).to_owned(), None),
            ApiError::AdminDisabled => (StatusCode::SERVICE_UNAVAILABLE, "admin_disabled", self.to_string(), None),
            ApiError::BadRequest(message) => (StatusCode::BAD_REQUEST, "bad_request", message.clone(), None),
            ApiError::PayloadTooLarge(message) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message.clone(), None),
            ApiError::UnsupportedMediaType(message) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message.clone(), None),
            ApiError::InvalidToken(_) => (StatusCode::UNAUTHORIZED, "invalid_token", self.to_string(), None),
            ApiError::Forbidden(message) => (StatusCode::FORBIDDEN, "forbidden", message.clone(), None),
            ApiError::NotFound(message) => (StatusCode::NOT_FOUND, "not_found", message.clone(), None),
            ApiError::Conflict { code, message } => (StatusCode::CONFLICT, *code, message.clone(), None),
            ApiError::Unavailable(message) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", message.clone(), None),
            ApiError::Invalid(report) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_document",
                format!("the document has {} error(s); fix each and retry", report.errors.len()),
                Some(report),
            ),
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; the control-plane log has the details".to_owned(), None)
            }
        };
        let mut body = json!({"error": {"code": code, "message": message}});
        if let Some(report) = problems {
            body["error"]["problems"] = json!(report.errors);
            body["error"]["warnings"] = json!(report.warnings);
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            let challenge = if code == "invalid_token" { "Bearer realm=\"portcullis\", error=\"invalid_token\"" } else { "Bearer realm=\"portcullis\"" };
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static(challenge));
        }
        response
    }
}
