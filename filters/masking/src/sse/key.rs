//! Which continuing text a streamed piece belongs to, and the extra event
//! that carries a stream's held-back text in that stream's own format.

use serde_json::{json, Value};

/// A streamed field of a chat-completions choice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum ChoicePart {
    /// `delta.<name>`: `content`, `refusal`, `reasoning_content`, `reasoning`.
    Field(&'static str),
    /// `delta.audio.transcript`.
    AudioTranscript,
    /// `delta.tool_calls[..].function.arguments` of the tool call with this `index`.
    Tool(u64),
    /// `delta.function_call.arguments` (the deprecated single function call).
    FunctionCall,
    /// `text` of a legacy completion choice.
    Legacy,
}

/// The kind of delta a streamed Anthropic content block receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum BlockKind {
    /// `text_delta` (`delta.text`).
    Text,
    /// `thinking_delta` (`delta.thinking`).
    Thinking,
    /// `input_json_delta` (`delta.partial_json`).
    Json,
}

impl BlockKind {
    /// The delta `type` and the field that carries the text.
    pub fn delta_fields(self) -> (&'static str, &'static str) {
        match self {
            BlockKind::Text => ("text_delta", "text"),
            BlockKind::Thinking => ("thinking_delta", "thinking"),
            BlockKind::Json => ("input_json_delta", "partial_json"),
        }
    }
}

/// Where an OpenAI Responses API delta belongs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct OutputKey {
    /// The event type without `.delta`, e.g. `response.output_text`.
    pub kind: String,
    /// `output_index`.
    pub output: Option<u64>,
    /// `item_id`.
    pub item: Option<String>,
    /// `content_index`.
    pub content: Option<u64>,
    /// `summary_index`.
    pub summary: Option<u64>,
}

/// One continuing text: its own [`TextStream`](crate::TextStream), never
/// shared with another choice, field, tool call, block or output part.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Key {
    /// OpenAI chat or legacy completions: a field of the choice with this index.
    Choice { choice: u64, part: ChoicePart },
    /// Anthropic messages: the content block with this index.
    Block { block: u64, kind: BlockKind },
    /// OpenAI Responses API: a `response.*.delta` stream.
    Output(OutputKey),
    /// `data` that is not JSON, in events with this `event:` name (or none):
    /// their texts taken as one text, as token streams of plain text are.
    Plain(Option<String>),
}

/// Which open streams to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Flush {
    /// Every stream.
    All,
    /// Every stream of this chat or legacy choice.
    Choice(u64),
    /// Every delta kind of this Anthropic block.
    Block(u64),
    /// Every Anthropic block.
    Blocks,
    /// Responses API streams matching every field that is set (an empty
    /// `kind` matches any kind).
    Output(OutputKey),
    /// Every Responses API stream.
    Outputs,
    /// Every stream of plain-text events.
    Plain,
}

impl Flush {
    /// Whether the stream `key` is one of those to end.
    pub fn matches(&self, key: &Key) -> bool {
        match (self, key) {
            (Flush::All, _) => true,
            (Flush::Choice(c), Key::Choice { choice, .. }) => c == choice,
            (Flush::Block(b), Key::Block { block, .. }) => b == block,
            (Flush::Blocks, Key::Block { .. }) => true,
            (Flush::Outputs, Key::Output(_)) => true,
            (Flush::Plain, Key::Plain(_)) => true,
            (Flush::Output(want), Key::Output(k)) => {
                (want.kind.is_empty() || want.kind == k.kind)
                    && same(&want.output, &k.output)
                    && same(&want.item, &k.item)
                    && same(&want.content, &k.content)
                    && same(&want.summary, &k.summary)
            }
            _ => false,
        }
    }
}

/// `want` is unset (matches anything) or equal to `got`.
fn same<V: PartialEq>(want: &Option<V>, got: &Option<V>) -> bool {
    want.is_none() || want == got
}

/// The data of an extra event carrying `text` for the stream `key` (for a
/// plain-text stream, the text itself).
///
/// `template` is the (already masked) event that opened the stream: chat
/// events keep its top-level fields (`id`, `model`, ...), Responses API
/// events all of it but `delta`, `logprobs` and `sequence_number`.
/// Anthropic events need nothing from it.
pub(super) fn extra_event(
    key: &Key,
    template: &Value,
    text: String,
    sequence: Option<&Value>,
) -> String {
    let value = match key {
        Key::Choice { choice, part } => with_choice(template, choice_delta(*choice, part, text)),
        Key::Block { block, kind } => {
            let (kind, field) = kind.delta_fields();
            json!({"type": "content_block_delta", "index": block, "delta": {"type": kind, field: text}})
        }
        Key::Output(_) => {
            let mut value = template.clone();
            if let Some(obj) = value.as_object_mut() {
                obj.insert("delta".into(), Value::String(text));
                if obj.contains_key("logprobs") {
                    obj.insert("logprobs".into(), json!([]));
                }
                if let Some(seq) = sequence {
                    obj.insert("sequence_number".into(), seq.clone());
                }
            }
            value
        }
        Key::Plain(_) => return text,
    };
    value.to_string()
}

/// The event name of an extra event for `key`, when the stream's events are named.
pub(super) fn extra_event_name(key: &Key, opener: &str) -> String {
    match key {
        Key::Choice { .. } => opener.to_owned(),
        Key::Block { .. } => "content_block_delta".to_owned(),
        Key::Output(k) => format!("{}.delta", k.kind),
        Key::Plain(_) => opener.to_owned(),
    }
}

/// `template` with its `choices` replaced by the single `choice`.
fn with_choice(template: &Value, choice: Value) -> Value {
    let mut value = template.clone();
    match value.as_object_mut() {
        Some(obj) => {
            obj.insert("choices".into(), json!([choice]));
        }
        None => value = json!({"choices": [choice]}),
    }
    value
}

/// A chat or legacy choice carrying `text` in the field `part`.
fn choice_delta(index: u64, part: &ChoicePart, text: String) -> Value {
    let delta = match part {
        ChoicePart::Legacy => {
            return json!({"index": index, "text": text, "finish_reason": null, "logprobs": null});
        }
        ChoicePart::Field(name) => json!({ *name: text }),
        ChoicePart::AudioTranscript => json!({"audio": {"transcript": text}}),
        ChoicePart::Tool(tool) => {
            json!({"tool_calls": [{"index": tool, "function": {"arguments": text}}]})
        }
        ChoicePart::FunctionCall => json!({"function_call": {"arguments": text}}),
    };
    json!({"index": index, "delta": delta, "finish_reason": null})
}
