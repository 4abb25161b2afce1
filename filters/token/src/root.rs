//! What the token filter's HTTP contexts share, and how it follows the policy.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use portcullis_filter_runtime::FilterConfig;
use portcullis_filter_sdk::{Filter, SharedPolicy};
use portcullis_identity::Authenticator;
use portcullis_policy::PolicyBundle;
use proxy_wasm::traits::HttpContext;

use crate::http::TokenHttp;
use crate::refresh::RefreshLimiter;

/// What the HTTP contexts of one VM share.
#[derive(Default)]
pub(crate) struct Shared {
    /// Built once per bundle; `Err` says why the identity policy is unusable.
    pub authenticator: Option<Result<Authenticator, String>>,
    /// Reports of unknown key ids to the control plane.
    pub refresh: RefreshLimiter,
    /// Control-plane cluster, authority and fleet token, for key-refresh reports.
    pub control_plane: Option<(String, String, String)>,
}

pub(crate) type SharedState = Rc<RefCell<Shared>>;

/// The token filter, as the SDK's root context sees it.
pub(crate) struct TokenFilter;

impl Filter for TokenFilter {
    const NAME: &'static str = "token";
    type Shared = Shared;

    fn on_configured(shared: &mut Shared, config: &FilterConfig) {
        shared.control_plane =
            Some((config.control_plane.cluster.clone(), config.authority().to_owned(), config.control_plane.fleet_token.clone()));
    }

    fn on_bundle(shared: &mut Shared, bundle: &Arc<PolicyBundle>) {
        let built = Authenticator::new(&bundle.policy.identity).map_err(|e| e.to_string());
        match &built {
            Ok(auth) => {
                for warning in auth.warnings() {
                    log::warn!("identity policy (version {}): {warning}", bundle.version);
                }
                log::info!("identity policy of version {} loaded", bundle.version);
            }
            Err(e) => log::error!("identity policy of version {} is unusable, refusing requests: {e}", bundle.version),
        }
        shared.authenticator = Some(built);
    }

    fn http_context(policy: SharedPolicy, shared: SharedState) -> Box<dyn HttpContext> {
        Box::new(TokenHttp::new(policy, shared))
    }
}
