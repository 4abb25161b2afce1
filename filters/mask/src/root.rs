//! What the mask filter's HTTP contexts share, and how it follows the policy.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use portcullis_filter_sdk::{Filter, SharedPolicy};
use portcullis_policy::PolicyBundle;
use proxy_wasm::traits::HttpContext;

use crate::engine::{Engine, EngineError};
use crate::http::MaskHttp;

/// What the HTTP contexts of one VM share.
#[derive(Default)]
pub(crate) struct Shared {
    /// Built once per bundle; `Err` says why masking cannot be enforced.
    pub engine: Option<Result<Arc<Engine>, EngineError>>,
}

pub(crate) type SharedState = Rc<RefCell<Shared>>;

/// The mask filter, as the SDK's root context sees it.
pub(crate) struct MaskFilter;

impl Filter for MaskFilter {
    const NAME: &'static str = "mask";
    type Shared = Shared;

    fn on_bundle(shared: &mut Shared, bundle: &Arc<PolicyBundle>) {
        let built = Engine::new(&bundle.policy.masking).map(Arc::new);
        match &built {
            Ok(engine) if engine.is_active() => log::info!(
                "masking policy of version {} loaded (requests: {}, responses: {})",
                bundle.version,
                if engine.mask_requests { "masked" } else { "not masked" },
                if engine.mask_responses { "masked" } else { "not masked" },
            ),
            Ok(_) => log::info!("masking policy of version {}: masking is off in both directions", bundle.version),
            Err(e) => log::error!("masking policy of version {} is unusable, refusing requests: {e}", bundle.version),
        }
        shared.engine = Some(built);
    }

    fn http_context(policy: SharedPolicy, shared: SharedState) -> Box<dyn HttpContext> {
        Box::new(MaskHttp::new(policy, shared))
    }
}
