//! OpenAI chat completions, responses and legacy completions; Anthropic messages.
//!
//! One tolerant reader serves OpenAI and Anthropic messages: content parts of either kind are
//! understood wherever they appear. Strings are moved out of the parsed value, not copied.

use serde_json::{Map, Value};

use super::{json, shape, ExtractError, Extracted, Format, Role, Segment};

type Object = Map<String, Value>;

fn object(value: Value, field: &str) -> Result<Object, ExtractError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(shape(field, "a JSON object")),
    }
}

fn push(out: &mut Vec<Segment>, field: String, role: Role, latest: bool, text: String) {
    if !text.is_empty() {
        out.push(Segment { field, role, latest, text });
    }
}

fn take_model(map: &mut Object, out: &mut Extracted) {
    if let Some(Value::String(model)) = map.remove("model") {
        out.model = Some(model);
    }
}

fn role_of(map: &Object, field: &str) -> Result<Role, ExtractError> {
    match map.get("role") {
        None | Some(Value::Null) => Ok(Role::User),
        Some(Value::String(role)) => Ok(Role::parse(role)),
        Some(_) => Err(shape(format!("{field}.role"), "a string")),
    }
}

/// OpenAI chat completions or Anthropic messages (`kind` says which, for reporting).
pub(crate) fn messages(value: Value, kind: Format, body_bytes: usize) -> Result<Extracted, ExtractError> {
    let mut map = object(value, "body")?;
    let mut out = Extracted::new(kind, body_bytes);
    take_model(&mut map, &mut out);
    match map.remove("system") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => push(&mut out.texts, "system".into(), Role::System, true, text),
        Some(Value::Array(blocks)) => parts(blocks, "system", Role::System, true, &mut out.texts)?,
        Some(_) => return Err(shape("system", "a string or an array of text blocks")),
    }
    let messages = match map.remove("messages") {
        Some(Value::Array(messages)) => messages,
        _ => return Err(shape("messages", "an array of message objects")),
    };
    let last_assistant = messages
        .iter()
        .rposition(|m| matches!(m.get("role").and_then(Value::as_str), Some("assistant" | "model")));
    for (i, message) in messages.into_iter().enumerate() {
        let field = format!("messages[{i}]");
        let mut message = match message {
            Value::Object(map) => map,
            _ => return Err(shape(field, "an object with `role` and `content`")),
        };
        let role = role_of(&message, &field)?;
        let latest = last_assistant.is_none_or(|a| i > a);
        match message.remove("content") {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => push(&mut out.texts, format!("{field}.content"), role, latest, text),
            Some(Value::Array(items)) => parts(items, &format!("{field}.content"), role, latest, &mut out.texts)?,
            Some(_) => return Err(shape(format!("{field}.content"), "a string, an array of content parts, or null")),
        }
        if let Some(Value::Array(calls)) = message.remove("tool_calls") {
            for (k, call) in calls.into_iter().enumerate() {
                let Value::Object(mut call) = call else { continue };
                let Some(Value::Object(mut function)) = call.remove("function") else { continue };
                if let Some(Value::String(args)) = function.remove("arguments") {
                    push(&mut out.texts, format!("{field}.tool_calls[{k}].function.arguments"), role, latest, args);
                }
            }
        }
        if let Some(Value::Object(mut call)) = message.remove("function_call") {
            if let Some(Value::String(args)) = call.remove("arguments") {
                push(&mut out.texts, format!("{field}.function_call.arguments"), role, latest, args);
            }
        }
    }
    Ok(out)
}

/// Content parts or blocks: OpenAI `text`/`input_text`/`output_text`/`refusal` parts, Anthropic
/// `text`, `tool_use`, `tool_result`, `document` and `thinking` blocks. Images, audio and files
/// are skipped.
fn parts(items: Vec<Value>, field: &str, role: Role, latest: bool, out: &mut Vec<Segment>) -> Result<(), ExtractError> {
    for (j, item) in items.into_iter().enumerate() {
        let here = format!("{field}[{j}]");
        let mut part = match item {
            Value::String(text) => {
                push(out, here, role, latest, text);
                continue;
            }
            Value::Object(map) => map,
            _ => return Err(shape(here, "a content part object")),
        };
        let kind = part.get("type").and_then(Value::as_str).unwrap_or("text").to_owned();
        match kind.as_str() {
            "text" | "input_text" | "output_text" => {
                if let Some(Value::String(text)) = part.remove("text") {
                    push(out, format!("{here}.text"), role, latest, text);
                }
            }
            "refusal" => {
                if let Some(Value::String(text)) = part.remove("refusal") {
                    push(out, format!("{here}.refusal"), role, latest, text);
                }
            }
            "thinking" => {
                if let Some(Value::String(text)) = part.remove("thinking") {
                    push(out, format!("{here}.thinking"), role, latest, text);
                }
            }
            "tool_use" | "server_tool_use" => {
                if let Some(input) = part.remove("input") {
                    json::leaves(input, &mut format!("{here}.input"), role, latest, out);
                }
            }
            "tool_result" => match part.remove("content") {
                Some(Value::String(text)) => push(out, format!("{here}.content"), Role::Tool, latest, text),
                Some(Value::Array(blocks)) => parts(blocks, &format!("{here}.content"), Role::Tool, latest, out)?,
                _ => {}
            },
            "document" => {
                if let Some(Value::Object(mut source)) = part.remove("source") {
                    let kind = source.get("type").and_then(Value::as_str).unwrap_or("").to_owned();
                    match (kind.as_str(), source.remove("data"), source.remove("content")) {
                        ("text", Some(Value::String(text)), _) => push(out, format!("{here}.source.data"), role, latest, text),
                        ("content", _, Some(Value::Array(blocks))) => {
                            parts(blocks, &format!("{here}.source.content"), role, latest, out)?;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// OpenAI responses: `instructions` and `input` (a string, strings, or items). Arrays of token
/// ids (embeddings) are skipped.
pub(crate) fn responses(value: Value, body_bytes: usize) -> Result<Extracted, ExtractError> {
    let mut map = object(value, "body")?;
    let mut out = Extracted::new(Format::OpenaiResponses, body_bytes);
    take_model(&mut map, &mut out);
    match map.remove("instructions") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => push(&mut out.texts, "instructions".into(), Role::System, true, text),
        Some(_) => return Err(shape("instructions", "a string")),
    }
    let items = match map.remove("input") {
        Some(Value::String(text)) => {
            push(&mut out.texts, "input".into(), Role::User, true, text);
            return Ok(out);
        }
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Ok(out),
        Some(_) => return Err(shape("input", "a string or an array of input items")),
    };
    let by_model = |item: &Value| {
        item.get("role").and_then(Value::as_str) == Some("assistant")
            || matches!(item.get("type").and_then(Value::as_str), Some("function_call" | "custom_tool_call"))
    };
    let last_assistant = items.iter().rposition(by_model);
    for (i, item) in items.into_iter().enumerate() {
        let field = format!("input[{i}]");
        let latest = last_assistant.is_none_or(|a| i > a);
        let mut item = match item {
            Value::String(text) => {
                push(&mut out.texts, field, Role::User, latest, text);
                continue;
            }
            Value::Number(_) | Value::Array(_) => continue,
            Value::Object(map) => map,
            _ => return Err(shape(field, "an input item object or a string")),
        };
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("message").to_owned();
        match kind.as_str() {
            "message" => {
                let role = role_of(&item, &field)?;
                match item.remove("content") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(text)) => push(&mut out.texts, format!("{field}.content"), role, latest, text),
                    Some(Value::Array(parts_)) => parts(parts_, &format!("{field}.content"), role, latest, &mut out.texts)?,
                    Some(_) => return Err(shape(format!("{field}.content"), "a string or an array of content parts")),
                }
            }
            "function_call" | "custom_tool_call" => {
                for key in ["arguments", "input"] {
                    if let Some(Value::String(text)) = item.remove(key) {
                        push(&mut out.texts, format!("{field}.{key}"), Role::Assistant, latest, text);
                    }
                }
            }
            "function_call_output" | "custom_tool_call_output" => match item.remove("output") {
                Some(Value::String(text)) => push(&mut out.texts, format!("{field}.output"), Role::Tool, latest, text),
                Some(Value::Array(parts_)) => parts(parts_, &format!("{field}.output"), Role::Tool, latest, &mut out.texts)?,
                _ => {}
            },
            _ => {}
        }
    }
    Ok(out)
}

/// OpenAI legacy completions: `prompt` (a string or strings) and `suffix`.
pub(crate) fn completions(value: Value, body_bytes: usize) -> Result<Extracted, ExtractError> {
    const TOKENS: &str = "a string or an array of strings (token-id prompts cannot be inspected)";
    let mut map = object(value, "body")?;
    let mut out = Extracted::new(Format::OpenaiCompletions, body_bytes);
    take_model(&mut map, &mut out);
    match map.remove("prompt") {
        Some(Value::String(text)) => push(&mut out.texts, "prompt".into(), Role::User, true, text),
        Some(Value::Array(items)) => {
            for (i, item) in items.into_iter().enumerate() {
                match item {
                    Value::String(text) => push(&mut out.texts, format!("prompt[{i}]"), Role::User, true, text),
                    _ => return Err(shape(format!("prompt[{i}]"), TOKENS)),
                }
            }
        }
        None | Some(Value::Null) => {}
        Some(_) => return Err(shape("prompt", TOKENS)),
    }
    if let Some(Value::String(text)) = map.remove("suffix") {
        push(&mut out.texts, "suffix".into(), Role::User, true, text);
    }
    Ok(out)
}
