//! Who may call: the fleet token (filters), the admin token (operators), and OIDC
//! access tokens (approvers and requesters of holds).
//!
//! All are sent as `Authorization: Bearer <token>`. The fleet and admin tokens are
//! compared as SHA-256 digests in constant time; OIDC tokens are verified with the
//! identity providers of the policy in force (see [`crate::approvers`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::header;

use portcullis_identity::Identity;

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

/// Someone signed in with an OIDC access token of one of the policy's providers.
pub(crate) struct OidcCaller(pub Identity);

impl FromRequestParts<AppState> for OidcCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized("send your OIDC access token as `Authorization: Bearer <token>`"))?;
        Ok(Self(state.approvers.authenticate(&state.bundles, &state.holds, token).await?))
    }
}

/// Someone signed in with an OIDC access token who belongs to an approver group.
pub(crate) struct Approver(pub Identity);

impl FromRequestParts<AppState> for Approver {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let OidcCaller(identity) = OidcCaller::from_request_parts(parts, state).await?;
        let settings = state.holds.settings();
        if settings.approver_groups.is_empty() && settings.rule_approver_groups.is_empty() {
            return Err(ApiError::Forbidden("no approver groups are configured: start the control plane with --approver-groups".into()));
        }
        if !settings.is_approver(&identity.groups) {
            return Err(ApiError::Forbidden(format!("`{}` is not an approver: no group of the token is an approver group", identity.subject)));
        }
        Ok(Self(identity))
    }
}

/// The token of an `Authorization: Bearer` header (scheme matched case-insensitively).
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}
