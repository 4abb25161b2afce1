//! MCP through the gateway, end to end: the official `mcp` Python SDK as the
//! client (`tests/clients/mcp_call.py`), a real MCP server built on the same
//! SDK as the upstream (`tests/clients/mcp_server.py`), and real Envoy with
//! the token and prompt-guard filters in between. The guard blocks a
//! destructive tool by name; everything else in the session goes through.

use portcullis_e2e::{python, Stack, StackOptions};
use portcullis_policy::identity::hash_api_key;

const AGENT_API_KEY: &str = "pk-agent-8f14e45fceea167a5a36dedd4bea2543";

fn policy() -> String {
    format!(
        r#"
name: e2e-mcp
description: MCP end-to-end tests
identity:
  api_keys:
    - id: agent-key
      hash: "{hash}"
      subject: svc:agent
      groups: [agents]
  targets:
    - name: model
      hosts: ["127.0.0.1", "localhost"]
      path_prefix: /v1
    - name: mcp
      hosts: ["127.0.0.1", "localhost"]
      path_prefix: /mcp
  rules:
    - {{ name: agents, groups: [agents], targets: [model, mcp], effect: allow }}
guard:
  targets:
    - target: mcp
      format: mcp
      rules:
        - name: no-destructive-tools
          tools: ["delete_*"]
          action: block
          message: "Deleting through MCP is blocked."
"#,
        hash = hash_api_key(AGENT_API_KEY)
    )
}

#[test]
fn mcp_sdk_session_works_and_destructive_tool_call_is_blocked() {
    let stack = Stack::start(StackOptions {
        policy: policy(),
        envoy_config: "portcullis.yaml".into(),
        mcp: true,
        ..StackOptions::default()
    })
    .unwrap();
    let base_url = stack.ingress_url();
    let out = python::run_client("mcp_call.py", &[("PORTCULLIS_BASE_URL", &base_url), ("PORTCULLIS_API_KEY", AGENT_API_KEY)])
        .unwrap_or_else(|e| panic!("{e:#}\nMCP server log:\n{}", stack.mcp_log()));
    println!("the MCP client saw: {out:#}");

    // The session works through the gateway: initialize, tools/list, an allowed tools/call.
    assert_eq!(out["initialized"], true, "{out}");
    assert_eq!(out["server"], "portcullis-e2e-mcp", "{out}");
    assert_eq!(out["tools"], serde_json::json!(["delete_namespace", "list_namespaces"]), "{out}");
    assert_eq!(out["list_ok"], true, "{out}");
    assert_eq!(out["namespaces"], serde_json::json!(["default", "prod", "staging"]), "{out}");

    // The destructive call is refused by the gateway with 403, naming the rule.
    let delete = &out["delete"];
    assert_eq!(delete["blocked"], true, "{out}");
    assert_eq!(delete["status"], 403, "{out}");
    let message = delete["message"].as_str().unwrap_or_default();
    assert!(message.contains("no-destructive-tools"), "the refusal must name the rule: {out}");
    assert!(message.contains("Deleting through MCP is blocked."), "the refusal must carry the rule's message: {out}");
    assert!(delete["result"].is_null(), "the call must not produce a tool result: {out}");
    // The refusal is a JSON-RPC error, so the SDK raises it with the rule's name.
    let sdk_error = &delete["sdk_error"];
    assert_eq!(sdk_error["code"], portcullis_policy::JSONRPC_REFUSED, "the SDK must report the gateway's error: {out}");
    let sdk_message = sdk_error["message"].as_str().unwrap_or_default();
    assert!(sdk_message.contains("no-destructive-tools"), "the SDK error must name the rule: {out}");
    // Only that call was refused: the rest of the session (the SSE stream, the
    // session's DELETE at the end) went through.
    let errors = out["http_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "only the destructive call is refused: {out}");

    // The MCP server saw the allowed call, and never the destructive one.
    let log = stack.mcp_log();
    println!("the MCP server's log:\n{log}");
    assert!(log.contains("received tools/call list_namespaces"), "{log}");
    assert!(log.contains("tool list_namespaces invoked"), "{log}");
    assert!(!log.contains("delete_namespace"), "delete_namespace must never reach the MCP server:\n{log}");
    assert!(stack.envoy_log().contains("blocked `svc:agent`: no-destructive-tools"), "the gateway logs the block");
}
