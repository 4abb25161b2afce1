//! Parsing the steering directive `[[mock {...json...}]]` out of a prompt.
//!
//! The directive starts at the first `[[mock` in the prompt. After optional
//! whitespace a JSON object follows; its end is found by a balanced-brace
//! scan that skips braces inside JSON strings. After the object (and optional
//! whitespace) the directive must close with `]]`.

use std::fmt;

use serde_json::{Map, Value};

/// The marker that opens a directive.
pub const MARKER: &str = "[[mock";

/// The longest delay a directive may ask for, in milliseconds.
pub const MAX_DELAY_MS: u64 = 60_000;

/// The largest `repeat` count a directive may ask for.
pub const MAX_REPEAT: usize = 100_000;

/// The keys a directive may contain.
pub const KEYS: &[&str] = &[
    "reply",
    "chunks",
    "echo",
    "echo_headers",
    "delay_ms",
    "status",
    "abort_after",
    "chunk_size",
    "repeat",
    "tool_calls",
    "thinking",
];

/// A function call the model makes: its name and its arguments (JSON text)
/// in the pieces they are streamed in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolCall {
    /// The function's name.
    pub name: String,
    /// The arguments, one piece per streamed event; their concatenation is
    /// the whole arguments text.
    pub chunks: Vec<String>,
}

/// A parsed steering directive. Every field is optional; `Default` is the
/// empty directive `{}`, which behaves like no directive at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directive {
    /// The exact answer text.
    pub reply: Option<String>,
    /// The exact content pieces, one per streamed event.
    pub chunks: Option<Vec<String>>,
    /// Whether to answer `echo: <prompt without the directive>`.
    pub echo: Option<bool>,
    /// Answer with the request headers as compact, key-sorted JSON.
    pub echo_headers: bool,
    /// Sleep this long before each streamed event (once before a
    /// non-streamed answer).
    pub delay_ms: u64,
    /// Fail with this HTTP status (400..=599).
    pub status: Option<u16>,
    /// In streaming mode, drop the connection after this many content events.
    pub abort_after: Option<usize>,
    /// Split the streamed text into pieces of this many characters.
    pub chunk_size: Option<usize>,
    /// Repeat the answer text (or the chunk list) this many times.
    pub repeat: Option<usize>,
    /// Function calls the answer makes (after its text).
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Reasoning the answer shows before its text (Anthropic thinking,
    /// Responses API reasoning summary), one piece per streamed event.
    pub thinking: Option<Vec<String>>,
}

/// Why a directive could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError(pub String);

impl fmt::Display for DirectiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DirectiveError {}

fn err<T>(message: impl Into<String>) -> Result<T, DirectiveError> {
    Err(DirectiveError(message.into()))
}

/// A prompt split into its directive (if any) and the remaining text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The directive, or `None` when the prompt has no `[[mock`.
    pub directive: Option<Directive>,
    /// The prompt with the directive removed and surrounding whitespace
    /// trimmed; the prompt unchanged when it has no directive.
    pub rest: String,
}

/// Finds and parses the first directive in `prompt`.
pub fn extract(prompt: &str) -> Result<Extracted, DirectiveError> {
    let Some(start) = prompt.find(MARKER) else {
        return Ok(Extracted {
            directive: None,
            rest: prompt.to_owned(),
        });
    };
    let after_marker = start + MARKER.len();
    let body = &prompt[after_marker..];
    let open = after_marker + (body.len() - body.trim_start().len());
    if !prompt[open..].starts_with('{') {
        return err("mock directive must be `[[mock {...json...}]]`: expected `{` after `[[mock`");
    }
    let close = match_brace(&prompt[open..])
        .map(|len| open + len)
        .ok_or_else(|| DirectiveError("mock directive has unbalanced braces".to_owned()))?;
    let tail = &prompt[close..];
    let ws = tail.len() - tail.trim_start().len();
    if !tail[ws..].starts_with("]]") {
        return err("mock directive is missing its closing `]]`");
    }
    let end = close + ws + 2;
    let directive = parse_json(&prompt[open..close])?;
    let rest = format!("{}{}", &prompt[..start], &prompt[end..])
        .trim()
        .to_owned();
    Ok(Extracted {
        directive: Some(directive),
        rest,
    })
}

/// Returns the byte length of the balanced `{...}` at the start of `s`
/// (which must start with `{`), skipping braces inside JSON strings.
fn match_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses and validates the directive's JSON object.
pub fn parse_json(json: &str) -> Result<Directive, DirectiveError> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| DirectiveError(format!("mock directive is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return err("mock directive must be a JSON object");
    };
    from_map(&map)
}

fn from_map(map: &Map<String, Value>) -> Result<Directive, DirectiveError> {
    let mut d = Directive::default();
    for (key, value) in map {
        match key.as_str() {
            "reply" => d.reply = Some(string(key, value)?),
            "chunks" => d.chunks = Some(strings(key, value)?),
            "thinking" => d.thinking = Some(strings(key, value)?),
            "tool_calls" => d.tool_calls = Some(tool_calls(value)?),
            "echo" => d.echo = Some(boolean(key, value)?),
            "echo_headers" => d.echo_headers = boolean(key, value)?,
            "delay_ms" => d.delay_ms = bounded(key, value, 0, MAX_DELAY_MS)?,
            "status" => d.status = Some(bounded(key, value, 400, 599)? as u16),
            "abort_after" => {
                d.abort_after = Some(bounded(key, value, 0, u32::MAX.into())? as usize)
            }
            "chunk_size" => d.chunk_size = Some(bounded(key, value, 1, u32::MAX.into())? as usize),
            "repeat" => d.repeat = Some(bounded(key, value, 0, MAX_REPEAT as u64)? as usize),
            other => {
                return err(format!(
                    "unknown mock directive key `{other}` (known keys: {})",
                    KEYS.join(", ")
                ))
            }
        }
    }
    validate(&d)?;
    Ok(d)
}

fn validate(d: &Directive) -> Result<(), DirectiveError> {
    if d.reply.is_some() && d.chunks.is_some() {
        return err("mock directive keys `reply` and `chunks` cannot be combined");
    }
    if d.echo_headers && (d.reply.is_some() || d.chunks.is_some()) {
        return err(
            "mock directive key `echo_headers` cannot be combined with `reply` or `chunks`",
        );
    }
    if d.echo == Some(true) && (d.reply.is_some() || d.chunks.is_some() || d.echo_headers) {
        return err(
            "mock directive key `echo: true` cannot be combined with `reply`, `chunks` or `echo_headers`",
        );
    }
    if d.chunk_size.is_some() && d.chunks.is_some() {
        return err("mock directive key `chunk_size` cannot be combined with `chunks`");
    }
    Ok(())
}

/// An array of strings.
fn strings(key: &str, value: &Value) -> Result<Vec<String>, DirectiveError> {
    let message = || {
        DirectiveError(format!(
            "mock directive key `{key}` must be an array of strings"
        ))
    };
    let Value::Array(items) = value else {
        return Err(message());
    };
    items
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(message))
        .collect()
}

/// `[{"name": "...", "chunks": ["...", ...]}, ...]`.
fn tool_calls(value: &Value) -> Result<Vec<ToolCall>, DirectiveError> {
    let message = || {
        DirectiveError(
            "mock directive key `tool_calls` must be an array of {\"name\": string, \"chunks\": [string]}"
                .to_owned(),
        )
    };
    let Value::Array(items) = value else {
        return Err(message());
    };
    items
        .iter()
        .map(|item| {
            let Some(Value::String(name)) = item.get("name") else {
                return Err(message());
            };
            let known = item
                .as_object()
                .is_some_and(|o| o.keys().all(|k| k == "name" || k == "chunks"));
            let chunks = item
                .get("chunks")
                .map_or(Ok(Vec::new()), |c| strings("tool_calls", c));
            match (known, chunks) {
                (true, Ok(chunks)) => Ok(ToolCall {
                    name: name.clone(),
                    chunks,
                }),
                _ => Err(message()),
            }
        })
        .collect()
}

fn string(key: &str, value: &Value) -> Result<String, DirectiveError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => err(format!("mock directive key `{key}` must be a string")),
    }
}

fn boolean(key: &str, value: &Value) -> Result<bool, DirectiveError> {
    match value {
        Value::Bool(b) => Ok(*b),
        _ => err(format!("mock directive key `{key}` must be a boolean")),
    }
}

fn bounded(key: &str, value: &Value, min: u64, max: u64) -> Result<u64, DirectiveError> {
    match value.as_u64() {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => err(format!(
            "mock directive key `{key}` must be an integer from {min} to {max}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(prompt: &str) -> Extracted {
        extract(prompt).unwrap_or_else(|e| panic!("{prompt:?} should parse: {e}"))
    }

    fn fails(prompt: &str) -> String {
        match extract(prompt) {
            Ok(x) => panic!("{prompt:?} should fail, got {x:?}"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn no_directive_leaves_prompt_untouched() {
        let x = ok("  hello [mock] world  ");
        assert_eq!(x.directive, None);
        assert_eq!(x.rest, "  hello [mock] world  ");
    }

    #[test]
    fn valid_directives() {
        let table: &[(&str, Directive, &str)] = &[
            (
                r#"[[mock {"reply":"hi"}]]"#,
                Directive {
                    reply: Some("hi".into()),
                    ..Default::default()
                },
                "",
            ),
            (
                "before [[mock   {\"delay_ms\": 5, \"status\": 503} \n ]] after",
                Directive {
                    delay_ms: 5,
                    status: Some(503),
                    ..Default::default()
                },
                "before  after",
            ),
            (
                r#"x [[mock {"chunks":["41","11 1111"," 1111 1111"]}]]"#,
                Directive {
                    chunks: Some(vec!["41".into(), "11 1111".into(), " 1111 1111".into()]),
                    ..Default::default()
                },
                "x",
            ),
            (
                r#"[[mock {"echo":false,"echo_headers":true,"abort_after":2,"repeat":3}]]q"#,
                Directive {
                    echo: Some(false),
                    echo_headers: true,
                    abort_after: Some(2),
                    repeat: Some(3),
                    ..Default::default()
                },
                "q",
            ),
            ("[[mock {}]] plain", Directive::default(), "plain"),
            (
                r#"[[mock {"thinking":["a","b"],"tool_calls":[{"name":"f","chunks":["{\"x\":","1}"]},{"name":"g"}]}]]"#,
                Directive {
                    thinking: Some(vec!["a".into(), "b".into()]),
                    tool_calls: Some(vec![
                        ToolCall {
                            name: "f".into(),
                            chunks: vec!["{\"x\":".into(), "1}".into()],
                        },
                        ToolCall {
                            name: "g".into(),
                            chunks: vec![],
                        },
                    ]),
                    ..Default::default()
                },
                "",
            ),
        ];
        for (prompt, want, rest) in table {
            let x = ok(prompt);
            assert_eq!(x.directive.as_ref(), Some(want), "{prompt}");
            assert_eq!(x.rest, *rest, "{prompt}");
        }
    }

    #[test]
    fn nested_braces_and_brackets_inside_strings() {
        let x = ok(r#"a [[mock {"reply":"{\"x\":{}} ]] }}\\"}]] b"#);
        assert_eq!(x.directive.unwrap().reply.unwrap(), r#"{"x":{}} ]] }}\"#);
        assert_eq!(x.rest, "a  b");
    }

    #[test]
    fn malformed_directives_fail() {
        let table: &[(&str, &str)] = &[
            (r#"[[mock {"reply":"hi"}"#, "closing `]]`"),
            (r#"[[mock {"reply":"hi"} ] ]"#, "closing `]]`"),
            (r#"[[mock {"reply":"hi"]]"#, "unbalanced"),
            ("[[mock]]", "expected `{`"),
            (r#"[[mock {"reply":hi}]]"#, "not valid JSON"),
            (r#"[[mock {"bogus":1}]]"#, "`bogus`"),
            (
                r#"[[mock {"reply":"a","chunks":["b"]}]]"#,
                "`reply` and `chunks`",
            ),
            (r#"[[mock {"delay_ms":60001}]]"#, "`delay_ms`"),
            (r#"[[mock {"status":200}]]"#, "`status`"),
            (r#"[[mock {"chunk_size":0}]]"#, "`chunk_size`"),
            (r#"[[mock {"repeat":100001}]]"#, "`repeat`"),
            (r#"[[mock {"chunks":["a",1]}]]"#, "`chunks`"),
            (r#"[[mock {"echo":"yes"}]]"#, "`echo`"),
            (r#"[[mock {"thinking":"x"}]]"#, "`thinking`"),
            (
                r#"[[mock {"tool_calls":[{"chunks":["{}"]}]}]]"#,
                "`tool_calls`",
            ),
            (
                r#"[[mock {"tool_calls":[{"name":"f","args":"{}"}]}]]"#,
                "`tool_calls`",
            ),
            (
                r#"[[mock {"echo_headers":true,"reply":"x"}]]"#,
                "`echo_headers`",
            ),
        ];
        for (prompt, needle) in table {
            let message = fails(prompt);
            assert!(
                message.contains(needle),
                "{prompt}: {message:?} lacks {needle:?}"
            );
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let message = fails(r#"[[mock {"reply":"x","sleep_ms":3}]]"#);
        assert!(
            message.starts_with("unknown mock directive key `sleep_ms`"),
            "{message}"
        );
    }

    #[test]
    fn only_the_first_directive_is_used() {
        let x = ok(r#"[[mock {"reply":"one"}]] [[mock {"reply":"two"}]]"#);
        assert_eq!(x.directive.unwrap().reply.unwrap(), "one");
        assert_eq!(x.rest, r#"[[mock {"reply":"two"}]]"#);
    }
}
