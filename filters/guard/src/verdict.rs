//! Verdicts: what the filter does with a request, and why.

use portcullis_policy::guard::{GuardAction as Action, HoldSettings, PackName, Unreachable};
use serde::Serialize;

/// One rule or pack that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleMatch {
    /// The rule's name; for packs the pack's name (`destructive_sql`); `other_content` or
    /// `on_error` when the body could not be inspected.
    pub rule: String,
    /// The pack, for pack matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackName>,
    /// The pack detector that fired, such as `drop_object`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detector: Option<&'static str>,
    /// The rule's action.
    pub action: Action,
    /// The rule's message for the caller, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where it matched: a segment's field (`messages[1].content`), `path`, `params.name`, `body`.
    pub field: String,
    /// At most 160 characters around the match, credentials replaced by `[REDACTED]`.
    pub excerpt: String,
    /// How a hold by this rule is approved (only for `hold`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold: Option<HoldSettings>,
}

/// What the guard decided about one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The strongest action among the matches (`block` > `hold` > `log` > `allow`); `allow`
    /// when nothing matched.
    pub action: Action,
    /// Every match, in policy order (named target's entry first, then `*`; packs, then rules).
    pub matches: Vec<RuleMatch>,
    /// Message for the caller: the first message among the matches that decided the action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// How the request is approved, when the action is `hold`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold: Option<HoldPlan>,
}

/// What releasing a held request takes: every requirement met within the TTL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldPlan {
    /// How long the request waits: the shortest TTL of the holding rules.
    pub ttl_secs: u64,
    /// Approvers must give a reason (if any holding rule asks).
    pub require_reason: bool,
    /// Whether the caller may approve their own request.
    pub allow_self_approval: bool,
    /// `deny` if any holding rule says so (fail closed), `allow` only if all do.
    pub on_control_plane_unreachable: Unreachable,
    /// Distinct approval requirements; each must be met. Rules with the same quorum and
    /// approver groups share one.
    pub approvals: Vec<ApprovalRequirement>,
}

pub use portcullis_policy::hold::ApprovalRequirement;

impl Verdict {
    /// Nothing matched: let the request through.
    pub fn allow() -> Self {
        Self { action: Action::Allow, matches: Vec::new(), message: None, hold: None }
    }

    /// The verdict for these matches.
    pub fn from_matches(matches: Vec<RuleMatch>) -> Self {
        let action = matches.iter().map(|m| m.action).max().unwrap_or(Action::Allow);
        let message = matches.iter().filter(|m| m.action == action).find_map(|m| m.message.clone());
        let hold = (action == Action::Hold).then(|| plan(&matches));
        Self { action, matches, message, hold }
    }

    /// Whether the request must be refused.
    pub fn is_blocked(&self) -> bool {
        self.action == Action::Block
    }

    /// Whether the request waits for approval.
    pub fn is_held(&self) -> bool {
        self.action == Action::Hold
    }

    /// Whether anything worth an event matched (`log`, `hold` or `block`).
    pub fn is_notable(&self) -> bool {
        self.action > Action::Allow
    }
}

fn plan(matches: &[RuleMatch]) -> HoldPlan {
    let holds: Vec<(&str, &HoldSettings)> =
        matches.iter().filter(|m| m.action == Action::Hold).filter_map(|m| Some((m.rule.as_str(), m.hold.as_ref()?))).collect();
    let mut plan = HoldPlan {
        ttl_secs: holds.iter().map(|(_, h)| h.ttl_secs).min().unwrap_or(900),
        require_reason: holds.iter().any(|(_, h)| h.require_reason),
        allow_self_approval: !holds.is_empty() && holds.iter().all(|(_, h)| h.allow_self_approval),
        on_control_plane_unreachable: if !holds.is_empty() && holds.iter().all(|(_, h)| h.on_control_plane_unreachable == Unreachable::Allow) {
            Unreachable::Allow
        } else {
            Unreachable::Deny
        },
        approvals: Vec::new(),
    };
    for (rule, hold) in holds {
        ApprovalRequirement::add(&mut plan.approvals, rule, hold.quorum, hold.approver_groups.clone());
    }
    plan
}
