//! Reading the `model` a request body asks for.

use serde::Deserialize;

/// Largest body the filter reads to find the model, in bytes.
pub const MAX_MODEL_BODY_BYTES: usize = 1024 * 1024;

#[derive(Deserialize)]
struct ModelOnly {
    model: Option<serde_json::Value>,
}

/// The `model` field of a JSON body, when there is one and it is a string.
///
/// Anything else (not JSON, no `model`, a number) yields `None`, which access
/// rules that name models treat as "no model": they do not match.
pub fn model_of(body: &[u8]) -> Option<String> {
    let parsed: ModelOnly = serde_json::from_slice(body).ok()?;
    match parsed.model? {
        serde_json::Value::String(model) => Some(model),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::model_of;

    #[test]
    fn reads_model_from_json_bodies() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (br#"{"model":"gpt-4o","messages":[]}"#, Some("gpt-4o")),
            (br#"{"messages":[],"model":"claude-3"}"#, Some("claude-3")),
            (br#"{"messages":[]}"#, None),
            (br#"{"model":42}"#, None),
            (br#"{"model":null}"#, None),
            (b"not json", None),
            (b"", None),
            (br#"{"model":"a""#, None),
            (br#"[1,2]"#, None),
        ];
        for (body, expected) in cases {
            assert_eq!(model_of(body).as_deref(), *expected, "{}", String::from_utf8_lossy(body));
        }
    }
}
