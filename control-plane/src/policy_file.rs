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
///
/// Choices such as token sources may be written as one-key maps
/// (`- header: {name: x-api-key}`, as the documentation shows) or as YAML tags
/// (`- !header {name: x-api-key}`); anchors and `<<` merge keys work.
pub fn parse(text: &str) -> Result<Checked, ValidationReport> {
    let mut yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| report_one("(document)", e.to_string()))?;
    yaml.apply_merge().map_err(|e| report_one("(document)", e.to_string()))?;
    let json = yaml_to_json(yaml, &mut Vec::new()).map_err(|(path, message)| report_one(&path, message))?;
    check(serde_path_to_error::deserialize(json).map_err(syntax_error)?)
}

/// Parses a JSON policy document and validates it, like [`parse`].
pub fn parse_json(text: &str) -> Result<Checked, ValidationReport> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let policy: Policy = serde_path_to_error::deserialize(&mut deserializer).map_err(syntax_error)?;
    deserializer.end().map_err(|e| report_one("(document)", e.to_string()))?;
    check(policy)
}

/// Validates a parsed policy: [`Policy::validate`], plus what the control plane
/// itself requires of documents it stores.
pub fn check(policy: Policy) -> Result<Checked, ValidationReport> {
    let mut report = match policy.validate() {
        Ok(report) | Err(report) => report,
    };
    check_secrets(&policy, &mut report);
    let report = report.into_result()?;
    Ok(Checked { policy, warnings: report.warnings })
}

/// Documents are stored and shown as written, so they must name secrets, not hold them.
fn check_secrets(policy: &Policy, report: &mut ValidationReport) {
    for (i, target) in policy.identity.targets.iter().enumerate() {
        if target.credential.as_ref().is_some_and(|c| c.value.is_some()) {
            report.error(
                format!("identity.targets[{i}].credential.value"),
                "must not be written: name the secret with `secret_ref`, and the control plane fills the value into the bundles it serves",
            );
        }
    }
    for (i, provider) in policy.identity.providers.iter().enumerate() {
        for (j, key) in provider.jwks.iter().flat_map(|jwks| jwks.keys.iter()).enumerate() {
            if key.k.is_none() {
                continue;
            }
            let path = format!("identity.providers[{i}].jwks.keys[{j}].k");
            if key.secret_ref.is_some() {
                report.warning(path, "is ignored: the key comes from `secret_ref`; remove `k`");
            } else {
                report.warning(path, "is a shared secret written into the document, which is stored and shown by the admin API: prefer `secret_ref`");
            }
        }
    }
}

fn syntax_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> ValidationReport {
    let path = e.path().to_string();
    let path = if path == "." { "(document)".to_owned() } else { path };
    report_one(&path, e.into_inner().to_string())
}

/// The same document as JSON; a YAML tag becomes a one-key map, as serde expects of
/// enums in JSON.
fn yaml_to_json(yaml: serde_yaml_ng::Value, path: &mut Vec<String>) -> Result<serde_json::Value, (String, String)> {
    use serde_json::Value as Json;
    use serde_yaml_ng::Value as Yaml;
    let at = |path: &[String]| if path.is_empty() { "(document)".to_owned() } else { path.join(".") };
    Ok(match yaml {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(b),
        Yaml::Number(n) => {
            if let Some(u) = n.as_u64() {
                Json::from(u)
            } else if let Some(i) = n.as_i64() {
                Json::from(i)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f).map(Json::Number).ok_or_else(|| (at(path), format!("`{n}` is not a usable number")))?
            }
        }
        Yaml::String(s) => Json::String(s),
        Yaml::Sequence(items) => {
            let mut array = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let last = path.pop();
                path.push(format!("{}[{i}]", last.as_deref().unwrap_or("")));
                array.push(yaml_to_json(item, path)?);
                path.pop();
                path.extend(last);
            }
            Json::Array(array)
        }
        Yaml::Mapping(mapping) => {
            let mut object = serde_json::Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Yaml::String(s) => s,
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    _ => return Err((at(path), "keys must be plain text, not lists or maps".to_owned())),
                };
                path.push(key.clone());
                let value = yaml_to_json(value, path)?;
                path.pop();
                object.insert(key, value);
            }
            Json::Object(object)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string().trim_start_matches('!').to_owned();
            path.push(tag.clone());
            let value = yaml_to_json(tagged.value, path)?;
            path.pop();
            Json::Object(serde_json::Map::from_iter([(tag, value)]))
        }
    })
}

fn report_one(path: &str, message: String) -> ValidationReport {
    let mut report = ValidationReport::default();
    report.error(path, message);
    report
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
    fn choices_parse_as_one_key_maps_or_tags() {
        let text = "name: x\ndescription: d\nidentity:\n  api_key_sources:\n    - header: {name: x-api-key}\n    - !query\n      name: k\n    - cookie: {name: c}\n";
        let sources = parse(text).unwrap().policy.identity.api_key_sources;
        assert_eq!(sources.len(), 3);
        assert_eq!(serde_json::to_value(&sources).unwrap()[1], serde_json::json!({"query": {"name": "k"}}));
    }

    #[test]
    fn anchors_and_merge_keys_work() {
        let text = "name: x\ndescription: d\nidentity:\n  targets:\n    - &base {name: a, hosts: [a.example]}\n    - <<: *base\n      name: b\n";
        let targets = parse(text).unwrap().policy.identity.targets;
        assert_eq!((targets[1].name.as_str(), targets[1].hosts[0].as_str()), ("b", "a.example"));
    }

    #[test]
    fn deep_type_errors_name_the_field() {
        let report = parse("name: x\nidentity:\n  targets:\n    - name: t\n      hosts: [a.example]\n      methods: {a: 1}\n").unwrap_err();
        assert_eq!(report.errors[0].path, "identity.targets[0].methods", "{report}");
    }

    #[test]
    fn json_parses_and_reports_paths() {
        assert_eq!(parse_json(r#"{"name": "demo", "description": "d"}"#).unwrap().policy.name, "demo");
        let report = parse_json(r#"{"name": "demo", "identity": {"targets": 3}}"#).unwrap_err();
        assert_eq!(report.errors[0].path, "identity.targets");
        assert!(parse_json(r#"{"name": "demo"} trailing"#).is_err());
    }

    #[test]
    fn written_secrets_are_refused_or_flagged() {
        let report = parse(
            "name: demo\ndescription: d\nidentity:\n  targets:\n    - name: t\n      hosts: [a.example]\n      credential: { secret_ref: s, value: oops }\n",
        )
        .unwrap_err();
        assert!(report.errors.iter().any(|p| p.path == "identity.targets[0].credential.value"), "{report}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse("\u{0}\u{1}: : :").is_err());
        assert!(parse("").is_err());
    }
}
