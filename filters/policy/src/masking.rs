//! Masking policy: which entities to detect and how to mask them.
//!
//! The engine that applies this policy lives in `portcullis-masking`; this
//! module only holds the document types and the checks that need no regex
//! engine. Custom regexes are compiled (and so checked) by
//! `portcullis_masking::Masker::from_policy`.
//!
//! ```
//! use portcullis_policy::masking::{MaskingPolicy, Operator};
//!
//! let policy: MaskingPolicy = serde_json::from_str(r#"{
//!     "entities": {
//!         "credit_card": {"operator": {"partial": {"keep_last": 4}}},
//!         "email": {"operator": "pseudonymize"},
//!         "phone": {"enabled": false}
//!     },
//!     "deny_lists": [{"name": "project_names", "words": ["Bluebird"], "case_insensitive": true}]
//! }"#).unwrap();
//! assert_eq!(policy.entities["email"].operator, Operator::Pseudonymize);
//! let mut report = portcullis_policy::ValidationReport::default();
//! policy.validate(&mut report, "masking");
//! assert!(report.errors.is_empty());
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::identity::SecretValue;
use crate::validation::ValidationReport;

/// Names of the built-in detectors, as used for keys of
/// [`MaskingPolicy::entities`] and in recorded counts.
pub const BUILTIN_ENTITIES: &[&str] = &[
    "credit_card",
    "iban",
    "us_ssn",
    "us_itin",
    "email",
    "phone",
    "ipv4",
    "ipv6",
    "mac_address",
    "btc_address",
    "eth_address",
    "aba_routing",
    "uk_nhs",
    "ca_sin",
    "in_aadhaar",
    "es_nif",
    "es_nie",
    "nl_bsn",
    "pl_pesel",
    "aws_access_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "stripe_key",
    "openai_key",
    "anthropic_key",
    "google_api_key",
    "private_key",
    "jwt",
    "generic_secret",
];

/// Largest accepted [`MaskingPolicy::max_body_bytes`]: 64 MiB.
pub const MAX_BODY_BYTES_LIMIT: usize = 64 << 20;

/// How detected entities are masked and which ones are looked for.
///
/// Every field has a default, so `{}` is a complete policy: all built-in
/// detectors on, each redacted to a typed placeholder such as `[EMAIL]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskingPolicy {
    /// Per built-in entity overrides, keyed by name (see [`BUILTIN_ENTITIES`]).
    /// An entity not listed here is enabled and redacted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entities: BTreeMap<String, EntityRule>,
    /// Operator for built-in entities not listed in `entities`.
    #[serde(default)]
    pub default_operator: Operator,
    /// Extra detectors given as regular expressions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<CustomPattern>,
    /// Extra detectors given as lists of literal words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_lists: Vec<DenyList>,
    /// Mask request bodies before they reach the model.
    #[serde(default = "yes")]
    pub mask_requests: bool,
    /// Mask response bodies (and streamed responses) before they reach the client.
    #[serde(default = "yes")]
    pub mask_responses: bool,
    /// Also mask JSON object keys, not only string values.
    #[serde(default)]
    pub mask_json_keys: bool,
    /// Largest body, in bytes, that is buffered and masked.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// What to do with a body larger than `max_body_bytes`.
    #[serde(default)]
    pub over_limit: OverLimit,
    /// Name of the secret holding the HMAC key for the `hash` operator. The
    /// filter resolves it; the key itself never appears in a policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_key_ref: Option<String>,
    /// The HMAC key itself, resolved from `hmac_key_ref`: filled in by the
    /// control plane in the bundles it serves to filters, never written by hand
    /// (the control plane replaces whatever a document holds here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_key: Option<SecretValue>,
}

fn yes() -> bool {
    true
}

fn default_max_body_bytes() -> usize {
    1 << 20
}

impl Default for MaskingPolicy {
    fn default() -> Self {
        MaskingPolicy {
            entities: BTreeMap::new(),
            default_operator: Operator::Redact,
            custom: Vec::new(),
            deny_lists: Vec::new(),
            mask_requests: true,
            mask_responses: true,
            mask_json_keys: false,
            max_body_bytes: default_max_body_bytes(),
            over_limit: OverLimit::Block,
            hmac_key_ref: None,
            hmac_key: None,
        }
    }
}

/// Settings for one built-in entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityRule {
    /// How to mask it; defaults to [`Operator::Redact`].
    #[serde(default)]
    pub operator: Operator,
    /// Whether to look for it at all.
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for EntityRule {
    fn default() -> Self {
        EntityRule { operator: Operator::Redact, enabled: true }
    }
}

/// A custom detector: every match of `regex` is an entity called `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// Entity name, `snake_case`, unique across built-ins and custom rules.
    pub name: String,
    /// Rust `regex` syntax. Matches must have a bounded length (use `{m,n}`
    /// rather than `+` or `*`) and must not use `^`, `$`, `\A` or `\z`, because
    /// streamed text is scanned in pieces.
    pub regex: String,
    /// How to mask matches.
    #[serde(default)]
    pub operator: Operator,
}

/// A custom detector made of literal words or phrases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenyList {
    /// Entity name, `snake_case`, unique across built-ins and custom rules.
    pub name: String,
    /// Words or phrases to mask. A word that starts (ends) with a letter or
    /// digit only matches where it is not glued to another letter or digit.
    pub words: Vec<String>,
    /// Match ASCII letters regardless of case.
    #[serde(default)]
    pub case_insensitive: bool,
    /// How to mask matches.
    #[serde(default)]
    pub operator: Operator,
}

/// How a detected value is replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Operator {
    /// Replace with a typed placeholder such as `[CREDIT_CARD]`.
    #[default]
    Redact,
    /// Mask all but the last `keep_last` characters: `**** **** **** 1111`.
    Partial {
        /// Characters (not counting separators when they are kept) left in clear at the end.
        #[serde(default = "default_keep_last")]
        keep_last: usize,
        /// Character written in place of each masked one.
        #[serde(default = "default_mask_char")]
        mask_char: char,
        /// Leave characters other than letters and digits (spaces, dashes, `@`, `.`) as they are.
        #[serde(default = "yes")]
        keep_separators: bool,
    },
    /// Replace with a keyed HMAC-SHA256 pseudonym: `[EMAIL:3f2a9c1b0d4e5f67]`.
    /// Stable for a given key, so equal values stay linkable without being revealed.
    Hash {
        /// Hex digits of the MAC shown, 4 to 64.
        #[serde(default = "default_hex_len")]
        hex_len: usize,
    },
    /// Replace with a numbered placeholder such as `[EMAIL_1]` that is turned
    /// back into the original in the response of the same exchange.
    Pseudonymize,
}

fn default_keep_last() -> usize {
    4
}

fn default_mask_char() -> char {
    '*'
}

fn default_hex_len() -> usize {
    16
}

/// What the filter does with a body larger than [`MaskingPolicy::max_body_bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OverLimit {
    /// Refuse the request or response (fail closed).
    #[default]
    Block,
    /// Let it through without masking.
    PassUnmasked,
}

impl Operator {
    /// Checks the operator's parameters, reporting under `path`.
    pub fn validate(&self, report: &mut ValidationReport, path: &str) {
        match self {
            Operator::Redact | Operator::Pseudonymize => {}
            Operator::Partial { keep_last, mask_char, .. } => {
                if *keep_last > 64 {
                    report.error(format!("{path}.partial.keep_last"), "must be at most 64");
                }
                if mask_char.is_alphanumeric() {
                    report.warning(
                        format!("{path}.partial.mask_char"),
                        "is a letter or digit: masked values may look like real ones",
                    );
                }
                if mask_char.is_control() {
                    report.error(format!("{path}.partial.mask_char"), "must not be a control character");
                }
            }
            Operator::Hash { hex_len } => {
                if !(4..=64).contains(hex_len) {
                    report.error(format!("{path}.hash.hex_len"), "must be between 4 and 64");
                }
            }
        }
    }

    fn is_hash(&self) -> bool {
        matches!(self, Operator::Hash { .. })
    }
}

fn valid_entity_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
}

impl MaskingPolicy {
    /// Checks the document and records every problem found under `path`
    /// (for example `masking`), without stopping at the first.
    ///
    /// Regex syntax is not checked here: `portcullis_masking::Masker::from_policy`
    /// compiles the patterns and reports those problems with the same paths.
    pub fn validate(&self, report: &mut ValidationReport, path: &str) {
        let mut uses_hash = self.default_operator.is_hash();
        self.default_operator.validate(report, &format!("{path}.default_operator"));
        for (name, rule) in &self.entities {
            let here = format!("{path}.entities.{name}");
            if !BUILTIN_ENTITIES.contains(&name.as_str()) {
                report.error(
                    here.clone(),
                    format!("unknown entity; built-in entities are: {}", BUILTIN_ENTITIES.join(", ")),
                );
            }
            rule.operator.validate(report, &format!("{here}.operator"));
            uses_hash |= rule.enabled && rule.operator.is_hash();
        }
        let mut names: BTreeSet<&str> = BUILTIN_ENTITIES.iter().copied().collect();
        for (i, custom) in self.custom.iter().enumerate() {
            let here = format!("{path}.custom[{i}]");
            check_name(report, &here, &custom.name, &mut names);
            if custom.regex.trim().is_empty() {
                report.error(format!("{here}.regex"), "must not be empty");
            }
            custom.operator.validate(report, &format!("{here}.operator"));
            uses_hash |= custom.operator.is_hash();
        }
        for (i, list) in self.deny_lists.iter().enumerate() {
            let here = format!("{path}.deny_lists[{i}]");
            check_name(report, &here, &list.name, &mut names);
            if list.words.is_empty() {
                report.warning(format!("{here}.words"), "is empty: this list masks nothing");
            }
            for (j, word) in list.words.iter().enumerate() {
                if word.trim().is_empty() {
                    report.error(format!("{here}.words[{j}]"), "must not be empty or only spaces");
                } else if word.len() > 256 {
                    report.error(format!("{here}.words[{j}]"), "must be at most 256 bytes long");
                }
            }
            list.operator.validate(report, &format!("{here}.operator"));
            uses_hash |= list.operator.is_hash();
        }
        if self.max_body_bytes == 0 {
            report.error(format!("{path}.max_body_bytes"), "must be greater than 0");
        } else if self.max_body_bytes > MAX_BODY_BYTES_LIMIT {
            report.error(format!("{path}.max_body_bytes"), "must be at most 67108864 (64 MiB)");
        }
        if self.over_limit == OverLimit::PassUnmasked {
            report.warning(
                format!("{path}.over_limit"),
                "is pass_unmasked: bodies over max_body_bytes reach their destination unmasked",
            );
        }
        match &self.hmac_key_ref {
            Some(key) if key.trim().is_empty() => {
                report.error(format!("{path}.hmac_key_ref"), "must not be empty");
            }
            None if uses_hash => {
                report.error(
                    format!("{path}.hmac_key_ref"),
                    "is required because an operator is `hash`: name the secret holding the HMAC key",
                );
            }
            _ => {}
        }
    }
}

fn check_name<'a>(report: &mut ValidationReport, here: &str, name: &'a str, names: &mut BTreeSet<&'a str>) {
    if !valid_entity_name(name) {
        report.error(
            format!("{here}.name"),
            "must be snake_case: a lowercase letter, then lowercase letters, digits or `_`, at most 64",
        );
    } else if !names.insert(name) {
        report.error(format!("{here}.name"), format!("`{name}` is already used by another entity"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str) -> ValidationReport {
        let policy: MaskingPolicy = serde_json::from_str(json).unwrap();
        let mut report = ValidationReport::default();
        policy.validate(&mut report, "masking");
        report
    }

    #[test]
    fn empty_document_is_the_default() {
        let policy: MaskingPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(policy, MaskingPolicy::default());
        assert!(check("{}").errors.is_empty());
    }

    #[test]
    fn operators_parse() {
        let policy: MaskingPolicy = serde_json::from_str(
            r##"{"entities":{
                "credit_card":{"operator":{"partial":{"keep_last":4,"mask_char":"#"}}},
                "email":{"operator":{"hash":{}}},
                "phone":{"operator":"pseudonymize","enabled":false}},
              "hmac_key_ref":"masking-key"}"##,
        )
        .unwrap();
        assert_eq!(
            policy.entities["credit_card"].operator,
            Operator::Partial { keep_last: 4, mask_char: '#', keep_separators: true }
        );
        assert_eq!(policy.entities["email"].operator, Operator::Hash { hex_len: 16 });
        assert!(!policy.entities["phone"].enabled);
    }

    #[test]
    fn every_problem_is_reported() {
        let report = check(
            r#"{"entities":{"credit_crad":{},"email":{"operator":{"hash":{"hex_len":2}}}},
               "custom":[{"name":"Bad Name","regex":""},{"name":"email","regex":"x"}],
               "deny_lists":[{"name":"words","words":[" "]}],
               "max_body_bytes":0}"#,
        );
        let paths: Vec<&str> = report.errors.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "masking.entities.credit_crad",
                "masking.entities.email.operator.hash.hex_len",
                "masking.custom[0].name",
                "masking.custom[0].regex",
                "masking.custom[1].name",
                "masking.deny_lists[0].words[0]",
                "masking.max_body_bytes",
                "masking.hmac_key_ref",
            ]
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(serde_json::from_str::<MaskingPolicy>(r#"{"entitys":{}}"#).is_err());
        assert!(serde_json::from_str::<MaskingPolicy>(r#"{"entities":{"email":{"operator":{"partial":{"keep":4}}}}}"#)
            .is_err());
    }
}
