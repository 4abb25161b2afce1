//! Reading and validating policy documents.

use std::path::Path;

use anyhow::Context as _;
use portcullis_policy::{Policy, Problem, ValidationReport};

/// A policy that passed validation, with the warnings it raised.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The policy.
    pub policy: Policy,
    /// Problems that do not block it.
    pub warnings: Vec<Problem>,
}

/// Parses a YAML (or JSON) policy document and validates it.
///
/// A syntax or type error is reported with the path of the field at fault;
/// validation reports every problem at once.
pub fn parse(text: &str) -> Result<Checked, ValidationReport> {
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    let policy: Policy = match serde_path_to_error::deserialize(deserializer) {
        Ok(policy) => policy,
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { "(document)".to_owned() } else { path };
            let mut report = ValidationReport::default();
            report.error(path, e.into_inner().to_string());
            return Err(report);
        }
    };
    match policy.validate() {
        Ok(report) => Ok(Checked { policy, warnings: report.warnings }),
        Err(report) => Err(report),
    }
}

/// Reads and validates the policy file at `path`; prints warnings to stderr.
pub fn load(path: &Path) -> anyhow::Result<Policy> {
    let text = std::fs::read_to_string(path).with_context(|| format!("could not read policy file {}", path.display()))?;
    match parse(&text) {
        Ok(checked) => {
            for warning in &checked.warnings {
                eprintln!("{}: warning: {warning}", path.display());
            }
            Ok(checked.policy)
        }
        Err(report) => {
            let count = report.errors.len();
            anyhow::bail!("{} is not a valid policy ({count} error(s)):\n{report}", path.display())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_yaml_parses() {
        let checked = parse("name: demo\ndescription: for tests\n").unwrap();
        assert_eq!(checked.policy.name, "demo");
        assert!(checked.warnings.is_empty());
    }

    #[test]
    fn type_error_names_the_field() {
        let report = parse("name: [1, 2]\n").unwrap_err();
        assert_eq!(report.errors[0].path, "name");
    }

    #[test]
    fn unknown_field_is_reported() {
        let report = parse("name: demo\ndescripton: typo\n").unwrap_err();
        assert!(report.errors[0].message.contains("descripton"), "{report}");
    }

    #[test]
    fn validation_errors_are_reported() {
        let report = parse("name: ''\n").unwrap_err();
        assert_eq!(report.errors[0].path, "name");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse("\u{0}\u{1}: : :").is_err());
        assert!(parse("").is_err());
    }
}
