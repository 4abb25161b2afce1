//! Incremental rewriting of server-sent event streams from model APIs.
//!
//! **Every string value of every event is masked.** Text a model streams in
//! pieces goes through a continuing [`TextStream`] (usually a
//! [`StreamMasker`](crate::StreamMasker)) so an entity split over several
//! events is still masked; every other string is masked whole.
//!
//! # Streamed text
//!
//! Each of these gets a stream of its own, never shared:
//!
//! | API | streamed field | one stream per |
//! |---|---|---|
//! | OpenAI chat completions | `choices[i].delta.content`, `.refusal`, `.reasoning_content`, `.reasoning`, `.audio.transcript` | choice and field |
//! | | `choices[i].delta.tool_calls[j].function.arguments` | choice and tool call `index` |
//! | | `choices[i].delta.function_call.arguments` (deprecated) | choice |
//! | OpenAI legacy completions | `choices[i].text` | choice |
//! | Anthropic messages | `content_block_start` `content_block.text` / `.thinking` (the start of the block's text), `content_block_delta` `text_delta`, `thinking_delta`, `input_json_delta` | content block and delta kind |
//! | OpenAI Responses API | `delta` of every `response.*.delta` event whose `delta` is a string (`output_text`, `refusal`, `function_call_arguments`, `reasoning_summary_text`, `reasoning_text`, `custom_tool_call_input`, `mcp_call_arguments`, `audio_transcript`, …) | event kind, `output_index`, `item_id`, `content_index`, `summary_index` |
//!
//! Text a stream holds back goes out with a later event of the same stream,
//! merged into a chat choice that carries `finish_reason`, or in an extra
//! event of the stream's own format placed just before the event that ends
//! it: `finish_reason` (every stream of that choice), `content_block_stop`,
//! `message_delta`/`message_stop`, a Responses `response.<kind>.done` (that
//! stream), `response.content_part.done`/`response.output_item.done`/
//! `response.reasoning_summary_part.done` (the streams of that part or item),
//! `response.completed`/`incomplete`/`failed`, an `error` event, `data:
//! [DONE]`, or the end of the body. Extra events are a chat chunk with the
//! stream's `id`/`model`/… and one choice, an Anthropic
//! `content_block_delta`, or a copy of the stream's first Responses delta
//! event (its `delta` replaced, `logprobs` emptied, `sequence_number` the
//! last one seen, so the numbers never go back; it repeats that number).
//!
//! # Everything else: masked whole, fail closed
//!
//! * Every other string value of a JSON event (ids, tool names, `message_start`,
//!   `response.created`, citations, MCP JSON-RPC messages,
//!   events of types this module has never heard of) is masked as a whole text
//!   with a fresh stream. Object keys are not masked.
//! * Events that repeat the full text (`response.output_text.done`,
//!   `response.content_part.done`, `response.output_item.done`,
//!   `response.completed`, …) come out exactly as their deltas did: the
//!   engine's streamed output equals masking the whole text, and each
//!   repeated string is masked whole. Their entities are not counted again.
//! * `data` that is not a JSON object or array is plain text (a token that
//!   parses as a number, `true` or a string is text too): consecutive such
//!   events with the same `event:` name are one continuing stream (they count
//!   against [`MAX_SSE_STREAMS`] like any other), so an entity split across
//!   them is masked; held text goes out with the next of them, or in an extra
//!   event with that name before the next JSON event, `[DONE]` or the end of
//!   the body. An event whose text is all held back keeps its place with
//!   empty `data`. Data that is not UTF-8 is decoded lossily first.
//!   `data: [DONE]` passes.
//! * Log probabilities (`logprobs`, `top_logprobs`, `prompt_logprobs`,
//!   Gemini's `logprobsResult`: any key containing `logprob`, anywhere in an
//!   event) are emptied: `[]` for an array, `null` for an object or string
//!   (see [`crate::logprobs`]). Their tokens spell the text out again in
//!   pieces too small to recognise an entity in. Such an event is re-serialised (its
//!   keys sorted); every other event keeps its bytes except the masked strings.
//! * Comments, `event:`, `id:` and `retry:` lines pass unchanged. Lines end
//!   at LF, CR or CRLF, as clients split them, and go out ending in LF; a
//!   leading byte order mark is dropped.
//! * Fail closed on what cannot be read: `data` that looks like JSON (`{`,
//!   `[`) but does not parse (numbers out of range, lone surrogates, deep
//!   nesting, which clients may still read) and holds a backslash (an escape
//!   could hide an entity from plain-text masking; without one it is masked
//!   as plain text, as a token like `[docs` must be) and an event that would open
//!   more than [`MAX_SSE_STREAMS`] streams are dropped, each replaced by an
//!   error event saying why. A `finish_reason` of `""` (sent on every chunk
//!   by some servers) does not end a choice; `[DONE]` is matched with
//!   blanks trimmed; an error event of any shape (`type: error` or an
//!   `{"error": ...}` object) ends every stream. A string at a streamed
//!   path that is not the streamed one (a duplicate key) is masked whole.
//!
//! # Left exactly as received
//!
//! Anthropic `signature_delta` signatures (and a thinking block's
//! `signature`) and `redacted_thinking` `data` are opaque and must round-trip.
//! Masking changes thinking text, so a thinking block in which something was
//! masked no longer matches its signature: sent back to Anthropic (tool-use
//! round trips keep thinking blocks), it is refused. Portcullis masks the
//! thinking anyway (no PII leaks through reasoning); clients that need the
//! round trip must not mask the entities thinking may contain.
//!
//! Known limits: object keys are not masked; a Responses `delta` that is
//! base64 audio (`response.audio.delta`) is masked as text (a false positive
//! corrupts the audio, it never leaks).

mod event;
mod key;
mod plan;
mod whole;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::Value;

use crate::json::{rewrite_strings, JsonError, Seg};
use crate::stream::{merge_counts, TextStream};
use event::{Event, LineSplitter};
use key::{extra_event, extra_event_name, Flush, Key};
use crate::logprobs::empty_logprobs;
use whole::Whole;

/// An open stream: its masker, the (masked) event that opened it, the
/// opener's `event:` name.
struct Open<T> {
    stream: T,
    /// Shared by every stream the event opened: one copy per event, not per
    /// stream (an event may open thousands).
    template: Rc<Value>,
    event_name: Option<String>,
}

/// Most streams open at once, and most streamed strings in one event. Real
/// APIs stay far below (OpenAI allows `n` ≤ 128 choices); past it the event
/// is refused with an error event rather than let memory and time grow
/// without bound, and nothing of it passes.
pub const MAX_SSE_STREAMS: usize = 1024;

/// Rewrites an SSE body given as raw bytes in arbitrary pieces (split
/// mid-line or mid-UTF-8 is fine) and returns valid SSE events.
pub struct SseRewriter<T: TextStream> {
    factory: Box<dyn FnMut() -> T>,
    lines: LineSplitter,
    event: Event,
    open: BTreeMap<Key, Open<T>>,
    closed_counts: BTreeMap<String, u32>,
    whole: Whole,
    /// The last `sequence_number` seen (Responses API), for extra events.
    sequence: Option<Value>,
}

impl<T: TextStream> std::fmt::Debug for SseRewriter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseRewriter")
            .field("open_streams", &self.open.len())
            .finish_non_exhaustive()
    }
}

impl<T: TextStream> SseRewriter<T> {
    /// A rewriter that calls `factory` for each new stream (choice field,
    /// tool call, content block, output part) and for each string it masks
    /// whole.
    pub fn new(factory: impl FnMut() -> T + 'static) -> Self {
        SseRewriter {
            factory: Box::new(factory),
            lines: LineSplitter::default(),
            event: Event::default(),
            open: BTreeMap::new(),
            closed_counts: BTreeMap::new(),
            whole: Whole::default(),
            sequence: None,
        }
    }

    /// Entities replaced so far in all streams and events, per entity name
    /// (for recordings: counts only, never values). Text that `.done` and
    /// `response.completed` events repeat is not counted twice.
    pub fn counts(&self) -> BTreeMap<String, u32> {
        let mut c = self.closed_counts.clone();
        for open in self.open.values() {
            merge_counts(&mut c, open.stream.counts());
        }
        c
    }

    /// Feeds the next piece of the body; returns the bytes ready to send.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len() + 64);
        let mut lines = std::mem::take(&mut self.lines);
        lines.feed(bytes, |line| self.on_line(line, &mut out));
        self.lines = lines;
        out
    }

    /// Ends the body: dispatches an unterminated last event and releases
    /// everything the streams still hold.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = self.lines.take_rest();
        if !rest.is_empty() {
            rest.push(b'\n');
            self.on_line(&rest, &mut out);
            self.on_line(b"\n", &mut out);
        } else if !self.event.is_empty() {
            self.on_line(b"\n", &mut out);
        }
        self.flush(&Flush::All, &mut out);
        out
    }

    fn on_line(&mut self, line: &[u8], out: &mut Vec<u8>) {
        if self.event.add_line(line) {
            let ev = std::mem::take(&mut self.event);
            self.dispatch(&ev, out);
        }
    }

    /// Writes one complete event: comments and events without data as they
    /// are, `[DONE]` after ending every stream, JSON through its plan, any
    /// other data masked whole as plain text.
    fn dispatch(&mut self, ev: &Event, out: &mut Vec<u8>) {
        let Some(data) = ev.data() else {
            ev.write_raw(out);
            return;
        };
        // Not UTF-8 (the SSE format says it must be): masked lossily, never raw.
        let (text, lossy) = match std::str::from_utf8(data) {
            Ok(t) => (Cow::Borrowed(t), false),
            Err(_) => (String::from_utf8_lossy(data), true),
        };
        if text.trim() == "[DONE]" {
            self.flush(&Flush::All, out);
            ev.write_raw(out);
            return;
        }
        // Only objects and arrays are JSON events: a token of plain text may
        // parse as a number, `true` or `null`, and must stay in its stream.
        match serde_json::from_str::<Value>(&text) {
            Ok(mut value) if value.is_object() || value.is_array() => {
                if empty_logprobs(&mut value) {
                    let text = value.to_string();
                    self.dispatch_json(ev, &text, &value, true, out);
                } else {
                    self.dispatch_json(ev, &text, &value, lossy, out);
                }
            }
            Err(_) if looks_like_json(&text) && text.contains('\\') => {
                // Clients may parse what serde_json refuses (numbers out of
                // range, lone surrogates, deep nesting), and `\u0040` escapes
                // hide entities from plain-text masking: refuse it. Without a
                // backslash nothing is hidden from plain-text masking (a
                // token such as `[docs` is text), so that goes on below.
                self.flush(&Flush::Plain, out);
                refuse(ev, "portcullis_sse_unreadable_event", "an event's data looks like JSON but could not be read, so Portcullis could not mask it and dropped it", out);
            }
            Ok(_) | Err(_) => self.dispatch_plain(ev, &text, lossy, out),
        }
    }

    /// Writes a plain-text event: its text through the stream of its event
    /// name, so an entity split across such events is masked.
    fn dispatch_plain(&mut self, ev: &Event, text: &str, lossy: bool, out: &mut Vec<u8>) {
        let key = Key::Plain(ev.name().map(str::to_owned));
        if !self.open.contains_key(&key) && self.too_many_streams(1) {
            refuse_too_many_streams(ev, out);
            return;
        }
        let (masked, _) = self.feed(&key, text, ev.name(), false);
        if masked == text && !lossy {
            ev.write_raw(out);
        } else {
            ev.write_with_data(&masked, out);
        }
    }

    /// Writes a JSON event: its streamed strings replaced by their streams'
    /// output, held text of the streams it ends in extra events before it,
    /// every other string masked whole. `differs`: `text` is not the event's
    /// raw data (decoded lossily, logprobs emptied), so it is written even
    /// when no string changed.
    fn dispatch_json(
        &mut self,
        ev: &Event,
        text: &str,
        value: &Value,
        differs: bool,
        out: &mut Vec<u8>,
    ) {
        // Plain text held back goes out before the JSON event that follows it.
        self.flush(&Flush::Plain, out);
        let plan = plan::plan(value);
        if self.too_many_streams(plan.claims.len()) {
            refuse_too_many_streams(ev, out);
            return;
        }
        let mut replace = Vec::with_capacity(plan.claims.len());
        let mut opened = Vec::new();
        for claim in plan.claims {
            let (masked, new) = self.feed(&claim.key, claim.text, ev.name(), claim.last);
            if new && !claim.last {
                opened.push(claim.key);
            }
            replace.push((claim.path, claim.text, masked));
        }
        for which in &plan.flush {
            self.flush(which, out);
        }
        let rewritten = self.mask_strings(text, &replace, &plan.exempt, !plan.recap);
        if let Some(seq) = value.get("sequence_number") {
            self.sequence = Some(seq.clone());
        }
        // An error cannot happen for data that parsed above; if it did, the
        // event is dropped rather than let content through unmasked.
        let Ok((new_data, changed)) = rewritten else {
            return;
        };
        self.set_templates(&opened, &new_data);
        if changed || differs {
            ev.write_with_data(&new_data, out);
        } else {
            ev.write_raw(out);
        }
    }

    /// `text` (JSON) with the strings at the paths of `replace` replaced by
    /// their streams' output, those in `exempt` kept, and every other string
    /// value masked whole (its entities counted when `count`); and whether
    /// anything changed.
    fn mask_strings(
        &mut self,
        text: &str,
        replace: &[(Vec<Seg>, &str, String)],
        exempt: &[Vec<Seg>],
        count: bool,
    ) -> Result<(String, bool), JsonError> {
        let factory = &mut self.factory;
        let whole = &mut self.whole;
        let counts = &mut self.closed_counts;
        let mut changed = false;
        let rewritten = rewrite_strings(text, |path, s, is_key| {
            if is_key || exempt.iter().any(|p| p.as_slice() == path) {
                return None;
            }
            let new = match replace.iter().find(|(p, _, _)| p.as_slice() == path) {
                Some((_, piece, masked)) if *piece == s => (masked != piece).then(|| masked.clone()),
                // A duplicate key at a streamed path: not the string that was
                // streamed, so it is masked whole.
                Some(_) | None => whole.mask(factory, s, count.then_some(&mut *counts)),
            };
            changed |= new.is_some();
            new
        })?;
        Ok((rewritten, changed))
    }

    /// Whether `new` more streams would pass [`MAX_SSE_STREAMS`].
    fn too_many_streams(&self, new: usize) -> bool {
        self.open.len().saturating_add(new) > MAX_SSE_STREAMS
    }

    /// Gives the streams opened by an event that event's masked data as the
    /// template of their extra events.
    fn set_templates(&mut self, opened: &[Key], data: &str) {
        if opened.is_empty() {
            return;
        }
        let template = Rc::new(serde_json::from_str::<Value>(data).unwrap_or(Value::Null));
        for key in opened {
            if let Some(open) = self.open.get_mut(key) {
                open.template = Rc::clone(&template);
            }
        }
    }

    /// Pushes `content` into the stream for `key` (opening it if needed) and
    /// returns the output and whether the stream is new; ends the stream when
    /// `last`.
    fn feed(&mut self, key: &Key, content: &str, name: Option<&str>, last: bool) -> (String, bool) {
        let factory = &mut self.factory;
        let mut new = false;
        let open = self.open.entry(key.clone()).or_insert_with(|| {
            new = true;
            Open {
                stream: factory(),
                template: Rc::new(Value::Null),
                event_name: name.map(str::to_owned),
            }
        });
        let mut out = open.stream.push(content);
        if last {
            out.push_str(&open.stream.finish());
            if let Some(done) = self.open.remove(key) {
                merge_counts(&mut self.closed_counts, done.stream.counts());
            }
        }
        (out, new)
    }

    /// Ends the streams selected by `which`, writing held text as extra
    /// events in each stream's own format.
    fn flush(&mut self, which: &Flush, out: &mut Vec<u8>) {
        let keys: Vec<Key> = self
            .open
            .keys()
            .filter(|k| which.matches(k))
            .cloned()
            .collect();
        for key in keys {
            let Some(mut open) = self.open.remove(&key) else {
                continue;
            };
            let rest = open.stream.finish();
            merge_counts(&mut self.closed_counts, open.stream.counts());
            if rest.is_empty() {
                continue;
            }
            let data = extra_event(&key, &open.template, rest, self.sequence.as_ref());
            if let Some(name) = &open.event_name {
                out.extend_from_slice(b"event: ");
                out.extend_from_slice(extra_event_name(&key, name).as_bytes());
                out.push(b'\n');
            }
            // JSON has no raw line breaks; plain text may.
            for line in data.split('\n') {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
            out.push(b'\n');
        }
    }
}

/// Whether `text` starts like a JSON object or array.
fn looks_like_json(text: &str) -> bool {
    matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

/// Writes, in place of `ev`, the error event for one that would open more
/// than [`MAX_SSE_STREAMS`] streams.
fn refuse_too_many_streams(ev: &Event, out: &mut Vec<u8>) {
    refuse(ev, "portcullis_sse_too_many_streams", "an event opens more parallel streams than Portcullis masks at once, so it was dropped", out);
}

/// Writes, in place of `ev`, an error event saying why it was dropped (its
/// `event:` name kept, so clients that dispatch on names still see it).
fn refuse(ev: &Event, code: &str, message: &str, out: &mut Vec<u8>) {
    let body = serde_json::json!({"type": "error", "error": {"type": "api_error", "code": code, "message": message}});
    if let Some(name) = ev.name() {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(body.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
}
