//! `GET /v1/holds/events`: the live feed of hold changes, as server-sent events.
//!
//! Approvers only, signed in with `Authorization: Bearer <token>` like the rest of the
//! approvals API. The control plane's approvers hear of every hold; approvers that only
//! a rule names hear of the holds they may decide. The token is not accepted in the query string, so it never lands in
//! access logs or browser history: the approvals page reads this stream with `fetch`
//! (which can send the header) rather than `EventSource` (which cannot).
//!
//! Events:
//! - `ready` once at the start, `{"subject": ...}`: the stream is live.
//! - `hold` for each change, a [`HoldChange`](crate::hold_api::HoldChange)
//!   `{id, kind, status, subject, target, actor, at}`; its `id:` line is the hold's id.
//! - `resync` when this reader fell behind and missed changes: reload the list.
//!
//! A comment line is sent every 15 seconds to keep proxies from closing the stream.
//! The stream ends when the token expires (the client signs in again and reconnects)
//! and when the control plane shuts down.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, StreamExt as _};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::auth::Approver;
use crate::state::AppState;

/// Interval of the keep-alive comments.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Longest a stream stays open when the token has no expiry.
const MAX_STREAM: Duration = Duration::from_secs(12 * 3600);

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/holds/events", get(events))
}

async fn events(Approver(approver): Approver, State(state): State<AppState>) -> Response {
    let receiver = state.holds.feed().subscribe();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let lifetime = approver.expires_at.map_or(MAX_STREAM, |exp| Duration::from_secs(exp).saturating_sub(now)).min(MAX_STREAM);
    let deadline = tokio::time::Instant::now() + lifetime;
    let ready = Event::default().event("ready").json_data(json!({"subject": approver.subject}));
    let closed = Box::pin(state.holds.feed().closed());
    // The control plane's approvers hear of every hold; approvers that only
    // rules name hear of the holds they may decide.
    let settings = state.holds.settings();
    let everything = settings.is_global_approver(&approver.groups);
    let groups = approver.groups.clone();
    let shown = move |change: &crate::hold_api::HoldChange| everything || change.decided_by_groups.iter().any(|g| groups.contains(g));
    let changes = stream::unfold((receiver, closed), move |(mut receiver, mut closed)| {
        let shown = shown.clone();
        async move {
            loop {
                let next = tokio::select! {
                    next = tokio::time::timeout_at(deadline, receiver.recv()) => next,
                    () = &mut closed => return None,
                };
                let event = match next {
                    Err(_) | Ok(Err(RecvError::Closed)) => return None,
                    Ok(Ok(change)) if !shown(&change) => continue,
                    Ok(Ok(change)) => Event::default().event("hold").id(change.id.clone()).json_data(&change),
                    Ok(Err(RecvError::Lagged(missed))) => Ok(Event::default().event("resync").data(missed.to_string())),
                };
                return Some((event, (receiver, closed)));
            }
        }
    });
    let mut response = Sse::new(stream::once(async { ready }).chain(changes)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response();
    // Tells buffering proxies (nginx) to pass events through at once.
    response.headers_mut().insert(HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no"));
    response
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::StatusCode;
    use http_body_util::BodyExt as _;
    use serde_json::json;
    use tower::ServiceExt as _;

    use crate::testing::{approvals_app, approvers, create_hold, hold_body, request, send, sign};

    /// Reads the stream until an event of type `kind` arrives; returns its data.
    async fn next_event(body: &mut Body, kind: &str, buffer: &mut String) -> String {
        let read = async {
            loop {
                if let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    let mut event_type = None;
                    let mut data = String::new();
                    for line in block.lines() {
                        if let Some(value) = line.strip_prefix("event: ").or_else(|| line.strip_prefix("event:")) {
                            event_type = Some(value.trim().to_owned());
                        } else if let Some(value) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) {
                            data.push_str(value);
                        }
                    }
                    if event_type.as_deref() == Some(kind) {
                        return data;
                    }
                    continue;
                }
                let frame = body.frame().await.expect("the stream ended").unwrap();
                if let Ok(bytes) = frame.into_data() {
                    buffer.push_str(std::str::from_utf8(&bytes).unwrap());
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(5), read).await.expect("event in time")
    }

    #[tokio::test]
    async fn the_feed_streams_new_holds_and_decisions() {
        let (app, _) = approvals_app(approvers()).await;
        let bob = sign("bob", &["approvers"]);
        let response = app.clone().oneshot(request("GET", "/v1/holds/events", Some(&bob), None, Body::empty())).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut body = response.into_body();
        let mut buffer = String::new();
        let ready: serde_json::Value = serde_json::from_str(&next_event(&mut body, "ready", &mut buffer).await).unwrap();
        assert_eq!(ready, json!({"subject": "bob"}));

        let (_, created) = create_hold(&app, hold_body("alice")).await;
        let id = created["id"].as_str().unwrap();
        let change: serde_json::Value = serde_json::from_str(&next_event(&mut body, "hold", &mut buffer).await).unwrap();
        assert_eq!((change["id"].as_str(), change["kind"].as_str(), change["status"].as_str()), (Some(id), Some("created"), Some("pending")));

        let (status, _, _) = send(&app, request("POST", &format!("/v1/holds/{id}/deny"), Some(&bob), Some("application/json"), "{}")).await;
        assert_eq!(status, StatusCode::OK);
        let vote: serde_json::Value = serde_json::from_str(&next_event(&mut body, "hold", &mut buffer).await).unwrap();
        assert_eq!(vote["kind"], "denial");
        let outcome: serde_json::Value = serde_json::from_str(&next_event(&mut body, "hold", &mut buffer).await).unwrap();
        assert_eq!((outcome["kind"].as_str(), outcome["status"].as_str(), outcome["actor"].as_str()), (Some("denied"), Some("denied"), Some("bob")));
    }

    #[tokio::test]
    async fn approvers_a_rule_names_hear_only_of_that_rules_holds() {
        let (app, _) = approvals_app(approvers()).await;
        crate::testing::apply_guard(&app, &crate::testing::dba_guard("")).await;
        let dana = sign("dana", &["dba"]);
        let response = app.clone().oneshot(request("GET", "/v1/holds/events", Some(&dana), None, Body::empty())).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.into_body();
        let mut buffer = String::new();
        next_event(&mut body, "ready", &mut buffer).await;

        // Another rule's hold first: dana is not told of it.
        let mut other = hold_body("carol");
        other["rules"] = json!([{"rule": "exfiltration", "pack": "core"}]);
        other["request_digest"] = json!("b".repeat(64));
        create_hold(&app, other).await;
        let (_, created) = create_hold(&app, hold_body("alice")).await;
        let change: serde_json::Value = serde_json::from_str(&next_event(&mut body, "hold", &mut buffer).await).unwrap();
        assert_eq!(change["id"], created["id"], "the first change dana hears of is her rule's hold");
        assert!(change.get("decided_by_groups").is_none(), "internal field not sent: {change}");
    }

    #[tokio::test]
    async fn the_feed_is_for_approvers_with_a_header_token() {
        let (app, _) = approvals_app(approvers()).await;
        let token = sign("bob", &["approvers"]);
        let (status, _, _) = send(&app, request("GET", &format!("/v1/holds/events?access_token={token}"), None, None, Body::empty())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "no tokens in URLs");
        let (status, _, _) = send(&app, request("GET", "/v1/holds/events", Some(&sign("alice", &["engineering"])), None, Body::empty())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn shutting_down_ends_the_streams() {
        let (app, state) = approvals_app(approvers()).await;
        let response = app.oneshot(request("GET", "/v1/holds/events", Some(&sign("bob", &["approvers"])), None, Body::empty())).await.unwrap();
        let mut body = response.into_body();
        next_event(&mut body, "ready", &mut String::new()).await;
        state.holds.feed().shut_down();
        let end = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(frame) = body.frame().await {
                frame.unwrap();
            }
        });
        end.await.expect("the stream ended");
    }
}
