//! The OpenAI Responses API and the `tool_calls`/`thinking` directives,
//! driven through the router with `oneshot`.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const DIRECTIVE: &str = r#"[[mock {"thinking":["th","ink"],"chunks":["Hel","lo"],"tool_calls":[{"name":"f","chunks":["{\"a\":","1}"]}]}]]"#;

#[tokio::test]
async fn responses_non_streaming_has_every_output_item() {
    let body = json!({"model": "m", "input": [{"role": "user", "content": [{"type": "input_text", "text": DIRECTIVE}]}]});
    let r = post("/v1/responses", &body).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert!(v["id"].as_str().unwrap().starts_with("resp_"));
    let output = v["output"].as_array().unwrap();
    assert_eq!(output[0]["summary"][0]["text"], "think");
    assert_eq!(
        output[1]["content"][0],
        json!({"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []})
    );
    assert_eq!(
        (
            output[2]["type"].as_str(),
            output[2]["name"].as_str(),
            output[2]["arguments"].as_str()
        ),
        (Some("function_call"), Some("f"), Some("{\"a\":1}"))
    );
    assert!(v["usage"]["total_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn responses_stream_is_named_numbered_and_complete() {
    let r = post(
        "/v1/responses",
        &json!({"model": "m", "input": DIRECTIVE, "stream": true}),
    )
    .await;
    assert_eq!(r.content_type(), "text/event-stream");
    let events = named_events(&r.text());
    for (i, (_, v)) in events.iter().enumerate() {
        assert_eq!(v["sequence_number"], i as u64);
    }
    let joined = |kind: &str, field: &str| -> String {
        events
            .iter()
            .filter(|(n, _)| n == kind)
            .filter_map(|(_, v)| v[field].as_str())
            .collect()
    };
    assert_eq!(
        joined("response.reasoning_summary_text.delta", "delta"),
        "think"
    );
    assert_eq!(joined("response.output_text.delta", "delta"), "Hello");
    assert_eq!(joined("response.output_text.done", "text"), "Hello");
    assert_eq!(
        joined("response.function_call_arguments.delta", "delta"),
        "{\"a\":1}"
    );
    assert_eq!(
        joined("response.function_call_arguments.done", "arguments"),
        "{\"a\":1}"
    );
    assert_eq!(events.first().unwrap().0, "response.created");
    let (last, completed) = events.last().unwrap();
    assert_eq!(last, "response.completed");
    assert_eq!(completed["response"]["output"].as_array().unwrap().len(), 3);
    let items: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "response.output_item.added")
        .map(|(_, v)| &v["output_index"])
        .collect();
    assert_eq!(items, [&json!(0), &json!(1), &json!(2)]);
}

#[tokio::test]
async fn chat_tool_calls_stream_opening_chunks_then_arguments() {
    let prompt = r#"[[mock {"tool_calls":[{"name":"f","chunks":["{\"a\":","1}"]},{"name":"g","chunks":["{}"]}]}]]"#;
    let (chunks, done) = openai_chunks(
        &post("/v1/chat/completions", &chat_request(prompt, true))
            .await
            .text(),
    );
    assert!(done);
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls[0]["function"], json!({"name": "f", "arguments": ""}));
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(
        calls[1],
        &json!({"index": 0, "function": {"arguments": "{\"a\":"}})
    );
    assert_eq!(calls[3]["index"], 1);
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
    assert!(
        chunks.iter().all(|c| c["choices"][0]["delta"]["content"]
            .as_str()
            .unwrap_or("")
            .is_empty()),
        "no echo with tool calls"
    );

    let v = post("/v1/chat/completions", &chat_request(prompt, false))
        .await
        .json();
    let message = &v["choices"][0]["message"];
    assert_eq!(message["content"], Value::Null);
    assert_eq!(
        message["tool_calls"][0]["function"],
        json!({"name": "f", "arguments": "{\"a\":1}"})
    );
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn anthropic_thinking_block_comes_first_and_is_signed() {
    let request = |stream: bool| json!({"model": "m", "max_tokens": 64, "stream": stream, "messages": [{"role": "user", "content": DIRECTIVE}]});
    let v = post("/v1/messages", &request(false)).await.json();
    let types: Vec<&str> = v["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["type"].as_str())
        .collect();
    assert_eq!(types, ["thinking", "text", "tool_use"]);
    assert_eq!(v["content"][0]["thinking"], "think");
    assert!(v["content"][0]["signature"]
        .as_str()
        .unwrap()
        .starts_with("EqMB"));
    assert_eq!(v["content"][2]["input"], json!({"a": 1}));
    assert_eq!(v["stop_reason"], "tool_use");

    let events = named_events(&post("/v1/messages", &request(true)).await.text());
    let deltas: Vec<(&Value, &str)> = events
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, v)| (&v["index"], v["delta"]["type"].as_str().unwrap()))
        .collect();
    let want = [
        (0, "thinking_delta"),
        (0, "thinking_delta"),
        (0, "signature_delta"),
        (1, "text_delta"),
        (1, "text_delta"),
        (2, "input_json_delta"),
        (2, "input_json_delta"),
    ];
    assert_eq!(deltas.len(), want.len());
    for ((index, kind), (want_index, want_kind)) in deltas.iter().zip(want) {
        assert_eq!((*index, *kind), (&json!(want_index), want_kind));
    }
}
