//! Extraction: a request body turned into text segments and structure the matchers can inspect.
//!
//! | Format | Recognised by (with `format: auto`) | Text segments |
//! | --- | --- | --- |
//! | OpenAI chat completions | JSON with `messages` | string content, `text` parts, tool-call `arguments`, legacy `function_call` |
//! | OpenAI responses | JSON with `input` | `instructions`, `input` string or items: message content, `function_call` arguments, `function_call_output` |
//! | OpenAI legacy completions | JSON with `prompt` | `prompt` string or strings, `suffix` (token-id prompts are an error: they cannot be inspected) |
//! | Anthropic messages | JSON with `messages` and a `system` field or a path ending in `/messages` | `system`, string content, `text` blocks, `tool_use` input, `tool_result` content, text `document`s |
//! | MCP (JSON-RPC 2.0) | JSON with `jsonrpc`, or a batch of them | `tools/call` gives a [`ToolCall`] and its argument strings; other methods their `params` strings |
//! | Kubernetes API | path `/api/...` or `/apis/...` | a [`K8sRequest`] from method and path; JSON body strings |
//! | Other JSON | `application/json`, `*+json` | every string value |
//! | Text | `text/*`, YAML, or no content type and a body that is not JSON | the whole body (invalid UTF-8 replaced) |
//!
//! Other content types follow the target's `other_content` setting: read as text up to a
//! limit, passed unchecked, or refused. In JSON, an array made only of strings (an argv such as
//! `["rm", "-rf", "/"]`) is one segment, its strings joined by spaces. Object keys are not
//! inspected.

use std::fmt;

use portcullis_policy::guard::{FormatHint, OtherContent, OtherContentAction, TargetGuard};
use serde::Serialize;
use serde_json::Value;

mod chat;
mod json;
mod k8s;
mod mcp;

pub use k8s::{parse_k8s_path, K8sRequest, K8sVerb};

/// What kind of request a body was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// OpenAI chat completions (`messages`).
    OpenaiChat,
    /// OpenAI responses (`input`).
    OpenaiResponses,
    /// OpenAI legacy completions (`prompt`).
    OpenaiCompletions,
    /// Anthropic messages.
    AnthropicMessages,
    /// MCP JSON-RPC.
    Mcp,
    /// A Kubernetes API request.
    Kubernetes,
    /// JSON of no known shape: every string value is a segment.
    Json,
    /// Plain text.
    Text,
    /// No body.
    Empty,
    /// A content type the guard does not parse; [`Extracted::inspected`] says whether its start
    /// was read as text. (Kubernetes requests keep [`Format::Kubernetes`] whatever their body.)
    Other,
}

/// Who wrote a text segment, as far as the request says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// System prompt (`system` messages, Anthropic `system`, responses `instructions`).
    System,
    /// OpenAI `developer` messages.
    Developer,
    /// The caller. Also text without a role: MCP arguments, Kubernetes bodies, plain text,
    /// and messages whose role is not one of these.
    User,
    /// Earlier model output in the history, including its tool calls.
    Assistant,
    /// Tool results (OpenAI `tool` messages, Anthropic `tool_result` blocks, `function_call_output`).
    Tool,
    /// OpenAI legacy `function` messages.
    Function,
}

impl Role {
    /// The role's name, as used in policies.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Developer => "developer",
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::Tool => "tool",
            Self::Function => "function",
        }
    }

    /// Parses a role name from a request or a policy; unknown names are [`Role::User`].
    pub fn parse(name: &str) -> Self {
        match name {
            "system" => Self::System,
            "developer" => Self::Developer,
            "assistant" | "model" => Self::Assistant,
            "tool" => Self::Tool,
            "function" => Self::Function,
            _ => Self::User,
        }
    }
}

/// One piece of inspectable text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Where it came from, as a JSON path such as `messages[2].content[0].text`, or `body`.
    pub field: String,
    /// Who wrote it.
    pub role: Role,
    /// Part of the newest turn: after the last assistant message (always true outside conversations).
    pub latest: bool,
    /// The text, as sent (normalisation happens when matching).
    pub text: String,
}

/// An MCP `tools/call` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolCall {
    /// `params.name`.
    pub name: String,
    /// `params.arguments` as compact JSON (`{}` when absent).
    pub arguments_text: String,
}

/// A request body read for inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extracted {
    /// What it was read as.
    pub kind: Format,
    /// Inspectable text.
    pub texts: Vec<Segment>,
    /// MCP tool calls (more than one only in a JSON-RPC batch).
    pub tools: Vec<ToolCall>,
    /// MCP methods called, such as `tools/call`.
    pub mcp_methods: Vec<String>,
    /// The Kubernetes view of the request, when it is one.
    pub k8s: Option<K8sRequest>,
    /// The `model` field of LLM requests.
    pub model: Option<String>,
    /// Size of the whole body, in bytes.
    pub body_bytes: usize,
    /// False for bodies of other content types that were not read (`other_content: pass|block`);
    /// structure (Kubernetes path, size) is still checked.
    pub inspected: bool,
    /// Only the start of the body was read (`other_content: inspect` over its `max_bytes`).
    pub truncated: bool,
}

impl Extracted {
    fn new(kind: Format, body_bytes: usize) -> Self {
        Self {
            kind,
            texts: Vec::new(),
            tools: Vec::new(),
            mcp_methods: Vec::new(),
            k8s: None,
            model: None,
            body_bytes,
            inspected: true,
            truncated: false,
        }
    }

    /// A plain-text request, as if sent with `text/plain` (handy in tests and tools).
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        let mut out = Self::new(Format::Text, text.len());
        out.texts.push(Segment { field: "body".into(), role: Role::User, latest: true, text });
        out
    }

    /// The first MCP tool call, if any.
    pub fn tool(&self) -> Option<&ToolCall> {
        self.tools.first()
    }
}

/// How bodies are read; [`crate::Guard::extract_options`] gives a target's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Format to read bodies as (default `auto`).
    pub format: FormatHint,
    /// Largest body parsed (default 8 MiB); larger is [`ExtractError::TooLarge`].
    pub max_body_bytes: usize,
    /// What to do with content types the guard does not parse.
    pub other_content: OtherContent,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self { format: FormatHint::Auto, max_body_bytes: 8 << 20, other_content: OtherContent::default() }
    }
}

impl ExtractOptions {
    /// The options one policy entry asks for.
    pub fn from_target(target: &TargetGuard) -> Self {
        Self { format: target.format, max_body_bytes: target.max_body_bytes, other_content: target.other_content.clone() }
    }
}

/// Why a body could not be read. The guard's answer is the target's `on_error` action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractError {
    /// The body is larger than `max_body_bytes`.
    TooLarge {
        /// Body size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The body is not valid JSON (including invalid UTF-8 and nesting deeper than 128).
    InvalidJson {
        /// What the parser said, with line and column.
        detail: String,
    },
    /// The body is JSON, but a field has the wrong type for its format.
    Shape {
        /// The field, such as `messages[1].content`.
        field: String,
        /// What it should have been.
        expected: &'static str,
    },
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { bytes, limit } => write!(f, "request body is {bytes} bytes, over the guard's limit of {limit} (max_body_bytes)"),
            Self::InvalidJson { detail } => write!(f, "request body is not valid JSON: {detail}"),
            Self::Shape { field, expected } => write!(f, "request body field `{field}` must be {expected}"),
        }
    }
}

impl std::error::Error for ExtractError {}

pub(crate) fn shape(field: impl Into<String>, expected: &'static str) -> ExtractError {
    ExtractError::Shape { field: field.into(), expected }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ContentKind {
    Json,
    Text,
    Missing,
    Other,
}

fn content_kind(content_type: &str) -> ContentKind {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence.is_empty() {
        ContentKind::Missing
    } else if essence == "application/json" || essence.ends_with("+json") || essence == "application/x-ndjson" {
        ContentKind::Json
    } else if essence.starts_with("text/") || essence.ends_with("yaml") || essence.ends_with("+yaml") {
        ContentKind::Text
    } else {
        ContentKind::Other
    }
}

/// Reads a request for inspection.
///
/// `content_type` is the `content-type` header (empty when absent), `method` and `path` the
/// request's (the query string may be included). Never panics, whatever the input.
pub fn extract(content_type: &str, method: &str, path: &str, body: &[u8], options: &ExtractOptions) -> Result<Extracted, ExtractError> {
    let kind = content_kind(content_type);
    let hint = options.format;
    let k8s = match hint {
        FormatHint::Kubernetes => parse_k8s_path(method, path, true),
        FormatHint::Auto => parse_k8s_path(method, path, false),
        _ => None,
    };
    if hint == FormatHint::Text {
        return text_body(body, options.max_body_bytes, Format::Text);
    }
    if kind == ContentKind::Other && matches!(hint, FormatHint::Auto | FormatHint::Kubernetes) {
        return Ok(other_body(body, &options.other_content, k8s));
    }
    if body.len() > options.max_body_bytes {
        return Err(ExtractError::TooLarge { bytes: body.len(), limit: options.max_body_bytes });
    }
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    let mut out = match (first, kind) {
        (None, _) => Extracted::new(Format::Empty, body.len()),
        (Some(_), ContentKind::Text) => text_body(body, usize::MAX, Format::Text)?,
        (Some(b'{' | b'['), ContentKind::Missing) => match parse_json(body) {
            Ok(value) => from_json(value, path, hint, body.len())?,
            Err(_) => text_body(body, usize::MAX, Format::Text)?,
        },
        (Some(_), ContentKind::Missing) => text_body(body, usize::MAX, Format::Text)?,
        (Some(_), ContentKind::Json | ContentKind::Other) => from_json(parse_json(body)?, path, hint, body.len())?,
    };
    if let Some(view) = k8s {
        if matches!(out.kind, Format::Json | Format::Empty | Format::Text) || hint == FormatHint::Kubernetes {
            out.kind = Format::Kubernetes;
            out.k8s = Some(view);
        }
    }
    if hint == FormatHint::Kubernetes && out.k8s.is_none() {
        return Err(shape("path", "a Kubernetes API path such as `/api/v1/namespaces/prod/pods/web` (format: kubernetes)"));
    }
    Ok(out)
}

fn parse_json(body: &[u8]) -> Result<Value, ExtractError> {
    serde_json::from_slice(body).map_err(|e| ExtractError::InvalidJson { detail: e.to_string() })
}

fn text_body(body: &[u8], limit: usize, kind: Format) -> Result<Extracted, ExtractError> {
    if body.len() > limit {
        return Err(ExtractError::TooLarge { bytes: body.len(), limit });
    }
    let mut out = Extracted::new(kind, body.len());
    if !body.is_empty() {
        let text = String::from_utf8_lossy(body).into_owned();
        out.texts.push(Segment { field: "body".into(), role: Role::User, latest: true, text });
    }
    Ok(out)
}

/// A body of a content type the guard does not parse. Kubernetes requests keep their path view
/// (protobuf bodies, for one): structural checks still apply.
fn other_body(body: &[u8], other: &OtherContent, k8s: Option<K8sRequest>) -> Extracted {
    let kind = if k8s.is_some() { Format::Kubernetes } else { Format::Other };
    let mut out = Extracted::new(kind, body.len());
    if other.action == OtherContentAction::Inspect {
        let end = body.len().min(other.max_bytes);
        let head = body.get(..end).unwrap_or(body);
        if !head.is_empty() {
            let text = String::from_utf8_lossy(head).into_owned();
            out.texts.push(Segment { field: "body".into(), role: Role::User, latest: true, text });
        }
        out.truncated = end < body.len();
    } else {
        out.inspected = false;
    }
    out.k8s = k8s;
    out
}

/// Reads a parsed JSON body according to the hint and its shape.
fn from_json(value: Value, path: &str, hint: FormatHint, body_bytes: usize) -> Result<Extracted, ExtractError> {
    let shape_of = |key: &str| value.get(key).is_some();
    let is_rpc = match &value {
        Value::Object(o) => o.contains_key("jsonrpc"),
        Value::Array(items) => items.first().is_some_and(|i| i.get("jsonrpc").is_some()),
        _ => false,
    };
    let route = path.split('?').next().unwrap_or(path);
    let anthropic_like = shape_of("system") || shape_of("anthropic_version") || route.ends_with("/messages");
    match hint {
        FormatHint::Mcp if !is_rpc => Err(shape("jsonrpc", "\"2.0\": the target's format is mcp (JSON-RPC)")),
        FormatHint::Mcp => mcp::extract(value, body_bytes),
        FormatHint::Anthropic => chat::messages(value, Format::AnthropicMessages, body_bytes),
        FormatHint::Openai if shape_of("messages") => chat::messages(value, Format::OpenaiChat, body_bytes),
        FormatHint::Openai if shape_of("input") => chat::responses(value, body_bytes),
        FormatHint::Openai if shape_of("prompt") => chat::completions(value, body_bytes),
        FormatHint::Openai => Err(shape("messages", "present (or `input`, or `prompt`): the target's format is openai")),
        _ if is_rpc => mcp::extract(value, body_bytes),
        _ if shape_of("messages") && anthropic_like => chat::messages(value, Format::AnthropicMessages, body_bytes),
        _ if shape_of("messages") => chat::messages(value, Format::OpenaiChat, body_bytes),
        _ if shape_of("input") => chat::responses(value, body_bytes),
        _ if shape_of("prompt") => chat::completions(value, body_bytes),
        _ => {
            let mut out = Extracted::new(Format::Json, body_bytes);
            json::leaves(value, &mut String::new(), Role::User, true, &mut out.texts);
            Ok(out)
        }
    }
}
