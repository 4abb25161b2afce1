//! Reading the prompt text out of chat-style request messages.

use serde_json::Value;

/// The text of a message's `content`: a string as is, or the concatenated
/// `text` of the `{"type":"text"}` (or Responses API `input_text`) parts of
/// an array. Anything else
/// (null, images, tool results) contributes no text.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| {
                matches!(
                    p.get("type").and_then(Value::as_str),
                    Some("text" | "input_text")
                )
            })
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// The text of the last message whose role is `user` (empty if none).
pub fn last_user_text(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .and_then(|m| m.get("content"))
        .map(content_text)
        .unwrap_or_default()
}

/// The number of characters of text across all messages, for the prompt
/// token estimate.
pub fn total_chars(messages: &[Value]) -> usize {
    messages
        .iter()
        .filter_map(|m| m.get("content"))
        .map(|c| content_text(c).chars().count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn last_user_message_text() {
        let messages = json!([
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": null},
            {"role": "user", "content": [
                {"type": "text", "text": "a"},
                {"type": "image_url", "image_url": {"url": "x"}},
                {"type": "text", "text": "b"}
            ]},
            {"role": "assistant", "content": "later"}
        ]);
        let messages = messages.as_array().unwrap();
        assert_eq!(last_user_text(messages), "ab");
        assert_eq!(total_chars(messages), 3 + 5 + 2 + 5);
        assert_eq!(last_user_text(&[]), "");
    }
}
