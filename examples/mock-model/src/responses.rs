//! The OpenAI Responses API, `POST /v1/responses`: a `response` object, or
//! with `stream: true` the typed event stream (`response.created`, output
//! items, content parts, text and argument deltas, `response.completed`),
//! each event named by an `event:` line and numbered by `sequence_number`.

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::answer::{self, estimate_tokens, Plan};
use crate::openai::{fail_if_requested, invalid, parse_object, require_model, OpenAiError};
use crate::ordered::J;
use crate::prompt::content_text;
use crate::{ids, obj, sse};

/// The prompt of a Responses request: `input` as a string, or the text of
/// the last `user` message of an `input` array.
fn prompt(input: &Value) -> Result<String, OpenAiError> {
    match input {
        Value::String(s) => Ok(s.clone()),
        Value::Array(items) => Ok(items
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .and_then(|m| m.get("content"))
            .map(content_text)
            .unwrap_or_default()),
        Value::Null => Err(invalid(
            "Missing required parameter: 'input'.",
            Some("input"),
        )),
        _ => Err(invalid(
            "Invalid type for 'input': expected a string or an array.",
            Some("input"),
        )),
    }
}

/// The ids of one response's items, derived from the request body.
struct Ids {
    response: String,
    reasoning: String,
    message: String,
    call: String,
}

impl Ids {
    fn new(body: &[u8]) -> Self {
        Ids {
            response: ids::from_body("resp_", body),
            reasoning: ids::from_body("rs_", body),
            message: ids::from_body("msg_", body),
            call: ids::from_body("fc_", body),
        }
    }

    fn function_call(&self, i: usize) -> String {
        format!("{}_{i}", self.call)
    }

    fn call_id(&self, i: usize) -> String {
        format!("call_{}_{i}", self.call.trim_start_matches("fc_"))
    }
}

fn reasoning_item(ids: &Ids, summary: Option<&str>) -> J {
    let summary: Vec<J> = summary
        .map(|text| vec![obj! { "type": "summary_text", "text": text }])
        .unwrap_or_default();
    obj! { "id": ids.reasoning.as_str(), "type": "reasoning", "summary": summary }
}

fn output_text(text: &str) -> J {
    obj! { "type": "output_text", "text": text, "annotations": Vec::new(), "logprobs": Vec::new() }
}

fn message_item(ids: &Ids, text: Option<&str>) -> J {
    let (status, content) = match text {
        Some(t) => ("completed", vec![output_text(t)]),
        None => ("in_progress", Vec::new()),
    };
    obj! {
        "id": ids.message.as_str(),
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }
}

fn call_item(ids: &Ids, i: usize, name: &str, arguments: Option<&str>) -> J {
    obj! {
        "id": ids.function_call(i),
        "type": "function_call",
        "status": if arguments.is_some() { "completed" } else { "in_progress" },
        "arguments": arguments.unwrap_or(""),
        "call_id": ids.call_id(i),
        "name": name,
    }
}

/// Every output item of the finished answer.
fn output(plan: &Plan, ids: &Ids) -> Vec<J> {
    let mut out = Vec::new();
    if !plan.thinking.is_empty() {
        out.push(reasoning_item(ids, Some(&plan.thinking_text())));
    }
    if has_message(plan) {
        out.push(message_item(ids, Some(&plan.text())));
    }
    for (i, call) in plan.tool_calls.iter().enumerate() {
        out.push(call_item(ids, i, &call.name, Some(&call.chunks.concat())));
    }
    out
}

/// Whether the answer has a message item (not when it only calls tools).
fn has_message(plan: &Plan) -> bool {
    !plan.pieces.is_empty() || plan.tool_calls.is_empty()
}

/// The `response` object.
fn response_object(ids: &Ids, model: &str, status: &str, output: Vec<J>, usage: J) -> J {
    obj! {
        "id": ids.response.as_str(),
        "object": "response",
        "created_at": ids::unix_now(),
        "status": status,
        "error": J::NULL,
        "incomplete_details": J::NULL,
        "instructions": J::NULL,
        "max_output_tokens": J::NULL,
        "model": model,
        "output": output,
        "parallel_tool_calls": true,
        "previous_response_id": J::NULL,
        "reasoning": obj! { "effort": J::NULL, "summary": J::NULL },
        "store": true,
        "temperature": Value::from(1.0),
        "text": obj! { "format": obj! { "type": "text" } },
        "tool_choice": "auto",
        "tools": Vec::new(),
        "top_p": Value::from(1.0),
        "truncation": "disabled",
        "usage": usage,
        "user": J::NULL,
        "metadata": obj! {},
    }
}

fn usage(input_tokens: u64, output_tokens: u64) -> J {
    obj! {
        "input_tokens": input_tokens,
        "input_tokens_details": obj! { "cached_tokens": 0u64 },
        "output_tokens": output_tokens,
        "output_tokens_details": obj! { "reasoning_tokens": 0u64 },
        "total_tokens": input_tokens + output_tokens,
    }
}

/// `POST /v1/responses`.
pub async fn responses(headers: HeaderMap, body: Bytes) -> Result<Response, OpenAiError> {
    let request = parse_object(&body)?;
    let model = require_model(&request)?;
    let input = request.get("input").cloned().unwrap_or(Value::Null);
    let prompt = prompt(&input)?;
    let stream = request
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let plan =
        answer::plan(&prompt, &headers).map_err(|e| invalid(e.to_string(), Some("input")))?;
    fail_if_requested(&plan).await?;
    let ids = Ids::new(&body);
    let usage = usage(estimate_tokens(&prompt), estimate_tokens(&plan.text()));
    if !stream {
        tokio::time::sleep(plan.delay).await;
        let done = response_object(&ids, &model, "completed", output(&plan, &ids), usage);
        return Ok(Json(done).into_response());
    }
    let mut events = Events::default();
    let created = || response_object(&ids, &model, "in_progress", Vec::new(), J::NULL);
    events.push("response.created", obj! { "response": created() });
    events.push("response.in_progress", obj! { "response": created() });
    let mut index = 0u64;
    if !plan.thinking.is_empty() {
        stream_reasoning(&mut events, &plan, &ids, index);
        index += 1;
    }
    if has_message(&plan) {
        if !stream_message(&mut events, &plan, &ids, index) {
            return Ok(sse::response(events.0, plan.delay, sse::End::Abort));
        }
        index += 1;
    }
    for (i, call) in plan.tool_calls.iter().enumerate() {
        let item = |arguments| call_item(&ids, i, &call.name, arguments);
        events.push(
            "response.output_item.added",
            obj! { "output_index": index, "item": item(None) },
        );
        let at = obj! { "item_id": ids.function_call(i), "output_index": index };
        for piece in &call.chunks {
            events.push(
                "response.function_call_arguments.delta",
                at.clone().with("delta", piece),
            );
        }
        let arguments = call.chunks.concat();
        events.push(
            "response.function_call_arguments.done",
            at.with("arguments", &arguments),
        );
        events.push(
            "response.output_item.done",
            obj! { "output_index": index, "item": item(Some(&arguments)) },
        );
        index += 1;
    }
    let done = response_object(&ids, &model, "completed", output(&plan, &ids), usage);
    events.push("response.completed", obj! { "response": done });
    Ok(sse::response(events.0, plan.delay, sse::End::Complete))
}

/// The reasoning item: its summary streamed.
fn stream_reasoning(events: &mut Events, plan: &Plan, ids: &Ids, index: u64) {
    let summary = plan.thinking_text();
    events.push(
        "response.output_item.added",
        obj! { "output_index": index, "item": reasoning_item(ids, None) },
    );
    let at =
        obj! { "item_id": ids.reasoning.as_str(), "output_index": index, "summary_index": 0u64 };
    let part = |text: &str| obj! { "type": "summary_text", "text": text };
    events.push(
        "response.reasoning_summary_part.added",
        at.clone().with("part", part("")),
    );
    for piece in &plan.thinking {
        events.push(
            "response.reasoning_summary_text.delta",
            at.clone().with("delta", piece),
        );
    }
    events.push(
        "response.reasoning_summary_text.done",
        at.clone().with("text", &summary),
    );
    events.push(
        "response.reasoning_summary_part.done",
        at.with("part", part(&summary)),
    );
    events.push(
        "response.output_item.done",
        obj! { "output_index": index, "item": reasoning_item(ids, Some(&summary)) },
    );
}

/// The message item: its text streamed. `false` when the stream is to
/// break off (`abort_after`) after the deltas.
fn stream_message(events: &mut Events, plan: &Plan, ids: &Ids, index: u64) -> bool {
    let text = plan.text();
    events.push(
        "response.output_item.added",
        obj! { "output_index": index, "item": message_item(ids, None) },
    );
    let at = obj! { "item_id": ids.message.as_str(), "output_index": index, "content_index": 0u64 };
    events.push(
        "response.content_part.added",
        at.clone().with("part", output_text("")),
    );
    let sent = plan.abort_after.unwrap_or(usize::MAX);
    for piece in plan.pieces.iter().take(sent) {
        let delta = at.clone().with("delta", piece).with("logprobs", Vec::new());
        events.push("response.output_text.delta", delta);
    }
    if plan.abort_after.is_some() {
        return false;
    }
    events.push(
        "response.output_text.done",
        at.clone().with("text", &text).with("logprobs", Vec::new()),
    );
    events.push(
        "response.content_part.done",
        at.with("part", output_text(&text)),
    );
    events.push(
        "response.output_item.done",
        obj! { "output_index": index, "item": message_item(ids, Some(&text)) },
    );
    true
}

/// Named, numbered Responses API events.
#[derive(Default)]
struct Events(Vec<Bytes>);

impl Events {
    /// Adds an event of type `kind` with the fields of `fields` after
    /// `type` and before `sequence_number`.
    fn push(&mut self, kind: &'static str, fields: J) {
        let mut event = obj! { "type": kind };
        if let J::Obj(pairs) = fields {
            for (key, value) in pairs {
                event = event.with(key, value);
            }
        }
        let event = event.with("sequence_number", self.0.len() as u64);
        self.0.push(sse::event(kind, &event));
    }
}
