//! The HTTP context: one request's authentication and authorization.

use std::time::{Duration, UNIX_EPOCH};

use portcullis_filter_runtime::Gate;
use portcullis_filter_sdk::{reply, SharedPolicy};
use portcullis_identity::{AuthError, Identity, RequestParts};
use portcullis_policy::{ErrorBody, POLICY_VERSION_HEADER};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::model::{model_of, MAX_MODEL_BODY_BYTES};
use crate::root::SharedState;

/// Path of the control plane's key-refresh endpoint.
const JWKS_REFRESH_PATH: &str = "/v1/filter/jwks-refresh";

/// A request authenticated but waiting for its body, because a rule for its
/// target looks at the model.
struct AwaitingBody {
    identity: Identity,
    target: String,
    method: String,
    path: String,
}

pub(crate) struct TokenHttp {
    policy: SharedPolicy,
    shared: SharedState,
    awaiting: Option<AwaitingBody>,
    /// Policy version that decided this request, reported in a response header.
    version: Option<String>,
}

impl TokenHttp {
    pub(crate) fn new(policy: SharedPolicy, shared: SharedState) -> Self {
        Self { policy, shared, awaiting: None, version: None }
    }

    fn now_unix(&self) -> u64 {
        self.get_current_time().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }

    fn refuse(&self, status: u32, body: &str) -> Action {
        match &self.version {
            Some(version) => reply::json_with(status, body, &[(POLICY_VERSION_HEADER, version)]),
            None => reply::json(status, body),
        }
        Action::Pause
    }

    fn refuse_unauthenticated(&self, error: &AuthError) -> Action {
        let www = error.www_authenticate();
        let mut extra = vec![("www-authenticate", www.as_str())];
        if let Some(version) = &self.version {
            extra.push((POLICY_VERSION_HEADER, version));
        }
        reply::json_with(401, &error.body_json(), &extra);
        Action::Pause
    }

    /// Asks the control plane to refresh keys when a token names an unknown one.
    fn report_unknown_key(&self, error: &AuthError, now: u64) {
        let Some((provider, kid)) = error.unknown_key() else { return };
        let mut shared = self.shared.borrow_mut();
        if !shared.refresh.allow(provider, kid, now) {
            return;
        }
        let Some((cluster, authority, fleet_token)) = shared.control_plane.clone() else { return };
        drop(shared);
        let body = serde_json::json!({"provider": provider, "kid": kid}).to_string();
        let auth = format!("Bearer {fleet_token}");
        let headers = vec![
            (":method", "POST"),
            (":path", JWKS_REFRESH_PATH),
            (":authority", authority.as_str()),
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ];
        match self.dispatch_http_call(&cluster, headers, Some(body.as_bytes()), vec![], Duration::from_secs(2)) {
            Ok(_) => log::info!("asked the control plane to refresh the keys of provider `{provider}` (unknown kid)"),
            Err(e) => log::warn!("could not ask the control plane to refresh keys: host status {e:?}"),
        }
    }

    /// Rewrites the request headers for `target`: strips the client's
    /// credentials and identity headers, sets the verified identity and the
    /// upstream credential. Only possible in the header phase.
    ///
    /// `present` are the request's headers: only those present are removed,
    /// and none that is set anyway, since every host call costs.
    fn rewrite_headers(&self, identity: &Identity, target: &str, present: &[(String, String)]) -> Result<(), Action> {
        let shared = self.shared.borrow();
        let Some(Ok(auth)) = shared.authenticator.as_ref() else {
            drop(shared);
            return Err(self.refuse(503, &no_identity_policy()));
        };
        let Some(target) = auth.target(target) else {
            drop(shared);
            return Err(self.refuse(403, &no_target()));
        };
        let plan = match auth.header_plan(identity, target) {
            Ok(plan) => plan,
            Err(unavailable) => {
                drop(shared);
                log::error!("{unavailable}");
                return Err(self.refuse(unavailable.status().into(), &unavailable.body_json()));
            }
        };
        drop(shared);
        let is_present = |name: &str| present.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
        for name in plan.remove.iter().filter(|name| is_present(name) && plan.value(name).is_none()) {
            self.set_http_request_header(name, None);
        }
        for (name, value) in &plan.set {
            self.set_http_request_header(name, Some(value));
        }
        Ok(())
    }

    /// Applies the access rules: `Continue` when allowed, a 403 otherwise.
    fn authorize(&self, identity: &Identity, target: &str, method: &str, path: &str, model: Option<&str>) -> Action {
        let shared = self.shared.borrow();
        let Some(Ok(auth)) = shared.authenticator.as_ref() else {
            drop(shared);
            return self.refuse(503, &no_identity_policy());
        };
        let target = auth.target(target);
        let verdict = auth.authorize(identity, target, method, path, model).map(|_| ()).map_err(|denied| (denied.status(), denied.body_json(), denied.reason));
        drop(shared);
        match verdict {
            Ok(()) => Action::Continue,
            Err((status, body, reason)) => {
                log::info!("denied `{}`: {reason}", identity.subject);
                self.refuse(status.into(), &body)
            }
        }
    }
}

fn no_target() -> String {
    ErrorBody::new("permission_error", "portcullis_access_denied", "no target serves this host and path").to_json()
}

fn no_identity_policy() -> String {
    ErrorBody::new(
        "policy_unavailable",
        "portcullis_identity_policy_unusable",
        "the identity section of the policy in force could not be loaded, so requests are refused (fail closed); the gateway log says why",
    )
    .to_json()
}

impl Context for TokenHttp {}

impl HttpContext for TokenHttp {
    fn on_http_request_headers(&mut self, _headers: usize, end_of_stream: bool) -> Action {
        let gate = self.policy.borrow().gate();
        match gate {
            Gate::Reject { status, body } => return self.refuse(status, &body),
            Gate::Admit(bundle) => self.version = bundle.map(|b| b.version.to_string()),
        }
        let now = self.now_unix();
        let headers = self.get_http_request_headers();
        let pseudo = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let (method, authority, path) = (pseudo(":method"), pseudo(":authority"), pseudo(":path"));

        let mut shared = self.shared.borrow_mut();
        let Some(Ok(auth)) = shared.authenticator.as_mut() else {
            drop(shared);
            return self.refuse(503, &no_identity_policy());
        };
        let identity = match auth.authenticate(&RequestParts::new(&method, &authority, &path, &headers), now) {
            Ok(identity) => identity,
            Err(error) => {
                drop(shared);
                log::info!("refused {method} {}: {error}", path_only(&path));
                self.report_unknown_key(&error, now);
                return self.refuse_unauthenticated(&error);
            }
        };
        let target = auth.match_target(&authority, &path, &method).map(|t| t.name.clone());
        let needs_model = target.as_deref().and_then(|name| auth.target(name)).is_some_and(|t| auth.needs_model(t));
        drop(shared);

        let Some(target) = target else {
            log::info!("denied `{}`: no target serves {authority}{}", identity.subject, path_only(&path));
            return self.refuse(403, &no_target());
        };
        if needs_model && !end_of_stream {
            // A rule looks at the body's model. Proxy-Wasm cannot hold the
            // header phase while it reads the body, so the headers are
            // rewritten now and the body is held until the decision; Envoy's
            // buffer filter after this one (see envoy/portcullis.yaml) keeps
            // the router from connecting upstream before then.
            if let Err(refused) = self.rewrite_headers(&identity, &target, &headers) {
                return refused;
            }
            self.awaiting = Some(AwaitingBody { identity, target, method, path });
            return Action::Continue;
        }
        match self.authorize(&identity, &target, &method, &path, None) {
            Action::Continue => match self.rewrite_headers(&identity, &target, &headers) {
                Ok(()) => Action::Continue,
                Err(refused) => refused,
            },
            refused => refused,
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.awaiting.is_none() {
            return Action::Continue;
        }
        if body_size > MAX_MODEL_BODY_BYTES {
            self.awaiting = None;
            let body = ErrorBody::new(
                "invalid_request_error",
                "portcullis_body_too_large",
                format!("the request body exceeds {MAX_MODEL_BODY_BYTES} bytes, the most the gateway reads to check the model"),
            );
            return self.refuse(413, &body.to_json());
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let Some(waiting) = self.awaiting.take() else { return Action::Continue };
        let body = self.get_http_request_body(0, body_size).unwrap_or_default();
        let model = model_of(&body);
        self.authorize(&waiting.identity, &waiting.target, &waiting.method, &waiting.path, model.as_deref())
    }

    fn on_http_response_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        if let Some(version) = &self.version {
            self.set_http_response_header(POLICY_VERSION_HEADER, Some(version));
        }
        Action::Continue
    }
}

/// The path without its query string, for logs (queries may carry tokens).
fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}
