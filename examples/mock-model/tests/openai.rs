//! The OpenAI-compatible endpoints, driven through the router with `oneshot`.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

fn deltas(chunks: &[Value]) -> Vec<Value> {
    chunks
        .iter()
        .filter(|c| !c["choices"].as_array().unwrap().is_empty())
        .map(|c| c["choices"][0]["delta"].clone())
        .collect()
}

#[tokio::test]
async fn chat_non_streaming_has_the_openai_shape() {
    let r = post("/v1/chat/completions", &chat_request("hello there", false)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "application/json");
    let v = r.json();
    assert_eq!(
        keys(&v),
        [
            "choices",
            "created",
            "id",
            "model",
            "object",
            "service_tier",
            "system_fingerprint",
            "usage"
        ]
    );
    // Keys are on the wire in the real API's order.
    let raw = r.text();
    assert!(raw.starts_with(r#"{"id":"chatcmpl-"#), "{raw}");
    assert!(
        raw.contains(r#","object":"chat.completion","created":"#),
        "{raw}"
    );
    assert!(raw.contains(r#""message":{"role":"assistant","content":"echo: hello there","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"#), "{raw}");
    assert!(
        raw.ends_with(r#""service_tier":"default","system_fingerprint":"fp_portcullis_mock"}"#),
        "{raw}"
    );
    let id = v["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-") && id.len() > 20, "{id}");
    assert_eq!(v["object"], "chat.completion");
    assert!(v["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(v["model"], "mock-small");
    assert_eq!(v["system_fingerprint"], "fp_portcullis_mock");
    assert_eq!(v["service_tier"], "default");
    assert_eq!(
        v["choices"],
        json!([{
            "index": 0,
            "message": {"role": "assistant", "content": "echo: hello there", "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
        }])
    );
    // prompt: "be terse" (8) + "hello there" (11) = 19 chars -> 5 tokens;
    // completion: "echo: hello there" (17 chars) -> 5 tokens.
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10})
    );

    let again = post("/v1/chat/completions", &chat_request("hello there", false)).await;
    assert_eq!(again.json()["id"], v["id"], "ids are deterministic");
    let other = post("/v1/chat/completions", &chat_request("hello here", false)).await;
    assert_ne!(other.json()["id"], v["id"]);
}

#[tokio::test]
async fn chat_uses_last_user_message_and_text_parts() {
    let body = json!({
        "model": "mock-large",
        "messages": [
            {"role": "user", "content": "old question"},
            {"role": "assistant", "content": "old answer"},
            {"role": "user", "content": [{"type": "text", "text": "new "}, {"type": "text", "text": "question"}]}
        ]
    });
    let v = post("/v1/chat/completions", &body).await.json();
    assert_eq!(v["choices"][0]["message"]["content"], "echo: new question");
    assert_eq!(v["model"], "mock-large");
}

#[tokio::test]
async fn chat_stream_events_are_ordered_and_end_with_done() {
    let r = post("/v1/chat/completions", &chat_request("one two three", true)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "text/event-stream");
    assert!(!r.aborted);
    let text = r.text();
    assert!(text.ends_with("data: [DONE]\n\n"));
    let (chunks, done) = openai_chunks(&text);
    assert!(done);
    assert_eq!(
        deltas(&chunks),
        [
            json!({"role": "assistant", "content": "", "refusal": null}),
            json!({"content": "echo: "}),
            json!({"content": "one "}),
            json!({"content": "two "}),
            json!({"content": "three"}),
            json!({}),
        ]
    );
    for event in sse_events(&text) {
        assert!(
            event == "data: [DONE]" || event.starts_with(r#"data: {"id":"chatcmpl-"#),
            "{event}"
        );
    }
    assert!(text.contains(r#""choices":[{"index":0,"delta":{"content":"one "},"logprobs":null,"finish_reason":null}]}"#));
    let id = chunks[0]["id"].clone();
    for (i, chunk) in chunks.iter().enumerate() {
        assert_eq!(
            keys(chunk),
            [
                "choices",
                "created",
                "id",
                "model",
                "object",
                "system_fingerprint"
            ],
            "no usage key without include_usage"
        );
        assert_eq!(chunk["id"], id);
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], "mock-small");
        assert_eq!(chunk["system_fingerprint"], "fp_portcullis_mock");
        assert_eq!(chunk["choices"][0]["index"], 0);
        assert_eq!(chunk["choices"][0]["logprobs"], Value::Null);
        let finish = if i + 1 == chunks.len() {
            json!("stop")
        } else {
            Value::Null
        };
        assert_eq!(chunk["choices"][0]["finish_reason"], finish);
    }
}

#[tokio::test]
async fn chat_stream_include_usage_adds_a_usage_chunk() {
    let mut body = chat_request("abcd", true);
    body["stream_options"] = json!({"include_usage": true});
    let (chunks, done) = openai_chunks(&post("/v1/chat/completions", &body).await.text());
    assert!(done);
    let (last, rest) = chunks.split_last().unwrap();
    assert_eq!(last["choices"], json!([]));
    // prompt "be terse"+"abcd" = 12 chars -> 3; completion "echo: abcd" = 10 -> 3.
    assert_eq!(
        last["usage"],
        json!({"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6})
    );
    assert_eq!(rest.len(), 4, "role, two content pieces, finish");
    for chunk in rest {
        assert_eq!(chunk.get("usage"), Some(&Value::Null), "{chunk}");
        assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
    }
    assert_eq!(rest[3]["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn chunks_directive_yields_exactly_those_deltas() {
    let prompt = r#"card please [[mock {"chunks":["Card: 4111 11","11 1111 ","1111."]}]]"#;
    let r = post("/v1/chat/completions", &chat_request(prompt, true)).await;
    let (chunks, done) = openai_chunks(&r.text());
    assert!(done);
    let contents: Vec<Value> = deltas(&chunks)[1..chunks.len() - 1].to_vec();
    assert_eq!(
        contents,
        [
            json!({"content": "Card: 4111 11"}),
            json!({"content": "11 1111 "}),
            json!({"content": "1111."})
        ]
    );
    // Each content chunk is its own SSE event (its own body frame).
    assert_eq!(r.frames.len(), 1 + 3 + 1 + 1);

    let v = post("/v1/chat/completions", &chat_request(prompt, false))
        .await
        .json();
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Card: 4111 1111 1111 1111."
    );
}

#[tokio::test]
async fn reply_directive_with_chunk_size_and_repeat() {
    let prompt = r#"[[mock {"reply":"héllo🦀","chunk_size":3,"repeat":2}]]"#;
    let (chunks, _) = openai_chunks(
        &post("/v1/chat/completions", &chat_request(prompt, true))
            .await
            .text(),
    );
    let pieces: Vec<&str> = chunks[1..chunks.len() - 1]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(pieces, ["hél", "lo🦀", "hél", "lo🦀"]);
}

#[tokio::test]
async fn status_directive_returns_an_openai_error() {
    for (status, kind) in [
        (503, "server_error"),
        (429, "requests"),
        (400, "invalid_request_error"),
    ] {
        let prompt = format!(r#"[[mock {{"status":{status}}}]]"#);
        for stream in [false, true] {
            let r = post("/v1/chat/completions", &chat_request(&prompt, stream)).await;
            assert_eq!(r.status.as_u16(), status);
            assert_eq!(r.content_type(), "application/json");
            assert!(r
                .text()
                .starts_with(r#"{"error":{"message":"mock failure requested","type":"#));
            let v = r.json();
            assert_eq!(v["error"]["message"], "mock failure requested");
            assert_eq!(v["error"]["type"], kind);
            assert_eq!(keys(&v["error"]), ["code", "message", "param", "type"]);
        }
    }
}

#[tokio::test]
async fn echo_headers_returns_the_sent_headers() {
    let body = chat_request(r#"[[mock {"echo_headers":true}]]"#, false).to_string();
    let r = post_raw(
        "/v1/chat/completions",
        body,
        &[
            ("Authorization", "Bearer sk-test"),
            ("X-Portcullis-Tenant", "acme"),
        ],
    )
    .await;
    let content = r.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        content,
        r#"{"authorization":"Bearer sk-test","content-type":"application/json","x-portcullis-tenant":"acme"}"#
    );
}

#[tokio::test]
async fn abort_after_breaks_the_stream() {
    let prompt = r#"[[mock {"chunks":["a","b","c","d"],"abort_after":2}]]"#;
    let r = post("/v1/chat/completions", &chat_request(prompt, true)).await;
    assert!(r.aborted, "body must fail so the connection drops");
    let text = r.text();
    assert!(!text.contains("[DONE]"));
    let events = sse_events(&text);
    assert_eq!(events.len(), 3, "role chunk + 2 content chunks");
    let last: Value = serde_json::from_str(events[2].strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(last["choices"][0]["delta"], json!({"content": "b"}));

    let v = post("/v1/chat/completions", &chat_request(prompt, false))
        .await
        .json();
    assert_eq!(
        v["choices"][0]["message"]["content"], "abcd",
        "ignored when not streaming"
    );
}

#[tokio::test]
async fn delay_applies_before_each_event() {
    let prompt = r#"[[mock {"chunks":["a","b"],"delay_ms":8}]]"#;
    let start = Instant::now();
    let r = post("/v1/chat/completions", &chat_request(prompt, true)).await;
    // role, a, b, finish, [DONE] = 5 events.
    assert_eq!(r.frames.len(), 5);
    assert!(
        start.elapsed() >= Duration::from_millis(40),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn request_validation_errors() {
    let cases: Vec<(String, Option<&str>, &str)> = vec![
        ("{not json".into(), None, "could not parse the JSON body"),
        ("[1,2]".into(), None, "JSON object"),
        (
            json!({"messages": [{"role": "user", "content": "x"}]}).to_string(),
            Some("model"),
            "model",
        ),
        (
            json!({"model": "m"}).to_string(),
            Some("messages"),
            "'messages'",
        ),
        (
            json!({"model": "m", "messages": []}).to_string(),
            Some("messages"),
            "too short",
        ),
        (
            chat_request(r#"[[mock {"nope":1}]]"#, false).to_string(),
            Some("messages"),
            "unknown mock directive key `nope`",
        ),
        (
            chat_request(r#"[[mock {"reply":"a","chunks":["b"]}]]"#, false).to_string(),
            Some("messages"),
            "`reply` and `chunks`",
        ),
    ];
    for (body, param, needle) in cases {
        let r = post_raw("/v1/chat/completions", body.clone(), &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let v = r.json();
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["param"], json!(param), "{body}");
        assert_eq!(v["error"]["code"], Value::Null);
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
}
