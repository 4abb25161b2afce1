//! MCP over HTTP: JSON-RPC 2.0 messages, alone or in a batch.

use serde_json::Value;

use super::{json, shape, ExtractError, Extracted, Format, Role, ToolCall};

/// `tools/call` gives a [`ToolCall`] and its argument strings as segments; any other message
/// gives the strings of its `params` (or `result`).
pub(crate) fn extract(value: Value, body_bytes: usize) -> Result<Extracted, ExtractError> {
    let mut out = Extracted::new(Format::Mcp, body_bytes);
    match value {
        Value::Array(batch) => {
            for (i, message) in batch.into_iter().enumerate() {
                one(message, &format!("[{i}]"), &mut out)?;
            }
        }
        message => one(message, "", &mut out)?,
    }
    Ok(out)
}

fn one(message: Value, prefix: &str, out: &mut Extracted) -> Result<(), ExtractError> {
    let at = |field: &str| if prefix.is_empty() { field.to_owned() } else { format!("{prefix}.{field}") };
    let Value::Object(mut message) = message else {
        return Err(shape(if prefix.is_empty() { "body".to_owned() } else { prefix.to_owned() }, "a JSON-RPC message object"));
    };
    let method = match message.remove("method") {
        Some(Value::String(method)) => Some(method),
        None => None,
        Some(_) => return Err(shape(at("method"), "a string")),
    };
    let params = message.remove("params");
    if method.as_deref() == Some("tools/call") {
        let Some(Value::Object(mut params)) = params else {
            return Err(shape(at("params"), "an object with the tool `name` and its `arguments`"));
        };
        let name = match params.remove("name") {
            Some(Value::String(name)) => name,
            _ => return Err(shape(at("params.name"), "the tool name, a string")),
        };
        let arguments = match params.remove("arguments") {
            None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
            Some(args @ Value::Object(_)) => args,
            Some(_) => return Err(shape(at("params.arguments"), "an object")),
        };
        let arguments_text = serde_json::to_string(&arguments).unwrap_or_default();
        json::leaves(arguments, &mut at("params.arguments"), Role::User, true, &mut out.texts);
        out.tools.push(ToolCall { name, arguments_text });
    } else if let Some(params) = params {
        json::leaves(params, &mut at("params"), Role::User, true, &mut out.texts);
    } else if let Some(result) = message.remove("result") {
        json::leaves(result, &mut at("result"), Role::User, true, &mut out.texts);
    }
    if let Some(method) = method {
        out.mcp_methods.push(method);
    }
    Ok(())
}
