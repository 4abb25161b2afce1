//! Approval settings of held requests: who approves, how many, how long a request waits.

use serde::{Deserialize, Serialize};

/// What happens to a held request when the filter cannot reach the control plane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unreachable {
    /// Refuse the request (fail closed).
    #[default]
    Deny,
    /// Let it through unapproved (fail open).
    Allow,
}

/// How held requests are approved, for every hold that does not override it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSettings {
    /// Groups whose members may approve (any one of them). Needed as soon as any rule holds,
    /// unless every holding rule names its own `hold.approver_groups`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approver_groups: Vec<String>,
    /// How long a request waits for approval before it is refused, in seconds (default 900).
    #[serde(default = "default_ttl")]
    pub default_ttl_secs: u64,
    /// Approvals needed, from distinct approvers (default 1).
    #[serde(default = "one")]
    pub quorum: u32,
    /// Approvers must give a reason (default `true`).
    #[serde(default = "yes")]
    pub require_reason: bool,
    /// Whether the caller may approve their own request (default `false`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_self_approval: bool,
    /// What happens when the control plane cannot be reached (default `deny`).
    #[serde(default)]
    pub on_control_plane_unreachable: Unreachable,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        Self {
            approver_groups: Vec::new(),
            default_ttl_secs: default_ttl(),
            quorum: 1,
            require_reason: true,
            allow_self_approval: false,
            on_control_plane_unreachable: Unreachable::Deny,
        }
    }
}

/// Per-rule changes to [`ApprovalSettings`]; fields left out keep the policy-wide value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldOverrides {
    /// How long the request waits, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
    /// Approvals needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<u32>,
    /// Groups whose members may approve, instead of the policy-wide ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_groups: Option<Vec<String>>,
    /// Approvers must give a reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_reason: Option<bool>,
    /// What happens when the control plane cannot be reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_control_plane_unreachable: Option<Unreachable>,
}

/// Hold settings of one rule with every default filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldSettings {
    /// How long the request waits, in seconds.
    pub ttl_secs: u64,
    /// Approvals needed, from distinct approvers.
    pub quorum: u32,
    /// Groups whose members may approve.
    pub approver_groups: Vec<String>,
    /// Approvers must give a reason.
    pub require_reason: bool,
    /// Whether the caller may approve their own request.
    pub allow_self_approval: bool,
    /// What happens when the control plane cannot be reached.
    pub on_control_plane_unreachable: Unreachable,
}

impl ApprovalSettings {
    /// The settings a rule with these `overrides` holds with.
    pub fn resolve(&self, overrides: Option<&HoldOverrides>) -> HoldSettings {
        let o = overrides.cloned().unwrap_or_default();
        HoldSettings {
            ttl_secs: o.ttl_secs.unwrap_or(self.default_ttl_secs),
            quorum: o.quorum.unwrap_or(self.quorum),
            approver_groups: o.approver_groups.unwrap_or_else(|| self.approver_groups.clone()),
            require_reason: o.require_reason.unwrap_or(self.require_reason),
            allow_self_approval: self.allow_self_approval,
            on_control_plane_unreachable: o.on_control_plane_unreachable.unwrap_or(self.on_control_plane_unreachable),
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}
fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn default_ttl() -> u64 {
    900
}
