//! `IdentityPolicy::validate`: one case per rule, each reporting the offending field's path.

use portcullis_policy::identity::{hash_api_key, parse_api_key_hash, IdentityPolicy, Jwk, SecretValue, UpstreamCredential};
use portcullis_policy::ValidationReport;
use serde_json::{json, Value};

fn valid() -> Value {
    json!({
        "providers": [{
            "name": "corp",
            "issuer": "https://login.example.com/",
            "audiences": ["portcullis"],
            "jwks_url": "https://login.example.com/jwks.json"
        }],
        "api_keys": [{"id": "ci", "hash": hash_api_key("secret"), "subject": "svc:ci", "targets": ["openai"]}],
        "targets": [{"name": "openai", "hosts": ["api.openai.com"], "path_prefix": "/v1"}],
        "rules": [{"name": "ml", "groups": ["ml"], "targets": ["openai"], "effect": "allow"}]
    })
}

fn report(document: &Value) -> ValidationReport {
    let policy: IdentityPolicy = serde_json::from_value(document.clone()).unwrap_or_else(|e| panic!("{e}: {document}"));
    let mut report = ValidationReport::default();
    policy.validate(&mut report);
    report
}

/// Sets `pointer` (a JSON pointer) in the valid document to `value`.
fn with(pointer: &str, value: Value) -> Value {
    let mut document = valid();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = document.pointer_mut(parent).unwrap_or_else(|| panic!("{pointer}"));
    match parent {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        Value::Array(items) => {
            let index = key.parse::<usize>().unwrap();
            if index == items.len() {
                items.push(value);
            } else {
                items[index] = value;
            }
        }
        _ => panic!("{pointer}"),
    }
    document
}

#[test]
fn the_valid_document_has_no_errors_or_warnings() {
    let report = report(&valid());
    assert!(report.errors.is_empty() && report.warnings.is_empty(), "{report}");
}

#[test]
fn every_rule_reports_its_path() {
    let second = {
        let mut d = valid();
        let mut p = d["providers"][0].clone();
        p["issuer"] = json!("https://other.example.com");
        d["providers"].as_array_mut().unwrap().push(p);
        d
    };
    let same_issuer = {
        let mut d = valid();
        let mut p = d["providers"][0].clone();
        p["name"] = json!("corp-2");
        d["providers"].as_array_mut().unwrap().push(p);
        d
    };
    let duplicate_key = {
        let mut d = valid();
        let mut k = d["api_keys"][0].clone();
        k["id"] = json!("ci-2");
        d["api_keys"].as_array_mut().unwrap().push(k);
        d
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("empty provider name", with("/providers/0/name", json!(" ")), "identity.providers[0].name"),
        ("empty issuer", with("/providers/0/issuer", json!("")), "identity.providers[0].issuer"),
        ("no audiences", with("/providers/0/audiences", json!([])), "identity.providers[0].audiences"),
        ("empty audience", with("/providers/0/audiences", json!(["a", ""])), "identity.providers[0].audiences[1]"),
        ("no key source", with("/providers/0/jwks_url", Value::Null), "identity.providers[0]"),
        ("plain http jwks", with("/providers/0/jwks_url", json!("http://idp.example.com/jwks")), "identity.providers[0].jwks_url"),
        ("plain http discovery", with("/providers/0/discovery_url", json!("http://idp.example.com/.well-known")), "identity.providers[0].discovery_url"),
        ("no algorithms", with("/providers/0/algorithms", json!([])), "identity.providers[0].algorithms"),
        ("hmac without opt-in", with("/providers/0/algorithms", json!(["RS256", "HS256"])), "identity.providers[0].algorithms"),
        ("zero lifetime", with("/providers/0/max_lifetime_secs", json!(0)), "identity.providers[0].max_lifetime_secs"),
        ("empty required claim", with("/providers/0/required_claims", json!([{"claim": ""}])), "identity.providers[0].required_claims[0].claim"),
        ("no token sources", with("/providers/0/token_sources", json!([])), "identity.providers[0].token_sources"),
        ("bad header source", with("/providers/0/token_sources", json!([{"header": {"name": "bad header"}}])), "identity.providers[0].token_sources[0].header.name"),
        ("empty cookie source", with("/providers/0/token_sources", json!([{"cookie": {"name": ""}}])), "identity.providers[0].token_sources[0]"),
        ("empty subject claim", with("/providers/0/subject_claim", json!("")), "identity.providers[0].subject_claim"),
        ("duplicate provider name", second.clone(), "identity.providers[1].name"),
        ("duplicate issuer", same_issuer, "identity.providers[1].issuer"),
        ("jwk without n", with("/providers/0/jwks", json!({"keys": [{"kty": "RSA", "e": "AQAB"}]})), "identity.providers[0].jwks.keys[0].n"),
        ("jwk of unknown type", with("/providers/0/jwks", json!({"keys": [{"kty": "DSA"}]})), "identity.providers[0].jwks.keys[0].kty"),
        ("oct jwk without hmac", with("/providers/0/jwks", json!({"keys": [{"kty": "oct", "k": "AAAA"}]})), "identity.providers[0].jwks.keys[0].kty"),
        ("oct jwk without secret", with("/providers/0/jwks", json!({"keys": [{"kty": "oct"}]})), "identity.providers[0].jwks.keys[0]"),
        ("jwk with unknown alg", with("/providers/0/jwks", json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "A", "y": "A", "alg": "ES999"}]})), "identity.providers[0].jwks.keys[0].alg"),
        ("duplicate kid", with("/providers/0/jwks", json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "A", "kid": "k"}, {"kty": "OKP", "crv": "Ed25519", "x": "A", "kid": "k"}]})), "identity.providers[0].jwks.keys[1].kid"),
        ("empty api key id", with("/api_keys/0/id", json!("")), "identity.api_keys[0].id"),
        ("raw api key", with("/api_keys/0/hash", json!("secret")), "identity.api_keys[0].hash"),
        ("short api key hash", with("/api_keys/0/hash", json!("sha256:abcd")), "identity.api_keys[0].hash"),
        ("non-hex api key hash", with("/api_keys/0/hash", json!(format!("sha256:{}", "g".repeat(64)))), "identity.api_keys[0].hash"),
        ("empty api key subject", with("/api_keys/0/subject", json!("")), "identity.api_keys[0].subject"),
        ("api key naming an unknown target", with("/api_keys/0/targets", json!(["nope"])), "identity.api_keys[0].targets[0]"),
        ("duplicate api key", duplicate_key, "identity.api_keys[1].hash"),
        ("no api key sources", with("/api_key_sources", json!([])), "identity.api_key_sources"),
        ("empty target name", with("/targets/0/name", json!("")), "identity.targets[0].name"),
        ("no hosts", with("/targets/0/hosts", json!([])), "identity.targets[0].hosts"),
        ("host with scheme", with("/targets/0/hosts", json!(["https://api.openai.com"])), "identity.targets[0].hosts[0]"),
        ("relative path prefix", with("/targets/0/path_prefix", json!("v1")), "identity.targets[0].path_prefix"),
        ("lower-case method", with("/targets/0/methods", json!(["post"])), "identity.targets[0].methods[0]"),
        ("credential without secret", with("/targets/0/credential", json!({"secret_ref": ""})), "identity.targets[0].credential.secret_ref"),
        ("credential header invalid", with("/targets/0/credential", json!({"secret_ref": "s", "header": "a:b"})), "identity.targets[0].credential.header"),
        ("bad strip header", with("/targets/0/strip_headers", json!(["ok", "not ok"])), "identity.targets[0].strip_headers[1]"),
        ("duplicate target", with("/targets/1", json!({"name": "openai", "hosts": ["x"]})), "identity.targets[1].name"),
        ("empty rule name", with("/rules/0/name", json!("")), "identity.rules[0].name"),
        ("rule naming an unknown target", with("/rules/0/targets", json!(["openai", "anthropic"])), "identity.rules[0].targets[1]"),
        ("rule with relative path", with("/rules/0/paths", json!(["v1"])), "identity.rules[0].paths[0]"),
        ("rule with bad method", with("/rules/0/methods", json!(["Get"])), "identity.rules[0].methods[0]"),
        ("rule with empty model", with("/rules/0/models", json!([""])), "identity.rules[0].models[0]"),
        ("duplicate rule", with("/rules/1", json!({"name": "ml", "effect": "deny"})), "identity.rules[1].name"),
        ("identity header is authorization", with("/identity_headers", json!({"subject": "Authorization"})), "identity.identity_headers.subject"),
        ("identity headers clash", with("/identity_headers", json!({"groups": "x-portcullis-subject"})), "identity.identity_headers.groups"),
        ("token limit too small", with("/max_token_bytes", json!(10)), "identity.max_token_bytes"),
    ];
    for (name, document, path) in cases {
        let report = report(&document);
        assert!(report.errors.iter().any(|p| p.path == path), "{name}: expected an error at {path}, got:\n{report}");
        for problem in &report.errors {
            assert!(problem.path.starts_with("identity"), "{name}: {problem}");
            assert!(problem.message.len() > 10, "{name}: {problem}");
        }
    }
}

#[test]
fn warnings_do_not_block() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("issuer without https", with("/providers/0/issuer", json!("corp")), "identity.providers[0].issuer"),
        ("allow_hmac without HS", with("/providers/0/allow_hmac", json!(true)), "identity.providers[0].allow_hmac"),
        ("large skew", with("/providers/0/clock_skew_secs", json!(900)), "identity.providers[0].clock_skew_secs"),
        ("no rules", with("/rules", json!([])), "identity.rules"),
        ("allow everything", with("/rules/0", json!({"name": "all", "effect": "allow"})), "identity.rules[0]"),
        ("cache disabled", with("/cache", json!({"max_entries": 0})), "identity.cache.max_entries"),
        ("jwk alg not allowed", with("/providers/0/jwks", json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "A", "y": "A", "alg": "ES256"}]})), "identity.providers[0].jwks.keys[0].alg"),
    ];
    for (name, document, path) in cases {
        let report = report(&document);
        assert!(report.errors.is_empty(), "{name}: {report}");
        assert!(report.warnings.iter().any(|p| p.path == path), "{name}: expected a warning at {path}, got:\n{report}");
    }
    let empty = IdentityPolicy::default();
    let mut report = ValidationReport::default();
    empty.validate(&mut report);
    assert!(report.errors.is_empty() && report.warnings.is_empty(), "the default section is valid: {report}");
    let localhost = with("/providers/0/jwks_url", json!("http://localhost:8080/jwks"));
    assert!(self::report(&localhost).errors.is_empty());
}

#[test]
fn every_problem_is_collected_at_once() {
    let document = json!({
        "providers": [{"name": "", "issuer": "", "audiences": [], "algorithms": ["HS256"]}],
        "api_keys": [{"id": "", "hash": "x", "subject": ""}],
        "targets": [{"name": "", "hosts": []}],
        "rules": [{"name": "", "targets": ["ghost"], "effect": "allow"}]
    });
    let report = report(&document);
    assert!(report.errors.len() >= 11, "{report}");
}

#[test]
fn serde_shape() {
    let unknown = serde_json::from_value::<IdentityPolicy>(json!({"providers": [], "rulez": []}));
    assert!(unknown.unwrap_err().to_string().contains("rulez"));
    let unknown = serde_json::from_value::<IdentityPolicy>(json!({"targets": [{"name": "t", "hosts": ["h"], "hots": 1}]}));
    assert!(unknown.is_err());
    let unknown = serde_json::from_value::<IdentityPolicy>(json!({"providers": [{"name": "p", "issuer": "i", "token_sources": [{"header": {"name": "a", "prefx": "B"}}]}]}));
    assert!(unknown.is_err(), "token sources reject unknown fields too");
    // JWKs follow RFC 7517: unknown members are ignored, so real JWKS documents load.
    let jwk: Jwk = serde_json::from_value(json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "x5c": ["..."], "key_ops": ["verify"]})).unwrap();
    assert_eq!(jwk.kty, "RSA");
    // Defaults.
    let policy: IdentityPolicy = serde_json::from_value(json!({"providers": [{"name": "p", "issuer": "i", "audiences": ["a"], "jwks_url": "https://x"}]})).unwrap();
    let provider = &policy.providers[0];
    assert_eq!(provider.algorithms, [portcullis_policy::identity::Algorithm::RS256]);
    assert_eq!(provider.clock_skew_secs, 60);
    assert_eq!(provider.subject_claim, "sub");
    assert_eq!(provider.groups_claim, "groups");
    assert_eq!(provider.client_id_claim, "client_id");
    assert_eq!(serde_json::to_value(&provider.token_sources).unwrap(), json!([{"header": {"name": "authorization", "prefix": "Bearer "}}]));
    assert_eq!(policy.identity_headers.subject, "x-portcullis-subject");
    assert_eq!(policy.max_token_bytes, 16384);
    assert_eq!(policy, serde_json::from_value(serde_json::to_value(&policy).unwrap()).unwrap(), "round trip");
    assert_eq!(IdentityPolicy::default(), serde_json::from_value(json!({})).unwrap(), "Default matches serde defaults");
}

#[test]
fn api_key_hashes_and_secrets() {
    let hash = hash_api_key("abc");
    assert_eq!(hash, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert!(parse_api_key_hash(&hash).is_some());
    assert!(parse_api_key_hash(&hash.to_uppercase().replace("SHA256", "sha256")).is_some());
    assert!(parse_api_key_hash("sha256:+a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad").is_none());
    assert!(parse_api_key_hash("md5:ba7816bf8f01cfea414140de5dae2223").is_none());
    let credential = UpstreamCredential { header: "authorization".into(), prefix: "Bearer ".into(), secret_ref: "openai".into(), value: Some(SecretValue::new("sk-123")) };
    assert!(!format!("{credential:?}").contains("sk-123"));
    assert_eq!(serde_json::to_value(&credential).unwrap()["value"], "sk-123", "bundles carry the resolved secret");
    let jwk = Jwk { kty: "oct".into(), k: Some("c2VjcmV0".into()), ..Jwk::default() };
    assert!(!format!("{jwk:?}").contains("c2VjcmV0"));
}

/// The example section shown in the crate report and docs (converted from YAML).
#[test]
fn the_documented_example_is_valid() {
    let example = r#"{"providers": [{"name": "corp", "issuer": "https://login.example.com/", "audiences": ["portcullis"], "jwks_url": "https://login.example.com/.well-known/jwks.json", "algorithms": ["RS256", "ES256"], "clock_skew_secs": 60, "max_lifetime_secs": 86400, "required_claims": [{"claim": "email_verified", "values": [true]}, {"claim": "realm_access.roles", "values": ["gateway-user"]}], "token_sources": [{"header": {"name": "authorization", "prefix": "Bearer "}}, {"cookie": {"name": "session"}}], "subject_claim": "sub", "groups_claim": "groups", "client_id_claim": "client_id"}], "api_keys": [{"id": "ci-bot", "hash": "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "subject": "svc:ci", "groups": ["ci"], "targets": ["openai"], "expires_at": 1893456000}], "api_key_sources": [{"header": {"name": "x-api-key"}}], "targets": [{"name": "openai", "hosts": ["api.openai.com"], "path_prefix": "/v1", "methods": ["POST", "GET"], "credential": {"header": "authorization", "prefix": "Bearer ", "secret_ref": "openai-key"}, "strip_headers": ["openai-organization"]}], "rules": [{"name": "no-ci-files", "groups": ["ci"], "targets": ["openai"], "paths": ["/v1/files"], "effect": "deny"}, {"name": "ml-gpt4o", "groups": ["ml"], "targets": ["openai"], "models": ["gpt-4o*"], "effect": "allow"}, {"name": "acme-tenant", "claims": {"tenant": "acme"}, "methods": ["POST"], "effect": "allow"}], "identity_headers": {"subject": "x-portcullis-subject", "groups": "x-portcullis-groups", "client_id": "x-portcullis-client-id", "provider": "x-portcullis-provider"}, "cache": {"max_entries": 4096, "max_failed_entries": 1024, "failed_ttl_secs": 300}, "max_token_bytes": 16384}
"#;
    let policy: IdentityPolicy = serde_json::from_str(example).unwrap();
    let mut report = ValidationReport::default();
    policy.validate(&mut report);
    assert!(report.errors.is_empty() && report.warnings.is_empty(), "{report}");
}
