//! Helpers shared by the router tests: drive `app()` with `oneshot` and read
//! bodies frame by frame.

#![allow(dead_code)]

use std::future::poll_fn;
use std::pin::Pin;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use http_body::Body as _;
use serde_json::Value;
use tower::ServiceExt;

/// What a response looked like on the wire.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body's data frames, in order.
    pub frames: Vec<Bytes>,
    /// Whether the body failed (the connection would be dropped).
    pub aborted: bool,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8(self.frames.concat()).expect("utf-8 body")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text()).expect("JSON body")
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

pub async fn send(request: Request<Body>) -> Reply {
    let response = portcullis_mock_model::app()
        .oneshot(request)
        .await
        .expect("infallible router");
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = response.into_body();
    let mut frames = Vec::new();
    let mut aborted = false;
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    frames.push(data);
                }
            }
            Err(_) => {
                aborted = true;
                break;
            }
        }
    }
    Reply {
        status,
        headers,
        frames,
        aborted,
    }
}

pub async fn post_raw(path: &str, body: impl Into<Body>, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::post(path).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request.body(body.into()).unwrap()).await
}

pub async fn post(path: &str, body: &Value) -> Reply {
    post_raw(path, body.to_string(), &[]).await
}

pub async fn get(path: &str) -> Reply {
    send(Request::get(path).body(Body::empty()).unwrap()).await
}

/// The sorted keys of a JSON object.
pub fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// Splits an SSE body into its events, checking every event ends in a
/// blank line.
pub fn sse_events(text: &str) -> Vec<&str> {
    assert!(
        text.ends_with("\n\n"),
        "SSE body must end with a blank line: {text:?}"
    );
    text.strip_suffix("\n\n").unwrap().split("\n\n").collect()
}

/// The `data:` payloads of an OpenAI-style stream; all but a final
/// `[DONE]` parsed as JSON. Returns (chunks, saw_done).
pub fn openai_chunks(text: &str) -> (Vec<Value>, bool) {
    let mut chunks = Vec::new();
    let mut done = false;
    for event in sse_events(text) {
        let data = event.strip_prefix("data: ").expect("only data: lines");
        assert!(!data.contains('\n'), "one line per event: {event:?}");
        assert!(!done, "nothing may follow [DONE]");
        if data == "[DONE]" {
            done = true;
        } else {
            chunks.push(serde_json::from_str(data).expect("chunk is JSON"));
        }
    }
    (chunks, done)
}

/// The (event name, data JSON) pairs of an Anthropic-style stream.
pub fn named_events(text: &str) -> Vec<(String, Value)> {
    sse_events(text)
        .into_iter()
        .map(|event| {
            let (name_line, data_line) = event.split_once('\n').expect("event + data lines");
            let name = name_line.strip_prefix("event: ").expect("event: line");
            let data = data_line.strip_prefix("data: ").expect("data: line");
            let json: Value = serde_json::from_str(data).expect("data is JSON");
            assert_eq!(json["type"], name, "data type matches the event name");
            (name.to_owned(), json)
        })
        .collect()
}

/// A chat request whose single user message is `prompt`.
pub fn chat_request(prompt: &str, stream: bool) -> Value {
    serde_json::json!({
        "model": "mock-small",
        "messages": [
            {"role": "system", "content": "be terse"},
            {"role": "user", "content": prompt}
        ],
        "stream": stream,
    })
}
