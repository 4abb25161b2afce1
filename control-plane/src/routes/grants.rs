//! `/v1/grants...`: approvers see the just-in-time grants in force and revoke them.
//!
//! - `GET /v1/grants?limit=`: approvers; `{grants: [...]}`, the grants in force (not
//!   expired, not revoked), ending soonest first (at most `limit`, default 100, up to 500).
//! - `POST /v1/grants/{id}/revoke` with `{reason?}` (an empty body counts as `{}`):
//!   approvers; ends the grant at once, so the holds it would have approved wait for
//!   humans again. `404` for an unknown grant, `409` when it was already revoked or
//!   has ended, `422` when a required reason is missing.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Approver;
use super::body::{OptionalJsonBody, QueryParams};
use crate::error::ApiError;
use crate::hold_api::{GrantDetail, GrantList, RevokeRequest};
use crate::state::AppState;

/// Grants listed when `limit` is not given.
const DEFAULT_LIMIT: u32 = 100;
/// Most grants one list answers.
const MAX_LIMIT: u32 = 500;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/grants", get(list)).route("/v1/grants/{id}/revoke", post(revoke))
}

#[derive(Debug, Default, Deserialize)]
struct GrantQuery {
    limit: Option<u32>,
}

async fn list(_approver: Approver, State(state): State<AppState>, QueryParams(query): QueryParams<GrantQuery>) -> Result<Json<GrantList>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    Ok(Json(state.holds.grants(limit).await?))
}

async fn revoke(
    Approver(approver): Approver,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJsonBody(request): OptionalJsonBody<RevokeRequest>,
) -> Result<Json<GrantDetail>, ApiError> {
    Ok(Json(state.holds.revoke_grant(&id, &approver, request).await?))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use serde_json::{json, Value};

    use crate::testing::{approvals_app, approvers, create_hold, hold_body, request, send, sign};

    async fn post(app: &axum::Router, uri: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let (status, _, answer) = send(app, request("POST", uri, Some(token), Some("application/json"), body.to_string())).await;
        (status, answer)
    }

    #[tokio::test]
    async fn a_revoked_grant_approves_nothing_more_and_is_audited() {
        let (app, _) = approvals_app(approvers()).await;
        let bob = sign("bob", &["approvers"]);
        let (_, created) = create_hold(&app, hold_body("alice")).await;
        let first = created["id"].as_str().unwrap().to_owned();
        let (status, detail) = post(&app, &format!("/v1/holds/{first}/approve"), &bob, json!({"reason": "migration", "grant_minutes": 30})).await;
        assert_eq!((status, detail["status"].as_str()), (StatusCode::OK, Some("approved")), "{detail}");

        let (status, _, listed) = send(&app, request("GET", "/v1/grants", Some(&bob), None, Body::empty())).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        let grants = listed["grants"].as_array().unwrap();
        assert_eq!(grants.len(), 1, "{listed}");
        assert_eq!((grants[0]["subject"].as_str(), grants[0]["rule"].as_str()), (Some("alice"), Some("destructive-command")));
        let grant = grants[0]["id"].as_str().unwrap().to_owned();

        let carol = sign("carol", &["approvers"]);
        let (status, revoked) = post(&app, &format!("/v1/grants/{grant}/revoke"), &carol, json!({"reason": "migration finished early"})).await;
        assert_eq!(status, StatusCode::OK, "{revoked}");
        assert_eq!((revoked["revoked_by"].as_str(), revoked["revoke_reason"].as_str()), (Some("carol"), Some("migration finished early")));
        let (status, again) = post(&app, &format!("/v1/grants/{grant}/revoke"), &carol, json!({})).await;
        assert_eq!((status, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("already_revoked")), "{again}");
        let (status, missing) = post(&app, "/v1/grants/grant_nope/revoke", &carol, json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");

        // The same request again needs a human: the grant no longer covers it.
        let mut next = hold_body("alice");
        next["request_digest"] = json!("c".repeat(64));
        let (status, created) = create_hold(&app, next).await;
        assert_eq!((status, created["status"].as_str()), (StatusCode::CREATED, Some("pending")), "{created}");
        let (_, _, listed) = send(&app, request("GET", "/v1/grants", Some(&bob), None, Body::empty())).await;
        assert_eq!(listed["grants"], json!([]));

        // The revocation is in the audit trail of the hold that created the grant.
        let (_, _, detail) = send(&app, request("GET", &format!("/v1/holds/{first}"), Some(&bob), None, Body::empty())).await;
        let event = detail["events"].as_array().unwrap().iter().find(|e| e["kind"] == "grant_revoked").expect("revocation audited").clone();
        assert_eq!((event["actor"].as_str(), event["detail"]["grant_id"].as_str()), (Some("carol"), Some(grant.as_str())));
    }

    #[tokio::test]
    async fn only_approvers_see_and_revoke_grants() {
        let (app, _) = approvals_app(approvers()).await;
        let mallory = sign("mallory", &["engineering"]);
        let (status, _, _) = send(&app, request("GET", "/v1/grants", Some(&mallory), None, Body::empty())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = post(&app, "/v1/grants/grant_x/revoke", &mallory, json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
