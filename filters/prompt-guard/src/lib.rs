//! The prompt-guard filter: what callers send, checked before it leaves.
//!
//! It runs after the token filter, which has verified the caller and set the
//! `x-portcullis-subject` and `x-portcullis-groups` headers (stripping any
//! the client sent). For each request to a target the guard policy covers it
//! reads the body, extracts what is being asked (OpenAI, Anthropic, MCP
//! `tools/call`, Kubernetes, plain text) and applies the rules:
//!
//! - `block`: 403 with an OpenAI-style error naming the rule;
//! - `hold`: the request waits while the control plane asks a human
//!   ([`hold`]); approved, it goes upstream unchanged, body included;
//!   denied or expired, the caller gets a 403 saying why;
//! - `log`: the match is logged and the request goes on (observe mode).
//!
//! All decisions are made by `portcullis-guard`; this crate moves bytes.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http;
pub mod hold;
mod root;

/// The module's entry point, exported to the host as `_initialize`.
#[allow(missing_docs)]
mod entry {
    use proxy_wasm::traits::RootContext;

    proxy_wasm::main! {{
        portcullis_filter_sdk::init_logging();
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(portcullis_filter_sdk::PolicyRoot::<crate::root::GuardFilter>::default()) });
    }}
}
