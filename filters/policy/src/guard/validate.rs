//! Checks of the `guard` section that need no regex engine.

use std::collections::BTreeSet;

use super::{
    ApprovalSettings, Audience, GuardAction, GuardPolicy, GuardRule, HoldOverrides, K8sMatch, OtherContentAction,
    PackRef, TargetGuard, Unreachable, K8S_VERBS, KNOWN_ROLES, MAX_GUARD_BODY_BYTES, MAX_HOLD_TTL_SECS, MAX_QUORUM,
};
use crate::identity::IdentityPolicy;
use crate::validation::ValidationReport;

/// Longest keyword, in bytes.
const MAX_KEYWORD_BYTES: usize = 256;
/// Longest regex source, in bytes.
const MAX_REGEX_BYTES: usize = 4096;
/// Shortest hold, in seconds.
const MIN_HOLD_TTL_SECS: u64 = 10;

impl GuardPolicy {
    /// Checks the section and records every problem in `report`, with paths under `guard.`.
    ///
    /// `identity` gives the target names entries may refer to. Regex syntax is not checked
    /// here: `portcullis_guard::Guard::from_policy` compiles the patterns and reports those
    /// problems with the same paths.
    pub fn validate(&self, identity: &IdentityPolicy, report: &mut ValidationReport) {
        let targets: BTreeSet<&str> = identity.targets.iter().map(|t| t.name.as_str()).collect();
        let mut seen = BTreeSet::new();
        for (i, entry) in self.targets.iter().enumerate() {
            let path = format!("guard.targets[{i}]");
            if !entry.target.is_empty() && !seen.insert(entry.target.as_str()) {
                report.error(format!("{path}.target"), format!("`{}` already has an entry: merge the two", entry.target));
            }
            entry.validate(&path, &targets, &self.approvals, report);
        }
        self.approvals.validate(report);
    }
}

impl TargetGuard {
    fn validate(&self, path: &str, targets: &BTreeSet<&str>, approvals: &ApprovalSettings, report: &mut ValidationReport) {
        if self.target.trim().is_empty() {
            report.error(format!("{path}.target"), "must not be empty: name a target from `identity.targets`, or `*` for all");
        } else if self.target != "*" && !targets.contains(self.target.as_str()) {
            report.error(format!("{path}.target"), format!("`{}` is not a target: define it under `identity.targets`, fix the name, or use `*`", self.target));
        }
        let mut packs = BTreeSet::new();
        for (j, pack) in self.packs.iter().enumerate() {
            let here = format!("{path}.packs[{j}]");
            if !packs.insert(pack.pack) {
                report.error(format!("{here}.pack"), format!("`{}` is already switched on for this target: keep one entry", pack.pack));
            }
            pack.validate(&here, approvals, report);
        }
        let mut names = BTreeSet::new();
        for (k, rule) in self.rules.iter().enumerate() {
            let here = format!("{path}.rules[{k}]");
            if !rule.name.is_empty() && !names.insert(rule.name.as_str()) {
                report.error(format!("{here}.name"), format!("`{}` is used by an earlier rule of this target: names must be unique", rule.name));
            }
            rule.validate(&here, approvals, report);
        }
        if self.packs.is_empty() && self.rules.is_empty() && self.other_content.action != OtherContentAction::Block {
            report.warning(path, "has no packs and no rules: nothing is checked for this target");
        }
        if self.other_content.action == OtherContentAction::Inspect
            && (self.other_content.max_bytes == 0 || self.other_content.max_bytes > MAX_GUARD_BODY_BYTES)
        {
            report.error(format!("{path}.other_content.max_bytes"), "must be between 1 and 67108864 (64 MiB): the default 65536 reads the start of each body");
        }
        if self.other_content.action == OtherContentAction::Pass {
            report.warning(format!("{path}.other_content.action"), "is `pass`: bodies of other content types reach the target unchecked");
        }
        if self.max_body_bytes == 0 || self.max_body_bytes > MAX_GUARD_BODY_BYTES {
            report.error(format!("{path}.max_body_bytes"), "must be between 1 and 67108864 (64 MiB): the default is 8388608");
        }
        match self.on_error {
            GuardAction::Allow | GuardAction::Log => report.warning(
                format!("{path}.on_error"),
                "lets bodies the guard cannot read through unchecked: use `block` (the default) to fail closed",
            ),
            GuardAction::Hold => check_approvers(&format!("{path}.on_error"), approvals, None, report),
            GuardAction::Block => {}
        }
        check_message(&format!("{path}.error_message"), self.error_message.as_deref(), report);
    }
}

impl PackRef {
    fn validate(&self, path: &str, approvals: &ApprovalSettings, report: &mut ValidationReport) {
        check_message(&format!("{path}.message"), self.message.as_deref(), report);
        check_conditions(path, &self.only_for, &self.except_for, &self.roles, report);
        check_hold(path, self.action, self.hold.as_ref(), approvals, report);
    }
}

impl GuardRule {
    fn validate(&self, path: &str, approvals: &ApprovalSettings, report: &mut ValidationReport) {
        if self.name.trim().is_empty() {
            report.error(format!("{path}.name"), "must not be empty: verdicts and events name the rule, so make it telling");
        }
        check_message(&format!("{path}.message"), self.message.as_deref(), report);
        let has_text = self.regex.is_some() || !self.keywords.is_empty();
        let has_matcher = has_text
            || self.min_tokens.is_some()
            || self.min_bytes.is_some()
            || !self.tools.is_empty()
            || self.k8s.is_some();
        if !has_matcher {
            report.error(path, "has no matcher: give at least one of `regex`, `keywords`, `min_tokens`, `min_bytes`, `tools`, `k8s` (`min_bytes: 0` matches every request)");
        }
        if let Some(regex) = &self.regex {
            if regex.is_empty() {
                report.error(format!("{path}.regex"), "must not be empty: leave the field out instead");
            } else if regex.len() > MAX_REGEX_BYTES {
                report.error(format!("{path}.regex"), "must be at most 4096 bytes long: split it into several rules");
            }
        }
        for (i, word) in self.keywords.iter().enumerate() {
            if word.trim().is_empty() {
                report.error(format!("{path}.keywords[{i}]"), "must not be empty or only spaces");
            } else if word.len() > MAX_KEYWORD_BYTES {
                report.error(format!("{path}.keywords[{i}]"), "must be at most 256 bytes long");
            }
        }
        if self.whole_word && self.keywords.is_empty() {
            report.warning(format!("{path}.whole_word"), "has no effect without `keywords`: use `\\b` in the regex instead");
        }
        if self.case_insensitive && !has_text {
            report.warning(format!("{path}.case_insensitive"), "has no effect without `regex` or `keywords`");
        }
        if (!self.roles.is_empty() || self.latest_turn_only) && !has_text {
            report.warning(path, "limits text by role or turn but has no `regex` or `keywords`: the limit has no effect");
        }
        for (i, tool) in self.tools.iter().enumerate() {
            if tool.trim().is_empty() {
                report.error(format!("{path}.tools[{i}]"), "must not be empty: write a tool name or a glob such as `delete_*`");
            }
        }
        if let Some(k8s) = &self.k8s {
            k8s.validate(&format!("{path}.k8s"), report);
        }
        check_conditions(path, &self.only_for, &self.except_for, &self.roles, report);
        check_hold(path, self.action, self.hold.as_ref(), approvals, report);
    }
}

impl K8sMatch {
    fn validate(&self, path: &str, report: &mut ValidationReport) {
        for (i, verb) in self.verbs.iter().enumerate() {
            let glob = verb.contains(['*', '?']);
            if !glob && !K8S_VERBS.contains(&verb.as_str()) {
                report.error(format!("{path}.verbs[{i}]"), format!("`{verb}` is not a Kubernetes verb: use one of {}", K8S_VERBS.join(", ")));
            }
        }
        for (field, list) in [("resources", &self.resources), ("namespaces", &self.namespaces), ("names", &self.names)] {
            for (i, value) in list.iter().enumerate() {
                if value.trim().is_empty() {
                    report.error(format!("{path}.{field}[{i}]"), "must not be empty");
                } else if field == "resources" && value.bytes().any(|b| b.is_ascii_uppercase()) {
                    report.error(format!("{path}.{field}[{i}]"), format!("`{value}` has upper-case letters: use the plural lower-case resource name, such as `deployments`"));
                }
            }
        }
    }
}

impl ApprovalSettings {
    fn validate(&self, report: &mut ValidationReport) {
        check_groups("guard.approvals.approver_groups", &self.approver_groups, report);
        check_ttl("guard.approvals.default_ttl_secs", self.default_ttl_secs, report);
        check_quorum("guard.approvals.quorum", self.quorum, report);
        if self.on_control_plane_unreachable == Unreachable::Allow {
            report.warning("guard.approvals.on_control_plane_unreachable", "is `allow`: held requests go through unapproved whenever the control plane is down");
        }
        if self.allow_self_approval {
            report.warning("guard.approvals.allow_self_approval", "is true: callers in an approver group can release their own requests");
        }
    }
}

fn check_message(path: &str, message: Option<&str>, report: &mut ValidationReport) {
    match message {
        Some(m) if m.trim().is_empty() => report.error(path, "must not be empty: leave it out for the default message"),
        Some(m) if m.len() > 1024 => report.error(path, "must be at most 1024 bytes long"),
        _ => {}
    }
}

fn check_conditions(path: &str, only: &Audience, except: &Audience, roles: &[String], report: &mut ValidationReport) {
    for (field, audience) in [("only_for", only), ("except_for", except)] {
        for (i, subject) in audience.subjects.iter().enumerate() {
            if subject.trim().is_empty() {
                report.error(format!("{path}.{field}.subjects[{i}]"), "must not be empty");
            }
        }
        check_groups(&format!("{path}.{field}.groups"), &audience.groups, report);
    }
    for (i, role) in roles.iter().enumerate() {
        if !KNOWN_ROLES.contains(&role.as_str()) {
            report.error(format!("{path}.roles[{i}]"), format!("`{role}` is not a role: use one of {}", KNOWN_ROLES.join(", ")));
        }
    }
}

fn check_groups(path: &str, groups: &[String], report: &mut ValidationReport) {
    for (i, group) in groups.iter().enumerate() {
        if group.trim().is_empty() {
            report.error(format!("{path}[{i}]"), "must not be empty");
        }
    }
}

fn check_ttl(path: &str, ttl: u64, report: &mut ValidationReport) {
    if !(MIN_HOLD_TTL_SECS..=MAX_HOLD_TTL_SECS).contains(&ttl) {
        report.error(path, "must be between 10 and 86400 seconds: the default is 900 (15 minutes)");
    }
}

fn check_quorum(path: &str, quorum: u32, report: &mut ValidationReport) {
    if quorum == 0 || quorum > MAX_QUORUM {
        report.error(path, "must be between 1 and 10 approvals");
    }
}

fn check_approvers(path: &str, approvals: &ApprovalSettings, hold: Option<&HoldOverrides>, report: &mut ValidationReport) {
    let groups = hold.and_then(|h| h.approver_groups.as_ref()).unwrap_or(&approvals.approver_groups);
    if groups.is_empty() {
        report.error(path, "holds requests but nobody can approve them: set `guard.approvals.approver_groups`, or `hold.approver_groups` on the rule");
    }
}

fn check_hold(path: &str, action: GuardAction, hold: Option<&HoldOverrides>, approvals: &ApprovalSettings, report: &mut ValidationReport) {
    if action == GuardAction::Hold {
        check_approvers(&format!("{path}.action"), approvals, hold, report);
    } else if hold.is_some() {
        report.warning(format!("{path}.hold"), "has no effect: the action is not `hold`");
    }
    let Some(hold) = hold else { return };
    if let Some(ttl) = hold.ttl_secs {
        check_ttl(&format!("{path}.hold.ttl_secs"), ttl, report);
    }
    if let Some(quorum) = hold.quorum {
        check_quorum(&format!("{path}.hold.quorum"), quorum, report);
    }
    if let Some(groups) = &hold.approver_groups {
        check_groups(&format!("{path}.hold.approver_groups"), groups, report);
    }
    if hold.on_control_plane_unreachable == Some(Unreachable::Allow) {
        report.warning(format!("{path}.hold.on_control_plane_unreachable"), "is `allow`: this rule's holds go through unapproved whenever the control plane is down");
    }
}
