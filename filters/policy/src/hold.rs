//! Holds: what a filter sends to the control plane when it holds a request
//! for human approval, and what it reads back while it waits.
//!
//! The filter `POST`s a [`CreateHoldRequest`] to `/v1/filter/holds` and
//! polls `GET /v1/filter/holds/{id}?wait_ms=...` for a
//! [`HoldStatusResponse`] until the status is no longer `pending`. Times are
//! RFC 3339 UTC strings.

use serde::{Deserialize, Serialize};

/// Who sent a held request, as the filter established it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldIdentity {
    /// The subject (`sub`, or the API key's subject).
    pub subject: String,
    /// Their groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The client the token names, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The identity provider's name (or `api-key`).
    pub provider: String,
}

/// One detection rule the held request matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchedRule {
    /// The rule's name: what just-in-time grants are given for.
    pub rule: String,
    /// The rule pack it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
    /// What the rule says about the match, for the approver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One approval requirement of a hold: `quorum` distinct approvers, each in
/// one of `approver_groups`. Holding rules with the same quorum and groups
/// share one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequirement {
    /// Approvals needed, from distinct approvers (at least 1).
    pub quorum: u32,
    /// Groups whose members count towards this requirement; empty means the
    /// control plane's own approver groups (and then at least its quorum).
    #[serde(default)]
    pub approver_groups: Vec<String>,
    /// The holding rules this requirement comes from.
    #[serde(default)]
    pub rules: Vec<String>,
}

impl ApprovalRequirement {
    /// Adds `rule`'s need for `quorum` distinct approvers from `groups` to
    /// `requirements`: rules with the same quorum and group set share one.
    pub fn add(requirements: &mut Vec<ApprovalRequirement>, rule: &str, quorum: u32, mut groups: Vec<String>) {
        groups.sort();
        groups.dedup();
        match requirements.iter_mut().find(|r| r.quorum == quorum && r.approver_groups == groups) {
            Some(requirement) if requirement.rules.iter().any(|r| r == rule) => {}
            Some(requirement) => requirement.rules.push(rule.to_owned()),
            None => requirements.push(ApprovalRequirement { quorum, approver_groups: groups, rules: vec![rule.to_owned()] }),
        }
    }
}

/// How a hold must be approved, as its holding rules ask: their `hold`
/// overrides resolved against the approval settings in force. The control
/// plane works it out from the policy it serves when the hold is created
/// (never from what the filter sends) and keeps it with the hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldApproval {
    /// Every requirement must be met (at least one).
    pub requirements: Vec<ApprovalRequirement>,
    /// Approvers must give a reason.
    #[serde(default)]
    pub require_reason: bool,
    /// Whether the caller may decide their own hold.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_self_approval: bool,
}

/// Body of `POST /v1/filter/holds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateHoldRequest {
    /// Who sent the request.
    pub identity: HoldIdentity,
    /// The policy target it was for.
    pub target: String,
    /// The rules it matched (at least one).
    pub rules: Vec<MatchedRule>,
    /// The part of the prompt that matched, already masked by the filter. The control
    /// plane scrubs it of secrets again and keeps at most 4000 characters.
    #[serde(default)]
    pub excerpt: String,
    /// Why the filter held it, for the approver.
    #[serde(default)]
    pub reason: String,
    /// HTTP method of the held request.
    pub method: String,
    /// Path of the held request.
    pub path: String,
    /// The model asked for, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// How long the hold may wait for a decision; `--hold-ttl-secs` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
    /// SHA-256 of the held body, 64 hex digits: a retry of the same request finds the
    /// pending hold instead of making another.
    pub request_digest: String,
}

/// Where a hold stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    /// Waiting for approvers.
    Pending,
    /// Approved: the filter lets the request through.
    Approved,
    /// Denied: the filter refuses the request.
    Denied,
    /// Nobody decided in time: the filter refuses the request.
    Expired,
}

impl HoldStatus {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
        }
    }

    /// The status called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "expired" => Self::Expired,
            _ => return None,
        })
    }
}

/// Answer to `POST /v1/filter/holds`: `201` for a new pending hold; `200` for a hold
/// approved at once by a just-in-time grant, or for the pending hold of the same
/// request (same subject, provider, target and `request_digest`) made earlier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateHoldResponse {
    /// The hold's id, for `GET /v1/filter/holds/{id}`.
    pub id: String,
    /// `pending`, or `approved` when a grant covered it.
    pub status: HoldStatus,
    /// When a pending hold expires.
    pub expires_at: String,
    /// For a pending hold: how long to wait before polling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_after_ms: Option<u64>,
    /// For a hold approved by a grant: the grant (the one ending first, when several
    /// rules were covered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantInfo>,
}

/// A just-in-time grant: holds of `subject` for `rule` are approved without a human
/// until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantInfo {
    /// The grant's id.
    pub id: String,
    /// Whom it covers.
    pub subject: String,
    /// Their identity provider.
    pub provider: String,
    /// The rule it covers.
    pub rule: String,
    /// The hold whose approval created it.
    pub hold_id: String,
    /// The approver(s) who granted it.
    pub granted_by: String,
    /// When it was created.
    pub created_at: String,
    /// When it ends.
    pub expires_at: String,
}

/// Answer to `GET /v1/filter/holds/{id}`: what the filter acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldStatusResponse {
    /// The hold's id.
    pub id: String,
    /// Where it stands.
    pub status: HoldStatus,
    /// Who decided: approver subjects (comma-separated), or `portcullis` for expiry.
    pub decided_by: Option<String>,
    /// The decision's reason.
    pub reason: Option<String>,
    /// When it was decided.
    pub decided_at: Option<String>,
    /// When it expires (or expired) if nobody decides.
    pub expires_at: String,
}
