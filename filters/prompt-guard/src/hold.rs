//! Holding a request: what to send the control plane, and what its answers
//! mean. Pure logic, tested natively; the HTTP context does the calls.

use portcullis_guard::{HoldPlan, Unreachable, Verdict};
use portcullis_policy::hold::{CreateHoldRequest, CreateHoldResponse, HoldIdentity, HoldStatus, HoldStatusResponse, MatchedRule};
use portcullis_policy::ErrorBody;
use sha2::{Digest, Sha256};

/// Path of the hold endpoint at the control plane.
pub const HOLDS_PATH: &str = "/v1/filter/holds";
/// How long one status poll may wait at the control plane for a decision.
pub const LONG_POLL_MS: u64 = 20_000;
/// Longest excerpt sent to the control plane.
const MAX_EXCERPT_CHARS: usize = 1_000;

/// What the request being held is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeldRequest {
    /// Verified identity from the token filter's headers.
    pub identity: HoldIdentity,
    /// Policy target.
    pub target: String,
    /// HTTP method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// The model, when the body names one.
    pub model: Option<String>,
}

/// What the filter does next with a held request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Ask the control plane for the hold's status again.
    Poll {
        /// The hold's id.
        id: String,
    },
    /// Let the request go upstream unchanged.
    Release {
        /// Why, for the log.
        why: String,
    },
    /// Answer the caller with this status and JSON body.
    Refuse {
        /// HTTP status.
        status: u32,
        /// OpenAI-style error body.
        body: String,
    },
}

/// The body of `POST /v1/filter/holds` for `verdict` on `request`.
pub fn create_request(verdict: &Verdict, plan: &HoldPlan, request: &HeldRequest, body: &[u8]) -> CreateHoldRequest {
    let holding = verdict.matches.iter().filter(|m| m.action == portcullis_guard::Action::Hold);
    let rules: Vec<MatchedRule> = holding
        .clone()
        .map(|m| MatchedRule { rule: m.rule.clone(), pack: m.pack.map(|p| p.name().to_owned()), message: m.message.clone() })
        .collect();
    let mut excerpt: String = holding.map(|m| format!("{}: {}", m.field, m.excerpt)).collect::<Vec<_>>().join("\n");
    if excerpt.chars().count() > MAX_EXCERPT_CHARS {
        excerpt = excerpt.chars().take(MAX_EXCERPT_CHARS).collect();
    }
    let names = rules.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>().join(", ");
    let reason = verdict.message.clone().unwrap_or_else(|| format!("matched {names}"));
    CreateHoldRequest {
        identity: request.identity.clone(),
        target: request.target.clone(),
        rules,
        excerpt,
        reason,
        method: request.method.clone(),
        path: request.path.clone(),
        model: request.model.clone(),
        ttl_secs: Some(plan.ttl_secs),
        request_digest: Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// The path that polls hold `id`, waiting at the control plane for a decision.
pub fn poll_path(id: &str) -> String {
    let id: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    format!("{HOLDS_PATH}/{id}?wait_ms={LONG_POLL_MS}")
}

/// What the answer to the hold creation means.
pub fn on_created(status: Option<u32>, body: &[u8], plan: &HoldPlan) -> Step {
    match status {
        Some(200 | 201) => match serde_json::from_slice::<CreateHoldResponse>(body) {
            Ok(created) => match created.status {
                HoldStatus::Pending => Step::Poll { id: created.id },
                HoldStatus::Approved => Step::Release { why: format!("hold {} approved by a just-in-time grant", created.id) },
                other => decided(other, &created.id, None),
            },
            Err(e) => unreachable(plan, &format!("the control plane's answer to the hold could not be read: {e}")),
        },
        Some(code) => unreachable(plan, &format!("the control plane refused the hold (HTTP {code})")),
        None => unreachable(plan, "the control plane is unreachable"),
    }
}

/// What the answer to a status poll means.
pub fn on_polled(status: Option<u32>, body: &[u8], plan: &HoldPlan, id: &str) -> Step {
    match status {
        Some(200) => match serde_json::from_slice::<HoldStatusResponse>(body) {
            Ok(answer) => match answer.status {
                HoldStatus::Pending => Step::Poll { id: answer.id },
                other => decided(other, &answer.id, answer.reason.as_deref()),
            },
            Err(e) => unreachable(plan, &format!("the control plane's hold status could not be read: {e}")),
        },
        Some(404) => unreachable(plan, &format!("the control plane no longer knows hold {id}")),
        Some(code) => unreachable(plan, &format!("the control plane answered HTTP {code} for hold {id}")),
        None => unreachable(plan, "the control plane became unreachable during the hold"),
    }
}

fn decided(status: HoldStatus, id: &str, reason: Option<&str>) -> Step {
    match status {
        HoldStatus::Approved => Step::Release { why: format!("hold {id} approved") },
        HoldStatus::Denied => {
            let reason = reason.filter(|r| !r.trim().is_empty()).unwrap_or("no reason given");
            refuse(403, "portcullis_hold_denied", &format!("An approver denied this request (hold {id}): {reason}"))
        }
        HoldStatus::Expired => refuse(
            403,
            "portcullis_hold_expired",
            &format!("Nobody approved this request in time (hold {id} expired). Ask an approver, then send it again."),
        ),
        HoldStatus::Pending => Step::Poll { id: id.to_owned() },
    }
}

fn unreachable(plan: &HoldPlan, why: &str) -> Step {
    match plan.on_control_plane_unreachable {
        Unreachable::Allow => Step::Release { why: format!("{why}; the policy lets held requests through then (fail open)") },
        Unreachable::Deny => refuse(
            503,
            "portcullis_hold_unavailable",
            &format!("This request needs approval, but {why}, so it is refused (fail closed)."),
        ),
    }
}

fn refuse(status: u32, code: &str, message: &str) -> Step {
    Step::Refuse { status, body: ErrorBody::new("permission_error", code, message).to_json() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(unreachable: Unreachable) -> HoldPlan {
        HoldPlan { ttl_secs: 60, require_reason: false, allow_self_approval: false, on_control_plane_unreachable: unreachable, approvals: vec![] }
    }

    fn code(step: &Step) -> (u32, String) {
        match step {
            Step::Refuse { status, body } => {
                let v: serde_json::Value = serde_json::from_str(body).unwrap();
                (*status, v["error"]["code"].as_str().unwrap().to_owned())
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn created_pending_polls_and_granted_releases() {
        let p = plan(Unreachable::Deny);
        let pending = br#"{"id":"h1","status":"pending","expires_at":"2026-01-01T00:00:00Z","poll_after_ms":1000}"#;
        assert_eq!(on_created(Some(201), pending, &p), Step::Poll { id: "h1".into() });
        let granted = br#"{"id":"h2","status":"approved","expires_at":"2026-01-01T00:00:00Z"}"#;
        assert!(matches!(on_created(Some(200), granted, &p), Step::Release { .. }));
    }

    #[test]
    fn decisions_map_to_release_or_clear_refusals() {
        let p = plan(Unreachable::Deny);
        let answer = |status: &str| format!(r#"{{"id":"h","status":"{status}","decided_by":"bob","reason":"too risky","decided_at":null,"expires_at":"x"}}"#);
        assert!(matches!(on_polled(Some(200), answer("approved").as_bytes(), &p, "h"), Step::Release { .. }));
        assert_eq!(on_polled(Some(200), answer("pending").as_bytes(), &p, "h"), Step::Poll { id: "h".into() });
        let denied = on_polled(Some(200), answer("denied").as_bytes(), &p, "h");
        assert_eq!(code(&denied), (403, "portcullis_hold_denied".into()));
        assert!(matches!(&denied, Step::Refuse { body, .. } if body.contains("too risky")));
        assert_eq!(code(&on_polled(Some(200), answer("expired").as_bytes(), &p, "h")), (403, "portcullis_hold_expired".into()));
    }

    #[test]
    fn an_unreachable_control_plane_fails_closed_unless_the_policy_says_otherwise() {
        let closed = plan(Unreachable::Deny);
        for step in [
            on_created(None, b"", &closed),
            on_created(Some(500), b"", &closed),
            on_created(Some(201), b"{garbage", &closed),
            on_polled(None, b"", &closed, "h"),
            on_polled(Some(404), b"", &closed, "h"),
        ] {
            assert_eq!(code(&step), (503, "portcullis_hold_unavailable".into()));
        }
        assert!(matches!(on_polled(None, b"", &plan(Unreachable::Allow), "h"), Step::Release { .. }));
    }

    #[test]
    fn poll_paths_carry_only_safe_characters() {
        assert_eq!(poll_path("abc-123"), format!("/v1/filter/holds/abc-123?wait_ms={LONG_POLL_MS}"));
        assert_eq!(poll_path("../x?y"), format!("/v1/filter/holds/xy?wait_ms={LONG_POLL_MS}"));
    }
}
