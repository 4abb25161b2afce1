//! Inline masking end to end: real Envoy with the token and mask filters
//! (`envoy/portcullis.yaml`), the control plane, and the mock model, whose
//! directives make it answer exactly the PII each scenario needs.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use portcullis_e2e::{client, python, Stack, StackOptions};
use portcullis_policy::identity::hash_api_key;
use serde_json::{json, Value};

const API_KEY: &str = "pk-mask-7c4a8d09ca3762af61e59520943dc264";
const UPSTREAM_KEY: &str = "sk-upstream-mask-0123456789";

/// A policy: one API key, one target, and the given `masking:` section
/// (YAML, indented by two spaces).
fn policy(masking: &str) -> String {
    format!(
        r#"
name: e2e-masking
description: masking end-to-end tests
identity:
  api_keys:
    - id: app
      hash: "{hash}"
      subject: svc:app
      groups: [app]
  targets:
    - name: model
      hosts: ["127.0.0.1", "localhost"]
      credential: {{ header: authorization, prefix: "Bearer ", secret_ref: model-key }}
  rules:
    - {{ name: app, groups: [app], targets: [model], effect: allow }}
masking:
{masking}
"#,
        hash = hash_api_key(API_KEY)
    )
}

fn start_with(masking: &str, secrets: &[(&str, &str)], envoy_config: &str) -> Stack {
    let mut all = vec![("model-key".to_owned(), UPSTREAM_KEY.to_owned())];
    all.extend(secrets.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
    Stack::start(StackOptions {
        policy: policy(masking),
        envoy_config: envoy_config.into(),
        secrets: all,
        ..StackOptions::default()
    })
    .unwrap()
}

fn start(masking: &str) -> Stack {
    start_with(masking, &[], "portcullis.yaml")
}

/// Responses only: the prompts carry the PII the mock must answer with.
const RESPONSES_ONLY: &str = "  mask_requests: false";

const AUTH: (&str, &str) = ("x-api-key", API_KEY);

fn url(stack: &Stack, path: &str) -> String {
    format!("{}{path}", stack.ingress_url())
}

fn chat(content: &str, stream: bool) -> Value {
    json!({"model": "mock-small", "stream": stream, "messages": [{"role": "user", "content": content}]})
}

/// `[[mock {...}]]` with `directive` as its JSON.
fn mock(directive: Value) -> String {
    format!("[[mock {directive}]]")
}

/// The `data:` payloads of a stream, each checked to be `[DONE]` or JSON.
fn stream_events(stack: &Stack, path: &str, body: &Value) -> (client::HttpResponse, Vec<Value>, Vec<String>) {
    let mut raw = Vec::new();
    let response = client::post_sse(&url(stack, path), &[AUTH], body, |data| raw.push(data.to_owned())).unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    let parsed = raw
        .iter()
        .filter(|d| d.as_str() != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("an event is not valid JSON ({e}): {d}")))
        .collect();
    (response, parsed, raw)
}

/// Waits for the access log line of the last exchange and returns its
/// `masked=` report (the `portcullis.masked` filter state).
fn last_masked_report(stack: &Stack) -> Value {
    for _ in 0..50 {
        let log = stack.envoy_log();
        if let Some(report) = log.lines().rev().filter(|l| l.contains("[portcullis]")).find_map(|l| l.split("masked=").nth(1)) {
            if let Ok(value) = serde_json::from_str(report.trim()) {
                return value;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no access log line with a masked= report:\n{}", stack.envoy_log());
}

#[test]
fn json_response_is_masked_and_stays_valid_json() {
    let stack = start(RESPONSES_ONLY);
    let reply = "card 4111 1111 1111 1111, mail jane.doe@example.com, IBAN DE89 3704 0044 0532 0130 00, key AKIAZ7Q2VHNK3RJXW4PB, token ghp_4aZ0rT9bQx7LmN2cV5yW8kP3sD6fG1hJ0eRt";
    let response = client::post_json(&url(&stack, "/v1/chat/completions"), &[AUTH], &chat(&mock(json!({"reply": reply})), false)).unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    let body = response.json().expect("the masked response must still be JSON");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "card [CREDIT_CARD], mail [EMAIL], IBAN [IBAN], key [AWS_ACCESS_KEY], token [GITHUB_TOKEN]"
    );
    assert_eq!(body["object"], "chat.completion", "the rest of the body is untouched");
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert!(response.header("content-length").is_none(), "a body that may change goes out without content-length");
    assert!(response.header("x-portcullis-policy-version").is_some());
    for raw in ["4111", "jane.doe", "DE89", "AKIAZ7Q2", "ghp_4aZ0"] {
        assert!(!response.body.contains(raw), "{raw} leaked: {}", response.body);
    }

    let report = last_masked_report(&stack);
    assert_eq!(report["response"], json!({"aws_access_key": 1, "credit_card": 1, "email": 1, "github_token": 1, "iban": 1}));
    assert_eq!(report["request"], json!({}));
    let log = stack.envoy_log();
    assert!(log.contains("masked POST /v1/chat/completions"), "one info line per exchange:\n{log}");
    assert!(!log.contains("jane.doe@example.com") && !log.contains("4111 1111"), "values must never be logged");
}

#[test]
fn streamed_entities_split_across_events_are_masked() {
    let stack = start(RESPONSES_ONLY);
    let chunks = ["card 4111 ", "1111 1111", " 1111 ok, mail ja", "ne.doe@exam", "ple.com bye"];
    let (response, events, raw) =
        stream_events(&stack, "/v1/chat/completions", &chat(&mock(json!({"chunks": chunks})), true));
    assert!(response.header("content-type").unwrap().starts_with("text/event-stream"));
    let content: String =
        events.iter().filter_map(|e| e["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(content, "card [CREDIT_CARD] ok, mail [EMAIL] bye");
    assert_eq!(raw.last().map(String::as_str), Some("[DONE]"), "[DONE] is preserved, last");
    assert!(events.iter().any(|e| e["choices"][0]["finish_reason"] == "stop"));
    assert!(events.iter().all(|e| e["object"] == "chat.completion.chunk"));
    for leaked in ["4111", "1111 1111", "ne.doe", "exam"] {
        assert!(!response.body.contains(leaked), "{leaked} leaked: {}", response.body);
    }
    assert_eq!(last_masked_report(&stack)["response"], json!({"credit_card": 1, "email": 1}));

    // Legacy completions stream `choices[].text`.
    let body = json!({"model": "mock-small", "stream": true, "prompt": mock(json!({"chunks": ["ssn 123-", "45-6789 end"]}))});
    let (_, events, _) = stream_events(&stack, "/v1/completions", &body);
    let text: String = events.iter().filter_map(|e| e["choices"][0]["text"].as_str()).collect();
    assert_eq!(text, "ssn [US_SSN] end");
}

#[test]
fn anthropic_message_streams_are_masked() {
    let stack = start(RESPONSES_ONLY);
    let chunks = ["Card 5555 55", "55 5555 4444", " and mail jane.", "doe@example", ".com done"];
    let body = json!({"model": "mock-small", "max_tokens": 256, "stream": true,
        "messages": [{"role": "user", "content": mock(json!({"chunks": chunks}))}]});
    let (_, events, _) = stream_events(&stack, "/v1/messages", &body);
    let text: String = events
        .iter()
        .filter(|e| e["type"] == "content_block_delta")
        .filter_map(|e| e["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Card [CREDIT_CARD] and mail [EMAIL] done");
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types.first(), Some(&"message_start"));
    assert_eq!(types.last(), Some(&"message_stop"));

    // The official client parses the masked stream.
    let seen = python::run_client("anthropic_mask.py", &[("PORTCULLIS_BASE_URL", &stack.ingress_url()), ("PORTCULLIS_API_KEY", API_KEY)]).unwrap();
    assert_eq!(seen["non_stream"]["text"], "card [CREDIT_CARD] ok");
    assert_eq!(seen["stream"]["text"], "Card [CREDIT_CARD] and mail [EMAIL] done");
    assert_eq!(seen["stream"]["final_text"], "Card [CREDIT_CARD] and mail [EMAIL] done");
    assert_eq!(seen["stream"]["stop_reason"], "end_turn");
}

#[test]
fn official_openai_client_reads_masked_json_and_streams() {
    let stack = start(RESPONSES_ONLY);
    let seen = python::run_client("openai_mask.py", &[("PORTCULLIS_BASE_URL", &stack.ingress_url()), ("PORTCULLIS_API_KEY", API_KEY)]).unwrap();
    assert_eq!(seen["non_stream"]["content"], "card [CREDIT_CARD], mail [EMAIL]");
    assert_eq!(seen["non_stream"]["content_length"], Value::Null);
    assert!(seen["non_stream"]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(seen["stream"]["content"], "Your card [CREDIT_CARD] is on file; we wrote to [EMAIL] today.");
    assert_eq!(seen["stream"]["finish_reasons"], json!(["stop"]));
    assert!(seen["stream"]["total_tokens"].as_u64().unwrap() > 0, "the usage chunk passes: {seen}");
}

/// Fails when any of `raws` appears in `text`.
fn assert_no_leak(text: &str, raws: &[&str]) {
    for raw in raws {
        assert!(!text.contains(raw), "{raw} leaked: {text}");
    }
}

/// What the official client must see of the Responses API answer asked
/// for by `openai_responses_mask.py`.
const RESPONSES_SUMMARY: &str = "The user [EMAIL] wants a refund";
const RESPONSES_TEXT: &str = "Refund to card [CREDIT_CARD]; key [AWS_ACCESS_KEY]";
const RESPONSES_ARGUMENTS: &str = r#"{"iban": "[IBAN]", "mail": "[EMAIL]"}"#;

#[test]
fn responses_api_is_masked_streamed_and_not() {
    let stack = start(RESPONSES_ONLY);
    let directive = json!({
        "thinking": ["The user jane.d", "oe@example.com wants a refund"],
        "chunks": ["Refund to card 4111 ", "1111 1111", " 1111; key AKIAZ7Q2", "VHNK3RJXW4PB"],
        "tool_calls": [{"name": "refund", "chunks": ["{\"iban\": \"DE89 3704 ", "0044 0532 0130 00\", \"mail\": \"jane.doe@exa", "mple.com\"}"]}],
    });
    let body = json!({"model": "mock-small", "stream": true, "input": mock(directive)});
    let (response, events, _) = stream_events(&stack, "/v1/responses", &body);
    assert_no_leak(
        &response.body,
        &["jane", "4111", "1111 1111", "AKIAZ7Q2", "DE89", "0044"],
    );
    let deltas = |kind: &str| -> String {
        events
            .iter()
            .filter(|e| e["type"] == kind)
            .filter_map(|e| e["delta"].as_str())
            .collect()
    };
    assert_eq!(
        deltas("response.reasoning_summary_text.delta"),
        RESPONSES_SUMMARY
    );
    assert_eq!(deltas("response.output_text.delta"), RESPONSES_TEXT);
    assert_eq!(
        deltas("response.function_call_arguments.delta"),
        RESPONSES_ARGUMENTS
    );
    // The key, held until the text ended, goes out in an extra delta event.
    let done = events
        .iter()
        .position(|e| e["type"] == "response.output_text.done")
        .unwrap();
    assert_eq!(events[done - 1]["type"], "response.output_text.delta");
    assert_eq!(events[done - 1]["delta"], "[AWS_ACCESS_KEY]");
    let completed = events
        .iter()
        .find(|e| e["type"] == "response.completed")
        .expect("response.completed passes");
    assert_eq!(
        completed["response"]["output"][1]["content"][0]["text"],
        RESPONSES_TEXT
    );
    assert_eq!(
        completed["response"]["output"][2]["arguments"],
        RESPONSES_ARGUMENTS
    );
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["sequence_number"].as_u64() <= w[1]["sequence_number"].as_u64()),
        "sequence numbers never go back"
    );
    assert_eq!(
        last_masked_report(&stack)["response"],
        json!({"aws_access_key": 1, "credit_card": 1, "email": 2, "iban": 1}),
        "entities repeated by done and completed events are counted once"
    );

    let seen = python::run_client(
        "openai_responses_mask.py",
        &[
            ("PORTCULLIS_BASE_URL", &stack.ingress_url()),
            ("PORTCULLIS_API_KEY", API_KEY),
        ],
    )
    .unwrap();
    assert_no_leak(
        &seen.to_string(),
        &["jane", "4111", "1111 1111", "AKIAZ7Q2", "DE89", "0044"],
    );
    let want = json!({"summary": RESPONSES_SUMMARY, "text": RESPONSES_TEXT, "arguments": RESPONSES_ARGUMENTS});
    assert_eq!(seen["non_stream"]["output_text"], RESPONSES_TEXT);
    assert_eq!(seen["non_stream"]["status"], "completed");
    assert_eq!(seen["stream"]["deltas"], want);
    assert_eq!(seen["stream"]["done"]["completed"], want);
    for field in ["summary", "text", "arguments"] {
        assert_eq!(
            seen["stream"]["done"][field], want[field],
            "{field}.done repeats the masked deltas"
        );
        assert_eq!(
            seen["helper"][field], want[field],
            "the streaming helper's final response"
        );
    }
    assert_eq!(
        seen["stream"]["done"]["completed_output_text"],
        RESPONSES_TEXT
    );
    assert_eq!(
        (
            seen["stream"]["first"].as_str(),
            seen["stream"]["last"].as_str()
        ),
        (Some("response.created"), Some("response.completed"))
    );
    assert_eq!(
        seen["helper"]["snapshot"], RESPONSES_TEXT,
        "the helper's accumulated deltas"
    );
    assert_eq!(seen["helper"]["output_text"], RESPONSES_TEXT);
}

#[test]
fn streamed_chat_tool_call_arguments_are_masked() {
    let stack = start(RESPONSES_ONLY);
    let seen = python::run_client(
        "openai_tools_mask.py",
        &[
            ("PORTCULLIS_BASE_URL", &stack.ingress_url()),
            ("PORTCULLIS_API_KEY", API_KEY),
        ],
    )
    .unwrap();
    assert_no_leak(
        &seen.to_string(),
        &["jane", "4111", "1111 1111", "AKIAZ7Q2"],
    );
    let want = json!([
        r#"{"card": "[CREDIT_CARD]", "mail": "[EMAIL]"}"#,
        r#"{"key": "[AWS_ACCESS_KEY]"}"#
    ]);
    assert_eq!(seen["stream"]["arguments"], want);
    assert_eq!(seen["stream"]["names"], json!(["charge", "store"]));
    assert_eq!(seen["stream"]["finish_reasons"], json!(["tool_calls"]));
    assert_eq!(seen["helper"]["arguments"], want);
    assert_eq!(seen["non_stream"]["arguments"], want);
    assert_eq!(seen["non_stream"]["finish_reason"], "tool_calls");
}

#[test]
fn anthropic_thinking_text_and_tool_input_are_masked() {
    let stack = start(RESPONSES_ONLY);
    let seen = python::run_client(
        "anthropic_thinking_mask.py",
        &[
            ("PORTCULLIS_BASE_URL", &stack.ingress_url()),
            ("PORTCULLIS_API_KEY", API_KEY),
        ],
    )
    .unwrap();
    assert_no_leak(&seen.to_string(), &["jane", "5555", "AKIAZ7Q2", "123-4"]);
    for mode in ["non_stream", "stream"] {
        let got = &seen[mode];
        assert_eq!(
            got["thinking"], "The user [EMAIL] pays with [CREDIT_CARD]",
            "{mode}"
        );
        assert_eq!(got["text"], "Charging card [CREDIT_CARD] now.", "{mode}");
        assert_eq!(
            got["input"],
            json!({"key": "[AWS_ACCESS_KEY]", "ssn": "[US_SSN]"}),
            "{mode}"
        );
        assert_eq!(got["stop_reason"], "tool_use", "{mode}");
        let signature = got["signature"].as_str().unwrap();
        assert!(
            signature.starts_with("EqMBCkgIBRABGAIqQ") && signature.len() == 17 + 24,
            "the signature passes unchanged: {signature}"
        );
    }
    assert_eq!(
        seen["stream"]["thinking_deltas"],
        "The user [EMAIL] pays with [CREDIT_CARD]"
    );
    assert_eq!(
        seen["stream"]["partial_json"],
        r#"{"key": "[AWS_ACCESS_KEY]", "ssn": "[US_SSN]"}"#
    );
    assert_eq!(
        last_masked_report(&stack)["response"],
        json!({"aws_access_key": 1, "credit_card": 2, "email": 1, "us_ssn": 1})
    );
}

#[test]
fn pseudonymised_prompt_reaches_the_model_as_placeholders_and_comes_back_restored() {
    let stack = start("  entities:\n    email: { operator: pseudonymize }");
    let prompt = format!("Please write to jane.doe@example.com and cc jane.doe@example.com. {}", mock(json!({"echo": true})));
    let request = chat(&prompt, false);

    let through = client::post_json(&url(&stack, "/v1/chat/completions"), &[AUTH], &request).unwrap();
    assert_eq!(through.status, 200, "{}", through.body);
    let through = through.json().unwrap();
    assert_eq!(through["choices"][0]["message"]["content"], "echo: Please write to jane.doe@example.com and cc jane.doe@example.com.");

    // What the model saw: the mock derives its response id from a hash of the
    // request body, and answers the placeholder body with the same id.
    let placeholder_body: Value =
        serde_json::from_str(&request.to_string().replace("jane.doe@example.com", "[EMAIL_1]")).unwrap();
    let direct = client::post_json(&format!("{}/v1/chat/completions", stack.model_url()), &[], &placeholder_body).unwrap().json().unwrap();
    assert_eq!(direct["choices"][0]["message"]["content"], "echo: Please write to [EMAIL_1] and cc [EMAIL_1].");
    assert_eq!(through["id"], direct["id"], "the model received the body with placeholders");
    let report = last_masked_report(&stack);
    assert_eq!(report["request"], json!({"email": 2}));

    // Streamed: placeholders split across events are restored; an address
    // the model makes up gets a new placeholder and stays masked.
    let chunks = ["Sent to [EMA", "IL_1]; copy to bob@", "example.org."];
    let prompt = format!("mail jane.doe@example.com {}", mock(json!({"chunks": chunks})));
    let (_, events, _) = stream_events(&stack, "/v1/chat/completions", &chat(&prompt, true));
    let content: String = events.iter().filter_map(|e| e["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(content, "Sent to jane.doe@example.com; copy to [EMAIL_2].");
    assert!(!stack.envoy_log().contains("jane.doe@example.com"), "the mapping is never logged");
}

#[test]
fn bodies_over_the_limit_are_refused_or_passed_as_the_policy_says() {
    let upstream = start_raw_upstream();
    let dir = tempfile::tempdir().unwrap();
    let stack = start_with("  max_body_bytes: 4096", &[], &config_with_raw_route(upstream.port, dir.path()));
    let big_prompt = format!("mail jane.doe@example.com {}", "lorem ipsum ".repeat(500));
    let response = client::post_json(&url(&stack, "/v1/chat/completions"), &[AUTH], &chat(&big_prompt, false)).unwrap();
    assert_eq!(response.status, 413, "{}", response.body);
    let body = response.json().unwrap();
    assert_eq!(body["error"]["code"], "portcullis_body_too_large");
    assert!(body["error"]["message"].as_str().unwrap().contains("max_body_bytes"));

    let big_reply = chat(&mock(json!({"reply": "mail jane.doe@example.com ", "repeat": 400})), false);
    let response = client::post_json(&url(&stack, "/v1/chat/completions"), &[AUTH], &big_reply).unwrap();
    assert_eq!(response.status, 502, "{}", response.body);
    let body = response.json().unwrap();
    assert_eq!(body["error"]["code"], "portcullis_body_too_large");
    assert_eq!(body["error"]["type"], "api_error");
    assert!(!response.body.contains("jane.doe"));

    // Without a declared length the body is found too large only after the
    // 200 went out: the stream is reset, the body never reaches the caller.
    match client::post_json(&url(&stack, "/raw/chunked/v1/chat/completions"), &[AUTH], &chat("hi", false)) {
        Err(_) => {}
        Ok(response) => assert!(!response.body.contains("jane.doe"), "{} {}", response.status, response.body),
    }
    assert!(stack.envoy_log().contains("the stream is reset"), "the reset is logged");
    // A stream is not buffered whole: only a single event is bounded.
    let long_stream = chat(&mock(json!({"reply": "mail jane.doe@example.com ", "repeat": 400})), true);
    let (_, events, _) = stream_events(&stack, "/v1/chat/completions", &long_stream);
    let content: String = events.iter().filter_map(|e| e["choices"][0]["delta"]["content"].as_str()).collect();
    assert!(content.len() > 4096 && !content.contains("jane.doe") && content.contains("[EMAIL]"));
    drop(stack);

    let stack = start("  max_body_bytes: 4096\n  over_limit: pass_unmasked\n  mask_requests: false");
    let response = client::post_json(&url(&stack, "/v1/chat/completions"), &[AUTH], &big_reply).unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(response.json().unwrap()["choices"][0]["message"]["content"].as_str().unwrap().contains("jane.doe@example.com"));
    let report = last_masked_report(&stack);
    assert!(report["notes"][0].as_str().unwrap().contains("passed unmasked"), "pass_unmasked is on record: {report}");
    assert!(stack.envoy_log().contains("passed unmasked (over_limit: pass_unmasked)"), "and logged");
}

/// A tiny upstream for answers the mock model cannot give: under
/// `/raw/gzip/` a gzip-encoded JSON body, under `/raw/chunked/` an 8 KiB JSON
/// body with an e-mail address and no `content-length`. Records the request
/// heads it receives.
struct RawUpstream {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

fn start_raw_upstream() -> RawUpstream {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&heads);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head and the body (content-length or chunked framing).
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let chunked = text[..end].contains("transfer-encoding: chunked");
                    let length = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    let body = request.len() - end - 4;
                    if (chunked && text.ends_with("0\r\n\r\n")) || (!chunked && body >= length) {
                        break;
                    }
                }
            }
            let head = String::from_utf8_lossy(&request).split("\r\n\r\n").next().unwrap_or("").to_owned();
            let gzip = head.contains(" /raw/gzip/");
            record.lock().unwrap().push(head);
            let _ = if gzip {
                let body = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03];
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body))
            } else {
                let content = "mail jane.doe@example.com ".repeat(320);
                let body = json!({"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).to_string();
                let mut out = String::from("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n");
                for piece in body.as_bytes().chunks(1024) {
                    out.push_str(&format!("{:x}\r\n{}\r\n", piece.len(), String::from_utf8_lossy(piece)));
                }
                out.push_str("0\r\n\r\n");
                stream.write_all(out.as_bytes())
            };
        }
    });
    RawUpstream { port, heads }
}

/// `envoy/portcullis.yaml` with one more route: `/raw/` goes to `port`.
fn config_with_raw_route(port: u16, dir: &std::path::Path) -> String {
    let template = std::fs::read_to_string(portcullis_e2e::paths::project_root().join("envoy/portcullis.yaml")).unwrap();
    let route = "                      routes:\n";
    let cluster = "  clusters:\n";
    assert!(template.contains(route) && template.contains(cluster), "envoy/portcullis.yaml changed shape");
    let config = template
        .replacen(
            route,
            &format!("{route}                        - match: {{ prefix: \"/raw/\" }}\n                          route: {{ cluster: raw_upstream, timeout: 0s }}\n"),
            1,
        )
        .replacen(
            cluster,
            &format!("{cluster}    - name: raw_upstream\n      type: STATIC\n      connect_timeout: 2s\n      load_assignment:\n        cluster_name: raw_upstream\n        endpoints:\n          - lb_endpoints:\n              - endpoint:\n                  address:\n                    socket_address: {{ address: 127.0.0.1, port_value: {port} }}\n"),
            1,
        );
    let path = dir.join("portcullis-raw.yaml");
    std::fs::write(&path, config).unwrap();
    path.display().to_string()
}

#[test]
fn compressed_upstream_responses_are_refused_not_passed_unmasked() {
    let upstream = start_raw_upstream();
    let dir = tempfile::tempdir().unwrap();
    let stack = start_with(RESPONSES_ONLY, &[], &config_with_raw_route(upstream.port, dir.path()));
    let response = client::post_json(
        &url(&stack, "/raw/gzip/v1/chat/completions"),
        &[AUTH, ("accept-encoding", "gzip, br")],
        &chat("hi", false),
    )
    .unwrap();
    assert_eq!(response.status, 502, "{}", response.body);
    let body = response.json().unwrap();
    assert_eq!(body["error"]["code"], "portcullis_compressed_body");
    assert_eq!(body["error"]["type"], "api_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("gzip"));
    let heads = upstream.heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let accept: Vec<&str> = heads[0].lines().filter(|l| l.to_ascii_lowercase().starts_with("accept-encoding:")).collect();
    assert_eq!(accept, ["accept-encoding: identity"], "the upstream is asked for identity encoding: {}", heads[0]);

    // The mock model answers uncompressed whatever the client accepts.
    let response = client::post_json(&url(&stack, "/v1/chat/completions"), &[AUTH, ("accept-encoding", "gzip")], &chat("hi", false)).unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
}

#[test]
fn hash_operator_needs_its_key_and_fails_closed_without_it() {
    let masking = "  mask_requests: false\n  entities:\n    email: { operator: { hash: { hex_len: 12 } } }\n  hmac_key_ref: mask-hmac-key";
    let stack = start_with(masking, &[], "portcullis.yaml");
    let response = client::post_json(&url(&stack, "/v1/chat/completions"), &[AUTH], &chat("hi", false)).unwrap();
    assert_eq!(response.status, 503, "{}", response.body);
    let body = response.json().unwrap();
    assert_eq!(body["error"]["code"], "portcullis_masking_key_missing");
    assert!(body["error"]["message"].as_str().unwrap().contains("mask-hmac-key"));
    drop(stack);

    let stack = start_with(masking, &[("mask-hmac-key", "e2e-hmac-key-0123456789")], "portcullis.yaml");
    let ask = chat(&mock(json!({"reply": "a jane.doe@example.com b jane.doe@example.com"})), false);
    let response = client::post_json(&url(&stack, "/v1/chat/completions"), &[AUTH], &ask).unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    let content = response.json().unwrap()["choices"][0]["message"]["content"].as_str().unwrap().to_owned();
    let words: Vec<&str> = content.split(' ').collect();
    assert_eq!(words.len(), 4, "{content}");
    assert!(words[1].starts_with("[EMAIL:") && words[1].len() == "[EMAIL:]".len() + 12, "{content}");
    assert_eq!(words[1], words[3], "the same value hashes the same: {content}");
    assert!(!stack.envoy_log().contains("e2e-hmac-key"), "the key is never logged");
}
