//! `/v1/holds...`: approvers review and decide held requests; requesters follow theirs.
//!
//! Callers sign in with an OIDC access token of one of the policy's identity providers
//! (`Authorization: Bearer <token>`). Approvers belong to one of `--approver-groups`.
//!
//! - `GET /v1/holds?status=&target=&subject=&rule=&limit=`: approvers; the inbox,
//!   `{holds: [...]}` newest first (at most `limit`, default 100, up to 500).
//! - `GET /v1/holds/mine?status=&limit=`: anyone signed in; their own holds.
//! - `GET /v1/holds/{id}`: approvers, and the requester of that hold; the request,
//!   the votes, the quorum and the audit trail.
//! - `POST /v1/holds/{id}/approve` and `/deny` with `{reason?, grant_minutes?}` (an
//!   empty body counts as `{}`): approvers; answers the hold as after the vote. `403`
//!   on one's own hold, `409` when expired or decided or already voted, `422` when a
//!   required reason is missing or `grant_minutes` is out of range or given with a denial.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use portcullis_policy::ValidationReport;
use serde::Deserialize;

use super::auth::{Approver, OidcCaller};
use super::body::{OptionalJsonBody, QueryParams};
use crate::error::ApiError;
use crate::hold_api::{DecideRequest, Decision, HoldDetail, HoldList, HoldStatus};
use crate::hold_store::HoldFilter;
use crate::state::AppState;

/// Holds listed when `limit` is not given.
const DEFAULT_LIMIT: u32 = 100;
/// Most holds one list answers.
const MAX_LIMIT: u32 = 500;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/holds", get(inbox))
        .route("/v1/holds/mine", get(mine))
        .route("/v1/holds/{id}", get(detail))
        .route("/v1/holds/{id}/approve", post(approve))
        .route("/v1/holds/{id}/deny", post(deny))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    target: Option<String>,
    subject: Option<String>,
    rule: Option<String>,
    limit: Option<u32>,
}

impl ListQuery {
    /// The filter these parameters describe; every problem is reported at once.
    fn filter(self) -> Result<HoldFilter, ApiError> {
        let mut report = ValidationReport::default();
        let status = match self.status.as_deref().map(str::trim).filter(|s| !s.is_empty() && *s != "all") {
            None => None,
            Some(name) => HoldStatus::parse(name).or_else(|| {
                report.error("status", format!("`{name}` is not a status: use pending, approved, denied, expired or all"));
                None
            }),
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            report.error("limit", format!("must be between 1 and {MAX_LIMIT}"));
        }
        report.into_result().map_err(ApiError::Invalid)?;
        let given = |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        Ok(HoldFilter { status, target: given(self.target), subject: given(self.subject), provider: None, rule: given(self.rule), limit })
    }
}

async fn inbox(Approver(approver): Approver, State(state): State<AppState>, QueryParams(query): QueryParams<ListQuery>) -> Result<Json<HoldList>, ApiError> {
    Ok(Json(state.holds.list(&query.filter()?, Some(&approver.groups)).await?))
}

async fn mine(OidcCaller(caller): OidcCaller, State(state): State<AppState>, QueryParams(query): QueryParams<ListQuery>) -> Result<Json<HoldList>, ApiError> {
    let filter = HoldFilter { subject: Some(caller.subject), provider: Some(caller.provider), ..ListQuery { subject: None, ..query }.filter()? };
    Ok(Json(state.holds.list(&filter, None).await?))
}

async fn detail(OidcCaller(caller): OidcCaller, State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<HoldDetail>, ApiError> {
    let detail = state.holds.detail(&id).await?;
    let requester = detail.identity.subject == caller.subject && detail.identity.provider == caller.provider;
    let settings = state.holds.settings();
    // The control plane's approvers see every hold; approvers a rule names see its holds.
    let approver = settings.is_global_approver(&caller.groups)
        || detail.quorum.requirements.iter().any(|r| caller.groups.iter().any(|g| r.approver_groups.contains(g)));
    if !requester && !approver {
        return Err(ApiError::Forbidden(format!("hold {id} is not yours, and `{}` is not an approver", caller.subject)));
    }
    Ok(Json(detail))
}

async fn approve(Approver(approver): Approver, State(state): State<AppState>, Path(id): Path<String>, OptionalJsonBody(request): OptionalJsonBody<DecideRequest>) -> Result<Json<HoldDetail>, ApiError> {
    Ok(Json(state.holds.decide(&id, &approver, Decision::Approve, request).await?))
}

async fn deny(Approver(approver): Approver, State(state): State<AppState>, Path(id): Path<String>, OptionalJsonBody(request): OptionalJsonBody<DecideRequest>) -> Result<Json<HoldDetail>, ApiError> {
    Ok(Json(state.holds.decide(&id, &approver, Decision::Deny, request).await?))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use serde_json::{json, Value};

    use crate::approval::ApprovalSettings;
    use crate::testing::{approvals_app, approvers, create_hold, hold_body, request, send, sign, FLEET};

    async fn decide(app: &axum::Router, id: &str, verb: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let (status, _, answer) = send(app, request("POST", &format!("/v1/holds/{id}/{verb}"), Some(token), Some("application/json"), body.to_string())).await;
        (status, answer)
    }

    async fn get(app: &axum::Router, uri: &str, token: &str) -> (StatusCode, Value) {
        let (status, _, answer) = send(app, request("GET", uri, Some(token), None, Body::empty())).await;
        (status, answer)
    }

    async fn filter_status(app: &axum::Router, id: &str) -> Value {
        let (_, _, answer) = send(app, request("GET", &format!("/v1/filter/holds/{id}"), Some(FLEET), None, Body::empty())).await;
        answer
    }

    async fn new_hold(app: &axum::Router, subject: &str) -> String {
        let (status, created) = create_hold(app, hold_body(subject)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn create_list_approve_then_the_filter_sees_approved() {
        let (app, _) = approvals_app(approvers()).await;
        let bob = sign("bob", &["approvers"]);
        let first = new_hold(&app, "alice").await;
        let mut other = hold_body("carol");
        other["target"] = json!("search");
        other["rules"] = json!([{"rule": "exfiltration", "pack": "core", "message": "mentions a bucket"}]);
        let (_, second) = create_hold(&app, other).await;
        let second = second["id"].as_str().unwrap().to_owned();

        let (status, list) = get(&app, "/v1/holds?status=pending", &bob).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let ids: Vec<&str> = list["holds"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [second.as_str(), first.as_str()], "newest first");
        let row = &list["holds"][1];
        assert_eq!((row["subject"].as_str(), row["target"].as_str(), row["rules"].clone()), (Some("alice"), Some("model"), json!(["destructive-command"])));
        assert!(row["expires_in_ms"].as_u64().unwrap() > 250_000);
        for (query, expected) in [("target=search", vec![second.as_str()]), ("subject=alice", vec![first.as_str()]), ("rule=exfiltration", vec![second.as_str()]), ("rule=nothing", vec![])] {
            let (_, list) = get(&app, &format!("/v1/holds?{query}"), &bob).await;
            let ids: Vec<&str> = list["holds"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap()).collect();
            assert_eq!(ids, expected, "{query}");
        }

        let (status, detail) = decide(&app, &first, "approve", &bob, json!({"reason": "expected maintenance"})).await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        assert_eq!(detail["status"], "approved");
        assert_eq!(detail["decided_by"], "bob");
        assert_eq!(detail["decisions"][0]["approver"], "bob");
        assert_eq!(detail["decisions"][0]["decision"], "approve");
        let kinds: Vec<&str> = detail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["created", "approval", "approved"]);
        assert_eq!(detail["events"][1]["reason"], "expected maintenance");

        let polled = filter_status(&app, &first).await;
        assert_eq!((polled["status"].as_str(), polled["decided_by"].as_str(), polled["reason"].as_str()), (Some("approved"), Some("bob"), Some("expected maintenance")));
        assert!(polled["decided_at"].as_str().unwrap().ends_with('Z'));

        let (_, pending) = get(&app, "/v1/holds?status=pending", &bob).await;
        assert_eq!(pending["holds"].as_array().unwrap().len(), 1);
        let (_, approved) = get(&app, "/v1/holds?status=approved", &bob).await;
        assert_eq!(approved["holds"][0]["id"], first.as_str());
        let (status, again) = decide(&app, &first, "deny", &sign("dave", &["approvers"]), json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(again["error"]["code"], "already_decided");
        let (status, bad) = get(&app, "/v1/holds?status=maybe&limit=0", &bob).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad["error"]["problems"].as_array().unwrap().len(), 2, "{bad}");
    }

    #[tokio::test]
    async fn one_denial_denies() {
        let (app, _) = approvals_app(ApprovalSettings { quorum: 2, ..approvers() }).await;
        let id = new_hold(&app, "alice").await;
        let (status, detail) = decide(&app, &id, "approve", &sign("bob", &["approvers"]), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(detail["status"], "pending");
        let (status, detail) = decide(&app, &id, "deny", &sign("carol", &["approvers"]), json!({"reason": "not during the freeze"})).await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        assert_eq!(detail["status"], "denied");
        assert_eq!(detail["decided_by"], "carol");
        let polled = filter_status(&app, &id).await;
        assert_eq!((polled["status"].as_str(), polled["reason"].as_str()), (Some("denied"), Some("not during the freeze")));
    }

    #[tokio::test]
    async fn a_holds_own_requirements_decide_it() {
        let (app, _) = approvals_app(approvers()).await;
        // The policy names DBAs as the approvers of one rule, two of them, with reasons.
        crate::testing::apply_guard(&app, &crate::testing::dba_guard("quorum: 2, require_reason: true, ")).await;
        let id = new_hold(&app, "alice").await;

        // A member of the control plane's approver groups is not one of this rule's approvers.
        let (status, error) = decide(&app, &id, "approve", &sign("bob", &["approvers"]), json!({"reason": "ok"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains("dba"), "{error}");
        // DBAs may, with a reason; one is not enough.
        let dba1 = sign("dana", &["dba"]);
        let (status, error) = decide(&app, &id, "approve", &dba1, json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert_eq!(error["error"]["problems"][0]["path"], "reason");
        let (_, detail) = decide(&app, &id, "approve", &dba1, json!({"reason": "backup verified"})).await;
        assert_eq!(detail["status"], "pending", "{detail}");
        assert_eq!(detail["quorum"]["requirements"], json!([{"quorum": 2, "approver_groups": ["dba"], "rules": ["destructive-command"], "approvals": 1}]));
        assert_eq!(detail["quorum"]["reason_required"], true);
        let (_, detail) = decide(&app, &id, "approve", &sign("dmitri", &["dba"]), json!({"reason": "agreed"})).await;
        assert_eq!(detail["status"], "approved", "{detail}");
        assert_eq!(filter_status(&app, &id).await["status"], "approved");
    }

    #[tokio::test]
    async fn rule_approvers_work_without_control_plane_approvers_and_see_only_their_holds() {
        let (app, _) = approvals_app(ApprovalSettings::default()).await;
        crate::testing::apply_guard(&app, &crate::testing::dba_guard("")).await;
        let dana = sign("dana", &["dba"]);
        let mine = new_hold(&app, "alice").await;
        let mut other = hold_body("carol");
        other["rules"] = json!([{"rule": "exfiltration", "pack": "core"}]);
        other["request_digest"] = json!("b".repeat(64));
        let (_, created) = create_hold(&app, other).await;
        let theirs = created["id"].as_str().unwrap().to_owned();

        let (status, _, listed) = send(&app, request("GET", "/v1/holds", Some(&dana), None, Body::empty())).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        let ids: Vec<&str> = listed["holds"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [mine.as_str()], "a rule's approvers see that rule's holds only");
        let (status, _, _) = send(&app, request("GET", &format!("/v1/holds/{theirs}"), Some(&dana), None, Body::empty())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, detail) = decide(&app, &mine, "approve", &dana, json!({})).await;
        assert_eq!((status, detail["status"].as_str()), (StatusCode::OK, Some("approved")), "{detail}");
    }

    #[tokio::test]
    async fn a_policy_may_let_callers_approve_their_own_holds() {
        let (app, _) = approvals_app(approvers()).await;
        crate::testing::apply_guard(&app, "guard:\n  approvals:\n    approver_groups: [approvers]\n    allow_self_approval: true\n    require_reason: false\n").await;
        let alice = sign("alice", &["approvers"]);
        let id = new_hold(&app, "alice").await;
        let (status, detail) = decide(&app, &id, "approve", &alice, json!({})).await;
        assert_eq!((status, detail["status"].as_str()), (StatusCode::OK, Some("approved")), "{detail}");
    }

    #[tokio::test]
    async fn a_filter_cannot_choose_a_holds_approvers() {
        let (app, _) = approvals_app(approvers()).await;
        let mut held = hold_body("alice");
        held["approval"] = json!({"requirements": [{"quorum": 1, "approver_groups": ["friends"]}], "allow_self_approval": true});
        let (status, error) = create_hold(&app, held).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert_eq!(error["error"]["problems"][0]["path"], "approval");
        // Without it, the hold is decided under the control plane's settings.
        let id = new_hold(&app, "alice").await;
        let (status, _) = decide(&app, &id, "approve", &sign("alice", &["approvers"]), json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "no self-approval unless the policy allows it");
    }

    #[tokio::test]
    async fn quorum_of_two_needs_two_distinct_approvers() {
        let (app, _) = approvals_app(ApprovalSettings { quorum: 2, ..approvers() }).await;
        let id = new_hold(&app, "alice").await;
        let bob = sign("bob", &["approvers"]);
        let (_, detail) = decide(&app, &id, "approve", &bob, json!({"reason": "ok"})).await;
        assert_eq!(detail["status"], "pending");
        assert_eq!(
            detail["quorum"],
            json!({"required": 2, "groups": [], "approvals": 1, "missing_groups": [], "reason_required": false,
                   "requirements": [{"quorum": 2, "approver_groups": ["approvers"], "rules": ["destructive-command"], "approvals": 1}]})
        );
        let (status, twice) = decide(&app, &id, "approve", &bob, json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(twice["error"]["code"], "already_voted");
        assert_eq!(filter_status(&app, &id).await["status"], "pending");
        let (_, detail) = decide(&app, &id, "approve", &sign("carol", &["approvers"]), json!({"reason": "agreed"})).await;
        assert_eq!(detail["status"], "approved");
        assert_eq!(detail["decided_by"], "bob, carol");
        assert_eq!(detail["decision_reason"], "ok; agreed");
    }

    #[tokio::test]
    async fn quorum_groups_need_an_approver_of_each() {
        let settings = ApprovalSettings { quorum: 1, approver_groups: vec!["approvers".into(), "security".into()], quorum_groups: vec!["security".into()], ..approvers() };
        let (app, _) = approvals_app(settings).await;
        let id = new_hold(&app, "alice").await;
        let (_, detail) = decide(&app, &id, "approve", &sign("bob", &["approvers"]), json!({})).await;
        assert_eq!(detail["status"], "pending");
        assert_eq!(detail["quorum"]["missing_groups"], json!(["security"]));
        let (_, detail) = decide(&app, &id, "approve", &sign("sam", &["security"]), json!({})).await;
        assert_eq!(detail["status"], "approved");
    }

    #[tokio::test]
    async fn nobody_decides_their_own_hold_and_non_approvers_decide_nothing() {
        let (app, _) = approvals_app(approvers()).await;
        let id = new_hold(&app, "bob").await;
        let (status, error) = decide(&app, &id, "approve", &sign("bob", &["approvers"]), json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(error["error"]["message"].as_str().unwrap().contains("your own hold"), "{error}");

        let mallory = sign("mallory", &["engineering"]);
        for (method, uri) in [("GET", "/v1/holds".to_owned()), ("POST", format!("/v1/holds/{id}/approve")), ("POST", format!("/v1/holds/{id}/deny")), ("GET", format!("/v1/holds/{id}"))] {
            let (status, _, error) = send(&app, request(method, &uri, Some(&mallory), Some("application/json"), "{}")).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}: {error}");
            assert_eq!(error["error"]["code"], "forbidden");
        }
        for token in [None, Some(FLEET), Some("not.a.jwt")] {
            let (status, headers, _) = send(&app, request("GET", "/v1/holds", token, None, Body::empty())).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
            assert!(headers.contains_key("www-authenticate"));
        }
        let expired = crate::testing::sign_with("bob", &["approvers"], -120);
        let (status, _, error) = send(&app, request("GET", "/v1/holds", Some(&expired), None, Body::empty())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(error["error"]["code"], "invalid_token");
        assert!(error["error"]["message"].as_str().unwrap().contains("expired"), "{error}");
        assert_eq!(filter_status(&app, &id).await["status"], "pending");
    }

    #[tokio::test]
    async fn without_approver_groups_nobody_approves() {
        let (app, _) = approvals_app(ApprovalSettings::default()).await;
        let id = new_hold(&app, "alice").await;
        let (status, error) = decide(&app, &id, "approve", &sign("bob", &["approvers"]), json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(error["error"]["message"].as_str().unwrap().contains("--approver-groups"));
    }

    #[tokio::test]
    async fn reasons_and_grants_are_checked_naming_the_field() {
        let settings = ApprovalSettings { require_reason: true, max_grant_minutes: 60, ..approvers() };
        let (app, _) = approvals_app(settings).await;
        let id = new_hold(&app, "alice").await;
        let bob = sign("bob", &["approvers"]);
        let (status, error) = decide(&app, &id, "approve", &bob, json!({"reason": "  ", "grant_minutes": 61})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let paths: Vec<&str> = error["error"]["problems"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["reason", "grant_minutes"]);
        let (status, _, error) = send(&app, request("POST", &format!("/v1/holds/{id}/deny"), Some(&bob), None, Body::empty())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an empty body is `{{}}`: {error}");
        assert_eq!(error["error"]["problems"][0]["path"], "reason");
        let (status, error) = decide(&app, &id, "deny", &bob, json!({"reason": "no", "grant_minutes": 5})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error["error"]["problems"][0]["path"], "grant_minutes");
        let (status, error) = decide(&app, &id, "deny", &bob, json!({"reason": "no", "extra": 1})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert_eq!(filter_status(&app, &id).await["status"], "pending", "refused decisions change nothing");
        let (status, detail) = decide(&app, &id, "deny", &bob, json!({"reason": "no"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(detail["status"], "denied");
    }

    #[tokio::test]
    async fn a_grant_approves_the_next_matching_hold_and_is_audited() {
        let (app, _) = approvals_app(approvers()).await;
        let bob = sign("bob", &["approvers"]);
        let first = new_hold(&app, "alice").await;
        let (_, detail) = decide(&app, &first, "approve", &bob, json!({"reason": "migration tonight", "grant_minutes": 30})).await;
        assert_eq!(detail["status"], "approved");
        let grant_event = detail["events"].as_array().unwrap().iter().find(|e| e["kind"] == "grant_created").expect("grant audited").clone();
        assert_eq!(grant_event["detail"]["rule"], "destructive-command");
        assert_eq!(grant_event["detail"]["minutes"], 30);

        // Same identity, same rule, another request: approved at once, no human.
        let mut next = hold_body("alice");
        next["request_digest"] = json!("c".repeat(64));
        let (status, created) = create_hold(&app, next).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        assert_eq!(created["status"], "approved");
        assert_eq!(created["grant"]["id"], grant_event["detail"]["grant_id"]);
        assert_eq!(created["grant"]["granted_by"], "bob");
        assert_eq!(created["grant"]["hold_id"], first.as_str());
        assert!(created.get("poll_after_ms").is_none());
        let id = created["id"].as_str().unwrap();
        let polled = filter_status(&app, id).await;
        assert_eq!((polled["status"].as_str(), polled["decided_by"].as_str()), (Some("approved"), Some("bob")));
        let (_, detail) = get(&app, &format!("/v1/holds/{id}"), &bob).await;
        let kinds: Vec<&str> = detail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["created", "grant_used", "approved"]);
        assert!(detail["events"][1]["actor"].as_str().unwrap().starts_with("grant:grant_"));

        // Another person, or another rule, is not covered.
        let (status, created) = create_hold(&app, hold_body("carol")).await;
        assert_eq!((status, created["status"].as_str()), (StatusCode::CREATED, Some("pending")));
        let mut other_rule = hold_body("alice");
        other_rule["request_digest"] = json!("d".repeat(64));
        other_rule["rules"] = json!([{"rule": "destructive-command"}, {"rule": "exfiltration"}]);
        let (status, created) = create_hold(&app, other_rule).await;
        assert_eq!((status, created["status"].as_str()), (StatusCode::CREATED, Some("pending")), "every rule must be covered");
    }

    /// A grant made under one approval policy does not cover holds that a
    /// stricter policy would have two approvers decide.
    #[tokio::test]
    async fn a_stricter_policy_ends_grants_made_under_a_looser_one() {
        let (app, state) = approvals_app(approvers()).await;
        let first = new_hold(&app, "alice").await;
        let (_, detail) = decide(&app, &first, "approve", &sign("bob", &["approvers"]), json!({"grant_minutes": 30})).await;
        assert_eq!(detail["status"], "approved");
        let again = |digit: char| {
            let mut next = hold_body("alice");
            next["request_digest"] = json!(digit.to_string().repeat(64));
            next
        };
        assert_eq!(create_hold(&app, again('c')).await.1["status"], "approved", "the same policy: covered");

        let mut guard = portcullis_policy::guard::GuardPolicy::default();
        guard.approvals.approver_groups = vec!["approvers".into()];
        guard.approvals.quorum = 2;
        state.holds.adopt_policy(&guard);
        let (status, created) = create_hold(&app, again('d')).await;
        assert_eq!((status, created["status"].as_str()), (StatusCode::CREATED, Some("pending")), "{created}");
        assert!(created.get("grant").is_none_or(Value::is_null));
    }

    #[tokio::test]
    async fn requesters_see_their_own_holds_only() {
        let (app, _) = approvals_app(approvers()).await;
        let mine = new_hold(&app, "alice").await;
        let theirs = new_hold(&app, "carol").await;
        let alice = sign("alice", &["engineering"]);
        let (status, list) = get(&app, "/v1/holds/mine", &alice).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let ids: Vec<&str> = list["holds"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [mine.as_str()]);
        let (status, detail) = get(&app, &format!("/v1/holds/{mine}"), &alice).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(detail["identity"]["subject"], "alice");
        let (status, _) = get(&app, &format!("/v1/holds/{theirs}"), &alice).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = get(&app, "/v1/holds/hold_nothing", &sign("bob", &["approvers"])).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn excerpts_are_scrubbed_of_secrets_before_they_are_stored() {
        let (app, state) = approvals_app(approvers()).await;
        let mut body = hold_body("alice");
        let secret = "sk-proj-Abc123Def456Ghi789Jkl012Mno345";
        body["excerpt"] = json!(format!("run `curl -H 'Authorization: Bearer {secret}' ... | sh` then rm -rf /"));
        body["reason"] = json!(format!("key {secret} in a shell pipe"));
        let (_, created) = create_hold(&app, body).await;
        let id = created["id"].as_str().unwrap();
        let (_, detail) = get(&app, &format!("/v1/holds/{id}"), &sign("bob", &["approvers"])).await;
        let excerpt = detail["excerpt"].as_str().unwrap();
        assert!(!excerpt.contains(secret) && excerpt.contains("rm -rf /"), "{excerpt}");
        assert!(!detail["reason"].as_str().unwrap().contains(secret));
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT excerpt, reason FROM holds").fetch_all(state.store.pool()).await.unwrap();
        assert!(rows.iter().all(|(e, r)| !e.contains(secret) && !r.contains(secret)), "{rows:?}");
    }

    #[tokio::test]
    async fn the_audit_trail_is_append_only() {
        let (app, state) = approvals_app(approvers()).await;
        new_hold(&app, "alice").await;
        let pool = state.store.pool();
        assert!(sqlx::query("UPDATE hold_events SET actor = 'someone else'").execute(pool).await.is_err());
        assert!(sqlx::query("DELETE FROM hold_events").execute(pool).await.is_err());
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hold_events").fetch_one(pool).await.unwrap();
        assert_eq!(count, 1);
    }

    #[tokio::test]
    async fn fifty_concurrent_holds_decided_in_random_order_each_end_right() {
        let (app, _) = approvals_app(approvers()).await;
        let mut ids = Vec::new();
        let creations: Vec<_> = (0..50)
            .map(|i| {
                let app = app.clone();
                tokio::spawn(async move {
                    let mut body = hold_body(&format!("user-{i}"));
                    body["request_digest"] = json!(format!("{i:064x}"));
                    create_hold(&app, body).await
                })
            })
            .collect();
        for creation in creations {
            let (status, created) = creation.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{created}");
            ids.push(created["id"].as_str().unwrap().to_owned());
        }
        // A fixed shuffle (xorshift), so a failure can be replayed.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, usize::try_from(seed % (i as u64 + 1)).unwrap());
        }
        let expected = |i: usize| if i % 3 == 0 { "denied" } else { "approved" };
        let votes: Vec<_> = order
            .iter()
            .map(|&i| {
                let app = app.clone();
                let id = ids[i].clone();
                tokio::spawn(async move {
                    let verb = if expected(i) == "denied" { "deny" } else { "approve" };
                    let approver = sign(&format!("approver-{}", i % 4), &["approvers"]);
                    decide(&app, &id, verb, &approver, json!({"reason": format!("decision {i}")})).await
                })
            })
            .collect();
        for vote in votes {
            let (status, detail) = vote.await.unwrap();
            assert_eq!(status, StatusCode::OK, "{detail}");
        }
        for (i, id) in ids.iter().enumerate() {
            let polled = filter_status(&app, id).await;
            assert_eq!(polled["status"], expected(i), "hold {i}");
            assert_eq!(polled["reason"], format!("decision {i}"));
        }
    }

    async fn next_message(received: &mut tokio::sync::mpsc::UnboundedReceiver<Value>) -> Value {
        tokio::time::timeout(std::time::Duration::from_secs(5), received.recv()).await.expect("delivered in time").unwrap()
    }

    #[tokio::test]
    async fn the_webhook_hears_of_holds_and_decisions_without_secrets() {
        use axum::routing::post;
        let (sender, mut received) = tokio::sync::mpsc::unbounded_channel::<Value>();
        let receiver = axum::Router::new().route(
            "/hook",
            post(move |axum::Json(message): axum::Json<Value>| {
                let sender = sender.clone();
                async move {
                    sender.send(message).unwrap();
                    StatusCode::OK
                }
            }),
        );
        let addr = crate::testing::serve(receiver).await;
        let webhook = crate::webhook::WebhookSettings { url: format!("http://{addr}/hook"), timeout: std::time::Duration::from_secs(2), public_url: Some("https://portcullis.example/".into()) };
        let options = crate::state::StateOptions { approval: approvers(), webhook: Some(webhook), ..crate::testing::options() };
        let (app, _) = crate::testing::approvals_app_with(options).await;
        let secret = "ghp_0123456789abcdefghijABCDEFGHIJklmnopqr";
        let mut body = hold_body("alice");
        body["excerpt"] = json!(format!("git push with token {secret} then rm -rf /"));
        let (_, created) = create_hold(&app, body).await;
        let id = created["id"].as_str().unwrap();
        let message = next_message(&mut received).await;
        let text = message.to_string();
        assert!(message["text"].as_str().unwrap().contains("alice"), "{text}");
        assert!(text.contains("rm -rf /") && !text.contains(secret), "only the scrubbed excerpt: {text}");
        assert!(text.contains(&format!("https://portcullis.example/approvals/#hold={id}")), "{text}");
        assert_eq!(message["blocks"][0]["type"], "section");

        decide(&app, id, "approve", &sign("bob", &["approvers"]), json!({"reason": "fine"})).await;
        let message = next_message(&mut received).await;
        let headline = message["text"].as_str().unwrap();
        assert!(headline.contains("approved") && headline.contains("bob"), "{message}");
        assert!(message.to_string().contains("Reason: fine"), "{message}");
    }

    #[tokio::test]
    async fn a_dead_webhook_does_not_slow_the_api() {
        let webhook = crate::webhook::WebhookSettings { url: "http://127.0.0.1:1/hook".into(), timeout: std::time::Duration::from_secs(2), public_url: None };
        let options = crate::state::StateOptions { approval: approvers(), webhook: Some(webhook), ..crate::testing::options() };
        let (app, _) = crate::testing::approvals_app_with(options).await;
        let started = std::time::Instant::now();
        let id = new_hold(&app, "alice").await;
        let (status, _) = decide(&app, &id, "approve", &sign("bob", &["approvers"]), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
