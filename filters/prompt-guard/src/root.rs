//! What the prompt-guard filter's HTTP contexts share, and how it follows the policy.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use portcullis_filter_runtime::FilterConfig;
use portcullis_filter_sdk::{Filter, SharedPolicy};
use portcullis_guard::Guard;
use portcullis_policy::PolicyBundle;
use proxy_wasm::traits::HttpContext;

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
    /// Built once per bundle; `Err` says why the guard policy is unusable.
    pub guard: Option<Result<Guard, String>>,
    /// Where holds are sent.
    pub control_plane: ControlPlane,
}

pub(crate) type SharedState = Rc<RefCell<Shared>>;

/// The prompt-guard filter, as the SDK's root context sees it.
pub(crate) struct GuardFilter;

impl Filter for GuardFilter {
    const NAME: &'static str = "prompt-guard";
    type Shared = Shared;

    fn on_configured(shared: &mut Shared, config: &FilterConfig) {
        shared.control_plane = ControlPlane {
            cluster: config.control_plane.cluster.clone(),
            authority: config.authority().to_owned(),
            fleet_token: config.control_plane.fleet_token.clone(),
        };
    }

    fn on_bundle(shared: &mut Shared, bundle: &Arc<PolicyBundle>) {
        let built = Guard::from_policy(&bundle.policy.guard)
            .map_err(|problems| problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "));
        match &built {
            Ok(_) => log::info!("guard policy of version {} loaded", bundle.version),
            Err(e) => log::error!("guard policy of version {} is unusable, refusing requests: {e}", bundle.version),
        }
        shared.guard = Some(built);
    }

    fn http_context(policy: SharedPolicy, shared: SharedState) -> Box<dyn HttpContext> {
        Box::new(GuardHttp::new(policy, shared))
    }
}
