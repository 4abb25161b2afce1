//! API keys, targets, access rules, header plans and their responses.

mod common;

use common::*;
use portcullis_identity::{AuthErrorCode, AuthMethod, Authenticator, Identity, RequestParts};
use portcullis_policy::identity::{hash_api_key, IdentityPolicy, SecretValue};
use serde_json::json;

const OPENAI_KEY: &str = "sk-upstream-secret-value";

/// A policy with targets, rules and API keys; providers from `common`.
fn access_policy() -> IdentityPolicy {
    let mut policy: IdentityPolicy = serde_json::from_value(json!({
        "providers": [],
        "api_keys": [
            {"id": "ci", "hash": hash_api_key("key-ci"), "subject": "svc:ci", "groups": ["ci"]},
            {"id": "old", "hash": hash_api_key("key-old"), "subject": "svc:old", "groups": ["ml"], "expires_at": NOW},
            {"id": "scoped", "hash": hash_api_key("key-scoped"), "subject": "svc:scoped", "groups": ["ml"], "targets": ["internal"]}
        ],
        "targets": [
            {"name": "openai", "hosts": ["api.openai.com"], "path_prefix": "/v1",
             "credential": {"header": "authorization", "prefix": "Bearer ", "secret_ref": "openai"},
             "strip_headers": ["x-debug", "OpenAI-Organization"]},
            {"name": "openai-files", "hosts": ["api.openai.com"], "path_prefix": "/v1/files", "methods": ["GET"]},
            {"name": "internal", "hosts": ["*.models.internal"], "credential": {"secret_ref": "missing"}}
        ],
        "rules": [
            {"name": "no-ci-on-files", "groups": ["ci"], "targets": ["openai-files"], "effect": "deny"},
            {"name": "ml-gpt4o", "groups": ["ml"], "targets": ["openai"], "models": ["gpt-4o*"], "effect": "allow"},
            {"name": "ci-mini", "groups": ["ci"], "models": ["gpt-4o-mini"], "methods": ["POST"], "paths": ["/v1/chat"], "effect": "allow"},
            {"name": "tenant-acme", "claims": {"tenant": "acme"}, "targets": ["openai-files"], "effect": "allow"},
            {"name": "bob-anything", "subjects": ["bob", "svc:*"], "targets": ["internal"], "effect": "allow"}
        ]
    }))
    .unwrap();
    policy.targets[0].credential.as_mut().unwrap().value = Some(SecretValue::new(OPENAI_KEY));
    policy
}

fn identity(subject: &str, groups: &[&str]) -> Identity {
    Identity {
        subject: subject.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        client_id: None,
        provider: "test-idp".into(),
        method: AuthMethod::Jwt,
        claims: Default::default(),
        expires_at: None,
        targets: vec![],
        credential_header: Some("authorization".into()),
    }
}

#[test]
fn the_body_is_read_only_for_targets_with_model_rules() {
    let auth = Authenticator::new(&access_policy()).unwrap();
    // `ml-gpt4o` names models for `openai`; `ci-mini` names models for any target.
    assert!(auth.needs_model(auth.target("openai").unwrap()));
    assert!(auth.needs_model(auth.target("internal").unwrap()));
    let mut no_models = access_policy();
    no_models.rules.retain(|rule| rule.models.is_empty());
    let auth = Authenticator::new(&no_models).unwrap();
    assert!(!auth.needs_model(auth.target("openai").unwrap()));
}

#[test]
fn targets_match_by_host_path_and_method() {
    let auth = Authenticator::new(&access_policy()).unwrap();
    let name = |host: &str, path: &str, method: &str| auth.match_target(host, path, method).map(|t| t.name.clone());
    assert_eq!(name("api.openai.com", "/v1/chat/completions", "POST").as_deref(), Some("openai"));
    assert_eq!(name("API.OPENAI.COM:443", "/v1/files/abc?x=1", "GET").as_deref(), Some("openai-files"));
    assert_eq!(name("api.openai.com", "/v1/files", "POST").as_deref(), Some("openai"), "method-limited target skipped");
    assert_eq!(name("api.openai.com", "/v10/chat", "POST"), None);
    assert_eq!(name("llama.models.internal", "/anything", "PUT").as_deref(), Some("internal"));
    assert_eq!(name("models.internal", "/", "GET"), None);
    assert_eq!(name("evil.com", "/v1/chat", "POST"), None);
}

#[test]
fn rules_decide_per_group_model_target_and_claim() {
    let auth = Authenticator::new(&access_policy()).unwrap();
    let openai = auth.target("openai");
    let files = auth.target("openai-files");
    let internal = auth.target("internal");
    let ml = identity("alice", &["ml"]);
    let ci = identity("svc:ci", &["ci"]);
    let nobody = identity("carol", &[]);
    let chat = "/v1/chat/completions";
    let cases = [
        ("ml may use gpt-4o", &ml, openai, "POST", chat, Some("gpt-4o"), Ok("ml-gpt4o")),
        ("ml may use gpt-4o-mini", &ml, openai, "POST", chat, Some("gpt-4o-mini"), Ok("ml-gpt4o")),
        ("ml may not use o1", &ml, openai, "POST", chat, Some("o1"), Err(None)),
        ("a model rule needs a model", &ml, openai, "POST", chat, None, Err(None)),
        ("ci may use mini by POST on chat", &ci, openai, "POST", chat, Some("gpt-4o-mini"), Ok("ci-mini")),
        ("ci may not use gpt-4o", &ci, openai, "POST", chat, Some("gpt-4o"), Err(None)),
        ("ci may not GET", &ci, openai, "GET", chat, Some("gpt-4o-mini"), Err(None)),
        ("ci path prefix is segment-aware", &ci, openai, "POST", "/v1/chatter", Some("gpt-4o-mini"), Err(None)),
        ("ci is denied files by rule", &ci, files, "GET", "/v1/files", None, Err(Some("no-ci-on-files"))),
        ("svc glob reaches internal", &ci, internal, "GET", "/x", None, Ok("bob-anything")),
        ("no group, no rule", &nobody, openai, "POST", chat, Some("gpt-4o"), Err(None)),
        ("no target", &ml, None, "POST", chat, Some("gpt-4o"), Err(None)),
    ];
    for (name, who, target, method, path, model, expected) in cases {
        let result = auth.authorize(who, target, method, path, model);
        match (result, expected) {
            (Ok(rule), Ok(wanted)) => assert_eq!(rule, wanted, "{name}"),
            (Err(denied), Err(wanted)) => assert_eq!(denied.rule.as_deref(), wanted, "{name}: {denied}"),
            (result, expected) => panic!("{name}: got {result:?}, expected {expected:?}"),
        }
    }
    let mut acme = identity("dave", &[]);
    acme.claims.insert("tenant".into(), json!(["acme", "other"]));
    assert_eq!(auth.authorize(&acme, files, "GET", "/v1/files", None), Ok("tenant-acme"));
    acme.claims.insert("tenant".into(), json!("globex"));
    assert!(auth.authorize(&acme, files, "GET", "/v1/files", None).is_err());
}

#[test]
fn denials_render_as_403_responses() {
    let auth = Authenticator::new(&access_policy()).unwrap();
    let denied = auth.authorize(&identity("svc:ci", &["ci"]), auth.target("openai-files"), "GET", "/v1/files", None).unwrap_err();
    assert_eq!(denied.status(), 403);
    let body: serde_json::Value = serde_json::from_str(&denied.body_json()).unwrap();
    assert_eq!(body["error"]["type"], "permission_error");
    assert_eq!(body["error"]["code"], "portcullis_access_denied");
    assert!(body["error"]["message"].as_str().unwrap().contains("no-ci-on-files"));
    let default = auth.authorize(&identity("carol", &[]), auth.target("openai"), "POST", "/v1/chat?x=1", Some("gpt-4o")).unwrap_err();
    assert_eq!(default.rule, None);
    assert!(default.reason.contains("carol") && default.reason.contains("gpt-4o") && !default.reason.contains('?'), "{}", default.reason);
}

#[test]
fn api_keys_authenticate_service_accounts() {
    let mut auth = Authenticator::new(&access_policy()).unwrap();
    let request = |headers: &Vec<(String, String)>, auth: &mut Authenticator| {
        auth.authenticate(&RequestParts::new("POST", "api.openai.com", "/v1/chat", headers), NOW)
    };
    let by_header = vec![("x-api-key".to_string(), "key-ci".to_string())];
    let identity = request(&by_header, &mut auth).unwrap();
    assert_eq!(identity.subject, "svc:ci");
    assert_eq!(identity.groups, ["ci"]);
    assert_eq!(identity.method, AuthMethod::ApiKey { id: "ci".into() });
    assert_eq!(identity.provider, "api-key");
    assert_eq!(identity.credential_header.as_deref(), Some("x-api-key"));
    let by_bearer = vec![("authorization".to_string(), "Bearer key-ci".to_string())];
    assert_eq!(request(&by_bearer, &mut auth).unwrap().subject, "svc:ci");
    let cases = [("key-wrong", AuthErrorCode::InvalidApiKey), ("key-old", AuthErrorCode::ApiKeyExpired)];
    for (key, code) in cases {
        let headers = vec![("x-api-key".to_string(), key.to_string())];
        assert_eq!(request(&headers, &mut auth).unwrap_err().code, code, "{key}");
    }
    let huge = vec![("x-api-key".to_string(), "k".repeat(1 << 20))];
    assert_eq!(request(&huge, &mut auth).unwrap_err().code, AuthErrorCode::InvalidApiKey);
    // A key limited to some targets reaches nothing else, whatever the rules say.
    let scoped = request(&vec![("x-api-key".to_string(), "key-scoped".to_string())], &mut auth).unwrap();
    let denied = auth.authorize(&scoped, auth.target("openai"), "POST", "/v1/chat", Some("gpt-4o")).unwrap_err();
    assert!(denied.reason.contains("not allowed to reach target `openai`"), "{denied}");
    assert!(auth.authorize(&scoped, auth.target("internal"), "GET", "/", None).is_ok());
}

#[test]
fn jwt_and_api_keys_coexist() {
    let mut policy = access_policy();
    policy.providers = everything_policy().providers;
    let mut auth = Authenticator::new(&policy).unwrap();
    let token = sign(portcullis_policy::identity::Algorithm::ES256, &claims_with(json!({"tenant": "acme"})));
    let headers = vec![("authorization".to_string(), format!("Bearer {token}")), ("x-api-key".to_string(), "key-ci".to_string())];
    let identity = auth.authenticate(&RequestParts::new("GET", "h", "/", &headers), NOW).unwrap();
    assert_eq!(identity.subject, "alice", "the token source comes first");
    assert_eq!(identity.claims.get("tenant"), Some(&json!("acme")), "claims rules use are kept");
    assert_eq!(identity.claims.len(), 1, "claims no rule uses are not");
    let headers = vec![("authorization".to_string(), "Bearer key-ci".to_string())];
    assert_eq!(auth.authenticate(&RequestParts::new("GET", "h", "/", &headers), NOW).unwrap().subject, "svc:ci");
    let headers = vec![("authorization".to_string(), "Bearer not-a-key".to_string())];
    assert_eq!(auth.authenticate(&RequestParts::new("GET", "h", "/", &headers), NOW).unwrap_err().code, AuthErrorCode::InvalidApiKey);
}

#[test]
fn header_plans_strip_client_identity_and_inject_the_credential() {
    let auth = Authenticator::new(&access_policy()).unwrap();
    let mut who = identity("alice\r\nx-injected: 1", &["ml", "a,b"]);
    who.client_id = Some("cli".into());
    who.credential_header = Some("X-Token".into());
    let plan = auth.header_plan(&who, auth.target("openai").unwrap()).unwrap();
    for header in ["authorization", "x-token", "x-debug", "openai-organization", "x-portcullis-subject", "x-portcullis-groups", "x-portcullis-client-id", "x-portcullis-provider"] {
        assert!(plan.remove.iter().any(|h| h == header), "{header} not removed: {:?}", plan.remove);
    }
    assert_eq!(plan.value("authorization"), Some(format!("Bearer {OPENAI_KEY}").as_str()));
    assert_eq!(plan.value("x-portcullis-subject"), Some("alice??x-injected: 1"));
    assert_eq!(plan.value("x-portcullis-groups"), Some("ml,a%2Cb"));
    assert_eq!(plan.value("x-portcullis-client-id"), Some("cli"));
    assert_eq!(plan.value("x-portcullis-provider"), Some("test-idp"));
    let shown = format!("{plan:?}");
    assert!(!shown.contains(OPENAI_KEY) && shown.contains("redacted"), "{shown}");
    let shown = format!("{:?}", auth.target("openai").unwrap());
    assert!(!shown.contains(OPENAI_KEY), "{shown}");
    // A target without credential sets only identity headers.
    let plan = auth.header_plan(&who, auth.target("openai-files").unwrap()).unwrap();
    assert_eq!(plan.value("authorization"), None);
    assert!(plan.remove.iter().any(|h| h == "authorization"));
    // A credential whose secret is not in the bundle fails closed.
    let missing = auth.header_plan(&who, auth.target("internal").unwrap()).unwrap_err();
    assert_eq!(missing.status(), 503);
    assert!(missing.body_json().contains("portcullis_credential_unavailable"));
}
