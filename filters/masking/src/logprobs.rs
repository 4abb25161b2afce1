//! Log probabilities in model answers.
//!
//! Model answers can carry log probabilities: the answer spelled out again
//! token by token, as strings and as UTF-8 byte arrays (OpenAI and vLLM
//! `logprobs`, `top_logprobs` and `prompt_logprobs`, Gemini
//! `logprobsResult`). Masked one token at a time, an entity spread over
//! several tokens would pass, so Portcullis drops them (fail closed) from
//! streamed events and from whole JSON answers alike.

use serde_json::Value;

/// Whether `key` names log probabilities: it contains `logprob` in any case
/// (`logprobs`, `top_logprobs`, `prompt_logprobs`, `logprobsResult`,
/// `avgLogprobs`).
fn is_logprob_key(key: &str) -> bool {
    key.as_bytes().windows(7).any(|w| w.eq_ignore_ascii_case(b"logprob"))
}

/// Empties every log-probability field in `value` that could hold tokens:
/// a non-empty array becomes `[]`, a non-empty object or a string `null`
/// (numbers such as Gemini's `avgLogprobs` stay); returns whether it changed
/// anything.
///
/// Log probabilities spell the streamed text out again token by token (as
/// strings and as UTF-8 byte arrays): masked one token at a time, an entity
/// spread over several tokens would pass. Fail closed: they are dropped.
pub fn empty_logprobs(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = false;
            for (key, v) in map.iter_mut() {
                if !is_logprob_key(key) {
                    changed |= empty_logprobs(v);
                    continue;
                }
                let emptied = match v {
                    Value::Array(a) if !a.is_empty() => Value::Array(Vec::new()),
                    Value::Object(o) if !o.is_empty() => Value::Null,
                    Value::String(_) => Value::Null,
                    _ => continue,
                };
                *v = emptied;
                changed = true;
            }
            changed
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, v| empty_logprobs(v) | changed),
        _ => false,
    }
}

/// `body`, a JSON document, with every log-probability field emptied (see
/// [`empty_logprobs`]); `None` when it has none (or is not JSON: the caller
/// masks it as it is). The document is serialised again, so its layout
/// changes only when something was dropped.
///
/// Only bodies that may hold such a key are parsed: one that contains
/// `logprob` in any case, or that escapes an ASCII letter (`\u0073`), which a key could
/// hide behind.
pub fn without_logprobs(body: &[u8]) -> Option<Vec<u8>> {
    if !names_logprobs(body) && !escapes_a_letter(body) {
        return None;
    }
    let mut value: Value = serde_json::from_slice(body).ok()?;
    if !empty_logprobs(&mut value) {
        return None;
    }
    serde_json::to_vec(&value).ok()
}

/// Whether `logprob` occurs in `body`, in any case: found from its `b`s,
/// which are rare.
fn names_logprobs(body: &[u8]) -> bool {
    memchr::memchr2_iter(b'b', b'B', body)
        .any(|at| at >= 6 && body.get(at - 6..=at).is_some_and(|w| w.eq_ignore_ascii_case(b"logprob")))
}

/// Whether `body` has a `\u00XX` escape of an ASCII letter.
fn escapes_a_letter(body: &[u8]) -> bool {
    memchr::memmem::find_iter(body, b"\\u00").any(|at| {
        let hex = body.get(at + 4..at + 6).and_then(|h| std::str::from_utf8(h).ok());
        hex.and_then(|h| u8::from_str_radix(h, 16).ok()).is_some_and(|c| c.is_ascii_alphabetic())
    })
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
    fn other_providers_fields_and_escaped_keys_are_emptied_too() {
        let gemini = br#"{"candidates":[{"content":{"parts":[{"text":"[EMAIL]"}]},"avgLogprobs":-0.2,"logprobsResult":{"chosenCandidates":[{"token":"jane"},{"token":".doe@"}]}}]}"#;
        let out: Value = serde_json::from_slice(&without_logprobs(gemini).expect("dropped")).unwrap();
        assert_eq!(out["candidates"][0]["logprobsResult"], Value::Null);
        assert_eq!(out["candidates"][0]["avgLogprobs"], serde_json::json!(-0.2), "a number spells nothing");
        let vllm = br#"{"prompt_logprobs":[null,{"4111":{"logprob":-1.0}}],"choices":[{"text":"ok"}]}"#;
        let out: Value = serde_json::from_slice(&without_logprobs(vllm).expect("dropped")).unwrap();
        assert_eq!(out["prompt_logprobs"], serde_json::json!([]));
        let capitals = br#"{"choices":[{"text":"ok","LogProbs":{"tokens":["4111","1111"]}}]}"#;
        let out: Value = serde_json::from_slice(&without_logprobs(capitals).expect("dropped")).unwrap();
        assert_eq!(out["choices"][0]["LogProbs"], Value::Null);
        let escaped = br#"{"choices":[{"logprob\u0073":{"content":[{"token":"4111"}]}}]}"#;
        let out: Value = serde_json::from_slice(&without_logprobs(escaped).expect("dropped")).unwrap();
        assert_eq!(out["choices"][0]["logprobs"], Value::Null);
        let mut event = serde_json::json!({"choices": [{"delta": {"content": "x"}, "top_logprobs": [{"token": "4111"}]}]});
        assert!(empty_logprobs(&mut event));
        assert_eq!(event["choices"][0]["top_logprobs"], serde_json::json!([]));
    }

    #[test]
    fn bodies_without_logprobs_are_left_alone() {
        assert_eq!(without_logprobs(br#"{"choices":[{"logprobs":null}]}"#), None);
        assert_eq!(without_logprobs(br#"{"text":"no log probabilities here"}"#), None);
        assert_eq!(without_logprobs(br#"{"logprobs": [1, "#), None, "not JSON: masked as it is");
        assert_eq!(without_logprobs(br#"{"text":"caf\u00e9 \u002f"}"#), None, "escapes of other characters");
    }
}
