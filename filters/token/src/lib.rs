//! The token filter: who is calling, and may they?
//!
//! For every request it
//! 1. refuses with 503 while no policy is in force (fail closed);
//! 2. authenticates the caller with a JWT or an API key (401 otherwise, with
//!    `WWW-Authenticate` and an OpenAI-style JSON body);
//! 3. matches the target by host, path and method and applies the access
//!    rules, reading the body's `model` first when a rule needs it (403
//!    naming the rule otherwise);
//! 4. strips the client's credential and any identity headers it sent, sets
//!    the verified identity headers, and injects the target's upstream
//!    credential.
//!
//! All decisions are made by `portcullis-identity`; this crate moves bytes.
//! When a token names a key the filter does not know, it asks the control
//! plane to refresh that provider's keys (rate-limited), so key rotation at
//! the provider is picked up without restarts.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http;
pub mod model;
pub mod refresh;
mod root;

/// The module's entry point, exported to the host as `_initialize`.
#[allow(missing_docs)]
mod entry {
    use proxy_wasm::traits::RootContext;

    proxy_wasm::main! {{
        portcullis_filter_sdk::init_logging();
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(portcullis_filter_sdk::PolicyRoot::<crate::root::TokenFilter>::default()) });
    }}
}
