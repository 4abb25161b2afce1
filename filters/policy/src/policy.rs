//! The policy document operators write.

use serde::{Deserialize, Serialize};

use crate::guard::GuardPolicy;
use crate::identity::IdentityPolicy;
use crate::masking::MaskingPolicy;
use crate::validation::ValidationReport;

/// One complete policy document.
///
/// Unknown fields are rejected so that a typo in a field name is an error the
/// operator sees, not a rule that silently does nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Short name of the policy, shown in logs and in the control-plane API.
    pub name: String,
    /// Free text for humans: what this policy is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Who may call, how they prove it, what they may reach, and which
    /// credentials the gateway injects upstream.
    #[serde(default)]
    pub identity: IdentityPolicy,
    /// What the gateway masks in responses (and, where asked, in prompts).
    #[serde(default)]
    pub masking: MaskingPolicy,
    /// Which risky requests (destructive commands, prompt injection, secret exfiltration...)
    /// are logged, blocked or held for human approval, per target.
    #[serde(default)]
    pub guard: GuardPolicy,
}

impl Policy {
    /// A policy with only a name: no identity section and default masking.
    pub fn named(name: impl Into<String>) -> Self {
        Self { name: name.into(), description: String::new(), identity: IdentityPolicy::default(), masking: MaskingPolicy::default(), guard: GuardPolicy::default() }
    }

    /// Checks the document and collects every problem, not just the first.
    ///
    /// Returns `Err` with the full report when there is at least one error;
    /// warnings alone still yield `Ok`.
    pub fn validate(&self) -> Result<ValidationReport, ValidationReport> {
        let mut report = ValidationReport::default();
        if self.name.trim().is_empty() {
            report.error("name", "must not be empty: give the policy a short name such as `production`");
        } else if self.name.len() > 128 {
            report.error("name", "must be at most 128 characters long");
        }
        if self.description.is_empty() {
            report.warning("description", "is empty: say what this policy is for");
        }
        self.identity.validate(&mut report);
        self.masking.validate(&mut report, "masking");
        self.guard.validate(&self.identity, &mut report);
        report.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Policy, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn minimal_policy_is_valid_with_a_warning() {
        let report = parse(r#"{"name":"demo"}"#).unwrap().validate().unwrap();
        assert!(report.errors.is_empty());
        assert_eq!(report.warnings.len(), 1);
        assert_eq!(report.warnings[0].path, "description");
    }

    #[test]
    fn empty_name_is_an_error() {
        let report = parse(r#"{"name":"  ","description":"x"}"#).unwrap().validate().unwrap_err();
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].path, "name");
    }

    #[test]
    fn overlong_name_is_an_error() {
        let policy = Policy { name: "x".repeat(129), ..Policy::named("d") };
        assert!(policy.validate().is_err());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = parse(r#"{"name":"demo","nmae":"typo"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `nmae`"), "{err}");
    }
}
