//! Incremental rewriting of server-sent event streams from model APIs.
//!
//! Understands OpenAI chat completions (`choices[i].delta.content`), OpenAI
//! legacy completions (`choices[i].text`) and Anthropic messages
//! (`content_block_delta` with `delta.text`). Each choice or content block
//! gets its own [`TextStream`] (usually a [`StreamMasker`](crate::StreamMasker)),
//! fed with the content as it continues across events, so an entity split
//! over several events is still masked. Text a stream holds back goes out
//! with a later content event of the same choice, or in an extra content
//! event just before the event that ends it (`finish_reason`,
//! `content_block_stop`, `message_delta`/`message_stop`, `data: [DONE]`, or
//! the end of the body). Every other event passes through unchanged.

mod event;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::json::{rewrite_strings, Seg};
use crate::stream::{merge_counts, TextStream};
use event::{Event, LineSplitter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Format {
    Chat,
    Legacy,
    Anthropic,
}

struct Open<T> {
    stream: T,
    template: Value,
    event_name: Option<String>,
}

/// Rewrites an SSE body given as raw bytes in arbitrary pieces (split
/// mid-line or mid-UTF-8 is fine) and returns valid SSE events.
pub struct SseRewriter<T: TextStream> {
    factory: Box<dyn FnMut() -> T>,
    lines: LineSplitter,
    event: Event,
    open: BTreeMap<(Format, u64), Open<T>>,
    closed_counts: BTreeMap<String, u32>,
}

impl<T: TextStream> std::fmt::Debug for SseRewriter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseRewriter").field("open_streams", &self.open.len()).finish_non_exhaustive()
    }
}

impl<T: TextStream> SseRewriter<T> {
    /// A rewriter that calls `factory` for each new choice or content block.
    pub fn new(factory: impl FnMut() -> T + 'static) -> Self {
        SseRewriter {
            factory: Box::new(factory),
            lines: LineSplitter::default(),
            event: Event::default(),
            open: BTreeMap::new(),
            closed_counts: BTreeMap::new(),
        }
    }

    /// Entities replaced so far in all choices and content blocks, per entity
    /// name (for recordings: counts only, never values).
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
    /// everything the content streams still hold.
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
        self.flush(|_| true, &mut out);
        out
    }

    fn on_line(&mut self, line: &[u8], out: &mut Vec<u8>) {
        if self.event.add_line(line) {
            let ev = std::mem::take(&mut self.event);
            self.dispatch(ev, out);
        }
    }

    fn dispatch(&mut self, ev: Event, out: &mut Vec<u8>) {
        let Some(data) = ev.data() else {
            ev.write_raw(out);
            return;
        };
        if data == b"[DONE]" {
            self.flush(|_| true, out);
            ev.write_raw(out);
            return;
        }
        let Some((text, value)) =
            std::str::from_utf8(data).ok().and_then(|t| serde_json::from_str::<Value>(t).ok().map(|v| (t, v)))
        else {
            ev.write_raw(out);
            return;
        };
        let mut replace: Vec<(Vec<Seg>, String)> = Vec::new();
        let mut before = Vec::new();
        if let Some(choices) = value.get("choices").and_then(Value::as_array) {
            for (pos, choice) in choices.iter().enumerate() {
                let index = choice.get("index").and_then(Value::as_u64).unwrap_or(pos as u64);
                let finished = choice.get("finish_reason").is_some_and(|f| !f.is_null());
                let chat = choice.pointer("/delta/content").and_then(Value::as_str);
                let legacy = choice.get("text").and_then(Value::as_str);
                let (format, content, path) = match (chat, legacy) {
                    (Some(c), _) => (Format::Chat, c, ["delta", "content"].as_slice()),
                    (None, Some(c)) => (Format::Legacy, c, ["text"].as_slice()),
                    (None, None) => {
                        if finished {
                            self.flush(|k| k.1 == index && k.0 != Format::Anthropic, &mut before);
                        }
                        continue;
                    }
                };
                let masked = self.feed((format, index), content, &value, ev.name(), finished);
                if finished {
                    // Any other stream of this choice ends too.
                    let mut extra = Vec::new();
                    self.flush(|k| k.1 == index && k.0 != Format::Anthropic, &mut extra);
                    before.extend(extra);
                }
                let mut p = vec![Seg::Key("choices".into()), Seg::Index(pos)];
                p.extend(path.iter().map(|k| Seg::Key((*k).into())));
                replace.push((p, masked));
            }
        } else {
            let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
            let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
            match kind {
                "content_block_delta" => {
                    let text_delta = value.pointer("/delta/type").and_then(Value::as_str) == Some("text_delta");
                    if let Some(t) = value.pointer("/delta/text").and_then(Value::as_str).filter(|_| text_delta) {
                        let masked = self.feed((Format::Anthropic, index), t, &value, ev.name(), false);
                        replace.push((vec![Seg::Key("delta".into()), Seg::Key("text".into())], masked));
                    }
                }
                "content_block_stop" => self.flush(|k| *k == (Format::Anthropic, index), &mut before),
                "message_delta" | "message_stop" => self.flush(|k| k.0 == Format::Anthropic, &mut before),
                _ => {}
            }
        }
        out.extend_from_slice(&before);
        if replace.is_empty() {
            ev.write_raw(out);
            return;
        }
        let rewritten = rewrite_strings(text, |path, _, is_key| {
            if is_key {
                return None;
            }
            replace.iter().find(|(p, _)| p.as_slice() == path).map(|(_, s)| s.clone())
        });
        // An error cannot happen for data that parsed above; if it did, the
        // event is dropped rather than let content through unmasked.
        if let Ok(new_data) = rewritten {
            ev.write_with_data(&new_data, out);
        }
    }

    /// Pushes `content` into the stream for `key` (opening it if needed) and
    /// returns the output; ends the stream when `finished`.
    fn feed(
        &mut self,
        key: (Format, u64),
        content: &str,
        template: &Value,
        name: Option<&str>,
        finished: bool,
    ) -> String {
        let factory = &mut self.factory;
        let open = self.open.entry(key).or_insert_with(|| Open {
            stream: factory(),
            template: template.clone(),
            event_name: name.map(str::to_owned),
        });
        let mut out = open.stream.push(content);
        if finished {
            out.push_str(&open.stream.finish());
            if let Some(done) = self.open.remove(&key) {
                merge_counts(&mut self.closed_counts, done.stream.counts());
            }
        }
        out
    }

    /// Ends the streams selected by `which`, writing held text as extra events.
    fn flush(&mut self, which: impl Fn(&(Format, u64)) -> bool, out: &mut Vec<u8>) {
        let keys: Vec<(Format, u64)> = self.open.keys().filter(|k| which(k)).copied().collect();
        for key in keys {
            let Some(mut open) = self.open.remove(&key) else { continue };
            let rest = open.stream.finish();
            merge_counts(&mut self.closed_counts, open.stream.counts());
            if rest.is_empty() {
                continue;
            }
            let data = extra_event(key.0, key.1, open.template, rest);
            if let Some(name) = &open.event_name {
                out.extend_from_slice(b"event: ");
                out.extend_from_slice(name.as_bytes());
                out.push(b'\n');
            }
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(data.as_bytes());
            out.extend_from_slice(b"\n\n");
        }
    }
}

fn extra_event(format: Format, index: u64, mut template: Value, text: String) -> String {
    let mut with_choices = |choice: Value| {
        if let Some(obj) = template.as_object_mut() {
            obj.insert("choices".into(), json!([choice]));
        }
        template.clone()
    };
    let value = match format {
        Format::Chat => with_choices(json!({"index": index, "delta": {"content": text}, "finish_reason": null})),
        Format::Legacy => with_choices(json!({"index": index, "text": text, "finish_reason": null, "logprobs": null})),
        Format::Anthropic => {
            json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}})
        }
    };
    value.to_string()
}
