//! The HTTP API, one module per area, assembled by [`app`].

mod filter_policy;
mod health;

use axum::Router;

use crate::state::AppState;

/// The whole router. Tests drive it with `tower::ServiceExt::oneshot`.
pub fn app(state: AppState) -> Router {
    Router::new().merge(health::router()).merge(filter_policy::router()).with_state(state)
}
