//! Bodies of the hold and approval API: what filters send when they hold a request
//! (`/v1/filter/holds`), what approvers read and send (`/v1/holds...`), and the
//! events of the live feed. Times are RFC 3339 UTC with milliseconds.

use serde::{Deserialize, Serialize};

pub use portcullis_policy::hold::{
    ApprovalRequirement, CreateHoldRequest, CreateHoldResponse, GrantInfo, HoldApproval, HoldIdentity, HoldStatus, HoldStatusResponse,
    MatchedRule,
};

/// One hold in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldSummary {
    /// The hold's id.
    pub id: String,
    /// Where it stands.
    pub status: HoldStatus,
    /// Who sent the request.
    pub subject: String,
    /// The target it was for.
    pub target: String,
    /// Names of the rules it matched.
    pub rules: Vec<String>,
    /// Why the filter held it.
    pub reason: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Model, when known.
    pub model: Option<String>,
    /// When it was held.
    pub created_at: String,
    /// When it expires (or expired) if nobody decides.
    pub expires_at: String,
    /// Milliseconds left before it expires, at the time of the answer (0 once past).
    pub expires_in_ms: u64,
    /// When it was decided.
    pub decided_at: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Approvals received so far.
    pub approvals: u32,
}

/// Answer to `GET /v1/holds` and `GET /v1/holds/mine`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldList {
    /// Newest first.
    pub holds: Vec<HoldSummary>,
}

/// An approver's vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Approve.
    Approve,
    /// Deny: one denial decides the hold.
    Deny,
}

impl Decision {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Deny => "deny",
        }
    }
}

/// One approver's vote on a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionInfo {
    /// The approver's subject.
    pub approver: String,
    /// Their identity provider.
    pub provider: String,
    /// Their groups when they voted.
    pub groups: Vec<String>,
    /// The vote.
    pub decision: Decision,
    /// Why.
    pub reason: Option<String>,
    /// Grant asked for with an approval, in minutes.
    pub grant_minutes: Option<u32>,
    /// When.
    pub decided_at: String,
}

/// How far a hold is from approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumState {
    /// Distinct approvers needed: the largest quorum of the requirements.
    pub required: u32,
    /// Groups of which at least one approver must be a member.
    pub groups: Vec<String>,
    /// Approvals so far.
    pub approvals: u32,
    /// Groups of `groups` no approver so far belongs to.
    pub missing_groups: Vec<String>,
    /// Each requirement the hold is decided under (its rules' own, or the
    /// control plane's quorum over its approver groups), with its approvals so far.
    pub requirements: Vec<RequirementState>,
    /// Whether a decision must give a reason.
    pub reason_required: bool,
}

/// One approval requirement of a hold and its approvals so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementState {
    /// Distinct approvers needed from `approver_groups`.
    pub quorum: u32,
    /// Groups whose members count.
    pub approver_groups: Vec<String>,
    /// The rules that ask for it (empty for the control plane's own requirement).
    pub rules: Vec<String>,
    /// Approvals so far from members of `approver_groups`.
    pub approvals: u32,
}

/// What an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A filter held a request.
    Created,
    /// An approver approved (the hold may still need more approvals).
    Approval,
    /// An approver denied.
    Denial,
    /// The hold was approved: by quorum, or by a grant.
    Approved,
    /// The hold was denied.
    Denied,
    /// Nobody decided in time.
    Expired,
    /// An approval created a just-in-time grant.
    GrantCreated,
    /// A grant approved the hold without a human.
    GrantUsed,
    /// An approver revoked a grant this hold's approval had created.
    GrantRevoked,
}

impl EventKind {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Approval => "approval",
            Self::Denial => "denial",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::GrantCreated => "grant_created",
            Self::GrantUsed => "grant_used",
            Self::GrantRevoked => "grant_revoked",
        }
    }

    /// The kind called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "created" => Self::Created,
            "approval" => Self::Approval,
            "denial" => Self::Denial,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "expired" => Self::Expired,
            "grant_created" => Self::GrantCreated,
            "grant_used" => Self::GrantUsed,
            "grant_revoked" => Self::GrantRevoked,
            _ => return None,
        })
    }
}

/// One entry of a hold's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldEventInfo {
    /// Position in the trail of all holds.
    pub seq: i64,
    /// What happened.
    pub kind: EventKind,
    /// Who did it: requester, approver, `grant:<id>`, or `portcullis`.
    pub actor: String,
    /// Why.
    pub reason: Option<String>,
    /// When.
    pub at: String,
    /// More, such as the grant's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// Answer to `GET /v1/holds/{id}` and to decisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldDetail {
    /// The hold's id.
    pub id: String,
    /// Where it stands.
    pub status: HoldStatus,
    /// Who sent the request.
    pub identity: HoldIdentity,
    /// The target it was for.
    pub target: String,
    /// The rules it matched.
    pub rules: Vec<MatchedRule>,
    /// The matching part of the prompt, masked.
    pub excerpt: String,
    /// Why the filter held it.
    pub reason: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Model, when known.
    pub model: Option<String>,
    /// SHA-256 of the held body.
    pub request_digest: String,
    /// When it was held.
    pub created_at: String,
    /// When it expires (or expired) if nobody decides.
    pub expires_at: String,
    /// Milliseconds left before it expires (0 once past).
    pub expires_in_ms: u64,
    /// When it was decided.
    pub decided_at: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// The decision's reason.
    pub decision_reason: Option<String>,
    /// Approvals needed and received.
    pub quorum: QuorumState,
    /// Votes so far, oldest first.
    pub decisions: Vec<DecisionInfo>,
    /// The audit trail, oldest first.
    pub events: Vec<HoldEventInfo>,
}

/// Body of `POST /v1/holds/{id}/approve` and `/deny`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// Why; required when the control plane runs with `--require-reason`.
    #[serde(default)]
    pub reason: Option<String>,
    /// With an approval: also approve this identity's holds for the same rules for this
    /// many minutes (at most `--max-grant-minutes`).
    #[serde(default)]
    pub grant_minutes: Option<u32>,
}

/// One change of a hold, as sent by `GET /v1/holds/events` (event type `hold`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldChange {
    /// The hold's id.
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// Where the hold stands now.
    pub status: HoldStatus,
    /// Who sent the request.
    pub subject: String,
    /// The target it was for.
    pub target: String,
    /// Who caused the change.
    pub actor: String,
    /// When.
    pub at: String,
    /// The groups whose members may decide the hold (its requirements' groups):
    /// who else than the control plane's approvers is told of the change.
    /// Not sent.
    #[serde(skip)]
    pub decided_by_groups: Vec<String>,
}

/// A just-in-time grant as approvers see it: the grant, and its revocation if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantDetail {
    /// The grant.
    #[serde(flatten)]
    pub grant: GrantInfo,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// Why.
    pub revoke_reason: Option<String>,
}

/// Answer to `GET /v1/grants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantList {
    /// Grants in force (not expired, not revoked), ending soonest first.
    pub grants: Vec<GrantDetail>,
}

/// Body of `POST /v1/grants/{id}/revoke`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why the grant ends early (required when the control plane requires reasons).
    #[serde(default)]
    pub reason: Option<String>,
}
