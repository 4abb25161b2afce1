//! The OpenAI-compatible endpoints: chat completions and models, plus the
//! error format and request checks shared with the legacy completions
//! endpoint.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use crate::answer::{self, estimate_tokens, estimate_tokens_for_chars, Plan};
use crate::ordered::J;
use crate::prompt::{last_user_text, total_chars};
use crate::{ids, obj, sse};

/// The `system_fingerprint` every response carries.
pub const SYSTEM_FINGERPRINT: &str = "fp_portcullis_mock";

/// The models `GET /v1/models` lists.
pub const MODELS: &[&str] = &["mock-small", "mock-large"];

/// The fixed `created` time of the listed models.
pub const MODELS_CREATED: u64 = 1_700_000_000;

/// An OpenAI error response:
/// `{"error":{"message","type","param","code"}}`.
pub fn error(
    status: StatusCode,
    message: impl Into<String>,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let kind = match status.as_u16() {
        429 => "requests",
        500..=599 => "server_error",
        _ => "invalid_request_error",
    };
    let body = obj! {
        "error": obj! {
            "message": message.into(),
            "type": kind,
            "param": param,
            "code": code,
        },
    };
    (status, Json(body)).into_response()
}

/// An OpenAI-format error that renders itself with [`error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `error.message`.
    pub message: String,
    /// `error.param`: the offending request field, if any.
    pub param: Option<&'static str>,
    /// `error.code`.
    pub code: Option<&'static str>,
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        error(self.status, self.message, self.param, self.code)
    }
}

/// A 400 `invalid_request_error` naming `param`.
pub fn invalid(message: impl Into<String>, param: Option<&'static str>) -> OpenAiError {
    OpenAiError {
        status: StatusCode::BAD_REQUEST,
        message: message.into(),
        param,
        code: None,
    }
}

/// Parses the request body as a JSON object, or answers 400.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, OpenAiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid("The request body must be a JSON object.", None)),
        Err(e) => Err(invalid(
            format!(
                "We could not parse the JSON body of your request. (HINT: This likely means \
                 you aren't using your HTTP library correctly. The OpenAI API expects a JSON \
                 payload, but what was sent was not valid JSON.) ({e})"
            ),
            None,
        )),
    }
}

/// The request's `model`, or a 400 naming it.
pub fn require_model(request: &Map<String, Value>) -> Result<String, OpenAiError> {
    match request.get("model") {
        Some(Value::String(model)) if !model.is_empty() => Ok(model.clone()),
        None | Some(Value::Null) => {
            Err(invalid("you must provide a model parameter", Some("model")))
        }
        Some(_) => Err(invalid(
            "Invalid type for 'model': expected a string.",
            Some("model"),
        )),
    }
}

/// `stream` and `stream_options.include_usage` of a request.
pub fn stream_flags(request: &Map<String, Value>) -> (bool, bool) {
    let stream = request
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let include_usage = request
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    (stream, include_usage)
}

/// Applies the plan's one-off delay and, if it asks for a failure, returns
/// the error response.
pub async fn fail_if_requested(plan: &Plan) -> Result<(), OpenAiError> {
    if let Some(status) = plan.status {
        tokio::time::sleep(plan.delay).await;
        return Err(OpenAiError {
            status,
            message: "mock failure requested".to_owned(),
            param: None,
            code: (status == StatusCode::TOO_MANY_REQUESTS).then_some("rate_limit_exceeded"),
        });
    }
    Ok(())
}

/// The `usage` object for the given token counts.
pub fn usage(prompt_tokens: u64, completion_tokens: u64) -> J {
    obj! {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
}

/// `POST /v1/chat/completions`.
pub async fn chat_completions(headers: HeaderMap, body: Bytes) -> Result<Response, OpenAiError> {
    let request = parse_object(&body)?;
    let model = require_model(&request)?;
    let messages = match request.get("messages") {
        None | Some(Value::Null) => {
            return Err(invalid(
                "Missing required parameter: 'messages'.",
                Some("messages"),
            ))
        }
        Some(Value::Array(m)) if m.is_empty() => {
            return Err(invalid("[] is too short - 'messages'", Some("messages")))
        }
        Some(Value::Array(m)) => m,
        Some(_) => {
            return Err(invalid(
                "Invalid type for 'messages': expected an array of objects.",
                Some("messages"),
            ))
        }
    };
    let (stream, include_usage) = stream_flags(&request);
    let plan = answer::plan(&last_user_text(messages), &headers)
        .map_err(|e| invalid(e.to_string(), Some("messages")))?;
    fail_if_requested(&plan).await?;

    let id = ids::from_body("chatcmpl-", &body);
    let created = ids::unix_now();
    let text = plan.text();
    let usage = usage(
        estimate_tokens_for_chars(total_chars(messages)),
        estimate_tokens(&text),
    );
    let finish_reason = if plan.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    let call_id = |i: usize| format!("{}_{i}", ids::from_body("call_", &body));
    if !stream {
        tokio::time::sleep(plan.delay).await;
        let mut message = obj! {
            "role": "assistant",
            "content": if text.is_empty() && !plan.tool_calls.is_empty() { J::NULL } else { J::from(text) },
            "refusal": J::NULL,
            "annotations": Vec::new(),
        };
        if !plan.tool_calls.is_empty() {
            let calls = plan.tool_calls.iter().enumerate().map(|(i, call)| {
                obj! {
                    "id": call_id(i),
                    "type": "function",
                    "function": obj! { "name": call.name.as_str(), "arguments": call.chunks.concat() },
                }
            });
            message = message.with("tool_calls", calls.collect::<Vec<_>>());
        }
        return Ok(Json(obj! {
            "id": id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": vec![obj! {
                "index": 0u64,
                "message": message,
                "logprobs": J::NULL,
                "finish_reason": finish_reason,
            }],
            "usage": usage,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        })
        .into_response());
    }

    let head = || {
        obj! {
            "id": &id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": &model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
    };
    let chunk = |delta: J, finish_reason: Option<&str>| {
        let chunk = head().with(
            "choices",
            vec![obj! {
                "index": 0u64,
                "delta": delta,
                "logprobs": J::NULL,
                "finish_reason": finish_reason,
            }],
        );
        let chunk = if include_usage {
            chunk.with("usage", J::NULL)
        } else {
            chunk
        };
        sse::data(&chunk)
    };
    let mut events = vec![chunk(
        obj! {"role": "assistant", "content": "", "refusal": J::NULL},
        None,
    )];
    let sent = plan.abort_after.unwrap_or(usize::MAX);
    for piece in plan.pieces.iter().take(sent) {
        events.push(chunk(obj! { "content": piece }, None));
    }
    if plan.abort_after.is_some() {
        return Ok(sse::response(events, plan.delay, sse::End::Abort));
    }
    for (i, call) in plan.tool_calls.iter().enumerate() {
        let opening = obj! {
            "index": i as u64,
            "id": call_id(i),
            "type": "function",
            "function": obj! { "name": call.name.as_str(), "arguments": "" },
        };
        events.push(chunk(obj! { "tool_calls": vec![opening] }, None));
        for piece in &call.chunks {
            let delta = obj! { "index": i as u64, "function": obj! { "arguments": piece } };
            events.push(chunk(obj! { "tool_calls": vec![delta] }, None));
        }
    }
    events.push(chunk(obj! {}, Some(finish_reason)));
    if include_usage {
        let last = head().with("choices", Vec::new()).with("usage", usage);
        events.push(sse::data(&last));
    }
    events.push(Bytes::from_static(sse::DONE.as_bytes()));
    Ok(sse::response(events, plan.delay, sse::End::Complete))
}

fn model_object(id: &str) -> J {
    obj! {
        "id": id,
        "object": "model",
        "created": MODELS_CREATED,
        "owned_by": "portcullis",
    }
}

/// `GET /v1/models`.
pub async fn list_models() -> Json<J> {
    Json(obj! {
        "object": "list",
        "data": MODELS.iter().map(|m| model_object(m)).collect::<Vec<_>>(),
    })
}

/// `GET /v1/models/{id}`.
pub async fn get_model(Path(id): Path<String>) -> Response {
    if MODELS.contains(&id.as_str()) {
        Json(model_object(&id)).into_response()
    } else {
        error(
            StatusCode::NOT_FOUND,
            format!("The model `{id}` does not exist or you do not have access to it."),
            Some("model"),
            Some("model_not_found"),
        )
    }
}
