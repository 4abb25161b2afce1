//! The Anthropic-compatible Messages endpoint, driven through the router
//! with `oneshot`.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

fn request(prompt: &str, stream: bool) -> Value {
    json!({
        "model": "claude-mock",
        "max_tokens": 64,
        "system": [{"type": "text", "text": "sys!"}],
        "messages": [
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": prompt}]}
        ],
        "stream": stream,
    })
}

#[tokio::test]
async fn messages_non_streaming_shape() {
    let r = post("/v1/messages", &request("hi you", false)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().starts_with(r#"{"id":"msg_"#));
    assert!(r.text().ends_with(r#""stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":3}}"#));
    assert_eq!(r.content_type(), "application/json");
    let v = r.json();
    let id = v["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("msg_"), "{id}");
    // input: "sys!"(4) + "earlier"(7) + "ok"(2) + "hi you"(6) = 19 -> 5;
    // output: "echo: hi you" (12) -> 3.
    assert_eq!(
        v,
        json!({
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": "claude-mock",
            "content": [{"type": "text", "text": "echo: hi you"}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {"input_tokens": 5, "output_tokens": 3}
        })
    );
}

#[tokio::test]
async fn messages_stream_event_sequence() {
    let prompt = r#"[[mock {"chunks":["Hel","lo"]}]]"#;
    let r = post("/v1/messages", &request(prompt, true)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "text/event-stream");
    assert!(!r.aborted);
    let text = r.text();
    for event in sse_events(&text) {
        assert!(
            event.contains("\ndata: {\"type\":\""),
            "type comes first: {event}"
        );
    }
    assert!(text.contains(r#"data: {"type":"message_start","message":{"id":"msg_"#));
    let events = named_events(&text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let start = &events[0].1["message"];
    assert!(start["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["model"], "claude-mock");
    assert_eq!(start["stop_reason"], Value::Null);
    // "sys!" + "earlier" + "ok" + the prompt, four characters a token.
    let input_chars = 4 + 7 + 2 + prompt.chars().count();
    assert_eq!(start["usage"]["input_tokens"], input_chars.div_ceil(4));
    assert_eq!(start["usage"]["input_tokens"], 12);
    assert_eq!(
        events[1].1,
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    );
    assert_eq!(
        events[3].1,
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}})
    );
    assert_eq!(events[4].1["delta"]["text"], "lo");
    assert_eq!(
        events[5].1,
        json!({"type": "content_block_stop", "index": 0})
    );
    assert_eq!(
        events[6].1,
        json!({
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"output_tokens": 2}
        })
    );
    assert_eq!(events[7].1, json!({"type": "message_stop"}));
}

#[tokio::test]
async fn messages_stream_abort() {
    let prompt = r#"[[mock {"reply":"a b c d","abort_after":1}]]"#;
    let r = post("/v1/messages", &request(prompt, true)).await;
    assert!(r.aborted);
    let events = named_events(&r.text());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta"
        ]
    );
    assert_eq!(events[3].1["delta"]["text"], "a ");
}

#[tokio::test]
async fn messages_errors_use_the_anthropic_shape() {
    for (status, kind) in [
        (429, "rate_limit_error"),
        (529, "overloaded_error"),
        (500, "api_error"),
    ] {
        let prompt = format!(r#"[[mock {{"status":{status}}}]]"#);
        let r = post("/v1/messages", &request(&prompt, true)).await;
        assert_eq!(r.status.as_u16(), status);
        assert_eq!(
            r.json(),
            json!({"type": "error", "error": {"type": kind, "message": "mock failure requested"}})
        );
    }
    let mut missing = request("x", false);
    missing.as_object_mut().unwrap().remove("max_tokens");
    let bad: Vec<(String, &str)> = vec![
        ("{oops".into(), "not valid JSON"),
        (missing.to_string(), "max_tokens"),
        (
            json!({"model": "m", "max_tokens": 1, "messages": []}).to_string(),
            "messages",
        ),
        (
            request(r#"[[mock {"bogus":true}]]"#, false).to_string(),
            "`bogus`",
        ),
    ];
    for (body, needle) in bad {
        let r = post_raw("/v1/messages", body.clone(), &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let v = r.json();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
}
