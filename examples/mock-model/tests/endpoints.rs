//! The models, legacy completions and housekeeping endpoints, driven through
//! the router with `oneshot`.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn models_list_and_get() {
    let r = get("/v1/models").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!({"object": "list", "data": [
            {"id": "mock-small", "object": "model", "created": 1_700_000_000, "owned_by": "portcullis"},
            {"id": "mock-large", "object": "model", "created": 1_700_000_000, "owned_by": "portcullis"}
        ]})
    );
    let r = get("/v1/models/mock-large").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["id"], "mock-large");
    let r = get("/v1/models/gpt-9").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "model_not_found");
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn legacy_completions() {
    let body = json!({"model": "mock-small", "prompt": "say hi"});
    let v = post("/v1/completions", &body).await.json();
    assert_eq!(
        keys(&v),
        ["choices", "created", "id", "model", "object", "usage"]
    );
    assert!(v["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(v["object"], "text_completion");
    assert_eq!(
        v["choices"],
        json!([{"text": "echo: say hi", "index": 0, "logprobs": null, "finish_reason": "stop"}])
    );
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5})
    );

    let body = json!({"model": "mock-small", "prompt": r#"[[mock {"chunks":["x","y"]}]]"#, "stream": true});
    let r = post("/v1/completions", &body).await;
    assert_eq!(r.content_type(), "text/event-stream");
    let (chunks, done) = openai_chunks(&r.text());
    assert!(done);
    let texts: Vec<(&str, &Value)> = chunks
        .iter()
        .map(|c| {
            (
                c["choices"][0]["text"].as_str().unwrap(),
                &c["choices"][0]["finish_reason"],
            )
        })
        .collect();
    assert_eq!(
        texts,
        [
            ("x", &Value::Null),
            ("y", &Value::Null),
            ("", &json!("stop"))
        ]
    );
    for c in &chunks {
        assert_eq!(c["object"], "text_completion");
        assert_eq!(c["id"], chunks[0]["id"]);
    }

    let r = post("/v1/completions", &json!({"model": "m"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["param"], "prompt");
}

#[tokio::test]
async fn healthz_and_unknown_paths() {
    let r = get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "ok");
    let r = get("/v1/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["message"], "Invalid URL (GET /v1/nope)");
}
