//! Who may call: the fleet token (filters) and the admin token (operators).
//!
//! Both are sent as `Authorization: Bearer <token>` and compared as SHA-256 digests
//! in constant time.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::header;

use crate::error::ApiError;
use crate::state::AppState;

/// Proof that the caller presented the fleet token.
pub(crate) struct FleetCaller;

impl FromRequestParts<AppState> for FleetCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = bearer(parts).ok_or(ApiError::Unauthorized("send the fleet token as `Authorization: Bearer <token>`"))?;
        if state.is_fleet_token(presented) {
            Ok(FleetCaller)
        } else {
            Err(ApiError::Unauthorized("the fleet token is not valid"))
        }
    }
}

/// Proof that the caller presented the admin token. Answers 503 when the control
/// plane runs without one, so the policy API is off rather than open.
pub(crate) struct AdminCaller;

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if !state.admin_enabled() {
            return Err(ApiError::AdminDisabled);
        }
        let presented = bearer(parts).ok_or(ApiError::Unauthorized("send the admin token as `Authorization: Bearer <token>`"))?;
        if state.is_admin_token(presented) {
            Ok(AdminCaller)
        } else {
            Err(ApiError::Unauthorized("the admin token is not valid"))
        }
    }
}

/// The token of an `Authorization: Bearer` header (scheme matched case-insensitively).
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}
