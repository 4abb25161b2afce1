//! The legacy OpenAI text-completions endpoint, `POST /v1/completions`.

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::answer::{self, estimate_tokens};
use crate::openai::{
    fail_if_requested, invalid, parse_object, require_model, stream_flags, usage, OpenAiError,
};
use crate::ordered::J;
use crate::{ids, obj, sse};

/// `POST /v1/completions`.
pub async fn completions(headers: HeaderMap, body: Bytes) -> Result<Response, OpenAiError> {
    let request = parse_object(&body)?;
    let model = require_model(&request)?;
    let prompt = match request.get("prompt") {
        Some(Value::String(p)) => p.clone(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect()
        }
        None | Some(Value::Null) => {
            return Err(invalid(
                "Missing required parameter: 'prompt'.",
                Some("prompt"),
            ))
        }
        Some(_) => {
            return Err(invalid(
                "Invalid type for 'prompt': expected a string or an array of strings.",
                Some("prompt"),
            ))
        }
    };
    let (stream, include_usage) = stream_flags(&request);
    let plan =
        answer::plan(&prompt, &headers).map_err(|e| invalid(e.to_string(), Some("prompt")))?;
    fail_if_requested(&plan).await?;

    let id = ids::from_body("cmpl-", &body);
    let created = ids::unix_now();
    let text = plan.text();
    let usage = usage(estimate_tokens(&prompt), estimate_tokens(&text));
    let head = || {
        obj! {
            "id": &id,
            "object": "text_completion",
            "created": created,
            "model": &model,
        }
    };
    let object = |text: &str, finish_reason: Option<&str>| {
        head().with(
            "choices",
            vec![obj! {
                "text": text,
                "index": 0u64,
                "logprobs": J::NULL,
                "finish_reason": finish_reason,
            }],
        )
    };
    if !stream {
        tokio::time::sleep(plan.delay).await;
        let object = object(&text, Some("stop")).with("usage", usage);
        return Ok(Json(object).into_response());
    }

    let chunk = |text: &str, finish_reason: Option<&str>| {
        let chunk = object(text, finish_reason);
        let chunk = if include_usage {
            chunk.with("usage", J::NULL)
        } else {
            chunk
        };
        sse::data(&chunk)
    };
    let sent = plan.abort_after.unwrap_or(usize::MAX);
    let mut events: Vec<Bytes> = plan
        .pieces
        .iter()
        .take(sent)
        .map(|piece| chunk(piece, None))
        .collect();
    if plan.abort_after.is_some() {
        return Ok(sse::response(events, plan.delay, sse::End::Abort));
    }
    events.push(chunk("", Some("stop")));
    if include_usage {
        let last = head().with("choices", Vec::new()).with("usage", usage);
        events.push(sse::data(&last));
    }
    events.push(Bytes::from_static(sse::DONE.as_bytes()));
    Ok(sse::response(events, plan.delay, sse::End::Complete))
}
