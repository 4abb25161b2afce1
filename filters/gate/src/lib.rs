//! The gate filter.
//!
//! - At configure time it parses its plugin configuration (refusing to load
//!   when it is invalid) and starts polling the control plane for policy.
//! - For each request, it admits it when a policy is in force; otherwise it
//!   answers 503 with a JSON body that says why (fail closed), unless the
//!   configuration says `before_first_policy: allow`.
//! - It stamps `x-portcullis-policy-version` on every upstream response, so
//!   callers and tests can see which policy version handled them.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use portcullis_filter_runtime::Gate;
use portcullis_filter_sdk::{reply, PolicyClient, SharedPolicy};
use portcullis_policy::POLICY_VERSION_HEADER;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

/// The module's entry point, exported to the host as `_initialize`.
#[allow(missing_docs)]
mod entry {
    use super::GateRoot;
    use proxy_wasm::traits::RootContext;

    proxy_wasm::main! {{
        portcullis_filter_sdk::init_logging();
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(GateRoot::default()) });
    }}
}

#[derive(Default)]
struct GateRoot {
    client: Option<PolicyClient>,
}

impl Context for GateRoot {
    fn on_http_call_response(&mut self, token: u32, _headers: usize, body_size: usize, _trailers: usize) {
        if let Some(client) = &mut self.client {
            client.on_http_call_response(token, body_size);
        }
    }
}

impl RootContext for GateRoot {
    fn on_configure(&mut self, _size: usize) -> bool {
        match PolicyClient::from_plugin_config(self.get_plugin_configuration()) {
            Ok(mut client) => {
                client.start();
                self.client = Some(client);
                true
            }
            Err(e) => {
                log::error!("portcullis gate filter refuses to start: {e}");
                false
            }
        }
    }

    fn on_tick(&mut self) {
        if let Some(client) = &mut self.client {
            client.on_tick();
        }
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let policy = self.client.as_ref()?.shared();
        Some(Box::new(GateHttp { policy, version: None }))
    }
}

struct GateHttp {
    policy: SharedPolicy,
    version: Option<u64>,
}

impl Context for GateHttp {}

impl HttpContext for GateHttp {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        let gate = self.policy.borrow().gate();
        match gate {
            Gate::Admit(bundle) => {
                self.version = bundle.map(|b| b.version);
                Action::Continue
            }
            Gate::Reject { status, body } => {
                reply::json(status, &body);
                Action::Pause
            }
        }
    }

    fn on_http_response_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        if let Some(version) = self.version {
            self.set_http_response_header(POLICY_VERSION_HEADER, Some(&version.to_string()));
        }
        Action::Continue
    }
}
