//! Log probabilities in model answers.
//!
//! OpenAI-style answers can carry `logprobs`: the answer spelled out again
//! token by token, as strings and as UTF-8 byte arrays. Masked one token at a
//! time, an entity spread over several tokens would pass, so Portcullis drops
//! them (fail closed) from streamed events and from whole JSON answers alike.

use serde_json::Value;

/// Empties every non-empty `logprobs` in `value` (an array becomes `[]`,
/// anything else `null`); returns whether it changed anything.
///
/// Log probabilities spell the streamed text out again token by token (as
/// strings and as UTF-8 byte arrays): masked one token at a time, an entity
/// spread over several tokens would pass. Fail closed: they are dropped.
pub fn empty_logprobs(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = false;
            for (key, v) in map.iter_mut() {
                if key == "logprobs" {
                    let empty = match v {
                        Value::Array(a) => a.is_empty(),
                        Value::Null => true,
                        _ => false,
                    };
                    if !empty {
                        *v = if v.is_array() {
                            Value::Array(Vec::new())
                        } else {
                            Value::Null
                        };
                        changed = true;
                    }
                } else {
                    changed |= empty_logprobs(v);
                }
            }
            changed
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, v| empty_logprobs(v) | changed),
        _ => false,
    }
}

/// `body`, a JSON document, with every non-empty `logprobs` emptied; `None`
/// when it has none (or is not JSON: the caller masks it as it is). The
/// document is serialised again, so its layout changes only when something
/// was dropped.
pub fn without_logprobs(body: &[u8]) -> Option<Vec<u8>> {
    memchr::memmem::find(body, b"\"logprobs\"")?;
    let mut value: Value = serde_json::from_slice(body).ok()?;
    if !empty_logprobs(&mut value) {
        return None;
    }
    serde_json::to_vec(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logprobs_are_emptied_wherever_they_are() {
        let body = br#"{"choices":[{"message":{"content":"[CREDIT_CARD]"},"logprobs":{"content":[{"token":"4111","bytes":[52,49,49,49]},{"token":" 1111"}]}}]}"#;
        let out: Value = serde_json::from_slice(&without_logprobs(body).expect("logprobs dropped")).unwrap();
        assert_eq!(out["choices"][0]["logprobs"], Value::Null);
        assert_eq!(out["choices"][0]["message"]["content"], "[CREDIT_CARD]");
        let list = br#"{"output":[{"logprobs":[{"token":"a"}]}]}"#;
        let out: Value = serde_json::from_slice(&without_logprobs(list).unwrap()).unwrap();
        assert_eq!(out["output"][0]["logprobs"], serde_json::json!([]));
    }

    #[test]
    fn bodies_without_logprobs_are_left_alone() {
        assert_eq!(without_logprobs(br#"{"choices":[{"logprobs":null}]}"#), None);
        assert_eq!(without_logprobs(br#"{"text":"no log probabilities here"}"#), None);
        assert_eq!(without_logprobs(br#"{"logprobs": [1, "#), None, "not JSON: masked as it is");
    }
}
