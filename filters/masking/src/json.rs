//! JSON bodies: mask inside string values (and keys when configured), keep
//! everything else byte for byte, re-escape what changed.

use std::fmt;

use crate::masker::{Masked, Masker};
use crate::pseudo::Pseudonymizer;

/// Deepest nesting accepted in a JSON body (the `serde_json` default).
pub const MAX_JSON_DEPTH: usize = 128;

/// A body that is not valid JSON (or not UTF-8): nothing was masked, so the
/// filter should refuse it rather than pass it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong, with line and column when known.
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "body is not valid JSON: {}", self.message)
    }
}

impl std::error::Error for JsonError {}

/// One step of the path to a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

enum Frame {
    Object { has_key: bool, expect_key: bool },
    Array { index: usize },
}

fn error(message: impl Into<String>) -> JsonError {
    JsonError { message: message.into() }
}

/// Calls `f(path, text, is_key)` for every string in `input` (a JSON text)
/// and writes the replacement it returns; everything else is copied as is.
pub(crate) fn rewrite_strings<F>(input: &str, mut f: F) -> Result<String, JsonError>
where
    F: FnMut(&[Seg], &str, bool) -> Option<String>,
{
    serde_json::from_str::<serde::de::IgnoredAny>(input).map_err(|e| error(e.to_string()))?;
    let b = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut copied = 0;
    let mut stack: Vec<Frame> = Vec::new();
    let mut path: Vec<Seg> = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if matches!(c, b'{' | b'[') && stack.len() >= MAX_JSON_DEPTH {
            return Err(error(format!("nested deeper than {MAX_JSON_DEPTH} levels")));
        }
        match c {
            b'{' => stack.push(Frame::Object { has_key: false, expect_key: true }),
            b'[' => {
                stack.push(Frame::Array { index: 0 });
                path.push(Seg::Index(0));
            }
            b'}' => {
                if let Some(Frame::Object { has_key: true, .. }) = stack.pop() {
                    path.pop();
                }
            }
            b']' => {
                stack.pop();
                path.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => {
                    *index += 1;
                    if let Some(Seg::Index(x)) = path.last_mut() {
                        *x = *index;
                    }
                }
                Some(Frame::Object { has_key, expect_key }) => {
                    if *has_key {
                        path.pop();
                        *has_key = false;
                    }
                    *expect_key = true;
                }
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = false;
                }
            }
            b'"' => {
                let end = string_end(b, i).ok_or_else(|| error("unterminated string"))?;
                let raw = input.get(i..end).ok_or_else(|| error("bad string"))?;
                let text = unescape(raw)?;
                let is_key = match stack.last_mut() {
                    Some(Frame::Object { has_key, expect_key: true }) => {
                        *has_key = true;
                        path.push(Seg::Key(text.clone()));
                        true
                    }
                    _ => false,
                };
                if let Some(new) = f(&path, &text, is_key) {
                    out.push_str(input.get(copied..i).unwrap_or(""));
                    out.push_str(&escape(&new));
                    copied = end;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(input.get(copied..).unwrap_or(""));
    Ok(out)
}

/// Index just past the closing quote of the string starting at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

fn unescape(raw: &str) -> Result<String, JsonError> {
    if !raw.contains('\\') {
        return Ok(raw.get(1..raw.len().saturating_sub(1)).unwrap_or("").to_owned());
    }
    serde_json::from_str::<String>(raw).map_err(|e| error(e.to_string()))
}

/// `s` as a JSON string literal, quotes included.
pub(crate) fn escape(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

impl Masker {
    /// Masks the string values of a JSON body (and object keys when the policy
    /// sets `mask_json_keys`). The output is valid JSON with the same
    /// structure, formatting and key order.
    pub fn mask_json(&self, body: &str) -> Result<Masked, JsonError> {
        self.mask_json_with(body, &mut Pseudonymizer::new())
    }

    /// [`mask_json`](Self::mask_json) with the exchange's pseudonym mapping.
    pub fn mask_json_with(&self, body: &str, pseudo: &mut Pseudonymizer) -> Result<Masked, JsonError> {
        let mut counts = vec![0u32; self.entity_count()];
        let text = rewrite_strings(body, |_, s, is_key| {
            if is_key && !self.mask_json_keys {
                return None;
            }
            self.mask_counting(s, pseudo, &mut counts)
        })?;
        Ok(Masked { text, counts: self.count_map(&counts) })
    }

    /// [`mask_json_with`](Self::mask_json_with) for a body given as bytes;
    /// bytes that are not UTF-8 are an error.
    pub fn mask_json_bytes(&self, body: &[u8], pseudo: &mut Pseudonymizer) -> Result<Masked, JsonError> {
        let body = std::str::from_utf8(body).map_err(|e| error(format!("not UTF-8: {e}")))?;
        self.mask_json_with(body, pseudo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_tracked() {
        let mut seen = Vec::new();
        let out = rewrite_strings(r#"{"a":[{"b":"x"},"y"],"c":{"d":"z"},"e":"w"}"#, |p, s, k| {
            if !k {
                seen.push((p.to_vec(), s.to_owned()));
            }
            None
        })
        .unwrap();
        assert_eq!(out, r#"{"a":[{"b":"x"},"y"],"c":{"d":"z"},"e":"w"}"#);
        use Seg::*;
        assert_eq!(
            seen,
            vec![
                (vec![Key("a".into()), Index(0), Key("b".into())], "x".into()),
                (vec![Key("a".into()), Index(1)], "y".into()),
                (vec![Key("c".into()), Key("d".into())], "z".into()),
                (vec![Key("e".into())], "w".into()),
            ]
        );
    }
}
