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
    if !stream {
        tokio::time::sleep(plan.delay).await;
        return Ok(Json(obj! {
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": vec![obj! { "type": "text", "text": text }],
            "stop_reason": "end_turn",
            "stop_sequence": J::NULL,
            "usage": obj! { "input_tokens": input_tokens, "output_tokens": output_tokens },
        })
        .into_response());
    }

    let mut events = vec![
        sse::event(
            "message_start",
            &obj! {
                "type": "message_start",
                "message": obj! {
                    "id": id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": Vec::<J>::new(),
                    "stop_reason": J::NULL,
                    "stop_sequence": J::NULL,
                    "usage": obj! { "input_tokens": input_tokens, "output_tokens": 1u64 },
                },
            },
        ),
        sse::event(
            "content_block_start",
            &obj! {
                "type": "content_block_start",
                "index": 0u64,
                "content_block": obj! { "type": "text", "text": "" },
            },
        ),
        sse::event("ping", &obj! { "type": "ping" }),
    ];
    let sent = plan.abort_after.unwrap_or(usize::MAX);
    for piece in plan.pieces.iter().take(sent) {
        events.push(sse::event(
            "content_block_delta",
            &obj! {
                "type": "content_block_delta",
                "index": 0u64,
                "delta": obj! { "type": "text_delta", "text": piece },
            },
        ));
    }
    if plan.abort_after.is_some() {
        return Ok(sse::response(events, plan.delay, sse::End::Abort));
    }
    events.extend([
        sse::event(
            "content_block_stop",
            &obj! { "type": "content_block_stop", "index": 0u64 },
        ),
        sse::event(
            "message_delta",
            &obj! {
                "type": "message_delta",
                "delta": obj! { "stop_reason": "end_turn", "stop_sequence": J::NULL },
                "usage": obj! { "output_tokens": output_tokens },
            },
        ),
        sse::event("message_stop", &obj! { "type": "message_stop" }),
    ]);
    Ok(sse::response(events, plan.delay, sse::End::Complete))
}
