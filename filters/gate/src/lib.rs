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
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use portcullis_filter_sdk::{reply, Filter, SharedPolicy};
use portcullis_policy::{PolicyBundle, POLICY_VERSION_HEADER};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

/// The module's entry point, exported to the host as `_initialize`.
#[allow(missing_docs)]
mod entry {
    use super::GateFilter;
    use portcullis_filter_sdk::PolicyRoot;
    use proxy_wasm::traits::RootContext;

    proxy_wasm::main! {{
        portcullis_filter_sdk::init_logging();
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(PolicyRoot::<GateFilter>::default()) });
    }}
}

/// The gate filter, as the SDK's root context sees it: it derives nothing
/// from the bundle beyond what the policy sync already keeps.
struct GateFilter;

impl Filter for GateFilter {
    const NAME: &'static str = "gate";
    type Shared = ();

    fn on_bundle(_shared: &mut (), _bundle: &Arc<PolicyBundle>) {}

    fn http_context(policy: SharedPolicy, _shared: Rc<RefCell<()>>) -> Box<dyn HttpContext> {
        Box::new(GateHttp { policy, version: None })
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
