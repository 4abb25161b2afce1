//! The root context: policy polling, and the guard built from it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use portcullis_filter_sdk::PolicyClient;
use portcullis_guard::Guard;
use portcullis_policy::PolicyBundle;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::http::GuardHttp;

/// How HTTP contexts reach the control plane.
#[derive(Debug, Clone, Default)]
pub(crate) struct ControlPlane {
    pub cluster: String,
    pub authority: String,
    pub fleet_token: String,
}

/// What the HTTP contexts of one VM share.
#[derive(Default)]
pub(crate) struct Shared {
    /// The bundle the guard was built from.
    pub bundle: Option<Arc<PolicyBundle>>,
    /// Built once per bundle; `Err` says why the guard policy is unusable.
    pub guard: Option<Result<Guard, String>>,
    /// Where holds are sent.
    pub control_plane: ControlPlane,
}

pub(crate) type SharedState = Rc<RefCell<Shared>>;

#[derive(Default)]
pub(crate) struct GuardRoot {
    client: Option<PolicyClient>,
    shared: SharedState,
}

impl GuardRoot {
    /// Rebuilds the guard when the bundle in force changed.
    fn sync_guard(&mut self) {
        let Some(current) = self.client.as_ref().and_then(PolicyClient::current) else { return };
        let mut shared = self.shared.borrow_mut();
        if shared.bundle.as_ref().is_some_and(|b| Arc::ptr_eq(b, &current)) {
            return;
        }
        let built = Guard::from_policy(&current.policy.guard).map_err(|problems| {
            problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        });
        match &built {
            Ok(_) => log::info!("guard policy of version {} loaded", current.version),
            Err(e) => log::error!("guard policy of version {} is unusable, refusing requests: {e}", current.version),
        }
        shared.guard = Some(built);
        shared.bundle = Some(current);
    }
}

impl Context for GuardRoot {
    fn on_http_call_response(&mut self, token: u32, _headers: usize, body_size: usize, _trailers: usize) {
        if let Some(client) = &mut self.client {
            if client.on_http_call_response(token, body_size) {
                self.sync_guard();
            }
        }
    }
}

impl RootContext for GuardRoot {
    fn on_configure(&mut self, _size: usize) -> bool {
        match PolicyClient::from_plugin_config(self.get_plugin_configuration()) {
            Ok(mut client) => {
                let config = client.shared().borrow().config().clone();
                self.shared.borrow_mut().control_plane = ControlPlane {
                    cluster: config.control_plane.cluster.clone(),
                    authority: config.authority().to_owned(),
                    fleet_token: config.control_plane.fleet_token.clone(),
                };
                client.start();
                self.client = Some(client);
                true
            }
            Err(e) => {
                log::error!("portcullis prompt-guard filter refuses to start: {e}");
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
        Some(Box::new(GuardHttp::new(policy, Rc::clone(&self.shared))))
    }
}
