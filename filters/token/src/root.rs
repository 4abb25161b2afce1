//! The root context: policy polling, and the authenticator built from it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use portcullis_filter_sdk::PolicyClient;
use portcullis_identity::Authenticator;
use portcullis_policy::PolicyBundle;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::http::TokenHttp;
use crate::refresh::RefreshLimiter;

/// What the HTTP contexts of one VM share.
#[derive(Default)]
pub(crate) struct Shared {
    /// The bundle the authenticator was built from.
    pub bundle: Option<Arc<PolicyBundle>>,
    /// Built once per bundle; `Err` says why the identity policy is unusable.
    pub authenticator: Option<Result<Authenticator, String>>,
    /// Reports of unknown key ids to the control plane.
    pub refresh: RefreshLimiter,
    /// Control-plane cluster and fleet token, for key-refresh reports.
    pub control_plane: Option<(String, String, String)>,
}

pub(crate) type SharedState = Rc<RefCell<Shared>>;

#[derive(Default)]
pub(crate) struct TokenRoot {
    client: Option<PolicyClient>,
    shared: SharedState,
}

impl TokenRoot {
    /// Rebuilds the authenticator when the bundle in force changed.
    fn sync_authenticator(&mut self) {
        let Some(current) = self.client.as_ref().and_then(PolicyClient::current) else { return };
        let mut shared = self.shared.borrow_mut();
        if shared.bundle.as_ref().is_some_and(|b| Arc::ptr_eq(b, &current)) {
            return;
        }
        let built = Authenticator::new(&current.policy.identity).map_err(|e| e.to_string());
        match &built {
            Ok(auth) => {
                for warning in auth.warnings() {
                    log::warn!("identity policy (version {}): {warning}", current.version);
                }
                log::info!("identity policy of version {} loaded", current.version);
            }
            Err(e) => log::error!("identity policy of version {} is unusable, refusing requests: {e}", current.version),
        }
        shared.authenticator = Some(built);
        shared.bundle = Some(current);
    }
}

impl Context for TokenRoot {
    fn on_http_call_response(&mut self, token: u32, _headers: usize, body_size: usize, _trailers: usize) {
        if let Some(client) = &mut self.client {
            if client.on_http_call_response(token, body_size) {
                self.sync_authenticator();
            }
        }
    }
}

impl RootContext for TokenRoot {
    fn on_configure(&mut self, _size: usize) -> bool {
        match PolicyClient::from_plugin_config(self.get_plugin_configuration()) {
            Ok(mut client) => {
                let config = client.shared().borrow().config().clone();
                self.shared.borrow_mut().control_plane = Some((
                    config.control_plane.cluster.clone(),
                    config.authority().to_owned(),
                    config.control_plane.fleet_token.clone(),
                ));
                client.start();
                self.client = Some(client);
                true
            }
            Err(e) => {
                log::error!("portcullis token filter refuses to start: {e}");
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
        Some(Box::new(TokenHttp::new(policy, Rc::clone(&self.shared))))
    }
}
