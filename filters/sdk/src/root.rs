//! The root context every Portcullis filter uses.
//!
//! A filter describes itself with [`Filter`]: what its HTTP contexts share,
//! what it derives from each policy bundle, and how to make an HTTP context.
//! [`PolicyRoot`] does the rest: it parses the plugin configuration (refusing
//! to load when it is invalid), polls the control plane, calls
//! [`Filter::on_bundle`] once per new bundle, and creates HTTP contexts.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use portcullis_filter_runtime::FilterConfig;
use portcullis_policy::PolicyBundle;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::{PolicyClient, SharedPolicy};

/// What makes one filter different from another.
pub trait Filter: 'static {
    /// Name used in logs, such as `token`.
    const NAME: &'static str;

    /// What the HTTP contexts of one VM share (built per bundle, caches...).
    type Shared: Default + 'static;

    /// Called once, when the plugin configuration has been accepted.
    fn on_configured(_shared: &mut Self::Shared, _config: &FilterConfig) {}

    /// Called once for each new policy bundle, before any request sees it:
    /// the place to build per-bundle state (once, not per request).
    fn on_bundle(shared: &mut Self::Shared, bundle: &Arc<PolicyBundle>);

    /// A context for one HTTP request.
    fn http_context(policy: SharedPolicy, shared: Rc<RefCell<Self::Shared>>) -> Box<dyn HttpContext>;
}

/// The root context of filter `F`.
pub struct PolicyRoot<F: Filter> {
    client: Option<PolicyClient>,
    shared: Rc<RefCell<F::Shared>>,
    /// The bundle `F::on_bundle` last saw.
    seen: Option<Arc<PolicyBundle>>,
}

impl<F: Filter> Default for PolicyRoot<F> {
    fn default() -> Self {
        Self { client: None, shared: Rc::default(), seen: None }
    }
}

impl<F: Filter> PolicyRoot<F> {
    fn sync(&mut self) {
        let Some(current) = self.client.as_ref().and_then(PolicyClient::current) else { return };
        if self.seen.as_ref().is_some_and(|seen| Arc::ptr_eq(seen, &current)) {
            return;
        }
        F::on_bundle(&mut self.shared.borrow_mut(), &current);
        self.seen = Some(current);
    }
}

impl<F: Filter> Context for PolicyRoot<F> {
    fn on_http_call_response(&mut self, token: u32, _headers: usize, body_size: usize, _trailers: usize) {
        if let Some(client) = &mut self.client {
            if client.on_http_call_response(token, body_size) {
                self.sync();
            }
        }
    }
}

impl<F: Filter> RootContext for PolicyRoot<F> {
    fn on_configure(&mut self, _size: usize) -> bool {
        match PolicyClient::from_plugin_config(self.get_plugin_configuration()) {
            Ok(mut client) => {
                let config = client.shared().borrow().config().clone();
                F::on_configured(&mut self.shared.borrow_mut(), &config);
                client.start();
                self.client = Some(client);
                true
            }
            Err(e) => {
                log::error!("portcullis {} filter refuses to start: {e}", F::NAME);
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
        Some(F::http_context(policy, Rc::clone(&self.shared)))
    }
}
