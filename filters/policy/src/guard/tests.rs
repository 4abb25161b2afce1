use super::*;
use crate::identity::IdentityPolicy;
use crate::validation::ValidationReport;

fn identity() -> IdentityPolicy {
    serde_json::from_value(serde_json::json!({
        "targets": [{"name": "openai", "hosts": ["api.openai.com"]}, {"name": "k8s", "hosts": ["k8s.local"]}]
    }))
    .unwrap()
}

fn check(json: serde_json::Value) -> ValidationReport {
    let policy: GuardPolicy = serde_json::from_value(json).unwrap();
    let mut report = ValidationReport::default();
    policy.validate(&identity(), &mut report);
    report
}

fn paths(problems: &[crate::Problem]) -> Vec<&str> {
    problems.iter().map(|p| p.path.as_str()).collect()
}

#[test]
fn empty_section_is_the_default_and_valid() {
    let policy: GuardPolicy = serde_json::from_str("{}").unwrap();
    assert_eq!(policy, GuardPolicy::default());
    let report = check(serde_json::json!({}));
    assert!(report.errors.is_empty() && report.warnings.is_empty(), "{report}");
}

#[test]
fn full_document_parses_with_defaults() {
    let policy: GuardPolicy = serde_json::from_value(serde_json::json!({
        "approvals": {"approver_groups": ["sre"]},
        "targets": [{
            "target": "k8s",
            "format": "kubernetes",
            "packs": [{"pack": "destructive_k8s", "action": "hold", "hold": {"quorum": 2}}],
            "rules": [{"name": "big", "min_tokens": 100000, "action": "log"}]
        }]
    }))
    .unwrap();
    let target = &policy.targets[0];
    assert_eq!(target.format, FormatHint::Kubernetes);
    assert_eq!(target.on_error, GuardAction::Block);
    assert_eq!(target.max_body_bytes, 8 << 20);
    assert_eq!(target.other_content, OtherContent::default());
    let hold = policy.approvals.resolve(target.packs[0].hold.as_ref());
    assert_eq!(hold.quorum, 2);
    assert_eq!(hold.ttl_secs, 900);
    assert_eq!(hold.approver_groups, ["sre"]);
    assert!(hold.require_reason);
    assert_eq!(hold.on_control_plane_unreachable, Unreachable::Deny);
}

#[test]
fn actions_order_from_allow_to_block() {
    assert!(GuardAction::Allow < GuardAction::Log);
    assert!(GuardAction::Log < GuardAction::Hold);
    assert!(GuardAction::Hold < GuardAction::Block);
    let names: Vec<&str> = PackName::ALL.iter().map(|p| p.name()).collect();
    let json: Vec<String> = PackName::ALL.iter().map(|p| serde_json::to_value(p).unwrap().as_str().unwrap().to_owned()).collect();
    assert_eq!(names, json);
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let report = check(serde_json::json!({
        "approvals": {"quorum": 0, "default_ttl_secs": 5},
        "targets": [
            {"target": "nope", "packs": [
                {"pack": "destructive_sql", "action": "hold"},
                {"pack": "destructive_sql", "action": "log", "message": " "}
            ]},
            {"target": "openai", "rules": [
                {"name": "r", "action": "block"},
                {"name": "r", "action": "block", "regex": "", "keywords": [""], "roles": ["admin"]},
                {"name": "", "action": "log", "k8s": {"verbs": ["destroy"], "resources": ["Deployments"]}},
                {"name": "h", "action": "hold", "tools": ["x"], "hold": {"approver_groups": [], "quorum": 11, "ttl_secs": 999999}}
            ], "max_body_bytes": 0},
            {"target": "openai", "packs": [{"pack": "prompt_injection", "action": "log"}]}
        ]
    }));
    assert_eq!(
        paths(&report.errors),
        [
            "guard.targets[0].target",
            "guard.targets[0].packs[0].action",
            "guard.targets[0].packs[1].pack",
            "guard.targets[0].packs[1].message",
            "guard.targets[1].rules[0]",
            "guard.targets[1].rules[1].name",
            "guard.targets[1].rules[1].regex",
            "guard.targets[1].rules[1].keywords[0]",
            "guard.targets[1].rules[1].roles[0]",
            "guard.targets[1].rules[2].name",
            "guard.targets[1].rules[2].k8s.verbs[0]",
            "guard.targets[1].rules[2].k8s.resources[0]",
            "guard.targets[1].rules[3].action",
            "guard.targets[1].rules[3].hold.ttl_secs",
            "guard.targets[1].rules[3].hold.quorum",
            "guard.targets[1].max_body_bytes",
            "guard.targets[2].target",
            "guard.approvals.default_ttl_secs",
            "guard.approvals.quorum",
        ],
        "{report}"
    );
    assert!(report.errors[0].message.contains("identity.targets"));
}

#[test]
fn risky_settings_are_warnings() {
    let report = check(serde_json::json!({
        "approvals": {"approver_groups": ["sre"], "on_control_plane_unreachable": "allow"},
        "targets": [
            {"target": "*", "on_error": "log", "other_content": {"action": "pass"},
             "rules": [{"name": "n", "action": "log", "min_bytes": 0, "whole_word": true, "hold": {"quorum": 2}}]},
            {"target": "k8s"}
        ]
    }));
    assert!(report.errors.is_empty(), "{report}");
    assert_eq!(
        paths(&report.warnings),
        [
            "guard.targets[0].rules[0].whole_word",
            "guard.targets[0].rules[0].hold",
            "guard.targets[0].other_content.action",
            "guard.targets[0].on_error",
            "guard.targets[1]",
            "guard.approvals.on_control_plane_unreachable",
        ]
    );
}

#[test]
fn rule_approvers_replace_missing_global_ones() {
    let report = check(serde_json::json!({
        "targets": [{"target": "*", "packs": [
            {"pack": "destructive_shell", "action": "hold", "hold": {"approver_groups": ["sre"]}}
        ]}]
    }));
    assert!(report.errors.is_empty(), "{report}");
}

#[test]
fn unknown_fields_and_values_are_rejected() {
    for bad in [
        r#"{"targts": []}"#,
        r#"{"targets": [{"target": "*", "packs": [{"pack": "drop_tables", "action": "block"}]}]}"#,
        r#"{"targets": [{"target": "*", "packs": [{"pack": "destructive_sql"}]}]}"#,
        r#"{"targets": [{"target": "*", "rules": [{"name": "x", "action": "deny", "min_bytes": 1}]}]}"#,
        r#"{"targets": [{"target": "*", "rules": [{"name": "x", "action": "log", "regexp": "a"}]}]}"#,
        r#"{"approvals": {"ttl": 5}}"#,
    ] {
        assert!(serde_json::from_str::<GuardPolicy>(bad).is_err(), "{bad}");
    }
}
