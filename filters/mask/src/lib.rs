//! The masking filter: PII and secrets never pass the gateway in clear.
//!
//! For every exchange, under the `masking` section of the policy in force:
//!
//! - **Responses** are masked by default (`mask_responses`), by content type:
//!   JSON (`application/json`, `*+json`) is buffered and masked inside string
//!   values only, so it stays valid JSON; `text/event-stream` is masked event
//!   by event as it streams (OpenAI chat and legacy completions with tool
//!   calls, the OpenAI Responses API, Anthropic messages with thinking and
//!   tool input; every other string of any event masked whole), entities
//!   split across events included, holding back only an unfinished event and
//!   the tail of text that may still be an entity;
//!   `text/*` (and NDJSON, XML, YAML, or no content type) is buffered and
//!   masked as text. Other types (images, audio, `multipart`, octet streams)
//!   pass unmasked, noted in the exchange's report.
//! - **Requests** are masked the same way when `mask_requests` is on. With the
//!   `pseudonymize` operator, values become placeholders such as `[EMAIL_1]`
//!   on the way to the model, and the placeholders in its answer (JSON or
//!   stream) become the original values again for the caller. The mapping
//!   lives in the exchange's memory only: never logged, never stored.
//! - **Compression**: the filter asks upstreams for `accept-encoding:
//!   identity` and refuses (502, `portcullis_compressed_body`) a response to
//!   be masked that still arrives compressed, rather than pass it unmasked.
//!   A compressed request body to be masked is refused with 415.
//! - **Content-Length** is removed whenever a body may change; Envoy then
//!   frames it with chunked encoding.
//! - **Limits**: bodies are buffered up to `max_body_bytes`; past it,
//!   `over_limit: block` (default) refuses with 413 (request) or 502
//!   (response), `pass_unmasked` passes the body unmasked and logs it. A
//!   response is refused with a clean 502 when its `content-length` declares
//!   it too large; one without a declared length is only found too large
//!   after its headers went on, and then Envoy can only reset the stream
//!   (still fail closed). A stream is not buffered whole: the limit bounds
//!   its largest single event; past it, `block` ends the stream with an
//!   `event: error`.
//! - **Fail closed**: no policy yet (503, like every Portcullis filter), or a
//!   masking section that cannot be enforced (503): `hash` without its HMAC
//!   key (`portcullis_masking_key_missing`), or a policy that does not compile.
//! - **Reporting**: one info log line per exchange with the entity types and
//!   counts masked in each direction (never values), and the same as JSON in
//!   the filter state [`MASKED_PROPERTY`] for access logs and recordings.
//!
//! The decisions live in plain modules with native tests ([`exchange`],
//! [`buffered`], [`stream`], [`content`], [`engine`]); the proxy-wasm glue is
//! in `root` and `http`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod buffered;
pub mod content;
pub mod engine;
pub mod exchange;
mod http;
mod root;
pub mod stream;

/// Filter state the filter sets with each exchange's report, e.g.
/// `{"request":{"email":1},"response":{"credit_card":2}}` (plus `"notes"`
/// when something passed unmasked or was refused). Envoy stores it as
/// `wasm.portcullis.masked`: access logs read it with
/// `%FILTER_STATE(wasm.portcullis.masked:PLAIN)%`, other wasm filters with
/// `get_property(["portcullis.masked"])`.
pub const MASKED_PROPERTY: &str = "wasm.portcullis.masked";

/// The property path given to `set_property`: one segment, because Envoy
/// looks filter state up by the first segment of a path only.
pub const MASKED_PROPERTY_PATH: &str = "portcullis.masked";

/// The module's entry point, exported to the host as `_initialize`.
#[allow(missing_docs)]
mod entry {
    use proxy_wasm::traits::RootContext;

    proxy_wasm::main! {{
        portcullis_filter_sdk::init_logging();
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(portcullis_filter_sdk::PolicyRoot::<crate::root::MaskFilter>::default()) });
    }}
}
