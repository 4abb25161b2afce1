//! Whole bodies (JSON and text): masked once complete.

use std::collections::BTreeMap;

use portcullis_masking::{Masker, Pseudonymizer};
use portcullis_policy::ErrorBody;

use crate::content::BodyKind;

/// A local reply the filter sends instead of passing a body on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: u32,
    /// OpenAI-style JSON error body.
    pub body: String,
}

impl Refusal {
    /// A refusal with an [`ErrorBody`].
    pub fn new(status: u32, kind: &str, code: &str, message: impl Into<String>) -> Self {
        Refusal { status, body: ErrorBody::new(kind, code, message).to_json() }
    }
}

/// What masking a whole body gave.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The new body; `None` when it is unchanged.
    pub body: Option<Vec<u8>>,
    /// Entities replaced, per name.
    pub counts: BTreeMap<String, u32>,
    /// Set when (part of) the body passed unmasked, saying why.
    pub note: Option<String>,
}

impl Outcome {
    fn of(original: &[u8], text: String, counts: BTreeMap<String, u32>) -> Outcome {
        let body = (text.as_bytes() != original).then(|| text.into_bytes());
        Outcome { body, counts, note: None }
    }

    fn unmasked(note: String) -> Outcome {
        Outcome { body: None, counts: BTreeMap::new(), note: Some(note) }
    }
}

/// Masks a complete request body, numbering pseudonyms in `pseudo` (the
/// exchange's mapping, used to restore the response).
pub fn mask_request(masker: &Masker, kind: BodyKind, body: &[u8], pseudo: &mut Pseudonymizer) -> Result<Outcome, Refusal> {
    match kind {
        BodyKind::Json => match masker.mask_json_bytes(body, pseudo) {
            Ok(masked) => Ok(Outcome::of(body, masked.text, masked.counts)),
            Err(e) => Err(Refusal::new(
                400,
                "invalid_request_error",
                "portcullis_invalid_json",
                format!("the request says it is JSON but is not ({}), so Portcullis cannot mask it and refuses it", e.message),
            )),
        },
        BodyKind::Text | BodyKind::Unknown => match std::str::from_utf8(body) {
            Ok(text) => {
                let masked = masker.mask_with(text, pseudo);
                Ok(Outcome::of(body, masked.text, masked.counts))
            }
            Err(_) if kind == BodyKind::Unknown => {
                Ok(Outcome::unmasked("request body without content-type is not UTF-8 text: passed unmasked".into()))
            }
            Err(_) => Err(Refusal::new(
                415,
                "invalid_request_error",
                "portcullis_unmaskable_body",
                "the request body is declared as text but is not UTF-8, so Portcullis cannot mask it and refuses it",
            )),
        },
        BodyKind::EventStream => mask_request(masker, BodyKind::Text, body, pseudo),
        BodyKind::Other => Ok(Outcome::default()),
    }
}

/// Masks a complete response body with `masker` (when responses are masked)
/// and turns the request's placeholders back into the originals with
/// `restore` (when the request was pseudonymised).
pub fn mask_response(masker: Option<&Masker>, restore: Option<&Pseudonymizer>, kind: BodyKind, body: &[u8]) -> Result<Outcome, Refusal> {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(_) if kind == BodyKind::Unknown => {
            return Ok(Outcome::unmasked("response body without content-type is not UTF-8 text: passed unmasked".into()));
        }
        Err(_) => {
            return Err(Refusal::new(
                502,
                "api_error",
                "portcullis_unmaskable_body",
                "the upstream response is declared as JSON or text but is not UTF-8, so Portcullis cannot mask it and refuses to pass it",
            ));
        }
    };
    // New values get new numbers (`[EMAIL_2]`) in a copy of the request's
    // mapping; only the request's own placeholders are restored.
    let mut numbering = restore.cloned().unwrap_or_default();
    let mut note = None;
    // Log probabilities spell the answer out token by token: dropped, since an
    // entity spread over several tokens would pass masking token by token.
    let without_logprobs = match (masker, kind) {
        (Some(_), BodyKind::Json) => portcullis_masking::logprobs::without_logprobs(body),
        _ => None,
    };
    if without_logprobs.is_some() {
        note = Some("logprobs dropped: they would spell masked values out token by token".to_owned());
    }
    let json_body = without_logprobs.as_deref().unwrap_or(body);
    let (masked, counts, json) = match (masker, kind) {
        (None, _) => (text.to_owned(), BTreeMap::new(), kind == BodyKind::Json),
        (Some(m), BodyKind::Json) => match m.mask_json_bytes(json_body, &mut numbering) {
            Ok(masked) => (masked.text, masked.counts, true),
            Err(e) => {
                note = Some(format!("response says it is JSON but is not ({}): masked as text", e.message));
                let masked = m.mask_with(text, &mut numbering);
                (masked.text, masked.counts, false)
            }
        },
        (Some(m), _) => {
            let masked = m.mask_with(text, &mut numbering);
            (masked.text, masked.counts, false)
        }
    };
    let restored = match restore {
        Some(p) if !p.is_empty() && json => restore_json(p, masked),
        Some(p) if !p.is_empty() => p.restore(&masked),
        _ => masked,
    };
    let mut outcome = Outcome::of(body, restored, counts);
    outcome.note = note;
    Ok(outcome)
}

/// Restores placeholders in a JSON text, keeping it valid JSON even when an
/// original value needs escaping.
fn restore_json(pseudo: &Pseudonymizer, text: String) -> String {
    let restored = pseudo.restore(&text);
    if restored == text || serde_json::from_str::<serde::de::IgnoredAny>(&restored).is_ok() {
        return restored;
    }
    // An original holds a quote, backslash or control character: restore
    // inside the parsed strings instead (key order may change).
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(mut value) => {
            restore_value(pseudo, &mut value);
            value.to_string()
        }
        Err(_) => restored,
    }
}

fn restore_value(pseudo: &Pseudonymizer, value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => *s = pseudo.restore(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| restore_value(pseudo, v)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| restore_value(pseudo, v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn pseudonymizing() -> Masker {
        Masker::from_policy(&serde_json::from_str(r#"{"entities":{"email":{"operator":"pseudonymize"}}}"#).unwrap(), None).unwrap()
    }

    #[test]
    fn json_request_is_masked_inside_strings_and_stays_valid() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00"}]}).to_string();
        let out = mask_request(&Masker::new(), BodyKind::Json, body.as_bytes(), &mut Pseudonymizer::new()).unwrap();
        let masked: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
        assert_eq!(masked["messages"][0]["content"], "card [CREDIT_CARD], IBAN [IBAN]");
        assert_eq!(masked["model"], "m");
        assert_eq!(out.counts.get("credit_card"), Some(&1));
    }

    #[test]
    fn logprobs_of_a_json_answer_are_dropped_not_masked_token_by_token() {
        let tokens: Vec<Value> = ["4111", " 1111", " 1111", " 1111"].iter().map(|t| json!({"token": t, "logprob": -0.1})).collect();
        let body = json!({"choices": [{"message": {"content": "4111 1111 1111 1111"}, "logprobs": {"content": tokens}}]}).to_string();
        let out = mask_response(Some(&Masker::new()), None, BodyKind::Json, body.as_bytes()).unwrap();
        let text = String::from_utf8(out.body.unwrap()).unwrap();
        assert!(!text.contains("4111"), "{text}");
        let masked: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(masked["choices"][0]["message"]["content"], "[CREDIT_CARD]");
        assert_eq!(masked["choices"][0]["logprobs"], Value::Null);
        assert!(out.note.unwrap().contains("logprobs dropped"));
    }

    #[test]
    fn unchanged_bodies_are_not_rewritten() {
        let out = mask_request(&Masker::new(), BodyKind::Json, br#"{"a":"nothing here"}"#, &mut Pseudonymizer::new()).unwrap();
        assert_eq!(out, Outcome::default());
    }

    #[test]
    fn invalid_json_request_is_refused_with_400() {
        let err = mask_request(&Masker::new(), BodyKind::Json, b"{\"a\": jane@example.com", &mut Pseudonymizer::new()).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.body.contains("portcullis_invalid_json"));
        assert!(!err.body.contains("jane@"), "the refusal must not echo content: {}", err.body);
    }

    #[test]
    fn pseudonyms_round_trip_through_a_json_response() {
        let masker = pseudonymizing();
        let mut pseudo = Pseudonymizer::new();
        let req = json!({"messages": [{"role": "user", "content": "mail jane@example.com"}]}).to_string();
        let out = mask_request(&masker, BodyKind::Json, req.as_bytes(), &mut pseudo).unwrap();
        assert!(String::from_utf8(out.body.unwrap()).unwrap().contains("[EMAIL_1]"));
        let resp = json!({"choices": [{"message": {"content": "Done: [EMAIL_1]; also bob@example.org"}}]}).to_string();
        let out = mask_response(Some(&masker), Some(&pseudo), BodyKind::Json, resp.as_bytes()).unwrap();
        let v: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "Done: jane@example.com; also [EMAIL_2]");
        assert_eq!(out.counts.get("email"), Some(&1));
    }

    #[test]
    fn restored_values_that_need_escaping_keep_the_json_valid() {
        let masker = Masker::from_policy(
            &serde_json::from_str(r#"{"deny_lists":[{"name":"codename","words":["Blue \"Bird\""],"operator":"pseudonymize"}]}"#).unwrap(),
            None,
        )
        .unwrap();
        let mut pseudo = Pseudonymizer::new();
        let req = json!({"content": "project Blue \"Bird\" is late"}).to_string();
        mask_request(&masker, BodyKind::Json, req.as_bytes(), &mut pseudo).unwrap();
        assert_eq!(pseudo.len(), 1);
        let resp = json!({"content": "[CODENAME_1] is late"}).to_string();
        let out = mask_response(None, Some(&pseudo), BodyKind::Json, resp.as_bytes()).unwrap();
        let v: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
        assert_eq!(v["content"], "Blue \"Bird\" is late");
    }

    #[test]
    fn text_and_unknown_bodies() {
        let out = mask_response(Some(&Masker::new()), None, BodyKind::Text, b"key AKIAZ7Q2VHNK3RJXW4PB here").unwrap();
        assert_eq!(out.body.unwrap(), b"key [AWS_ACCESS_KEY] here");
        let err = mask_response(Some(&Masker::new()), None, BodyKind::Text, &[0xff, 0xfe]).unwrap_err();
        assert_eq!(err.status, 502);
        let passed = mask_response(Some(&Masker::new()), None, BodyKind::Unknown, &[0xff, 0xfe]).unwrap();
        assert!(passed.body.is_none() && passed.note.is_some());
    }

    #[test]
    fn json_response_that_is_not_json_is_masked_as_text() {
        let out = mask_response(Some(&Masker::new()), None, BodyKind::Json, b"oops jane@example.com").unwrap();
        assert_eq!(out.body.unwrap(), b"oops [EMAIL]");
        assert!(out.note.is_some());
    }
}
