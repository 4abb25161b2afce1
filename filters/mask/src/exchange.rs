//! One request/response exchange: what to do at each callback, decided
//! without the host so that native tests can drive it.
//!
//! The HTTP context calls the `on_*` methods with what it read from the host
//! and applies the returned plans and [`BodyStep`]s.

use std::collections::BTreeMap;
use std::sync::Arc;

use portcullis_masking::Pseudonymizer;
use portcullis_policy::masking::OverLimit;
use serde_json::json;

use crate::buffered::{mask_request, mask_response, Outcome, Refusal};
use crate::content::{is_identity, BodyKind};
use crate::engine::Engine;
use crate::stream::SseMasking;

/// What to do with the body bytes of one body callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyStep {
    /// Let them pass as they are (`Continue`).
    Pass,
    /// Keep buffering (`Pause` until the end of the body).
    Hold,
    /// Replace the whole buffered body with these bytes, then continue.
    Replace(Vec<u8>),
    /// Answer the caller with a local reply instead.
    Refuse(Refusal),
}

/// Headers of one direction, as the filter reads them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    /// `content-type`.
    pub content_type: Option<&'a str>,
    /// `content-encoding`.
    pub content_encoding: Option<&'a str>,
    /// `content-length`, when the sender declared it.
    pub content_length: Option<usize>,
    /// Whether the headers end the message (no body follows).
    pub end_of_stream: bool,
}

/// Header changes for the request, made in the header callback (the only
/// place the host allows them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestPlan {
    /// The body may change length: remove `content-length` (Envoy then
    /// frames it with chunked encoding).
    pub drop_content_length: bool,
    /// Ask the upstream for an uncompressed answer (`accept-encoding: identity`).
    pub identity_encoding: bool,
}

/// Header changes for the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponsePlan {
    /// The body may change length: remove `content-length`.
    pub drop_content_length: bool,
}

#[derive(Debug)]
enum Phase {
    /// Nothing to do in this direction.
    Idle,
    /// A body the filter does not mask (its type is noted if a body comes).
    Unmasked(String),
    /// Buffering a whole body of this kind.
    Buffering(BodyKind),
    /// Masking a stream event by event.
    Streaming(Box<SseMasking>),
    /// Done, or passing the rest as it comes.
    Passing,
}

/// The state of one exchange.
#[derive(Debug)]
pub struct Exchange {
    engine: Arc<Engine>,
    /// The request's pseudonym mapping: in memory, for this exchange only.
    pseudo: Pseudonymizer,
    request: Phase,
    response: Phase,
    request_counts: BTreeMap<String, u32>,
    response_counts: BTreeMap<String, u32>,
    notes: Vec<String>,
}

fn add_counts(into: &mut BTreeMap<String, u32>, from: BTreeMap<String, u32>) {
    for (k, v) in from {
        *into.entry(k).or_insert(0) += v;
    }
}

impl Exchange {
    /// A new exchange under `engine`.
    pub fn new(engine: Arc<Engine>) -> Self {
        Exchange {
            engine,
            pseudo: Pseudonymizer::new(),
            request: Phase::Idle,
            response: Phase::Idle,
            request_counts: BTreeMap::new(),
            response_counts: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// Request headers: decides how the request body is handled.
    pub fn on_request_headers(&mut self, headers: Headers<'_>) -> Result<RequestPlan, Refusal> {
        let engine = Arc::clone(&self.engine);
        let mut plan = RequestPlan { identity_encoding: engine.is_active(), drop_content_length: false };
        if !engine.mask_requests || headers.end_of_stream {
            return Ok(plan);
        }
        let kind = BodyKind::of(headers.content_type);
        if !kind.is_masked() {
            self.request = Phase::Unmasked(headers.content_type.unwrap_or("").to_owned());
            return Ok(plan);
        }
        if !is_identity(headers.content_encoding) {
            return Err(self.refused(true, Refusal::new(
                415,
                "invalid_request_error",
                "portcullis_compressed_body",
                format!(
                    "the request body is compressed (content-encoding `{}`): Portcullis cannot mask compressed bodies, so it refuses it; send it uncompressed",
                    headers.content_encoding.unwrap_or("")
                ),
            )));
        }
        if let Some(declared) = headers.content_length.filter(|n| *n > engine.max_body_bytes) {
            self.request = Phase::Passing;
            return match self.over_limit(true, declared) {
                BodyStep::Refuse(refusal) => Err(refusal),
                _ => Ok(plan),
            };
        }
        self.request = Phase::Buffering(kind);
        plan.drop_content_length = true;
        Ok(plan)
    }

    /// A request body callback. `read` returns the whole buffered body; it is
    /// only called when the body is needed.
    pub fn on_request_body(&mut self, size: usize, end_of_stream: bool, read: impl FnOnce() -> Vec<u8>) -> BodyStep {
        match &self.request {
            Phase::Idle | Phase::Passing | Phase::Streaming(_) => BodyStep::Pass,
            Phase::Unmasked(content_type) => {
                if size > 0 {
                    let note = format!("request: content-type `{content_type}` is not masked");
                    self.notes.push(note);
                    self.request = Phase::Passing;
                }
                BodyStep::Pass
            }
            &Phase::Buffering(kind) => {
                if size > self.engine.max_body_bytes {
                    return self.over_limit(true, size);
                }
                if !end_of_stream {
                    return BodyStep::Hold;
                }
                self.request = Phase::Passing;
                let body = read();
                match mask_request(&self.engine.masker, kind, &body, &mut self.pseudo) {
                    Ok(outcome) => self.apply(true, outcome),
                    Err(refusal) => BodyStep::Refuse(self.refused(true, refusal)),
                }
            }
        }
    }

    /// Request trailers ended the body: a buffered body is finished here
    /// (otherwise Envoy would pass it on as it is).
    pub fn on_request_trailers(&mut self, size: usize, read: impl FnOnce() -> Vec<u8>) -> BodyStep {
        match self.request {
            Phase::Buffering(_) => self.on_request_body(size, true, read),
            _ => BodyStep::Pass,
        }
    }

    /// Whether the request body is being buffered whole.
    pub fn request_is_buffering(&self) -> bool {
        matches!(self.request, Phase::Buffering(_))
    }

    /// Response headers: decides how the response body is handled.
    pub fn on_response_headers(&mut self, headers: Headers<'_>) -> Result<ResponsePlan, Refusal> {
        let restore = !self.pseudo.is_empty();
        if !(self.engine.mask_responses || restore) || headers.end_of_stream {
            return Ok(ResponsePlan::default());
        }
        let kind = BodyKind::of(headers.content_type);
        if !kind.is_masked() {
            self.response = Phase::Unmasked(headers.content_type.unwrap_or("").to_owned());
            return Ok(ResponsePlan::default());
        }
        if !is_identity(headers.content_encoding) {
            return Err(self.refused(false, Refusal::new(
                502,
                "api_error",
                "portcullis_compressed_body",
                format!(
                    "the upstream answered with a compressed body (content-encoding `{}`) although Portcullis asked for identity encoding: it cannot mask compressed bodies, so it refuses to pass it",
                    headers.content_encoding.unwrap_or("")
                ),
            )));
        }
        // A declared length over the limit is decided now, while a local
        // reply can still replace the response: once the headers have gone
        // on, a refusal can only reset the stream.
        let declared = headers.content_length.filter(|n| *n > self.engine.max_body_bytes);
        if let (Some(declared), false) = (declared, kind == BodyKind::EventStream) {
            self.response = Phase::Passing;
            return match self.over_limit(false, declared) {
                BodyStep::Refuse(refusal) => Err(refusal),
                _ => Ok(ResponsePlan::default()),
            };
        }
        self.response = match kind {
            BodyKind::EventStream => {
                let masker = self.engine.mask_responses.then(|| Arc::clone(&self.engine.masker));
                let restore = restore.then(|| Arc::new(self.pseudo.clone()));
                Phase::Streaming(Box::new(SseMasking::new(masker, restore, self.engine.max_body_bytes, self.engine.over_limit)))
            }
            kind => Phase::Buffering(kind),
        };
        Ok(ResponsePlan { drop_content_length: true })
    }

    /// A response body callback. For streams, `read` returns this chunk;
    /// for buffered bodies, the whole body so far.
    pub fn on_response_body(&mut self, size: usize, end_of_stream: bool, read: impl FnOnce() -> Vec<u8>) -> BodyStep {
        match &mut self.response {
            Phase::Idle | Phase::Passing => BodyStep::Pass,
            Phase::Unmasked(content_type) => {
                if size > 0 {
                    let note = format!("response: content-type `{content_type}` is not masked");
                    self.notes.push(note);
                    self.response = Phase::Passing;
                }
                BodyStep::Pass
            }
            Phase::Streaming(sse) => {
                let chunk = if size > 0 { read() } else { Vec::new() };
                let pushed = sse.push(&chunk, end_of_stream);
                if let Some(choice) = pushed.tripped {
                    self.note_over_limit(false, choice, size);
                }
                if end_of_stream {
                    self.end_stream();
                }
                if pushed.out == chunk {
                    BodyStep::Pass
                } else {
                    BodyStep::Replace(pushed.out)
                }
            }
            &mut Phase::Buffering(kind) => {
                if size > self.engine.max_body_bytes {
                    return self.over_limit(false, size);
                }
                if !end_of_stream {
                    return BodyStep::Hold;
                }
                self.response = Phase::Passing;
                let body = read();
                let masker = self.engine.mask_responses.then_some(&*self.engine.masker);
                let restore = (!self.pseudo.is_empty()).then_some(&self.pseudo);
                match mask_response(masker, restore, kind, &body) {
                    Ok(outcome) => self.apply(false, outcome),
                    Err(refusal) => BodyStep::Refuse(self.refused(false, refusal)),
                }
            }
        }
    }

    /// Response trailers ended the body (HTTP/2 upstreams): a buffered body
    /// is finished here; text a stream still held cannot be sent any more.
    pub fn on_response_trailers(&mut self, size: usize, read: impl FnOnce() -> Vec<u8>) -> BodyStep {
        match &mut self.response {
            Phase::Buffering(_) => self.on_response_body(size, true, read),
            Phase::Streaming(sse) => {
                let held = sse.push(&[], true).out;
                if !held.is_empty() {
                    self.notes.push(format!("response: {} bytes of masked stream text held back were dropped (the stream ended with trailers)", held.len()));
                }
                self.end_stream();
                BodyStep::Pass
            }
            _ => BodyStep::Pass,
        }
    }

    fn end_stream(&mut self) {
        if let Phase::Streaming(sse) = std::mem::replace(&mut self.response, Phase::Passing) {
            add_counts(&mut self.response_counts, sse.counts());
        }
    }

    fn apply(&mut self, request: bool, outcome: Outcome) -> BodyStep {
        let Outcome { body, counts, note } = outcome;
        let direction = if request { "request" } else { "response" };
        if let Some(note) = note {
            log::info!("{direction}: {note}");
            self.notes.push(format!("{direction}: {note}"));
        }
        add_counts(if request { &mut self.request_counts } else { &mut self.response_counts }, counts);
        match body {
            Some(body) => BodyStep::Replace(body),
            None => BodyStep::Pass,
        }
    }

    fn note_over_limit(&mut self, request: bool, choice: OverLimit, size: usize) {
        let direction = if request { "request" } else { "response" };
        let what = if self.response_is_stream() && !request { "a streamed event" } else { "the body" };
        let limit = self.engine.max_body_bytes;
        match choice {
            OverLimit::PassUnmasked => {
                log::warn!("{direction}: {what} exceeds max_body_bytes ({limit}, at {size} bytes): passed unmasked (over_limit: pass_unmasked)");
                self.notes.push(format!("{direction}: {what} over max_body_bytes ({limit}) passed unmasked (over_limit: pass_unmasked)"));
            }
            OverLimit::Block => {
                self.notes.push(format!("{direction}: {what} over max_body_bytes ({limit}) refused (over_limit: block)"));
            }
        }
    }

    /// Records a refusal in the notes and hands it back.
    fn refused(&mut self, request: bool, refusal: Refusal) -> Refusal {
        let direction = if request { "request" } else { "response" };
        let code = serde_json::from_str::<serde_json::Value>(&refusal.body)
            .ok()
            .and_then(|v| v.pointer("/error/code").and_then(|c| c.as_str()).map(str::to_owned))
            .unwrap_or_default();
        self.notes.push(format!("{direction}: refused with HTTP {} ({code})", refusal.status));
        refusal
    }

    /// Whether the response body is being buffered whole (so the host holds
    /// it and it can be read at the trailers).
    pub fn response_is_buffering(&self) -> bool {
        matches!(self.response, Phase::Buffering(_))
    }

    fn response_is_stream(&self) -> bool {
        matches!(self.response, Phase::Streaming(_))
    }

    fn over_limit(&mut self, request: bool, size: usize) -> BodyStep {
        let choice = self.engine.over_limit;
        if choice == OverLimit::PassUnmasked {
            self.note_over_limit(request, choice, size);
        }
        let limit = self.engine.max_body_bytes;
        if request {
            self.request = Phase::Passing;
        } else {
            self.response = Phase::Passing;
        }
        let refusal = match (choice, request) {
            (OverLimit::PassUnmasked, _) => return BodyStep::Pass,
            (OverLimit::Block, true) => Refusal::new(
                413,
                "invalid_request_error",
                "portcullis_body_too_large",
                format!("the request body exceeds masking.max_body_bytes ({limit} bytes): Portcullis cannot mask it, so it refuses it (over_limit: block)"),
            ),
            (OverLimit::Block, false) => Refusal::new(
                502,
                "api_error",
                "portcullis_body_too_large",
                format!("the upstream response body exceeds masking.max_body_bytes ({limit} bytes): Portcullis cannot mask it, so it refuses to pass it (over_limit: block)"),
            ),
        };
        BodyStep::Refuse(self.refused(request, refusal))
    }

    /// Entities masked in the request, per name.
    pub fn request_counts(&self) -> &BTreeMap<String, u32> {
        &self.request_counts
    }

    /// Entities masked in the response, per name (streams: once ended).
    pub fn response_counts(&self) -> &BTreeMap<String, u32> {
        &self.response_counts
    }

    /// What passed unmasked or was refused, and why (never values).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The exchange's report as JSON, for the `portcullis.masked` filter
    /// state: `{"request":{"email":1},"response":{"credit_card":2}}`, plus
    /// `"notes":[...]` when something passed unmasked or was refused.
    /// Counts and reasons only, never values.
    pub fn report_json(&self) -> String {
        let mut report = json!({"request": self.request_counts, "response": self.response_counts});
        if !self.notes.is_empty() {
            report["notes"] = json!(self.notes);
        }
        report.to_string()
    }

    /// One log line: `request email=1; response credit_card=2, email=1`.
    pub fn summary(&self) -> String {
        let list = |c: &BTreeMap<String, u32>| {
            if c.is_empty() {
                "nothing".to_owned()
            } else {
                c.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
            }
        };
        let mut line = format!("request {}; response {}", list(&self.request_counts), list(&self.response_counts));
        for note in &self.notes {
            line.push_str("; ");
            line.push_str(note);
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_policy::masking::MaskingPolicy;
    use serde_json::{json, Value};

    fn engine(json: &str) -> Arc<Engine> {
        let policy: MaskingPolicy = serde_json::from_str(json).unwrap();
        Arc::new(Engine::new(&policy).unwrap())
    }

    fn json_headers() -> Headers<'static> {
        Headers { content_type: Some("application/json"), ..Headers::default() }
    }

    fn replaced(step: BodyStep) -> Vec<u8> {
        match step {
            BodyStep::Replace(bytes) => bytes,
            other => panic!("expected a replacement, got {other:?}"),
        }
    }

    #[test]
    fn json_response_is_buffered_then_masked() {
        let mut x = Exchange::new(engine("{}"));
        let plan = x.on_request_headers(Headers { end_of_stream: true, ..json_headers() }).unwrap();
        assert_eq!(plan, RequestPlan { drop_content_length: false, identity_encoding: true });
        assert_eq!(x.on_response_headers(json_headers()).unwrap(), ResponsePlan { drop_content_length: true });
        let body = json!({"choices": [{"message": {"content": "mail jane@example.com"}}]}).to_string();
        let half = body.len() / 2;
        assert_eq!(x.on_response_body(half, false, || unreachable!()), BodyStep::Hold);
        let out = replaced(x.on_response_body(body.len(), true, || body.clone().into_bytes()));
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "mail [EMAIL]");
        assert_eq!(x.report_json(), r#"{"request":{},"response":{"email":1}}"#);
        assert_eq!(x.summary(), "request nothing; response email=1");
    }

    #[test]
    fn request_masking_follows_the_policy() {
        let mut off = Exchange::new(engine(r#"{"mask_requests": false}"#));
        assert_eq!(off.on_request_headers(json_headers()).unwrap(), RequestPlan { drop_content_length: false, identity_encoding: true });
        assert_eq!(off.on_request_body(10, true, || unreachable!()), BodyStep::Pass);

        let mut on = Exchange::new(engine("{}"));
        assert!(on.on_request_headers(json_headers()).unwrap().drop_content_length);
        let body = br#"{"content":"ssn 123-45-6789"}"#.to_vec();
        let out = replaced(on.on_request_body(body.len(), true, || body.clone()));
        assert_eq!(out, br#"{"content":"ssn [US_SSN]"}"#);
        assert_eq!(on.request_counts().get("us_ssn"), Some(&1));
    }

    #[test]
    fn over_limit_blocks_with_413_and_502_or_passes_with_a_note() {
        let mut x = Exchange::new(engine(r#"{"max_body_bytes": 16}"#));
        x.on_request_headers(json_headers()).unwrap();
        match x.on_request_body(17, false, || unreachable!()) {
            BodyStep::Refuse(r) => {
                assert_eq!(r.status, 413);
                assert!(r.body.contains("portcullis_body_too_large") && r.body.contains("max_body_bytes"));
            }
            other => panic!("{other:?}"),
        }
        let mut x = Exchange::new(engine(r#"{"max_body_bytes": 16, "mask_requests": false}"#));
        x.on_request_headers(json_headers()).unwrap();
        x.on_response_headers(json_headers()).unwrap();
        assert!(matches!(x.on_response_body(17, false, || unreachable!()), BodyStep::Refuse(Refusal { status: 502, .. })));

        let mut x = Exchange::new(engine(r#"{"max_body_bytes": 16, "over_limit": "pass_unmasked"}"#));
        x.on_request_headers(json_headers()).unwrap();
        assert_eq!(x.on_request_body(17, false, || unreachable!()), BodyStep::Pass);
        assert_eq!(x.on_request_body(40, true, || unreachable!()), BodyStep::Pass);
        assert_eq!(x.notes().len(), 1);
        assert!(x.report_json().contains("pass_unmasked"), "{}", x.report_json());
    }

    #[test]
    fn a_declared_length_over_the_limit_is_decided_at_the_headers() {
        let mut x = Exchange::new(engine(r#"{"max_body_bytes": 16}"#));
        let err = x.on_request_headers(Headers { content_length: Some(17), ..json_headers() }).unwrap_err();
        assert_eq!(err.status, 413);
        let mut x = Exchange::new(engine(r#"{"max_body_bytes": 16}"#));
        x.on_request_headers(Headers { end_of_stream: true, ..json_headers() }).unwrap();
        let err = x.on_response_headers(Headers { content_length: Some(17), ..json_headers() }).unwrap_err();
        assert_eq!(err.status, 502);
        assert!(x.notes()[0].contains("portcullis_body_too_large"), "{:?}", x.notes());

        let mut x = Exchange::new(engine(r#"{"max_body_bytes": 16, "over_limit": "pass_unmasked"}"#));
        x.on_request_headers(Headers { end_of_stream: true, ..json_headers() }).unwrap();
        let plan = x.on_response_headers(Headers { content_length: Some(17), ..json_headers() }).unwrap();
        assert_eq!(plan, ResponsePlan::default(), "passed as is, content-length kept");
        assert_eq!(x.on_response_body(17, true, || unreachable!()), BodyStep::Pass);
        assert_eq!(x.notes().len(), 1);
        // Streams are bounded per event, not by their length.
        let mut x = Exchange::new(engine(r#"{"max_body_bytes": 16}"#));
        x.on_request_headers(Headers { end_of_stream: true, ..json_headers() }).unwrap();
        let sse = Headers { content_type: Some("text/event-stream"), content_length: Some(100), ..Headers::default() };
        assert!(x.on_response_headers(sse).unwrap().drop_content_length);
    }

    #[test]
    fn bodies_ended_by_trailers_are_still_masked() {
        let mut x = Exchange::new(engine("{}"));
        x.on_request_headers(json_headers()).unwrap();
        let body = br#"{"content":"mail jane@example.com"}"#.to_vec();
        assert_eq!(x.on_request_body(body.len(), false, || unreachable!()), BodyStep::Hold);
        assert!(x.request_is_buffering());
        assert_eq!(replaced(x.on_request_trailers(body.len(), || body.clone())), br#"{"content":"mail [EMAIL]"}"#);
        x.on_response_headers(json_headers()).unwrap();
        assert_eq!(x.on_response_body(body.len(), false, || unreachable!()), BodyStep::Hold);
        assert!(x.response_is_buffering());
        assert_eq!(replaced(x.on_response_trailers(body.len(), || body.clone())), br#"{"content":"mail [EMAIL]"}"#);
    }

    #[test]
    fn compressed_bodies_are_refused() {
        let mut x = Exchange::new(engine("{}"));
        x.on_request_headers(Headers { end_of_stream: true, ..json_headers() }).unwrap();
        let err = x.on_response_headers(Headers { content_encoding: Some("gzip"), ..json_headers() }).unwrap_err();
        assert_eq!(err.status, 502);
        let v: Value = serde_json::from_str(&err.body).unwrap();
        assert_eq!(v["error"]["code"], "portcullis_compressed_body");
        assert_eq!(v["error"]["type"], "api_error");

        let mut x = Exchange::new(engine("{}"));
        let err = x.on_request_headers(Headers { content_encoding: Some("gzip"), ..json_headers() }).unwrap_err();
        assert_eq!(err.status, 415);
        // Bodies the filter does not mask may be compressed.
        let mut x = Exchange::new(engine("{}"));
        x.on_request_headers(Headers { end_of_stream: true, ..json_headers() }).unwrap();
        let png = Headers { content_type: Some("image/png"), content_encoding: Some("gzip"), ..Headers::default() };
        assert_eq!(x.on_response_headers(png).unwrap(), ResponsePlan::default());
        assert_eq!(x.on_response_body(5, true, || unreachable!()), BodyStep::Pass);
        assert_eq!(x.notes(), ["response: content-type `image/png` is not masked"]);
    }

    #[test]
    fn pseudonymised_prompt_is_restored_in_a_streamed_answer() {
        let mut x = Exchange::new(engine(r#"{"entities": {"email": {"operator": "pseudonymize"}}}"#));
        x.on_request_headers(json_headers()).unwrap();
        let req = json!({"messages": [{"role": "user", "content": "write to jane@example.com"}]}).to_string().into_bytes();
        let sent = replaced(x.on_request_body(req.len(), true, || req.clone()));
        assert!(String::from_utf8(sent).unwrap().contains("write to [EMAIL_1]"));

        let sse = Headers { content_type: Some("text/event-stream"), ..Headers::default() };
        assert!(x.on_response_headers(sse).unwrap().drop_content_length);
        let events = [
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"To [EMA\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"IL_1]: card 4111 1111 1111 1111\"}}]}\n\n",
            "data: [DONE]\n\n",
        ];
        let mut out = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let chunk = e.as_bytes().to_vec();
            match x.on_response_body(chunk.len(), i == events.len() - 1, || chunk.clone()) {
                BodyStep::Pass => out.extend(chunk),
                BodyStep::Replace(b) => out.extend(b),
                other => panic!("{other:?}"),
            }
        }
        let text = String::from_utf8(out).unwrap();
        let content: String = text
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(content, "To jane@example.com: card [CREDIT_CARD]");
        assert!(text.ends_with("data: [DONE]\n\n"));
        assert_eq!(x.response_counts().get("credit_card"), Some(&1));
        assert_eq!(x.request_counts().get("email"), Some(&1));
    }

    #[test]
    fn without_masking_or_pseudonyms_responses_pass() {
        let mut x = Exchange::new(engine(r#"{"mask_responses": false}"#));
        x.on_request_headers(json_headers()).unwrap();
        let req = br#"{"content":"jane@example.com"}"#.to_vec();
        x.on_request_body(req.len(), true, || req.clone());
        assert_eq!(x.on_response_headers(json_headers()).unwrap(), ResponsePlan::default());
        assert_eq!(x.on_response_body(3, true, || unreachable!()), BodyStep::Pass);
    }
}
