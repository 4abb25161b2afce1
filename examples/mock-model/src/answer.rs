//! Turning a prompt (and the request headers) into the mock's answer: the
//! text, how it is split into streamed pieces, and how it misbehaves.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};

use crate::directive::{self, DirectiveError, ToolCall};

/// Everything an endpoint needs to answer one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The content pieces, one per streamed event; their concatenation is the
    /// full answer text.
    pub pieces: Vec<String>,
    /// Sleep before each streamed event (once before a non-streamed answer).
    pub delay: Duration,
    /// Fail with this status instead of answering.
    pub status: Option<StatusCode>,
    /// In streaming mode, drop the connection after this many content events.
    pub abort_after: Option<usize>,
    /// Function calls the answer makes after its text.
    pub tool_calls: Vec<ToolCall>,
    /// Reasoning shown before the text, one piece per streamed event.
    pub thinking: Vec<String>,
}

impl Plan {
    /// The full answer text.
    pub fn text(&self) -> String {
        self.pieces.concat()
    }

    /// The full reasoning text.
    pub fn thinking_text(&self) -> String {
        self.thinking.concat()
    }
}

/// Builds the answer for `prompt`, steered by its directive if it has one.
pub fn plan(prompt: &str, headers: &HeaderMap) -> Result<Plan, DirectiveError> {
    let extracted = directive::extract(prompt)?;
    let d = extracted.directive.unwrap_or_default();
    let repeat = d.repeat.unwrap_or(1);
    let pieces = if let Some(chunks) = d.chunks {
        let mut pieces = Vec::with_capacity(chunks.len() * repeat);
        for _ in 0..repeat {
            pieces.extend(chunks.iter().cloned());
        }
        pieces
    } else {
        let text = if let Some(reply) = d.reply {
            reply
        } else if d.echo_headers {
            headers_json(headers)
        } else if d.echo.unwrap_or(d.tool_calls.is_none()) {
            format!("echo: {}", extracted.rest)
        } else {
            String::new()
        };
        let text = text.repeat(repeat);
        match d.chunk_size {
            Some(size) => split_chars(&text, size),
            None => split_words(&text),
        }
    };
    Ok(Plan {
        pieces,
        delay: Duration::from_millis(d.delay_ms),
        status: d.status.and_then(|s| StatusCode::from_u16(s).ok()),
        abort_after: d.abort_after,
        tool_calls: d.tool_calls.unwrap_or_default(),
        thinking: d.thinking.unwrap_or_default(),
    })
}

/// The request headers as compact JSON with sorted, lowercased names.
/// Repeated headers are joined with `", "`.
pub fn headers_json(headers: &HeaderMap) -> String {
    let mut map: BTreeMap<&str, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        map.entry(name.as_str())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    serde_json::to_string(&map).unwrap_or_default()
}

/// Splits `text` into word-sized pieces, each word keeping the whitespace
/// that follows it (leading whitespace stays with the first word), so the
/// pieces concatenate back to exactly `text`.
pub fn split_words(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut seen_word = false;
    let mut in_trailing_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_trailing_space |= seen_word;
        } else {
            if in_trailing_space {
                pieces.push(text[start..i].to_owned());
                start = i;
                in_trailing_space = false;
            }
            seen_word = true;
        }
    }
    if start < text.len() {
        pieces.push(text[start..].to_owned());
    }
    pieces
}

/// Splits `text` into pieces of `size` characters (the last may be shorter),
/// never inside a character. `size` 0 is treated as 1.
pub fn split_chars(text: &str, size: usize) -> Vec<String> {
    let size = size.max(1);
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut count = 0;
    for c in text.chars() {
        piece.push(c);
        count += 1;
        if count == size {
            pieces.push(std::mem::take(&mut piece));
            count = 0;
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    pieces
}

/// A rough token estimate: one token per four characters, rounded up, at
/// least one.
pub fn estimate_tokens(text: &str) -> u64 {
    estimate_tokens_for_chars(text.chars().count())
}

/// [`estimate_tokens`] for a known character count.
pub fn estimate_tokens_for_chars(chars: usize) -> u64 {
    (chars as u64).div_ceil(4).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const SAMPLES: &[&str] = &[
        "",
        " ",
        "hello",
        "hello world",
        "  leading and trailing  ",
        "tabs\tand\nnew  lines\r\n",
        "héllo wörld ünïcödé 日本語 テキスト 🦀🦀 crab",
        "card 4111 1111 1111 1111 ok",
        "\u{00a0}nbsp\u{2003}em-space",
    ];

    #[test]
    fn word_split_concatenates_exactly() {
        for text in SAMPLES {
            assert_eq!(split_words(text).concat(), *text);
        }
    }

    #[test]
    fn word_split_keeps_whitespace_attached() {
        assert_eq!(
            split_words("hello big  world "),
            ["hello ", "big  ", "world "]
        );
        assert_eq!(split_words("  lead x"), ["  lead ", "x"]);
        assert_eq!(split_words("日本 語"), ["日本 ", "語"]);
        assert!(split_words("").is_empty());
    }

    #[test]
    fn char_split_is_char_boundary_safe() {
        for text in SAMPLES {
            for size in 1..=5 {
                let pieces = split_chars(text, size);
                assert_eq!(pieces.concat(), *text);
                for (i, p) in pieces.iter().enumerate() {
                    let n = p.chars().count();
                    if i + 1 < pieces.len() {
                        assert_eq!(n, size, "{text:?} size {size}");
                    } else {
                        assert!((1..=size).contains(&n));
                    }
                }
            }
        }
        assert_eq!(split_chars("🦀é日x", 2), ["🦀é", "日x"]);
    }

    #[test]
    fn token_estimate() {
        assert_eq!(estimate_tokens(""), 1);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert_eq!(estimate_tokens("日本語テ"), 1);
        assert_eq!(estimate_tokens(&"x".repeat(401)), 101);
    }

    #[test]
    fn plans() {
        let h = HeaderMap::new();
        let p = plan("plain prompt", &h).unwrap();
        assert_eq!(p.pieces, ["echo: ", "plain ", "prompt"]);
        assert_eq!(p.delay, Duration::ZERO);
        assert_eq!(p.status, None);

        let p = plan(r#"hi [[mock {"echo":true}]] there"#, &h).unwrap();
        assert_eq!(p.text(), "echo: hi  there");

        let p = plan(r#"[[mock {"reply":"ab","repeat":3,"chunk_size":4}]]"#, &h).unwrap();
        assert_eq!(p.pieces, ["abab", "ab"]);

        let p = plan(r#"[[mock {"chunks":["a","b"],"repeat":2}]]"#, &h).unwrap();
        assert_eq!(p.pieces, ["a", "b", "a", "b"]);

        let p = plan(r#"[[mock {"echo":false}]] ignored"#, &h).unwrap();
        assert!(p.pieces.is_empty());

        let p = plan(
            r#"[[mock {"status":429,"delay_ms":7,"abort_after":1}]]"#,
            &h,
        )
        .unwrap();
        assert_eq!(p.status, Some(StatusCode::TOO_MANY_REQUESTS));
        assert_eq!(p.delay, Duration::from_millis(7));
        assert_eq!(p.abort_after, Some(1));
    }

    #[test]
    fn headers_are_sorted_compact_json() {
        let mut h = HeaderMap::new();
        h.insert("X-Zed", HeaderValue::from_static("z"));
        h.insert("authorization", HeaderValue::from_static("Bearer t"));
        h.append("x-multi", HeaderValue::from_static("1"));
        h.append("x-multi", HeaderValue::from_static("2"));
        assert_eq!(
            headers_json(&h),
            r#"{"authorization":"Bearer t","x-multi":"1, 2","x-zed":"z"}"#
        );
        let p = plan(r#"[[mock {"echo_headers":true}]]"#, &h).unwrap();
        assert_eq!(p.text(), headers_json(&h));
    }
}
