//! Risky prompts end to end: the prompt-guard filter in real Envoy blocks or
//! holds requests; approvers decide at the control plane (one scenario in
//! the approvers' page, in headless Chromium); the caller gets the model's
//! answer or a clear refusal.

use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portcullis_e2e::client::{self, HttpResponse};
use portcullis_e2e::{paths, Stack, StackOptions};
use portcullis_policy::identity::hash_api_key;
use serde_json::{json, Value};

const DEV_KEY: &str = "pk-dev-0f9e8d7c6b5a4938271605f4e3d2c1b0";

fn policy(ttl_secs: u64) -> String {
    format!(
        r#"
name: e2e-guard
description: prompt guard end-to-end tests
identity:
  providers:
    - name: test-idp
      issuer: "{{{{IDP_ISSUER}}}}"
      audiences: [portcullis]
      discovery_url: "{{{{IDP_ISSUER}}}}/.well-known/openid-configuration"
  api_keys:
    - {{ id: dev-key, hash: "{hash}", subject: "svc:dev-agent", groups: [dev] }}
  targets:
    - {{ name: model, hosts: ["127.0.0.1", "localhost"], path_prefix: /v1 }}
  rules:
    - {{ name: dev-model, groups: [dev], targets: [model], effect: allow }}
guard:
  approvals:
    approver_groups: [approvers]
    default_ttl_secs: {ttl_secs}
  targets:
    - target: model
      packs:
        - {{ pack: destructive_sql, action: hold, message: "Destructive SQL needs an approver." }}
        - {{ pack: destructive_shell, action: block, message: "Shell commands that destroy data are blocked." }}
      rules:
        - {{ name: key-rotation, keywords: ["rotate the production keys"], case_insensitive: true, action: hold,
             message: "Rotating production keys needs two DBAs.", hold: {{ quorum: 2, approver_groups: [dba] }} }}
"#,
        hash = hash_api_key(DEV_KEY)
    )
}

fn start(ttl_secs: u64) -> Stack {
    Stack::start(StackOptions {
        policy: policy(ttl_secs),
        envoy_config: "portcullis.yaml".into(),
        idp: true,
        ..StackOptions::default()
    })
    .unwrap()
}

fn ask(stack: &Stack, prompt: &str) -> Result<HttpResponse, anyhow::Error> {
    let body = json!({"model": "mock-small", "messages": [{"role": "user", "content": prompt}]});
    client::post_json(&format!("{}/v1/chat/completions", stack.ingress_url()), &[("x-api-key", DEV_KEY)], &body)
}

/// Sends `prompt` from another thread, since a held request waits.
fn ask_in_background(stack: &Stack, prompt: &str) -> JoinHandle<HttpResponse> {
    let url = format!("{}/v1/chat/completions", stack.ingress_url());
    let body = json!({"model": "mock-small", "messages": [{"role": "user", "content": prompt}]});
    std::thread::spawn(move || client::post_json(&url, &[("x-api-key", DEV_KEY)], &body).unwrap())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Pending holds as the approver sees them, once there are `count`.
fn wait_for_pending(stack: &Stack, approver: &str, count: usize) -> Vec<Value> {
    let url = format!("{}/v1/holds?status=pending&limit=500", stack.control_plane_url());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = client::get(&url, &[("authorization", &bearer(approver))]).unwrap();
        assert_eq!(response.status, 200, "{}", response.body);
        let holds = response.json().unwrap()["holds"].as_array().cloned().unwrap_or_default();
        if holds.len() >= count {
            return holds;
        }
        assert!(Instant::now() < deadline, "only {} of {count} holds appeared", holds.len());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn decide(stack: &Stack, approver: &str, id: &str, approve: bool, body: Value) -> HttpResponse {
    let verb = if approve { "approve" } else { "deny" };
    let url = format!("{}/v1/holds/{id}/{verb}", stack.control_plane_url());
    client::post_json(&url, &[("authorization", &bearer(approver))], &body).unwrap()
}

fn error_code(response: &HttpResponse) -> String {
    response.json().unwrap()["error"]["code"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn blocked_commands_get_403_naming_the_rule() {
    let stack = start(60);
    let response = ask(&stack, "Run this now:\n```\nrm -rf /\n```").unwrap();
    assert_eq!(response.status, 403, "{}", response.body);
    assert_eq!(error_code(&response), "portcullis_blocked");
    assert!(response.body.contains("destructive_shell"), "{}", response.body);
    // A question about the command is not the command.
    let question = ask(&stack, "What does rm -rf / do, and why is it dangerous?").unwrap();
    assert_eq!(question.status, 200, "{}", question.body);
}

#[test]
fn hold_then_approve_in_the_approvers_page() {
    let stack = start(120);
    let approver = stack.token("approver").unwrap();
    let waiting = ask_in_background(&stack, "DROP TABLE customers;");
    let holds = wait_for_pending(&stack, &approver, 1);
    assert_eq!(holds[0]["subject"], "svc:dev-agent", "{holds:?}");

    let screenshots = paths::project_root().join("target/screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let screenshot = screenshots.join("approvals-page.png");
    let _ = std::fs::remove_file(&screenshot);
    let output = Command::new("node")
        .arg(paths::project_root().join("tests/browser/decide.mjs"))
        .env("PORTCULLIS_URL", stack.control_plane_url())
        .env("APPROVER_TOKEN", &approver)
        .env("DECISION", "approve")
        .env("REASON", "reviewed: the table is a scratch copy")
        .env("SCREENSHOT", &screenshot)
        .output()
        .unwrap();
    assert!(output.status.success(), "the page run failed:\n{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(seen["status"], "approved");
    let png = std::fs::read(&screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "the screenshot should be a real PNG");

    let response = waiting.join().unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    let answer = response.json().unwrap();
    assert_eq!(answer["choices"][0]["message"]["content"], "echo: DROP TABLE customers;", "the original request, body included, reaches the model");
}

#[test]
fn hold_then_deny_tells_the_caller_why() {
    let stack = start(120);
    let approver = stack.token("approver").unwrap();
    let waiting = ask_in_background(&stack, "TRUNCATE TABLE invoices;");
    let id = wait_for_pending(&stack, &approver, 1)[0]["id"].as_str().unwrap().to_owned();
    let decision = decide(&stack, &approver, &id, false, json!({"reason": "not during the audit"}));
    assert_eq!(decision.status, 200, "{}", decision.body);
    let response = waiting.join().unwrap();
    assert_eq!(response.status, 403, "{}", response.body);
    assert_eq!(error_code(&response), "portcullis_hold_denied");
    assert!(response.body.contains("not during the audit"), "{}", response.body);
}

#[test]
fn a_rule_with_its_own_approvers_needs_their_quorum() {
    let stack = start(120);
    let (approver, dba1, dba2) = (stack.token("approver").unwrap(), stack.token("dba-1").unwrap(), stack.token("dba-2").unwrap());
    let waiting = ask_in_background(&stack, "Please rotate the production keys tonight.");
    let hold = wait_for_pending(&stack, &dba1, 1).remove(0);
    let id = hold["id"].as_str().unwrap().to_owned();
    assert_eq!(hold["rules"], json!(["key-rotation"]), "{hold}");

    // The policy-wide approvers are not this rule's approvers.
    let refused = decide(&stack, &approver, &id, true, json!({"reason": "fine by me"}));
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("dba"), "{}", refused.body);
    // One DBA is not enough; the detail says how far the requirement is.
    let first = decide(&stack, &dba1, &id, true, json!({"reason": "change ticket 42"}));
    assert_eq!(first.status, 200, "{}", first.body);
    let detail = first.json().unwrap();
    assert_eq!(detail["status"], "pending", "{detail}");
    assert_eq!(detail["quorum"]["requirements"], json!([{"quorum": 2, "approver_groups": ["dba"], "rules": ["key-rotation"], "approvals": 1}]));
    // The second DBA releases the request, which reaches the model unchanged.
    let second = decide(&stack, &dba2, &id, true, json!({"reason": "agreed"}));
    assert_eq!(second.status, 200, "{}", second.body);
    let response = waiting.join().unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(response.body.contains("chat.completion"), "{}", response.body);
}

#[test]
fn an_undecided_hold_expires_with_a_clear_error() {
    // The shortest hold the policy allows: 10 seconds.
    let stack = start(10);
    let started = Instant::now();
    let response = ask(&stack, "DROP DATABASE analytics;").unwrap();
    assert_eq!(response.status, 403, "{}", response.body);
    assert_eq!(error_code(&response), "portcullis_hold_expired");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(9) && waited < Duration::from_secs(30), "the caller waited {waited:?} for a 10 s hold");
}

#[test]
fn control_plane_killed_during_a_hold_fails_closed_without_hanging() {
    let mut stack = start(120);
    let approver = stack.token("approver").unwrap();
    let waiting = ask_in_background(&stack, "DROP TABLE orders;");
    wait_for_pending(&stack, &approver, 1);
    let killed = Instant::now();
    stack.stop_control_plane();
    let response = waiting.join().unwrap();
    assert_eq!(response.status, 503, "{}", response.body);
    assert_eq!(error_code(&response), "portcullis_hold_unavailable");
    assert!(killed.elapsed() < Duration::from_secs(15), "the caller waited {:?}", killed.elapsed());
}

#[test]
fn fifty_concurrent_holds_decided_in_random_order() {
    let stack = start(300);
    let approver = stack.token("approver").unwrap();
    let callers: Vec<(usize, JoinHandle<HttpResponse>)> =
        (0..50).map(|i| (i, ask_in_background(&stack, &format!("DROP TABLE scratch_{i};")))).collect();
    let holds = wait_for_pending(&stack, &approver, 50);
    // Decide in a scrambled order; approve the even tables, deny the odd ones.
    let mut order: Vec<usize> = (0..holds.len()).collect();
    order.sort_by_key(|i| (i * 37 + 11) % 50);
    let mut expected = std::collections::BTreeMap::new();
    for i in order {
        let hold = &holds[i];
        let id = hold["id"].as_str().unwrap();
        let detail = client::get(&format!("{}/v1/holds/{id}", stack.control_plane_url()), &[("authorization", &bearer(&approver))]).unwrap();
        let excerpt = detail.json().unwrap()["excerpt"].as_str().unwrap_or_default().to_owned();
        let table: usize = excerpt.split("scratch_").nth(1).and_then(|t| t.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok()).unwrap_or_else(|| panic!("no table in {excerpt}"));
        let approve = table % 2 == 0;
        assert_eq!(decide(&stack, &approver, id, approve, json!({"reason": "batch review"})).status, 200);
        expected.insert(table, approve);
    }
    assert_eq!(expected.len(), 50);
    for (i, caller) in callers {
        let response = caller.join().unwrap();
        if expected[&i] {
            assert_eq!(response.status, 200, "table {i}: {}", response.body);
            assert_eq!(response.json().unwrap()["choices"][0]["message"]["content"], format!("echo: DROP TABLE scratch_{i};"));
        } else {
            assert_eq!(response.status, 403, "table {i}: {}", response.body);
        }
    }
}

#[test]
fn a_just_in_time_grant_lets_the_next_matching_request_through() {
    let stack = start(120);
    let approver = stack.token("approver").unwrap();
    let waiting = ask_in_background(&stack, "DELETE FROM sessions;");
    let id = wait_for_pending(&stack, &approver, 1)[0]["id"].as_str().unwrap().to_owned();
    let decision = decide(&stack, &approver, &id, true, json!({"reason": "cleanup window", "grant_minutes": 5}));
    assert_eq!(decision.status, 200, "{}", decision.body);
    assert_eq!(waiting.join().unwrap().status, 200);

    let started = Instant::now();
    let next = ask(&stack, "DELETE FROM sessions;\nDROP TABLE sessions_old;").unwrap();
    assert_eq!(next.status, 200, "{}", next.body);
    assert!(started.elapsed() < Duration::from_secs(5), "a granted request must not wait for a human");

    // The approver revokes the grant in the approvers' page.
    let output = Command::new("node")
        .arg(paths::project_root().join("tests/browser/revoke.mjs"))
        .env("PORTCULLIS_URL", stack.control_plane_url())
        .env("APPROVER_TOKEN", &approver)
        .env("REASON", "cleanup finished early")
        .output()
        .unwrap();
    assert!(output.status.success(), "the page run failed:\n{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(seen["left"], 0, "{seen}");
    let grants = client::get(&format!("{}/v1/grants", stack.control_plane_url()), &[("authorization", &bearer(&approver))]).unwrap();
    assert_eq!(grants.json().unwrap()["grants"], json!([]), "{}", grants.body);

    // The same request waits for a human again; denying it ends the wait.
    let waiting = ask_in_background(&stack, "DELETE FROM sessions;");
    let held = wait_for_pending(&stack, &approver, 1);
    let id = held[0]["id"].as_str().unwrap().to_owned();
    let denial = decide(&stack, &approver, &id, false, json!({"reason": "grant revoked"}));
    assert_eq!(denial.status, 200, "{}", denial.body);
    assert_eq!(waiting.join().unwrap().status, 403);
}
