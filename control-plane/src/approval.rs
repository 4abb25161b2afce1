//! Approval settings and the quorum rule.
//!
//! The settings come from `portcullis serve` flags (see [`crate::config::ServeArgs`]),
//! replaced by the policy's `guard.approvals` when it names approver groups. A hold
//! may also carry its own [`HoldApproval`]: the requirements its holding rules ask
//! for (a rule's `hold.quorum` and `hold.approver_groups`).
//!
//! The rule: one denial denies a hold. It is approved once every requirement is met
//! (at least `quorum` distinct approvers in one of its `approver_groups` approved;
//! a hold without its own requirements has one, [`ApprovalSettings::quorum`] over
//! [`ApprovalSettings::approver_groups`]) and, for every group of
//! [`ApprovalSettings::quorum_groups`], at least one approver belongs to that group.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::hold_api::{ApprovalRequirement, HoldApproval};

/// Longest a hold may wait, whatever the filter asks for: one day.
pub const MAX_HOLD_TTL: Duration = Duration::from_secs(24 * 3600);

/// Who approves, how many must, and for how long a hold waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSettings {
    /// Groups whose members may decide holds; empty means nobody may (fail closed).
    pub approver_groups: Vec<String>,
    /// Further groups that rules of the policy name as their own approvers
    /// (`hold.approver_groups`): their members may decide the holds of those rules.
    pub rule_approver_groups: Vec<String>,
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
            rule_approver_groups: Vec::new(),
            quorum: 1,
            quorum_groups: Vec::new(),
            hold_ttl: Duration::from_secs(300),
            require_reason: false,
            max_grant_minutes: 480,
        }
    }
}

impl ApprovalSettings {
    /// Whether someone in `groups` may decide some holds: a member of the
    /// approver groups, or of a group a rule names as its approvers.
    pub fn is_approver(&self, groups: &[String]) -> bool {
        groups.iter().any(|g| self.approver_groups.contains(g) || self.rule_approver_groups.contains(g))
    }

    /// The requirements a hold with `approval` is decided under. A requirement
    /// that names no groups is the control plane's own: its approver groups, and
    /// at least its quorum.
    pub fn requirements(&self, approval: Option<&HoldApproval>) -> Vec<ApprovalRequirement> {
        let fallback = || vec![ApprovalRequirement { quorum: self.quorum, approver_groups: Vec::new(), rules: Vec::new() }];
        let mut requirements = approval.map(|a| a.requirements.clone()).filter(|r| !r.is_empty()).unwrap_or_else(fallback);
        for requirement in &mut requirements {
            if requirement.approver_groups.is_empty() {
                requirement.approver_groups = self.approver_groups.clone();
                requirement.quorum = requirement.quorum.max(self.quorum);
            }
            requirement.quorum = requirement.quorum.max(1);
        }
        requirements
    }

    /// Whether someone in `groups` may vote on a hold with `approval`: they
    /// belong to a group of one of its requirements, or they are one of the
    /// control plane's approvers in a [`quorum_groups`](Self::quorum_groups)
    /// group (whose vote the quorum rule also needs).
    pub fn may_decide(&self, approval: Option<&HoldApproval>, groups: &[String]) -> bool {
        let quorum_member = groups.iter().any(|g| self.quorum_groups.contains(g)) && groups.iter().any(|g| self.approver_groups.contains(g));
        quorum_member || self.requirements(approval).iter().any(|r| counts_for(r, groups))
    }

    /// Whether someone in `groups` is one of the control plane's approvers
    /// (not only an approver a rule names): they see every hold.
    pub fn is_global_approver(&self, groups: &[String]) -> bool {
        groups.iter().any(|g| self.approver_groups.contains(g))
    }

    /// Whether deciding a hold with `approval` needs a reason.
    pub fn reason_required(&self, approval: Option<&HoldApproval>) -> bool {
        self.require_reason || approval.is_some_and(|a| a.require_reason)
    }

    /// How long a hold waits: the filter's `ttl_secs` when given, else `hold_ttl`;
    /// at least a second and at most [`MAX_HOLD_TTL`].
    pub fn ttl(&self, requested_secs: Option<u64>) -> Duration {
        requested_secs.map_or(self.hold_ttl, Duration::from_secs).clamp(Duration::from_secs(1), MAX_HOLD_TTL)
    }
}

/// What approving a hold of `rule` asks for under `approval` and `settings`,
/// as a just-in-time grant remembers it: the rule's quorum and approver
/// groups (resolved against the settings), the quorum groups, whether a
/// reason is required, whether self-approval is allowed and the longest grant
/// allowed, as canonical JSON. A grant covers a later hold of the
/// rule only when that hold asks for exactly the same, so a stricter policy
/// ends grants made under a looser one.
pub fn grant_terms(settings: &ApprovalSettings, approval: Option<&HoldApproval>, rule: &str) -> String {
    let requirements = settings.requirements(approval);
    let own = requirements.iter().find(|r| r.rules.iter().any(|r| r == rule)).or(requirements.first());
    let sorted = |groups: &[String]| -> Vec<String> {
        let set: BTreeSet<&String> = groups.iter().collect();
        set.into_iter().cloned().collect()
    };
    serde_json::json!({
        "quorum": own.map_or(settings.quorum, |r| r.quorum),
        "approver_groups": own.map(|r| sorted(&r.approver_groups)).unwrap_or_default(),
        "quorum_groups": sorted(&settings.quorum_groups),
        "require_reason": settings.reason_required(approval),
        "allow_self_approval": approval.is_some_and(|a| a.allow_self_approval),
        "max_grant_minutes": settings.max_grant_minutes,
    })
    .to_string()
}

/// One approver's vote, as the quorum rule sees it. An approver is a subject
/// at an identity provider: the same subject at two providers is two people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    /// The approver's subject.
    pub approver: String,
    /// The identity provider that vouched for them.
    pub provider: String,
    /// Their groups.
    pub groups: Vec<String>,
    /// Approve (`true`) or deny.
    pub approve: bool,
}

impl Vote {
    /// Who voted: provider and subject.
    fn who(&self) -> (&str, &str) {
        (&self.provider, &self.approver)
    }
}

/// Whether a voter in `groups` counts towards `requirement`.
fn counts_for(requirement: &ApprovalRequirement, groups: &[String]) -> bool {
    groups.iter().any(|g| requirement.approver_groups.contains(g))
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

/// One requirement of a hold and how far its votes have got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementProgress {
    /// The requirement, groups filled in.
    pub requirement: ApprovalRequirement,
    /// Distinct approvers so far who count towards it.
    pub approvals: u32,
}

/// How far each requirement of a hold with `approval` is, after `votes`.
pub fn progress(settings: &ApprovalSettings, approval: Option<&HoldApproval>, votes: &[Vote]) -> Vec<RequirementProgress> {
    settings
        .requirements(approval)
        .into_iter()
        .map(|requirement| {
            let approvers: BTreeSet<(&str, &str)> =
                votes.iter().filter(|v| v.approve && counts_for(&requirement, &v.groups)).map(Vote::who).collect();
            RequirementProgress { approvals: u32::try_from(approvers.len()).unwrap_or(u32::MAX), requirement }
        })
        .collect()
}

/// Applies the quorum rule to `votes` on a hold with `approval`.
pub fn outcome(settings: &ApprovalSettings, approval: Option<&HoldApproval>, votes: &[Vote]) -> Outcome {
    if votes.iter().any(|v| !v.approve) {
        return Outcome::Denied;
    }
    let approvers: BTreeSet<(&str, &str)> = votes.iter().map(Vote::who).collect();
    let approvals = u32::try_from(approvers.len()).unwrap_or(u32::MAX);
    let missing_groups: Vec<String> =
        settings.quorum_groups.iter().filter(|group| !votes.iter().any(|v| v.groups.contains(group))).cloned().collect();
    let met = progress(settings, approval, votes).iter().all(|p| p.approvals >= p.requirement.quorum);
    if met && missing_groups.is_empty() {
        Outcome::Approved
    } else {
        Outcome::Pending { approvals, missing_groups }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approvers() -> ApprovalSettings {
        ApprovalSettings { approver_groups: vec!["ops".into(), "security".into()], ..ApprovalSettings::default() }
    }

    fn vote(approver: &str, groups: &[&str], approve: bool) -> Vote {
        Vote { approver: approver.into(), provider: "corp".into(), groups: groups.iter().map(|g| (*g).to_owned()).collect(), approve }
    }

    #[test]
    fn one_approval_is_enough_by_default_and_one_denial_always_decides() {
        let settings = approvers();
        assert_eq!(outcome(&settings, None, &[]), Outcome::Pending { approvals: 0, missing_groups: vec![] });
        assert_eq!(outcome(&settings, None, &[vote("a", &["ops"], true)]), Outcome::Approved);
        assert_eq!(outcome(&settings, None, &[vote("a", &["ops"], true), vote("b", &["ops"], false)]), Outcome::Denied);
    }

    #[test]
    fn quorum_counts_distinct_approvers_and_needs_every_quorum_group() {
        let settings = ApprovalSettings { quorum: 2, quorum_groups: vec!["security".into()], ..approvers() };
        assert_eq!(outcome(&settings, None, &[vote("a", &["ops"], true)]), Outcome::Pending { approvals: 1, missing_groups: vec!["security".into()] });
        assert_eq!(
            outcome(&settings, None, &[vote("a", &["ops"], true), vote("b", &["ops"], true)]),
            Outcome::Pending { approvals: 2, missing_groups: vec!["security".into()] }
        );
        assert_eq!(outcome(&settings, None, &[vote("a", &["ops"], true), vote("b", &["security"], true)]), Outcome::Approved);
    }

    /// The same subject at two providers is two approvers; the same one at
    /// one provider is one, however often it appears.
    #[test]
    fn an_approver_is_a_subject_at_a_provider() {
        let settings = ApprovalSettings { quorum: 2, ..approvers() };
        let elsewhere = Vote { provider: "partner".into(), ..vote("a", &["ops"], true) };
        assert_eq!(outcome(&settings, None, &[vote("a", &["ops"], true), elsewhere]), Outcome::Approved);
        assert_eq!(
            outcome(&settings, None, &[vote("a", &["ops"], true), vote("a", &["security"], true)]),
            Outcome::Pending { approvals: 1, missing_groups: vec![] }
        );
    }

    /// Grant terms change exactly when what approval asks for changes.
    #[test]
    fn grant_terms_follow_what_approval_asks_for() {
        let settings = approvers();
        let terms = |s: &ApprovalSettings, a: Option<&HoldApproval>| grant_terms(s, a, "r");
        let base = terms(&settings, Some(&rule_approval(&[(1, &[])])));
        assert_eq!(base, terms(&settings, None), "no override: the settings' requirement");
        assert_eq!(base, terms(&ApprovalSettings { hold_ttl: Duration::from_secs(9), ..approvers() }, None), "the TTL does not matter");
        assert_ne!(base, terms(&settings, Some(&rule_approval(&[(2, &[])]))), "a higher quorum");
        assert_ne!(base, terms(&settings, Some(&rule_approval(&[(1, &["dba"])]))), "other approvers");
        assert_ne!(base, terms(&ApprovalSettings { quorum_groups: vec!["security".into()], ..approvers() }, None));
        assert_ne!(base, terms(&ApprovalSettings { require_reason: true, ..approvers() }, None));
        assert_ne!(base, terms(&ApprovalSettings { max_grant_minutes: 5, ..approvers() }, None), "shorter grants only");
        let selfish = HoldApproval { allow_self_approval: true, ..rule_approval(&[(1, &[])]) };
        assert_ne!(base, terms(&settings, Some(&selfish)), "self-approval allowed, then not");
        let both = rule_approval(&[(1, &["b", "a"])]);
        assert_eq!(terms(&settings, Some(&both)), terms(&settings, Some(&rule_approval(&[(1, &["a", "b"])]))), "group order does not matter");
    }

    fn rule_approval(requirements: &[(u32, &[&str])]) -> HoldApproval {
        HoldApproval {
            requirements: requirements
                .iter()
                .map(|(quorum, groups)| ApprovalRequirement {
                    quorum: *quorum,
                    approver_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
                    rules: vec!["r".into()],
                })
                .collect(),
            require_reason: false,
            allow_self_approval: false,
        }
    }

    #[test]
    fn every_rule_requirement_must_be_met_by_members_of_its_groups() {
        let settings = approvers();
        // Two DBAs, and one of security.
        let approval = rule_approval(&[(2, &["dba"]), (1, &["security"])]);
        let approval = Some(&approval);
        assert!(settings.may_decide(approval, &["dba".into()]));
        assert!(!settings.may_decide(approval, &["ops".into()]), "ops is not named by the hold's rules");
        let dba = |who| vote(who, &["dba"], true);
        assert!(matches!(outcome(&settings, approval, &[dba("a"), dba("b")]), Outcome::Pending { approvals: 2, .. }));
        // An ops vote does not count towards either requirement.
        assert!(matches!(outcome(&settings, approval, &[dba("a"), vote("o", &["ops"], true), vote("s", &["security"], true)]), Outcome::Pending { .. }));
        assert_eq!(outcome(&settings, approval, &[dba("a"), dba("b"), vote("s", &["security"], true)]), Outcome::Approved);
        let progress = progress(&settings, approval, &[dba("a"), vote("s", &["security"], true)]);
        assert_eq!(progress.iter().map(|p| (p.requirement.quorum, p.approvals)).collect::<Vec<_>>(), vec![(2, 1), (1, 1)]);
    }

    #[test]
    fn quorum_group_members_may_vote_on_holds_with_their_own_requirements() {
        let settings = ApprovalSettings { quorum_groups: vec!["security".into()], ..approvers() };
        let approval = rule_approval(&[(1, &["dba"])]);
        let approval = Some(&approval);
        assert!(settings.may_decide(approval, &["ops".into(), "security".into()]), "security's vote is needed");
        assert!(!settings.may_decide(approval, &["ops".into()]));
        let dba = vote("d", &["dba"], true);
        assert!(matches!(outcome(&settings, approval, std::slice::from_ref(&dba)), Outcome::Pending { .. }));
        assert_eq!(outcome(&settings, approval, &[dba, vote("s", &["ops", "security"], true)]), Outcome::Approved);
    }

    #[test]
    fn a_requirement_without_groups_takes_the_control_planes_approvers() {
        let settings = approvers();
        let approval = rule_approval(&[(2, &[])]);
        let requirements = settings.requirements(Some(&approval));
        assert_eq!(requirements[0].approver_groups, settings.approver_groups);
        let stricter = ApprovalSettings { quorum: 3, ..approvers() };
        assert_eq!(stricter.requirements(Some(&approval))[0].quorum, 3, "never below the control plane's quorum");
        assert!(matches!(outcome(&settings, Some(&approval), &[vote("a", &["ops"], true)]), Outcome::Pending { .. }));
        assert_eq!(outcome(&settings, Some(&approval), &[vote("a", &["ops"], true), vote("b", &["security"], true)]), Outcome::Approved);
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
