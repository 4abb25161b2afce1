//! `/v1/filter/holds`: filters hold risky requests here until humans decide.
//!
//! Filters authenticate with the fleet token.
//!
//! - `POST /v1/filter/holds` with a [`CreateHoldRequest`](crate::hold_api::CreateHoldRequest):
//!   `201 {id, status: "pending", expires_at, poll_after_ms}`; `200` with
//!   `status: "approved"` and the `grant` when a just-in-time grant covers every rule
//!   matched; `200` with the earlier hold when the same request (subject, provider,
//!   target, `request_digest`) is already pending; `422` listing every problem.
//! - `GET /v1/filter/holds/{id}`: `{id, status, decided_by, reason, decided_at,
//!   expires_at}`. With `?wait_ms=N` (at most 25000) a pending hold is answered as soon
//!   as it is decided or expires, or after N ms: one request instead of many polls.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::FleetCaller;
use super::body::{JsonBody, QueryParams};
use crate::error::ApiError;
use crate::hold_api::{CreateHoldRequest, CreateHoldResponse, HoldStatusResponse};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/filter/holds", post(create)).route("/v1/filter/holds/{id}", get(status))
}

#[derive(Debug, Default, Deserialize)]
struct StatusQuery {
    #[serde(default)]
    wait_ms: Option<u64>,
}

async fn create(_caller: FleetCaller, State(state): State<AppState>, JsonBody(request): JsonBody<CreateHoldRequest>) -> Result<(StatusCode, Json<CreateHoldResponse>), ApiError> {
    // Holds are decided under the policy being served: make sure it is the one adopted.
    state.approvers.follow_policy(&state.bundles, &state.holds).await?;
    let (created, response) = state.holds.create(request).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(response)))
}

async fn status(_caller: FleetCaller, State(state): State<AppState>, Path(id): Path<String>, QueryParams(query): QueryParams<StatusQuery>) -> Result<Json<HoldStatusResponse>, ApiError> {
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0));
    Ok(Json(state.holds.wait_status(&id, wait).await?))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use axum::body::Body;
    use axum::http::StatusCode;
    use serde_json::{json, Value};

    use crate::testing::{approvals_app, approvers, create_hold, hold_body, request, send, sign, ADMIN, FLEET};

    #[tokio::test]
    async fn holds_need_the_fleet_token_and_a_valid_body() {
        let (app, _) = approvals_app(approvers()).await;
        for token in [None, Some(ADMIN), Some("nope")] {
            let (status, _, _) = send(&app, request("POST", "/v1/filter/holds", token, Some("application/json"), hold_body("alice").to_string())).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            let (status, _, _) = send(&app, request("GET", "/v1/filter/holds/hold_x", token, None, Body::empty())).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let bad = json!({"identity": {"subject": "", "provider": "corp"}, "target": "", "rules": [], "method": "POST", "path": "v1", "request_digest": "abc", "ttl_secs": 0});
        let (status, _, body) = send(&app, request("POST", "/v1/filter/holds", Some(FLEET), Some("application/json"), bad.to_string())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let paths: Vec<&str> = body["error"]["problems"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
        for expected in ["identity.subject", "target", "rules", "path", "request_digest", "ttl_secs"] {
            assert!(paths.contains(&expected), "{expected} missing from {paths:?}");
        }
        let (status, _, body) = send(&app, request("GET", "/v1/filter/holds/hold_unknown", Some(FLEET), None, Body::empty())).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, _, _) = send(&app, request("GET", "/v1/filter/holds/hold_x?wait_ms=soon", Some(FLEET), None, Body::empty())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn a_hold_is_pending_then_the_same_request_finds_it_again() {
        let (app, _) = approvals_app(approvers()).await;
        let (status, created) = create_hold(&app, hold_body("alice")).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["status"], "pending");
        assert_eq!(created["poll_after_ms"], 1000);
        let id = created["id"].as_str().unwrap();
        assert!(id.starts_with("hold_") && id.len() == 5 + 32, "{id}");
        assert!(created["expires_at"].as_str().unwrap().ends_with('Z'));

        let (status, again) = create_hold(&app, hold_body("alice")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["id"], created["id"], "a retried request finds its pending hold");
        let mut other = hold_body("alice");
        other["request_digest"] = json!("b".repeat(64));
        let (status, other) = create_hold(&app, other).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_ne!(other["id"], created["id"]);

        let (status, _, polled) = send(&app, request("GET", &format!("/v1/filter/holds/{id}"), Some(FLEET), None, Body::empty())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(polled, json!({"id": id, "status": "pending", "decided_by": null, "reason": null, "decided_at": null, "expires_at": created["expires_at"]}));
    }

    #[tokio::test]
    async fn long_poll_returns_as_soon_as_the_hold_is_decided() {
        let (app, _) = approvals_app(approvers()).await;
        let (_, created) = create_hold(&app, hold_body("alice")).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let started = Instant::now();
        let poll = {
            let app = app.clone();
            let uri = format!("/v1/filter/holds/{id}?wait_ms=20000");
            tokio::spawn(async move { send(&app, request("GET", &uri, Some(FLEET), None, Body::empty())).await })
        };
        tokio::time::sleep(Duration::from_millis(150)).await;
        let body = json!({"reason": "looks fine"}).to_string();
        let (status, _, _) = send(&app, request("POST", &format!("/v1/holds/{id}/approve"), Some(&sign("bob", &["approvers"])), Some("application/json"), body)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, answer) = poll.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["status"], "approved", "{answer}");
        assert_eq!(answer["decided_by"], "bob");
        assert_eq!(answer["reason"], "looks fine");
        assert!(started.elapsed() < Duration::from_secs(5), "answered on the decision, not at the timeout");

        // A decided hold answers at once, whatever the wait.
        let started = Instant::now();
        let (_, _, answer) = send(&app, request("GET", &format!("/v1/filter/holds/{id}?wait_ms=20000"), Some(FLEET), None, Body::empty())).await;
        assert_eq!(answer["status"], "approved");
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn long_poll_times_out_with_the_hold_still_pending() {
        let (app, state) = approvals_app(approvers()).await;
        let (_, created) = create_hold(&app, hold_body("alice")).await;
        let id = created["id"].as_str().unwrap();
        let started = Instant::now();
        let (status, _, answer) = send(&app, request("GET", &format!("/v1/filter/holds/{id}?wait_ms=200"), Some(FLEET), None, Body::empty())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["status"], "pending");
        assert!(started.elapsed() >= Duration::from_millis(190));
        assert_eq!(state.holds.feed().waited_holds(), 0, "the waiter cleaned up after itself");
    }

    #[tokio::test]
    async fn holds_expire_and_waiters_hear_it() {
        let (app, _) = approvals_app(approvers()).await;
        let mut body: Value = hold_body("alice");
        body["ttl_secs"] = json!(1);
        let (_, created) = create_hold(&app, body).await;
        let id = created["id"].as_str().unwrap();
        let started = Instant::now();
        let (_, _, answer) = send(&app, request("GET", &format!("/v1/filter/holds/{id}?wait_ms=20000"), Some(FLEET), None, Body::empty())).await;
        assert_eq!(answer["status"], "expired", "{answer}");
        assert_eq!(answer["decided_by"], "portcullis");
        assert!(started.elapsed() < Duration::from_secs(3));

        // Expired holds cannot be decided, and the audit trail records the expiry.
        let approver = sign("bob", &["approvers"]);
        let (status, _, error) = send(&app, request("POST", &format!("/v1/holds/{id}/approve"), Some(&approver), Some("application/json"), "{}")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(error["error"]["code"], "hold_expired");
        let (_, _, detail) = send(&app, request("GET", &format!("/v1/holds/{id}"), Some(&approver), None, Body::empty())).await;
        let kinds: Vec<&str> = detail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["created", "expired"]);
        assert_eq!(detail["events"][1]["actor"], "portcullis");
    }

    #[tokio::test]
    async fn the_background_task_expires_holds_nobody_polls() {
        let (app, state) = approvals_app(approvers()).await;
        let mut body: Value = hold_body("alice");
        body["ttl_secs"] = json!(1);
        let (_, created) = create_hold(&app, body).await;
        let mut feed = state.holds.feed().subscribe();
        let change = tokio::time::timeout(Duration::from_secs(3), feed.recv()).await.expect("expired within the ttl").unwrap();
        assert_eq!(change.id, created["id"].as_str().unwrap());
        assert_eq!(change.status, crate::hold_api::HoldStatus::Expired);
    }
}
