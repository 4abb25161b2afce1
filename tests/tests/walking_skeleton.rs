//! The walking skeleton, end to end: client → Envoy → gate filter (policy
//! from the control plane) → mock model → back.

use std::time::Duration;

use portcullis_e2e::{client, python, Stack, StackOptions};
use serde_json::{json, Value};

fn chat(content: &str, stream: bool) -> Value {
    json!({"model": "mock-small", "stream": stream, "messages": [{"role": "user", "content": content}]})
}

#[test]
fn request_reaches_the_model_and_carries_the_policy_version() {
    let stack = Stack::start(StackOptions::default()).unwrap();
    let response = client::post_json(&format!("{}/v1/chat/completions", stack.ingress_url()), &[], &chat("hi there", false)).unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("x-portcullis-policy-version"), Some("1"));
    let body = response.json().unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "echo: hi there");
}

#[test]
fn streamed_answer_arrives_intact_and_in_order() {
    let stack = Stack::start(StackOptions::default()).unwrap();
    let prompt = r#"[[mock {"chunks": ["4111 ", "1111 ", "1111 1111"], "delay_ms": 20}]]"#;
    let mut events = Vec::new();
    let response =
        client::post_sse(&format!("{}/v1/chat/completions", stack.ingress_url()), &[], &chat(prompt, true), |data| {
            events.push(data.to_owned())
        })
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert_eq!(response.header("x-portcullis-policy-version"), Some("1"));
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let content: String = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(content, "4111 1111 1111 1111");
}

#[test]
fn official_openai_client_works_through_the_gateway() {
    let stack = Stack::start(StackOptions::default()).unwrap();
    let seen = python::run_client("openai_chat.py", &[("PORTCULLIS_BASE_URL", &stack.ingress_url())]).unwrap();

    assert_eq!(seen["non_stream"]["content"], "echo: hello from the openai client");
    assert_eq!(seen["non_stream"]["finish_reason"], "stop");
    assert_eq!(seen["non_stream"]["policy_version"], "1");
    assert!(seen["non_stream"]["total_tokens"].as_u64().unwrap() > 0);

    assert_eq!(seen["stream"]["pieces"], json!(["one ", "two ", "three"]));
    assert_eq!(seen["stream"]["finish_reasons"], json!(["stop"]));
    assert_eq!(seen["stream"]["policy_version"], "1");
    assert!(seen["stream"]["total_tokens"].as_u64().unwrap() > 0);

    assert_eq!(seen["rate_limited"]["status"], 429);
}

#[test]
fn fails_closed_when_the_control_plane_is_down_at_start() {
    let stack = Stack::start(StackOptions { control_plane: false, ..StackOptions::default() }).unwrap();
    // Give the filter time for several failed fetches: it must still refuse.
    std::thread::sleep(Duration::from_millis(1200));
    let response = client::post_json(&format!("{}/v1/chat/completions", stack.ingress_url()), &[], &chat("hi", false)).unwrap();
    assert_eq!(response.status, 503, "{}", response.body);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("x-portcullis-policy-version"), None);
    let body = response.json().unwrap();
    assert_eq!(body["error"]["code"], "portcullis_no_policy");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("fail closed"), "{message}");
}

#[test]
fn keeps_the_last_policy_when_polls_fail_and_picks_up_new_versions() {
    let mut stack = Stack::start(StackOptions::default()).unwrap();
    assert_eq!(stack.wait_for_policy(Some(1)).unwrap(), 1);

    stack.stop_control_plane();
    // Several poll intervals (300 ms) pass with the control plane gone.
    std::thread::sleep(Duration::from_millis(1500));
    let response = client::post_json(&format!("{}/v1/chat/completions", stack.ingress_url()), &[], &chat("still there?", false)).unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("x-portcullis-policy-version"), Some("1"));
    assert!(stack.envoy_log().contains("keeping version 1"), "{}", stack.envoy_log());

    // A changed document becomes version 2, picked up without restarting Envoy.
    stack.restart_control_plane("name: e2e\ndescription: second version\n").unwrap();
    assert_eq!(stack.wait_for_policy(Some(2)).unwrap(), 2);
}
