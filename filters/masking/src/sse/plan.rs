//! What one JSON event asks of the rewriter, per API format: which of its
//! strings continue a stream, which streams it ends, which strings must stay
//! exactly as they are. Every string no plan claims is masked whole.

use serde_json::Value;

use super::key::{BlockKind, ChoicePart, Flush, Key, OutputKey};
use crate::json::Seg;

/// The chat-completions `delta` fields streamed as text (`reasoning_content`
/// and `reasoning` are what OpenAI-compatible servers use for reasoning).
const CHAT_FIELDS: [&str; 4] = ["content", "refusal", "reasoning_content", "reasoning"];

/// A string of the event that continues a stream.
#[derive(Debug)]
pub(super) struct Claim<'a> {
    /// Where the string is in the event.
    pub path: Vec<Seg>,
    /// The stream it continues.
    pub key: Key,
    /// The piece of text.
    pub text: &'a str,
    /// Whether the stream ends with this piece (`finish_reason` in the same choice).
    pub last: bool,
}

/// What the rewriter does with one JSON event.
#[derive(Debug, Default)]
pub(super) struct Plan<'a> {
    /// Strings fed to their streams.
    pub claims: Vec<Claim<'a>>,
    /// Streams to end before the event goes out (after feeding the claims):
    /// their held text goes out in extra events just before it.
    pub flush: Vec<Flush>,
    /// Strings left exactly as they are (signatures, encrypted content).
    pub exempt: Vec<Vec<Seg>>,
    /// Whether the event repeats text already streamed (`*.done`,
    /// `response.completed`): masked whole like any other string, but the
    /// entities are not counted a second time.
    pub recap: bool,
}

/// A path made of object keys.
fn keys(base: &[Seg], rest: &[&str]) -> Vec<Seg> {
    let mut path = base.to_vec();
    path.extend(rest.iter().map(|k| Seg::Key((*k).to_owned())));
    path
}

fn u64_at(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The plan for a parsed event.
pub(super) fn plan(value: &Value) -> Plan<'_> {
    if let Some(choices) = value.get("choices").and_then(Value::as_array) {
        return chat(choices);
    }
    let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
    if kind == "error" || (kind.is_empty() && value.get("error").is_some()) {
        // Whatever the format (Anthropic and Responses `type: error`, an
        // OpenAI-style `{"error": {...}}`), an error ends the stream: held
        // text goes out before it, not after.
        return Plan {
            flush: vec![Flush::All],
            ..Plan::default()
        };
    }
    if kind.starts_with("response.") {
        return responses(kind, value);
    }
    anthropic(kind, value)
}

/// OpenAI chat completions and legacy completions chunks.
fn chat(choices: &[Value]) -> Plan<'_> {
    let mut plan = Plan::default();
    for (pos, choice) in choices.iter().enumerate() {
        let index = u64_at(choice, "index").unwrap_or(pos as u64);
        // Some servers send `"finish_reason": ""` on every chunk: only a
        // non-empty reason ends the choice.
        let last = choice.get("finish_reason").is_some_and(|f| !f.is_null() && f.as_str() != Some(""));
        let base = [Seg::Key("choices".into()), Seg::Index(pos)];
        let mut claim = |path: Vec<Seg>, part: ChoicePart, text| {
            plan.claims.push(Claim {
                path,
                key: Key::Choice {
                    choice: index,
                    part,
                },
                text,
                last,
            });
        };
        if let Some(text) = str_at(choice, "/text") {
            claim(keys(&base, &["text"]), ChoicePart::Legacy, text);
        }
        for name in CHAT_FIELDS {
            if let Some(text) = choice
                .get("delta")
                .and_then(|d| d.get(name))
                .and_then(Value::as_str)
            {
                claim(keys(&base, &["delta", name]), ChoicePart::Field(name), text);
            }
        }
        if let Some(text) = str_at(choice, "/delta/audio/transcript") {
            claim(
                keys(&base, &["delta", "audio", "transcript"]),
                ChoicePart::AudioTranscript,
                text,
            );
        }
        if let Some(text) = str_at(choice, "/delta/function_call/arguments") {
            claim(
                keys(&base, &["delta", "function_call", "arguments"]),
                ChoicePart::FunctionCall,
                text,
            );
        }
        let calls = choice
            .pointer("/delta/tool_calls")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (at, call) in calls.iter().enumerate() {
            if let Some(text) = str_at(call, "/function/arguments") {
                let tool = u64_at(call, "index").unwrap_or(at as u64);
                let mut path = keys(&base, &["delta", "tool_calls"]);
                path.push(Seg::Index(at));
                path.extend([Seg::Key("function".into()), Seg::Key("arguments".into())]);
                claim(path, ChoicePart::Tool(tool), text);
            }
        }
        if last {
            // Any other stream of this choice ends too.
            plan.flush.push(Flush::Choice(index));
        }
    }
    plan
}

/// Anthropic messages events.
fn anthropic<'a>(kind: &str, value: &'a Value) -> Plan<'a> {
    let mut plan = Plan::default();
    let block = u64_at(value, "index").unwrap_or(0);
    let mut claim = |path: &[&str], kind, text| {
        let path = keys(&[], path);
        plan.claims.push(Claim {
            path,
            key: Key::Block { block, kind },
            text,
            last: false,
        });
    };
    match kind {
        "content_block_start" => match str_at(value, "/content_block/type").unwrap_or("") {
            "text" => {
                if let Some(text) = str_at(value, "/content_block/text") {
                    claim(&["content_block", "text"], BlockKind::Text, text);
                }
            }
            "thinking" => {
                if let Some(text) = str_at(value, "/content_block/thinking") {
                    claim(&["content_block", "thinking"], BlockKind::Thinking, text);
                }
                plan.exempt.push(keys(&[], &["content_block", "signature"]));
            }
            // Encrypted by Anthropic: nothing readable to mask, and it must round-trip.
            "redacted_thinking" => plan.exempt.push(keys(&[], &["content_block", "data"])),
            _ => {}
        },
        "content_block_delta" => match str_at(value, "/delta/type").unwrap_or("") {
            "text_delta" => {
                if let Some(text) = str_at(value, "/delta/text") {
                    claim(&["delta", "text"], BlockKind::Text, text);
                }
            }
            "thinking_delta" => {
                if let Some(text) = str_at(value, "/delta/thinking") {
                    claim(&["delta", "thinking"], BlockKind::Thinking, text);
                }
            }
            "input_json_delta" => {
                if let Some(text) = str_at(value, "/delta/partial_json") {
                    claim(&["delta", "partial_json"], BlockKind::Json, text);
                }
            }
            "signature_delta" => plan.exempt.push(keys(&[], &["delta", "signature"])),
            _ => {}
        },
        "content_block_stop" => plan.flush.push(Flush::Block(block)),
        "message_delta" | "message_stop" => plan.flush.push(Flush::Blocks),
        _ => {}
    }
    plan
}

/// The Responses API stream a `response.*` event refers to, of the given kind.
fn output_key(kind: &str, value: &Value) -> OutputKey {
    OutputKey {
        kind: kind.to_owned(),
        output: u64_at(value, "output_index"),
        item: str_at(value, "/item_id").map(str::to_owned),
        content: u64_at(value, "content_index"),
        summary: u64_at(value, "summary_index"),
    }
}

/// OpenAI Responses API events: every `response.*.delta` with a string
/// `delta` is a stream; `.done` events end them.
fn responses<'a>(kind: &str, value: &'a Value) -> Plan<'a> {
    let mut plan = Plan::default();
    if let (Some(stream), Some(text)) = (kind.strip_suffix(".delta"), str_at(value, "/delta")) {
        let key = Key::Output(output_key(stream, value));
        plan.claims.push(Claim {
            path: keys(&[], &["delta"]),
            key,
            text,
            last: false,
        });
        return plan;
    }
    match kind {
        // Structural ends: every stream of the part, item or summary part.
        "response.content_part.done"
        | "response.output_item.done"
        | "response.reasoning_summary_part.done" => {
            plan.flush.push(Flush::Output(output_key("", value)));
            plan.recap = true;
        }
        "response.completed" | "response.incomplete" | "response.failed" => {
            plan.flush.push(Flush::Outputs);
            plan.recap = true;
        }
        _ => {
            if let Some(stream) = kind.strip_suffix(".done") {
                plan.flush.push(Flush::Output(output_key(stream, value)));
                plan.recap = true;
            }
        }
    }
    plan
}
