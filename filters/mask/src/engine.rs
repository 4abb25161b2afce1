//! The masking engine of one policy version: compiled once per bundle, shared
//! by every exchange of the VM.

use std::sync::Arc;

use portcullis_masking::Masker;
use portcullis_policy::masking::{MaskingPolicy, Operator, OverLimit};
use portcullis_policy::ErrorBody;

/// What the filter does, compiled from the `masking` section of a policy.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The compiled detectors and operators.
    pub masker: Arc<Masker>,
    /// Mask request bodies (prompts) before they reach the model.
    pub mask_requests: bool,
    /// Mask response bodies before they reach the caller.
    pub mask_responses: bool,
    /// Largest body buffered and masked; for SSE, the largest single event.
    pub max_body_bytes: usize,
    /// What to do past `max_body_bytes`.
    pub over_limit: OverLimit,
}

/// Why the masking section of a policy cannot be enforced. Every request is
/// refused while it is in force (fail closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// An operator is `hash` and the bundle carries no HMAC key (the secret
    /// named by `hmac_key_ref` could not be resolved by the control plane).
    MissingKey {
        /// The secret's name, when the policy names one.
        secret: Option<String>,
    },
    /// The policy does not compile (a custom regex the engine refuses...).
    Unusable {
        /// Every problem, with its path.
        problems: String,
    },
}

impl EngineError {
    /// HTTP status of the refusal.
    pub fn status(&self) -> u32 {
        503
    }

    /// OpenAI-style JSON body of the refusal.
    pub fn body_json(&self) -> String {
        match self {
            EngineError::MissingKey { secret } => {
                let named = secret.as_deref().map(|s| format!(" (secret `{s}`)")).unwrap_or_default();
                ErrorBody::new(
                    "policy_unavailable",
                    "portcullis_masking_key_missing",
                    format!(
                        "the masking policy uses the `hash` operator but its HMAC key{named} is missing, so Portcullis refuses requests rather than pass them unmasked (fail closed): make the secret available to the control plane"
                    ),
                )
                .to_json()
            }
            EngineError::Unusable { .. } => ErrorBody::new(
                "policy_unavailable",
                "portcullis_masking_policy_unusable",
                "the masking section of the policy in force could not be loaded, so requests are refused (fail closed); the gateway log says why",
            )
            .to_json(),
        }
    }
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::MissingKey { secret: Some(s) } => {
                write!(f, "an operator is `hash` but the HMAC key (secret `{s}`) is not in the bundle")
            }
            EngineError::MissingKey { secret: None } => write!(f, "an operator is `hash` but no HMAC key is configured"),
            EngineError::Unusable { problems } => write!(f, "{problems}"),
        }
    }
}

/// Whether any enabled rule of `policy` uses the `hash` operator.
fn uses_hash(policy: &MaskingPolicy) -> bool {
    let is_hash = |op: &Operator| matches!(op, Operator::Hash { .. });
    let builtin = portcullis_policy::masking::BUILTIN_ENTITIES.iter().any(|name| match policy.entities.get(*name) {
        Some(rule) => rule.enabled && is_hash(&rule.operator),
        None => is_hash(&policy.default_operator),
    });
    builtin || policy.custom.iter().any(|c| is_hash(&c.operator)) || policy.deny_lists.iter().any(|d| is_hash(&d.operator))
}

impl Engine {
    /// Compiles `policy`, with the HMAC key the control plane put into the bundle.
    pub fn new(policy: &MaskingPolicy) -> Result<Engine, EngineError> {
        let key = policy.hmac_key.as_ref().map(|k| k.expose().as_bytes()).filter(|k| !k.is_empty());
        let active = policy.mask_requests || policy.mask_responses;
        if active && key.is_none() && uses_hash(policy) {
            return Err(EngineError::MissingKey { secret: policy.hmac_key_ref.clone() });
        }
        let masker = if active {
            Masker::from_policy(policy, key).map_err(|problems| EngineError::Unusable {
                problems: problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect::<Vec<_>>().join("; "),
            })?
        } else {
            // Never used: the filter passes everything through.
            Masker::new()
        };
        Ok(Engine {
            masker: Arc::new(masker),
            mask_requests: policy.mask_requests,
            mask_responses: policy.mask_responses,
            max_body_bytes: policy.max_body_bytes,
            over_limit: policy.over_limit,
        })
    }

    /// Whether the filter has anything to do at all.
    pub fn is_active(&self) -> bool {
        self.mask_requests || self.mask_responses
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_policy::identity::SecretValue;

    fn policy(json: &str) -> MaskingPolicy {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn default_policy_masks_both_ways() {
        let engine = Engine::new(&MaskingPolicy::default()).unwrap();
        assert!(engine.mask_requests && engine.mask_responses && engine.is_active());
        assert_eq!(engine.max_body_bytes, 1 << 20);
        assert_eq!(engine.masker.mask("mail jane@example.com").text, "mail [EMAIL]");
    }

    #[test]
    fn hash_without_key_fails_closed_with_503_naming_the_secret() {
        let p = policy(r#"{"entities":{"email":{"operator":{"hash":{}}}},"hmac_key_ref":"mask-key"}"#);
        let err = Engine::new(&p).unwrap_err();
        assert_eq!(err, EngineError::MissingKey { secret: Some("mask-key".into()) });
        assert_eq!(err.status(), 503);
        let body: serde_json::Value = serde_json::from_str(&err.body_json()).unwrap();
        assert_eq!(body["error"]["code"], "portcullis_masking_key_missing");
        assert!(body["error"]["message"].as_str().unwrap().contains("mask-key"));

        let default_hash = policy(r#"{"default_operator":{"hash":{}},"hmac_key_ref":"k"}"#);
        assert!(matches!(Engine::new(&default_hash), Err(EngineError::MissingKey { .. })));
        // A disabled entity that would hash needs no key.
        let disabled = policy(r#"{"entities":{"email":{"operator":{"hash":{}},"enabled":false}}}"#);
        assert!(Engine::new(&disabled).is_ok());
    }

    #[test]
    fn hash_with_the_bundle_key_works_and_never_shows_the_key() {
        let mut p = policy(r#"{"entities":{"email":{"operator":{"hash":{"hex_len":8}}}},"hmac_key_ref":"mask-key"}"#);
        p.hmac_key = Some(SecretValue::new("super-secret-hmac-key"));
        let engine = Engine::new(&p).unwrap();
        let text = engine.masker.mask("jane@example.com").text;
        assert!(text.starts_with("[EMAIL:") && text.len() == "[EMAIL:12345678]".len(), "{text}");
        assert!(!format!("{engine:?}").contains("super-secret"));
    }

    #[test]
    fn a_policy_that_does_not_compile_is_unusable() {
        let p = policy(r#"{"custom":[{"name":"unbounded","regex":"a+"}]}"#);
        match Engine::new(&p) {
            Err(EngineError::Unusable { problems }) => assert!(problems.contains("masking.custom[0].regex"), "{problems}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nothing_to_do_when_both_directions_are_off() {
        let p = policy(r#"{"mask_requests":false,"mask_responses":false,"entities":{"email":{"operator":{"hash":{}}}},"hmac_key_ref":"k"}"#);
        assert!(!Engine::new(&p).unwrap().is_active());
    }
}
