//! Liveness and readiness.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// 200 when the process serves and the database answers, with the policy
/// version in force (`null` before the first apply).
async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let version = state.store.current_version().await?;
    Ok(Json(json!({"status": "ok", "policy_version": version})))
}
