//! The root context: policy polling, and the masking engine built from it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use portcullis_filter_sdk::PolicyClient;
use portcullis_policy::PolicyBundle;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::engine::{Engine, EngineError};
use crate::http::MaskHttp;

/// What the HTTP contexts of one VM share.
#[derive(Default)]
pub(crate) struct Shared {
    /// The bundle the engine was built from.
    pub bundle: Option<Arc<PolicyBundle>>,
    /// Built once per bundle; `Err` says why masking cannot be enforced.
    pub engine: Option<Result<Arc<Engine>, EngineError>>,
}

pub(crate) type SharedState = Rc<RefCell<Shared>>;

#[derive(Default)]
pub(crate) struct MaskRoot {
    client: Option<PolicyClient>,
    shared: SharedState,
}

impl MaskRoot {
    /// Rebuilds the engine when the bundle in force changed.
    fn sync_engine(&mut self) {
        let Some(current) = self.client.as_ref().and_then(PolicyClient::current) else { return };
        let mut shared = self.shared.borrow_mut();
        if shared.bundle.as_ref().is_some_and(|b| Arc::ptr_eq(b, &current)) {
            return;
        }
        let built = Engine::new(&current.policy.masking).map(Arc::new);
        match &built {
            Ok(engine) if engine.is_active() => log::info!(
                "masking policy of version {} loaded (requests: {}, responses: {})",
                current.version,
                if engine.mask_requests { "masked" } else { "not masked" },
                if engine.mask_responses { "masked" } else { "not masked" },
            ),
            Ok(_) => log::info!("masking policy of version {}: masking is off in both directions", current.version),
            Err(e) => log::error!("masking policy of version {} is unusable, refusing requests: {e}", current.version),
        }
        shared.engine = Some(built);
        shared.bundle = Some(current);
    }
}

impl Context for MaskRoot {
    fn on_http_call_response(&mut self, token: u32, _headers: usize, body_size: usize, _trailers: usize) {
        if let Some(client) = &mut self.client {
            if client.on_http_call_response(token, body_size) {
                self.sync_engine();
            }
        }
    }
}

impl RootContext for MaskRoot {
    fn on_configure(&mut self, _size: usize) -> bool {
        match PolicyClient::from_plugin_config(self.get_plugin_configuration()) {
            Ok(mut client) => {
                client.start();
                self.client = Some(client);
                true
            }
            Err(e) => {
                log::error!("portcullis mask filter refuses to start: {e}");
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
        Some(Box::new(MaskHttp::new(policy, Rc::clone(&self.shared))))
    }
}
