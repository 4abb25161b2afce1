//! The Anthropic-compatible Messages endpoint, `POST /v1/messages`.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use crate::answer::{self, estimate_tokens, estimate_tokens_for_chars};
use crate::ordered::J;
use crate::prompt::{content_text, last_user_text, total_chars};
use crate::{ids, obj, sse};

/// An Anthropic error response:
/// `{"type":"error","error":{"type","message"}}`, its `type` chosen from the
/// status the way the real API does.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let kind = match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    };
    let body = obj! {
        "type": "error",
        "error": obj! { "type": kind, "message": message.into() },
    };
    (status, Json(body)).into_response()
}

/// An Anthropic-format error that renders itself with [`error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnthropicError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `error.message`.
    pub message: String,
}

impl IntoResponse for AnthropicError {
    fn into_response(self) -> Response {
        error(self.status, self.message)
    }
}

fn invalid(message: impl Into<String>) -> AnthropicError {
    AnthropicError {
        status: StatusCode::BAD_REQUEST,
        message: message.into(),
    }
}

fn parse(body: &[u8]) -> Result<Map<String, Value>, AnthropicError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid("request body must be a JSON object")),
        Err(e) => Err(invalid(format!("request body is not valid JSON: {e}"))),
    }
}

/// `POST /v1/messages`.
pub async fn messages(headers: HeaderMap, body: Bytes) -> Result<Response, AnthropicError> {
    let request = parse(&body)?;
    let model = match request.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        None | Some(Value::Null) => return Err(invalid("model: Field required")),
        Some(_) => return Err(invalid("model: Input should be a valid string")),
    };
    match request.get("max_tokens") {
        Some(v) if v.as_u64().is_some_and(|n| n >= 1) => {}
        None | Some(Value::Null) => return Err(invalid("max_tokens: Field required")),
        Some(_) => return Err(invalid("max_tokens: Input should be a positive integer")),
    }
    let messages = match request.get("messages") {
        Some(Value::Array(m)) if m.is_empty() => {
            return Err(invalid("messages: at least one message is required"))
        }
        Some(Value::Array(m)) => m,
        None | Some(Value::Null) => return Err(invalid("messages: Field required")),
        Some(_) => return Err(invalid("messages: Input should be a valid list")),
    };
    let stream = request
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let plan = answer::plan(&last_user_text(messages), &headers)
        .map_err(|e| invalid(format!("messages: {e}")))?;
    if let Some(status) = plan.status {
        tokio::time::sleep(plan.delay).await;
        return Err(AnthropicError {
            status,
            message: "mock failure requested".to_owned(),
        });
    }

    let id = ids::from_body("msg_", &body);
    let text = plan.text();
    let system_chars = request
        .get("system")
        .map_or(0, |s| content_text(s).chars().count());
    let input_tokens = estimate_tokens_for_chars(system_chars + total_chars(messages));
    let output_tokens = estimate_tokens(&text);
    let stop_reason = if plan.tool_calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    let with_text = !text.is_empty() || plan.tool_calls.is_empty();
    let tool_id = |i: usize| format!("{}_{i}", ids::from_body("toolu_", &body));
    if !stream {
        tokio::time::sleep(plan.delay).await;
        let mut content = Vec::new();
        if !plan.thinking.is_empty() {
            content.push(obj! {
                "type": "thinking",
                "thinking": plan.thinking_text(),
                "signature": signature(&id),
            });
        }
        if with_text {
            content.push(obj! { "type": "text", "text": text });
        }
        for (i, call) in plan.tool_calls.iter().enumerate() {
            content.push(obj! {
                "type": "tool_use",
                "id": tool_id(i),
                "name": call.name.as_str(),
                "input": tool_input(&call.chunks.concat()),
            });
        }
        return Ok(Json(obj! {
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": J::NULL,
            "usage": obj! { "input_tokens": input_tokens, "output_tokens": output_tokens },
        })
        .into_response());
    }

    let mut events = vec![sse::event(
        "message_start",
        &obj! {
            "type": "message_start",
            "message": obj! {
                "id": &id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": Vec::<J>::new(),
                "stop_reason": J::NULL,
                "stop_sequence": J::NULL,
                "usage": obj! { "input_tokens": input_tokens, "output_tokens": 1u64 },
            },
        },
    )];
    let mut index = 0u64;
    let start = |events: &mut Vec<Bytes>, index: u64, block: J| {
        events.push(sse::event(
            "content_block_start",
            &obj! { "type": "content_block_start", "index": index, "content_block": block },
        ));
        if index == 0 {
            events.push(sse::event("ping", &obj! { "type": "ping" }));
        }
    };
    let delta = |index: u64, delta: J| {
        sse::event(
            "content_block_delta",
            &obj! { "type": "content_block_delta", "index": index, "delta": delta },
        )
    };
    let stop = |index: u64| {
        sse::event(
            "content_block_stop",
            &obj! { "type": "content_block_stop", "index": index },
        )
    };
    if !plan.thinking.is_empty() {
        let block = obj! { "type": "thinking", "thinking": "", "signature": "" };
        start(&mut events, index, block);
        for piece in &plan.thinking {
            events.push(delta(
                index,
                obj! { "type": "thinking_delta", "thinking": piece },
            ));
        }
        events.push(delta(
            index,
            obj! { "type": "signature_delta", "signature": signature(&id) },
        ));
        events.push(stop(index));
        index += 1;
    }
    if with_text {
        start(&mut events, index, obj! { "type": "text", "text": "" });
        let sent = plan.abort_after.unwrap_or(usize::MAX);
        for piece in plan.pieces.iter().take(sent) {
            events.push(delta(index, obj! { "type": "text_delta", "text": piece }));
        }
        if plan.abort_after.is_some() {
            return Ok(sse::response(events, plan.delay, sse::End::Abort));
        }
        events.push(stop(index));
        index += 1;
    }
    for (i, call) in plan.tool_calls.iter().enumerate() {
        let block = obj! {
            "type": "tool_use",
            "id": tool_id(i),
            "name": call.name.as_str(),
            "input": obj! {},
        };
        start(&mut events, index, block);
        for piece in &call.chunks {
            events.push(delta(
                index,
                obj! { "type": "input_json_delta", "partial_json": piece },
            ));
        }
        events.push(stop(index));
        index += 1;
    }
    events.extend([
        sse::event(
            "message_delta",
            &obj! {
                "type": "message_delta",
                "delta": obj! { "stop_reason": stop_reason, "stop_sequence": J::NULL },
                "usage": obj! { "output_tokens": output_tokens },
            },
        ),
        sse::event("message_stop", &obj! { "type": "message_stop" }),
    ]);
    Ok(sse::response(events, plan.delay, sse::End::Complete))
}

/// The signature of a thinking block: opaque, derived from the message id.
pub fn signature(id: &str) -> String {
    format!("EqMBCkgIBRABGAIqQ{}", id.trim_start_matches("msg_"))
}

/// A tool call's `input`: its arguments parsed, or `{}` when they are not a
/// JSON object.
fn tool_input(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(value @ Value::Object(_)) => value,
        _ => Value::Object(Map::new()),
    }
}
