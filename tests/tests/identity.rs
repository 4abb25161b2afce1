//! Identity at the gate, end to end: real Envoy with the token filter, a real
//! OpenID provider (`oidc-provider`) issuing client-credentials JWTs, the
//! control plane fetching its keys, and the mock model behind.

use std::time::{Duration, Instant};

use portcullis_e2e::{client, python, Stack, StackOptions};
use portcullis_policy::identity::hash_api_key;
use serde_json::{json, Value};

const UPSTREAM_KEY: &str = "sk-upstream-0123456789abcdef";
const CI_API_KEY: &str = "pk-ci-5d41402abc4b2a76b9719d911017c592";

fn policy() -> String {
    format!(
        r#"
name: e2e-identity
description: identity end-to-end tests
identity:
  providers:
    - name: test-idp
      issuer: "{{{{IDP_ISSUER}}}}"
      audiences: [portcullis]
      discovery_url: "{{{{IDP_ISSUER}}}}/.well-known/openid-configuration"
      algorithms: [RS256]
      max_lifetime_secs: 3600
  api_keys:
    - id: ci-key
      hash: "{hash}"
      subject: svc:ci-key
      groups: [ci]
  targets:
    - name: model
      hosts: ["127.0.0.1", "localhost"]
      path_prefix: /v1
      credential: {{ header: authorization, prefix: "Bearer ", secret_ref: model-key }}
  rules:
    - {{ name: ci-no-large-models, groups: [ci], targets: [model], models: ["mock-large"], effect: deny }}
    - {{ name: ml-team, groups: [ml], targets: [model], effect: allow }}
    - {{ name: ci-small-models, groups: [ci], targets: [model], models: ["mock-small"], effect: allow }}
# These tests read the headers the model received, echoed in its answer,
# credential included: the mask filter would (rightly) redact it.
masking:
  mask_responses: false
"#,
        hash = hash_api_key(CI_API_KEY)
    )
}

fn start() -> Stack {
    Stack::start(StackOptions {
        policy: policy(),
        envoy_config: "portcullis.yaml".into(),
        idp: true,
        secrets: vec![("model-key".into(), UPSTREAM_KEY.into())],
        ..StackOptions::default()
    })
    .unwrap()
}

fn chat_url(stack: &Stack) -> String {
    format!("{}/v1/chat/completions", stack.ingress_url())
}

fn chat(model: &str, content: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": content}]})
}

/// The request headers the mock model received, as it echoes them.
fn upstream_headers(response: &client::HttpResponse) -> Value {
    assert_eq!(response.status, 200, "{}", response.body);
    let body = response.json().unwrap();
    serde_json::from_str(body["choices"][0]["message"]["content"].as_str().unwrap()).unwrap()
}

const ECHO_HEADERS: &str = r#"[[mock {"echo_headers": true}]]"#;

#[test]
fn missing_and_malformed_tokens_get_401_with_www_authenticate() {
    let stack = start();
    let cases: &[(Option<&str>, &str)] = &[
        (None, "portcullis_missing_credentials"),
        (Some("Bearer not-a-jwt"), "portcullis_invalid_api_key"),
        (Some("Bearer a.b.c"), "portcullis_malformed_token"),
        (Some("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), "portcullis_malformed_token"),
        (Some("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"), "portcullis_unsupported_algorithm"),
        (Some("Bearer !!!.eyJzdWIiOiJ4In0.c2ln"), "portcullis_malformed_token"),
    ];
    for (authorization, code) in cases {
        let headers: Vec<(&str, &str)> = authorization.iter().map(|a| ("authorization", *a)).collect();
        let response = client::post_json(&chat_url(&stack), &headers, &chat("mock-small", "hi")).unwrap();
        assert_eq!(response.status, 401, "{authorization:?}: {}", response.body);
        assert!(response.header("www-authenticate").unwrap().starts_with("Bearer realm=\"portcullis\""));
        let body = response.json().unwrap();
        assert_eq!(body["error"]["type"], "authentication_error");
        assert_eq!(body["error"]["code"], *code, "{authorization:?}: {}", response.body);
    }
    let huge = format!("Bearer {}", "a".repeat(64 * 1024));
    let response = client::post_json(&chat_url(&stack), &[("authorization", &huge)], &chat("mock-small", "hi")).unwrap();
    assert!(response.status == 401 || response.status == 431, "a 64 KiB token must be refused, got {}", response.status);
}

#[test]
fn valid_token_reaches_the_model_with_identity_and_injected_credential() {
    let stack = start();
    let token = stack.token("ml-agent").unwrap();
    let response = client::post_json(
        &chat_url(&stack),
        &[("authorization", &format!("Bearer {token}")), ("x-portcullis-subject", "spoofed-admin")],
        &chat("mock-large", ECHO_HEADERS),
    )
    .unwrap();
    let seen = upstream_headers(&response);
    assert_eq!(seen["authorization"], format!("Bearer {UPSTREAM_KEY}"));
    assert_eq!(seen["x-portcullis-subject"], "ml-agent", "the client's spoofed identity header must be replaced");
    assert_eq!(seen["x-portcullis-groups"], "ml");
    let everything = seen.to_string();
    assert!(!everything.contains(&token), "the client's token must not reach the upstream");
    assert!(!stack.envoy_log().contains(UPSTREAM_KEY), "the upstream credential must not be logged");
}

#[test]
fn access_rules_apply_per_group_and_per_model() {
    let stack = start();
    let ci = format!("Bearer {}", stack.token("ci-bot").unwrap());
    let small = client::post_json(&chat_url(&stack), &[("authorization", &ci)], &chat("mock-small", "hi")).unwrap();
    assert_eq!(small.status, 200, "{}", small.body);

    let large = client::post_json(&chat_url(&stack), &[("authorization", &ci)], &chat("mock-large", "hi")).unwrap();
    assert_eq!(large.status, 403, "{}", large.body);
    let body = large.json().unwrap();
    assert_eq!(body["error"]["type"], "permission_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("ci-no-large-models"), "{}", large.body);

    let intruder = format!("Bearer {}", stack.token("intruder").unwrap());
    let denied = client::post_json(&chat_url(&stack), &[("authorization", &intruder)], &chat("mock-small", "hi")).unwrap();
    assert_eq!(denied.status, 403, "{}", denied.body);
}

#[test]
fn api_keys_authenticate_service_accounts() {
    let stack = start();
    let ok = client::post_json(&chat_url(&stack), &[("x-api-key", CI_API_KEY)], &chat("mock-small", ECHO_HEADERS)).unwrap();
    let seen = upstream_headers(&ok);
    assert_eq!(seen["x-portcullis-subject"], "svc:ci-key");
    assert!(seen.get("x-api-key").is_none(), "the API key must not reach the upstream");
    assert_eq!(seen["authorization"], format!("Bearer {UPSTREAM_KEY}"));

    let wrong = client::post_json(&chat_url(&stack), &[("x-api-key", "pk-ci-wrong")], &chat("mock-small", "hi")).unwrap();
    assert_eq!(wrong.status, 401);
}

#[test]
fn key_rotation_at_the_provider_is_picked_up_without_restarts() {
    let stack = start();
    let before = format!("Bearer {}", stack.token("ml-agent").unwrap());
    assert_eq!(client::post_json(&chat_url(&stack), &[("authorization", &before)], &chat("mock-small", "hi")).unwrap().status, 200);

    stack.rotate_idp_keys().unwrap();
    let after = format!("Bearer {}", stack.token("ml-agent").unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = client::post_json(&chat_url(&stack), &[("authorization", &after)], &chat("mock-small", "hi")).unwrap();
        if response.status == 200 {
            break;
        }
        assert_eq!(response.status, 401, "{}", response.body);
        assert!(Instant::now() < deadline, "a token signed with the new key was still refused: {}", response.body);
        std::thread::sleep(Duration::from_millis(200));
    }
    // Tokens signed with the previous key stay valid while the provider publishes it.
    assert_eq!(client::post_json(&chat_url(&stack), &[("authorization", &before)], &chat("mock-small", "hi")).unwrap().status, 200);
}

#[test]
fn official_openai_client_authenticates_with_a_provider_token() {
    let stack = start();
    let token = stack.token("ml-agent").unwrap();
    let seen = python::run_client("openai_chat.py", &[("PORTCULLIS_BASE_URL", &stack.ingress_url()), ("PORTCULLIS_API_KEY", &token)]).unwrap();
    assert_eq!(seen["non_stream"]["content"], "echo: hello from the openai client");
    assert_eq!(seen["stream"]["pieces"], json!(["one ", "two ", "three"]));
}
