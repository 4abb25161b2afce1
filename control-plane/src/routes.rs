//! The HTTP API, one module per area, assembled by [`app`].
//!
//! - `/healthz`: liveness and readiness.
//! - `/v1/filter/...`: what filters call, with the fleet token.
//! - `/v1/policy...`: the admin policy API, with the admin token.

mod admin_policy;
mod auth;
mod body;
mod filter_policy;
mod health;
mod jwks_refresh;

use axum::Router;

use crate::state::AppState;

/// The whole router. Tests drive it with `tower::ServiceExt::oneshot`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(filter_policy::router())
        .merge(jwks_refresh::router())
        .merge(admin_policy::router())
        .with_state(state)
}
