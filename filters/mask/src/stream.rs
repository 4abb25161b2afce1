//! Streamed (SSE) responses: masked event by event as the bytes arrive.
//!
//! The body is cut into complete events ([`EventFramer`]) before it reaches
//! the [`SseRewriter`]: the rewriter can only release whole events anyway, so
//! this holds back nothing more, and it makes the carry (the bytes of the one
//! event still arriving) exact, which is what `max_body_bytes` bounds for
//! streams.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use portcullis_masking::{Masker, Pseudonymizer, RestoreStream, SharedPseudonymizer, SseRewriter, StreamMasker, TextStream};
use portcullis_policy::masking::OverLimit;
use portcullis_policy::ErrorBody;

/// The text transformation applied to each stream of an SSE response (choice
/// field, tool call, content block, output part) and to each string it masks
/// whole.
#[derive(Debug)]
pub enum ContentStream {
    /// Mask new entities.
    Mask(StreamMasker),
    /// Mask new entities, then turn the request's placeholders back into the
    /// originals (restore after masking, or restored values would be masked).
    MaskRestore((StreamMasker, RestoreStream)),
    /// Only restore the request's placeholders (`mask_responses: false`).
    Restore(RestoreStream),
}

impl TextStream for ContentStream {
    fn push(&mut self, piece: &str) -> String {
        match self {
            ContentStream::Mask(s) => s.push(piece),
            ContentStream::MaskRestore(s) => s.push(piece),
            ContentStream::Restore(s) => s.push(piece),
        }
    }

    fn finish(&mut self) -> String {
        match self {
            ContentStream::Mask(s) => s.finish(),
            ContentStream::MaskRestore(s) => s.finish(),
            ContentStream::Restore(s) => s.finish(),
        }
    }

    fn counts(&self) -> BTreeMap<String, u32> {
        match self {
            ContentStream::Mask(s) => TextStream::counts(s),
            ContentStream::MaskRestore(s) => s.counts(),
            ContentStream::Restore(s) => s.counts(),
        }
    }
}

/// Cuts a byte stream into complete SSE events (LF or CRLF line endings).
#[derive(Debug, Default)]
pub struct EventFramer {
    carry: Vec<u8>,
    mid_line: bool,
}

impl EventFramer {
    /// Adds `bytes`; returns every event completed so far (possibly none),
    /// keeping the unfinished one.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut cut = None;
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' => {
                    if !self.mid_line {
                        cut = Some(i + 1);
                    }
                    self.mid_line = false;
                }
                b'\r' => {}
                _ => self.mid_line = true,
            }
        }
        match cut {
            None => {
                self.carry.extend_from_slice(bytes);
                Vec::new()
            }
            Some(cut) => {
                let (done, rest) = bytes.split_at(cut);
                let mut out = std::mem::take(&mut self.carry);
                out.extend_from_slice(done);
                self.carry.extend_from_slice(rest);
                out
            }
        }
    }

    /// Bytes of the event still arriving.
    pub fn pending(&self) -> usize {
        self.carry.len()
    }

    /// Takes the unfinished event (at the end of the body).
    pub fn take_rest(&mut self) -> Vec<u8> {
        self.mid_line = false;
        std::mem::take(&mut self.carry)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Masking,
    /// Over the limit with `pass_unmasked`: the rest goes out as it comes.
    Passing,
    /// Over the limit with `block`: an error event went out, the rest is dropped.
    Dropping,
}

/// One push's result.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Bytes to send in place of the input.
    pub out: Vec<u8>,
    /// Set when this push went over the limit (reported once).
    pub tripped: Option<OverLimit>,
}

/// Masks one SSE response.
pub struct SseMasking {
    framer: EventFramer,
    rewriter: SseRewriter<ContentStream>,
    limit: usize,
    over_limit: OverLimit,
    state: State,
}

impl std::fmt::Debug for SseMasking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseMasking").field("pending", &self.framer.pending()).field("state", &self.state).finish_non_exhaustive()
    }
}

/// The error event sent in place of the rest of a stream whose event went
/// over the limit under `block`. `event: error` with an `error` object: the
/// official OpenAI and Anthropic clients both raise it as an API error.
pub fn too_large_event(limit: usize) -> Vec<u8> {
    let error = ErrorBody::new(
        "api_error",
        "portcullis_body_too_large",
        format!(
            "a streamed event exceeds masking.max_body_bytes ({limit} bytes): Portcullis cannot mask it, so it ends the stream here (over_limit: block)"
        ),
    );
    let data = serde_json::json!({"type": "error", "error": error.error});
    format!("event: error\ndata: {data}\n\n").into_bytes()
}

impl SseMasking {
    /// A stream that masks with `masker` (when set) and restores the request's
    /// placeholders with `restore` (when set). At least one should be set.
    ///
    /// Every stream of the response (choices, tool calls, fields, strings
    /// masked whole) numbers new pseudonyms in one mapping, which starts as a
    /// copy of the request's: a value gets the same placeholder everywhere in
    /// the answer, and two values never share one. Restoring uses the
    /// request's mapping alone, so what the response's own values were
    /// replaced with is never turned back.
    pub fn new(masker: Option<Arc<Masker>>, restore: Option<Arc<Pseudonymizer>>, limit: usize, over_limit: OverLimit) -> Self {
        let numbering: SharedPseudonymizer =
            Rc::new(RefCell::new(restore.as_deref().cloned().unwrap_or_default()));
        let factory = move || match (&masker, &restore) {
            (Some(m), Some(p)) => ContentStream::MaskRestore((
                StreamMasker::with_shared_pseudonymizer(Arc::clone(m), Rc::clone(&numbering)),
                p.restore_stream(),
            )),
            (None, Some(p)) => ContentStream::Restore(p.restore_stream()),
            (Some(m), None) => {
                ContentStream::Mask(StreamMasker::with_shared_pseudonymizer(Arc::clone(m), Rc::clone(&numbering)))
            }
            (None, None) => ContentStream::Restore(Arc::new(Pseudonymizer::new()).restore_stream()),
        };
        SseMasking { framer: EventFramer::default(), rewriter: SseRewriter::new(factory), limit, over_limit, state: State::Masking }
    }

    /// Entities masked so far.
    pub fn counts(&self) -> BTreeMap<String, u32> {
        self.rewriter.counts()
    }

    /// Feeds the next piece of the body; `end` at the end of the body.
    pub fn push(&mut self, bytes: &[u8], end: bool) -> Chunk {
        match self.state {
            State::Passing => return Chunk { out: bytes.to_vec(), tripped: None },
            State::Dropping => return Chunk::default(),
            State::Masking => {}
        }
        let events = self.framer.push(bytes);
        let mut out = if events.is_empty() { Vec::new() } else { self.rewriter.push(&events) };
        if end {
            let rest = self.framer.take_rest();
            if !rest.is_empty() {
                out.extend(self.rewriter.push(&rest));
            }
            out.extend(self.rewriter.finish());
            return Chunk { out, tripped: None };
        }
        if self.framer.pending() <= self.limit {
            return Chunk { out, tripped: None };
        }
        // What the content streams still hold came from earlier, complete
        // events: release it (masked) before deciding about the big one.
        out.extend(self.rewriter.finish());
        match self.over_limit {
            OverLimit::Block => {
                self.framer.take_rest();
                out.extend(too_large_event(self.limit));
                self.state = State::Dropping;
            }
            OverLimit::PassUnmasked => {
                out.extend(self.framer.take_rest());
                self.state = State::Passing;
            }
        }
        Chunk { out, tripped: Some(self.over_limit) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat_event(content: &str) -> String {
        let v = serde_json::json!({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":content},"finish_reason":null}]});
        format!("data: {v}\n\n")
    }

    fn contents(body: &[u8]) -> (String, usize) {
        let text = String::from_utf8(body.to_vec()).unwrap();
        let mut all = String::new();
        let mut events = 0;
        for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
            events += 1;
            let data: String = block.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
            if data == "[DONE]" {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {data}"));
            if let Some(c) = v.pointer("/choices/0/delta/content").and_then(|c| c.as_str()) {
                all.push_str(c);
            }
        }
        (all, events)
    }

    #[test]
    fn framer_cuts_at_blank_lines_whatever_the_pieces() {
        let body = b"data: a\n\ndata: b\r\n\r\n: comment\n\ndata: c";
        for cut in 0..=body.len() {
            let mut f = EventFramer::default();
            let mut out = f.push(&body[..cut]);
            out.extend(f.push(&body[cut..]));
            assert_eq!(out, b"data: a\n\ndata: b\r\n\r\n: comment\n\n", "cut {cut}");
            assert_eq!(f.take_rest(), b"data: c");
        }
    }

    #[test]
    fn split_card_and_email_are_masked_and_done_is_kept() {
        let body = format!(
            "{}{}{}{}{}data: [DONE]\n\n",
            chat_event("card 4111 "),
            chat_event("1111 1111"),
            chat_event(" 1111 ok, mail ja"),
            chat_event("ne@exam"),
            chat_event("ple.com bye"),
        );
        for step in [1, 7, 64, body.len()] {
            let mut s = SseMasking::new(Some(Arc::new(Masker::new())), None, 1 << 20, OverLimit::Block);
            let mut out = Vec::new();
            for piece in body.as_bytes().chunks(step) {
                out.extend(s.push(piece, false).out);
            }
            out.extend(s.push(b"", true).out);
            let (content, _) = contents(&out);
            assert_eq!(content, "card [CREDIT_CARD] ok, mail [EMAIL] bye", "step {step}");
            assert!(String::from_utf8(out).unwrap().ends_with("data: [DONE]\n\n"));
            assert_eq!(s.counts().get("credit_card"), Some(&1));
            assert_eq!(s.counts().get("email"), Some(&1));
        }
    }

    #[test]
    fn placeholders_are_restored_and_new_values_masked() {
        let mut pseudo = Pseudonymizer::new();
        let masker = Arc::new(
            Masker::from_policy(&serde_json::from_str(r#"{"entities":{"email":{"operator":"pseudonymize"}}}"#).unwrap(), None)
                .unwrap(),
        );
        let masked = masker.mask_with("write to jane@example.com", &mut pseudo);
        assert_eq!(masked.text, "write to [EMAIL_1]");
        let body = format!("{}{}data: [DONE]\n\n", chat_event("Sure, [EMAIL"), chat_event("_1] and bob@example.org"));
        let mut s = SseMasking::new(Some(masker), Some(Arc::new(pseudo)), 1 << 20, OverLimit::Block);
        let mut out = s.push(body.as_bytes(), false).out;
        out.extend(s.push(b"", true).out);
        assert_eq!(contents(&out).0, "Sure, jane@example.com and [EMAIL_2]");
    }

    /// Two choices and a string masked whole number their pseudonyms in one
    /// mapping: a new value gets one placeholder everywhere, two values never
    /// share one, and a placeholder of the response is not "restored".
    #[test]
    fn every_stream_of_a_response_numbers_pseudonyms_in_one_mapping() {
        let mut pseudo = Pseudonymizer::new();
        let masker = Arc::new(
            Masker::from_policy(&serde_json::from_str(r#"{"entities":{"email":{"operator":"pseudonymize"}}}"#).unwrap(), None)
                .unwrap(),
        );
        assert_eq!(masker.mask_with("to jane@example.com", &mut pseudo).text, "to [EMAIL_1]");
        let event = |choice: u64, content: &str| {
            let chunk = serde_json::json!({"id": "c1", "choices": [{"index": choice, "delta": {"content": content}, "finish_reason": null}]});
            format!("data: {chunk}\n\n")
        };
        let body = format!(
            "{}{}{}data: {}\n\ndata: [DONE]\n\n",
            event(0, "a@x.org and [EMAIL_1] "),
            event(1, "b@y.org then "),
            event(1, "a@x.org "),
            serde_json::json!({"type": "note", "who": "b@y.org"}),
        );
        let mut s = SseMasking::new(Some(masker), Some(Arc::new(pseudo)), 1 << 20, OverLimit::Block);
        let mut out = s.push(body.as_bytes(), false).out;
        out.extend(s.push(b"", true).out);
        let mut by_choice: BTreeMap<u64, String> = BTreeMap::new();
        let text = String::from_utf8(out).unwrap();
        for data in text.lines().filter_map(|l| l.strip_prefix("data: ")).filter(|d| *d != "[DONE]") {
            let v: serde_json::Value = serde_json::from_str(data).unwrap();
            if let (Some(i), Some(c)) = (v.pointer("/choices/0/index").and_then(|i| i.as_u64()), v.pointer("/choices/0/delta/content").and_then(|c| c.as_str())) {
                by_choice.entry(i).or_default().push_str(c);
            }
        }
        assert_eq!(by_choice[&0], "[EMAIL_2] and jane@example.com ");
        assert_eq!(by_choice[&1], "[EMAIL_3] then [EMAIL_2] ");
        assert!(text.contains(r#""who":"[EMAIL_3]""#), "{text}");
    }

    #[test]
    fn an_event_over_the_limit_ends_the_stream_with_an_error_under_block() {
        let mut s = SseMasking::new(Some(Arc::new(Masker::new())), None, 64, OverLimit::Block);
        let first = s.push(chat_event("mail jane@example.com").as_bytes(), false);
        assert!(first.tripped.is_none());
        let big = chat_event(&"x".repeat(100));
        let second = s.push(&big.as_bytes()[..80], false);
        assert_eq!(second.tripped, Some(OverLimit::Block));
        let text = String::from_utf8(second.out).unwrap();
        assert!(text.contains("event: error") && text.contains("portcullis_body_too_large"), "{text}");
        assert!(!text.contains("xxxx"));
        assert!(s.push(&big.as_bytes()[80..], false).out.is_empty());
        assert!(s.push(b"data: [DONE]\n\n", true).out.is_empty());
    }

    #[test]
    fn an_event_over_the_limit_passes_raw_under_pass_unmasked() {
        let mut s = SseMasking::new(Some(Arc::new(Masker::new())), None, 64, OverLimit::PassUnmasked);
        let big = chat_event(&format!("{} jane@example.com", "x".repeat(100)));
        let mut out = Vec::new();
        let first = s.push(&big.as_bytes()[..80], false);
        assert_eq!(first.tripped, Some(OverLimit::PassUnmasked));
        out.extend(first.out);
        out.extend(s.push(&big.as_bytes()[80..], false).out);
        assert_eq!(out, big.as_bytes());
    }

    #[test]
    fn too_large_event_is_valid_json() {
        let ev = String::from_utf8(too_large_event(10)).unwrap();
        let data = ev.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        let v: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["error"]["code"], "portcullis_body_too_large");
        assert_eq!(v["error"]["type"], "api_error");
    }
}
