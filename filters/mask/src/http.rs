//! The HTTP context: moves headers and bodies between the host and an
//! [`Exchange`], which decides everything.
//!
//! Host rules this follows (Envoy 1.40, proxy-wasm 0.2.5):
//! - headers are only changed in the header callbacks: the host refuses
//!   changes later and the SDK panics on the refusal;
//! - header callbacks return `Continue` (a `Pause` there would stop the body
//!   callbacks too); body callbacks return `Pause` to buffer;
//! - every host call here is one the host accepts in that callback, because a
//!   refused call panics in the SDK and a panic kills the VM for every
//!   request on the worker;
//! - a local reply replaces the response only until its headers have gone
//!   on, i.e. from the response header callback; from a response body
//!   callback Envoy can only reset the stream (so refusals that depend on the
//!   body, such as a body without `content-length` growing past the limit,
//!   end in a reset: the caller gets a failed response, never unmasked
//!   content).

use std::sync::Arc;

use portcullis_filter_runtime::Gate;
use portcullis_filter_sdk::{reply, SharedPolicy};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, MapType};

use crate::buffered::Refusal;
use crate::exchange::{BodyStep, Exchange, Headers};
use crate::root::SharedState;
use crate::{MASKED_PROPERTY, MASKED_PROPERTY_PATH};

pub(crate) struct MaskHttp {
    policy: SharedPolicy,
    shared: SharedState,
    /// `None` when the filter has nothing to do for this exchange.
    exchange: Option<Exchange>,
    /// A local reply was sent: everything after it passes untouched (the
    /// reply itself travels back through this filter's response callbacks).
    replied: bool,
    /// `METHOD /path` (no query string) and policy version, for the log line.
    label: String,
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

impl MaskHttp {
    pub(crate) fn new(policy: SharedPolicy, shared: SharedState) -> Self {
        Self { policy, shared, exchange: None, replied: false, label: String::new() }
    }

    fn refuse(&mut self, refusal: &Refusal) -> Action {
        self.replied = true;
        reply::json(refusal.status, &refusal.body);
        Action::Pause
    }

    fn read(buffer: BufferType, size: usize) -> Vec<u8> {
        match hostcalls::get_buffer(buffer, 0, size) {
            Ok(body) => body.unwrap_or_default(),
            Err(e) => {
                log::warn!("could not read the body: host status {e:?}");
                Vec::new()
            }
        }
    }

    /// Applies a body step in a body callback, where the body buffer exists.
    fn apply(&mut self, buffer: BufferType, size: usize, step: BodyStep) -> Action {
        match step {
            BodyStep::Pass => Action::Continue,
            BodyStep::Hold => Action::Pause,
            BodyStep::Replace(bytes) => {
                if let Err(e) = hostcalls::set_buffer(buffer, 0, size, &bytes) {
                    log::error!("could not replace the body: host status {e:?}");
                }
                Action::Continue
            }
            BodyStep::Refuse(refusal) => self.refuse(&refusal),
        }
    }

    /// Records the counts for recordings (filter state `portcullis.masked`).
    fn publish(&self) {
        let Some(exchange) = &self.exchange else { return };
        let report = exchange.report_json();
        if let Err(e) = hostcalls::set_property(vec![MASKED_PROPERTY_PATH], Some(report.as_bytes())) {
            log::warn!("could not set the {MASKED_PROPERTY} property: host status {e:?}");
        }
    }
}

impl Context for MaskHttp {}

impl HttpContext for MaskHttp {
    fn on_http_request_headers(&mut self, _headers: usize, end_of_stream: bool) -> Action {
        let gate = self.policy.borrow().gate();
        let bundle = match gate {
            Gate::Reject { status, body } => return self.refuse(&Refusal { status, body }),
            // `before_first_policy: allow`: no policy, nothing to mask (fail open, as configured).
            Gate::Admit(None) => return Action::Continue,
            Gate::Admit(Some(bundle)) => bundle,
        };
        let engine = self.shared.borrow().engine.clone();
        let engine = match engine {
            Some(Ok(engine)) => engine,
            Some(Err(e)) => return self.refuse(&Refusal { status: e.status(), body: e.body_json() }),
            None => {
                let e = crate::engine::EngineError::Unusable { problems: "not loaded yet".into() };
                return self.refuse(&Refusal { status: e.status(), body: e.body_json() });
            }
        };
        if !engine.is_active() {
            return Action::Continue;
        }
        let headers = self.get_http_request_headers();
        let path = header(&headers, ":path").unwrap_or("");
        self.label = format!(
            "{} {} (policy version {})",
            header(&headers, ":method").unwrap_or(""),
            path.split('?').next().unwrap_or(path),
            bundle.version
        );
        let mut exchange = Exchange::new(Arc::clone(&engine));
        let plan = exchange.on_request_headers(Headers {
            content_type: header(&headers, "content-type"),
            content_encoding: header(&headers, "content-encoding"),
            content_length: header(&headers, "content-length").and_then(|v| v.trim().parse().ok()),
            end_of_stream,
        });
        self.exchange = Some(exchange);
        let plan = match plan {
            Ok(plan) => plan,
            Err(refusal) => {
                self.publish();
                return self.refuse(&refusal);
            }
        };
        if plan.drop_content_length && header(&headers, "content-length").is_some() {
            if let Err(e) = hostcalls::remove_map_value(MapType::HttpRequestHeaders, "content-length") {
                log::warn!("could not remove content-length: host status {e:?}");
            }
        }
        if plan.identity_encoding && header(&headers, "accept-encoding") != Some("identity") {
            if let Err(e) = hostcalls::set_map_value(MapType::HttpRequestHeaders, "accept-encoding", Some("identity")) {
                log::warn!("could not set accept-encoding: host status {e:?}");
            }
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.replied {
            return Action::Continue;
        }
        let Some(exchange) = &mut self.exchange else { return Action::Continue };
        let step = exchange.on_request_body(body_size, end_of_stream, || Self::read(BufferType::HttpRequestBody, body_size));
        if end_of_stream || matches!(step, BodyStep::Refuse(_)) {
            self.publish();
        }
        self.apply(BufferType::HttpRequestBody, body_size, step)
    }

    fn on_http_request_trailers(&mut self, _trailers: usize) -> Action {
        if self.replied {
            return Action::Continue;
        }
        let Some(exchange) = &mut self.exchange else { return Action::Continue };
        // The body is only readable (and writable) here while this filter
        // buffers it: read it only then.
        let body = if exchange.request_is_buffering() { Self::read(BufferType::HttpRequestBody, usize::MAX) } else { Vec::new() };
        let size = body.len();
        let step = exchange.on_request_trailers(size, || body);
        self.publish();
        match step {
            BodyStep::Replace(bytes) if size > 0 => {
                if let Err(e) = hostcalls::set_buffer(BufferType::HttpRequestBody, 0, size, &bytes) {
                    log::error!("could not replace the body: host status {e:?}");
                }
                Action::Continue
            }
            BodyStep::Refuse(refusal) => self.refuse(&refusal),
            _ => Action::Continue,
        }
    }

    fn on_http_response_headers(&mut self, _headers: usize, end_of_stream: bool) -> Action {
        if self.replied {
            return Action::Continue;
        }
        let Some(exchange) = &mut self.exchange else { return Action::Continue };
        let headers = hostcalls::get_map(MapType::HttpResponseHeaders).unwrap_or_default();
        let plan = exchange.on_response_headers(Headers {
            content_type: header(&headers, "content-type"),
            content_encoding: header(&headers, "content-encoding"),
            content_length: header(&headers, "content-length").and_then(|v| v.trim().parse().ok()),
            end_of_stream,
        });
        self.publish();
        match plan {
            Ok(plan) => {
                if plan.drop_content_length && header(&headers, "content-length").is_some() {
                    if let Err(e) = hostcalls::remove_map_value(MapType::HttpResponseHeaders, "content-length") {
                        log::warn!("could not remove content-length: host status {e:?}");
                    }
                }
                Action::Continue
            }
            Err(refusal) => self.refuse(&refusal),
        }
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.replied {
            return Action::Continue;
        }
        let Some(exchange) = &mut self.exchange else { return Action::Continue };
        let step = exchange.on_response_body(body_size, end_of_stream, || Self::read(BufferType::HttpResponseBody, body_size));
        if end_of_stream || matches!(step, BodyStep::Refuse(_)) {
            self.publish();
        }
        if let BodyStep::Refuse(refusal) = &step {
            // The response headers went on in the header callback, so Envoy
            // cannot answer with this reply any more: it resets the stream.
            // The caller gets a failed response, never the unmasked body.
            log::warn!("{}: refusing the response (HTTP {}) after its headers were sent: the stream is reset", self.label, refusal.status);
        }
        self.apply(BufferType::HttpResponseBody, body_size, step)
    }

    fn on_http_response_trailers(&mut self, _trailers: usize) -> Action {
        if self.replied {
            return Action::Continue;
        }
        let Some(exchange) = &mut self.exchange else { return Action::Continue };
        // The body is only readable (and writable) here while this filter
        // buffers it: read it only then.
        let body = if exchange.response_is_buffering() { Self::read(BufferType::HttpResponseBody, usize::MAX) } else { Vec::new() };
        let size = body.len();
        let step = exchange.on_response_trailers(size, || body);
        self.publish();
        match step {
            BodyStep::Replace(bytes) if size > 0 => {
                if let Err(e) = hostcalls::set_buffer(BufferType::HttpResponseBody, 0, size, &bytes) {
                    log::error!("could not replace the body: host status {e:?}");
                }
                Action::Continue
            }
            BodyStep::Refuse(refusal) => self.refuse(&refusal),
            _ => Action::Continue,
        }
    }

    fn on_log(&mut self) {
        if let Some(exchange) = &self.exchange {
            log::info!("masked {}: {}", self.label, exchange.summary());
        }
    }
}
