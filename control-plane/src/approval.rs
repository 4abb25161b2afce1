//! Approval settings and the quorum rule.
//!
//! The settings come from `portcullis serve` flags for now (see
//! [`crate::config::ServeArgs`]). The policy's guard section (approver groups, quorum,
//! TTL, `require_reason`) is meant to override them per policy version once it exists:
//! [`ApprovalSettings`] is the one place the hold service reads them from.
//!
//! The rule: one denial denies a hold. It is approved once at least
//! [`ApprovalSettings::quorum`] distinct approvers approved and, for every group of
//! [`ApprovalSettings::quorum_groups`], at least one of them belongs to that group.

use std::collections::BTreeSet;
use std::time::Duration;

/// Longest a hold may wait, whatever the filter asks for: one day.
pub const MAX_HOLD_TTL: Duration = Duration::from_secs(24 * 3600);

/// Who approves, how many must, and for how long a hold waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSettings {
    /// Groups whose members may decide holds; empty means nobody may (fail closed).
    pub approver_groups: Vec<String>,
    /// Distinct approvals a hold needs.
    pub quorum: u32,
    /// Groups each of which at least one approving approver must belong to.
    pub quorum_groups: Vec<String>,
    /// How long a hold waits when the filter does not say.
    pub hold_ttl: Duration,
    /// Whether every decision must give a reason.
    pub require_reason: bool,
    /// Longest just-in-time grant an approval may create, in minutes.
    pub max_grant_minutes: u32,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        Self {
            approver_groups: Vec::new(),
            quorum: 1,
            quorum_groups: Vec::new(),
            hold_ttl: Duration::from_secs(300),
            require_reason: false,
            max_grant_minutes: 480,
        }
    }
}

impl ApprovalSettings {
    /// Whether someone in `groups` may decide holds.
    pub fn is_approver(&self, groups: &[String]) -> bool {
        groups.iter().any(|g| self.approver_groups.contains(g))
    }

    /// How long a hold waits: the filter's `ttl_secs` when given, else `hold_ttl`;
    /// at least a second and at most [`MAX_HOLD_TTL`].
    pub fn ttl(&self, requested_secs: Option<u64>) -> Duration {
        requested_secs.map_or(self.hold_ttl, Duration::from_secs).clamp(Duration::from_secs(1), MAX_HOLD_TTL)
    }
}

/// One approver's vote, as the quorum rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    /// The approver's subject.
    pub approver: String,
    /// Their groups.
    pub groups: Vec<String>,
    /// Approve (`true`) or deny.
    pub approve: bool,
}

/// What the votes so far decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not decided yet.
    Pending {
        /// Distinct approvers who approved.
        approvals: u32,
        /// Quorum groups none of them belongs to.
        missing_groups: Vec<String>,
    },
    /// Approved.
    Approved,
    /// Denied.
    Denied,
}

/// Applies the quorum rule to `votes`.
pub fn outcome(settings: &ApprovalSettings, votes: &[Vote]) -> Outcome {
    if votes.iter().any(|v| !v.approve) {
        return Outcome::Denied;
    }
    let approvers: BTreeSet<&str> = votes.iter().map(|v| v.approver.as_str()).collect();
    let approvals = u32::try_from(approvers.len()).unwrap_or(u32::MAX);
    let missing_groups: Vec<String> =
        settings.quorum_groups.iter().filter(|group| !votes.iter().any(|v| v.groups.contains(group))).cloned().collect();
    if approvals >= settings.quorum.max(1) && missing_groups.is_empty() {
        Outcome::Approved
    } else {
        Outcome::Pending { approvals, missing_groups }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(approver: &str, groups: &[&str], approve: bool) -> Vote {
        Vote { approver: approver.into(), groups: groups.iter().map(|g| (*g).to_owned()).collect(), approve }
    }

    #[test]
    fn one_approval_is_enough_by_default_and_one_denial_always_decides() {
        let settings = ApprovalSettings::default();
        assert_eq!(outcome(&settings, &[]), Outcome::Pending { approvals: 0, missing_groups: vec![] });
        assert_eq!(outcome(&settings, &[vote("a", &[], true)]), Outcome::Approved);
        assert_eq!(outcome(&settings, &[vote("a", &[], true), vote("b", &[], false)]), Outcome::Denied);
    }

    #[test]
    fn quorum_counts_distinct_approvers_and_needs_every_quorum_group() {
        let settings = ApprovalSettings { quorum: 2, quorum_groups: vec!["security".into()], ..ApprovalSettings::default() };
        assert_eq!(outcome(&settings, &[vote("a", &["ops"], true)]), Outcome::Pending { approvals: 1, missing_groups: vec!["security".into()] });
        assert_eq!(
            outcome(&settings, &[vote("a", &["ops"], true), vote("b", &["ops"], true)]),
            Outcome::Pending { approvals: 2, missing_groups: vec!["security".into()] }
        );
        assert_eq!(outcome(&settings, &[vote("a", &["ops"], true), vote("b", &["security"], true)]), Outcome::Approved);
    }

    #[test]
    fn ttl_is_clamped() {
        let settings = ApprovalSettings::default();
        assert_eq!(settings.ttl(None), Duration::from_secs(300));
        assert_eq!(settings.ttl(Some(0)), Duration::from_secs(1));
        assert_eq!(settings.ttl(Some(10)), Duration::from_secs(10));
        assert_eq!(settings.ttl(Some(u64::MAX)), MAX_HOLD_TTL);
    }
}
