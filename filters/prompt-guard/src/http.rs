//! The HTTP context: one request's inspection, and its hold when it has one.

use std::time::Duration;

use portcullis_filter_runtime::Gate;
use portcullis_filter_sdk::{reply, SharedPolicy};
use portcullis_guard::{Action as GuardAction, HoldPlan, Subject, Verdict};
use portcullis_policy::hold::HoldIdentity;
use portcullis_policy::ErrorBody;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::hold::{self, HeldRequest, Step};
use crate::root::SharedState;

/// Identity headers the token filter sets (and strips from clients).
const SUBJECT_HEADER: &str = "x-portcullis-subject";
const GROUPS_HEADER: &str = "x-portcullis-groups";
const CLIENT_ID_HEADER: &str = "x-portcullis-client-id";
const PROVIDER_HEADER: &str = "x-portcullis-provider";

/// A request the guard covers, waiting for its body.
struct Inspecting {
    held: HeldRequest,
    subject: Subject,
    content_type: String,
}

/// A request held for approval.
struct Holding {
    plan: HoldPlan,
    /// The outstanding call to the control plane.
    call: u32,
    /// The hold's id, once created.
    id: Option<String>,
}

pub(crate) struct GuardHttp {
    policy: SharedPolicy,
    shared: SharedState,
    inspecting: Option<Inspecting>,
    holding: Option<Holding>,
    /// The request's JSON-RPC id when its body is a JSON-RPC request (MCP):
    /// refusals then answer with a JSON-RPC error the caller's SDK shows.
    jsonrpc_id: Option<serde_json::Value>,
}

impl GuardHttp {
    pub(crate) fn new(policy: SharedPolicy, shared: SharedState) -> Self {
        Self { policy, shared, inspecting: None, holding: None, jsonrpc_id: None }
    }

    /// Answers `status` with `body` (an [`ErrorBody`] in JSON), reshaped as a
    /// JSON-RPC error when the request was a JSON-RPC call.
    fn refuse(&self, status: u32, body: &str) -> Action {
        match (&self.jsonrpc_id, serde_json::from_str::<ErrorBody>(body)) {
            (Some(id), Ok(error)) => reply::json(status, &error.to_jsonrpc(id)),
            _ => reply::json(status, body),
        }
        Action::Pause
    }

    /// Judges the request with its whole body.
    fn judge(&mut self, body: &[u8]) -> Action {
        let Some(inspecting) = self.inspecting.take() else { return Action::Continue };
        // Only a refusal needs the JSON-RPC id: the body is parsed for it only then.
        let jsonrpc_id = || portcullis_policy::jsonrpc_request_id(body);
        let verdict = {
            let shared = self.shared.borrow();
            match shared.guard.as_ref() {
                Some(Ok(guard)) => guard.check(
                    &inspecting.held.target,
                    &inspecting.subject,
                    &inspecting.content_type,
                    &inspecting.held.method,
                    &inspecting.held.path,
                    body,
                ),
                _ => {
                    self.jsonrpc_id = jsonrpc_id();
                    return self.refuse(503, &unusable_policy());
                }
            }
        };
        if matches!(verdict.action, GuardAction::Block | GuardAction::Hold) {
            self.jsonrpc_id = jsonrpc_id();
        }
        match verdict.action {
            GuardAction::Allow => Action::Continue,
            GuardAction::Log => {
                log::info!("observed `{}`: {}", inspecting.held.identity.subject, describe(&verdict));
                Action::Continue
            }
            GuardAction::Block => {
                log::info!("blocked `{}`: {}", inspecting.held.identity.subject, describe(&verdict));
                self.refuse(403, &blocked_body(&verdict))
            }
            GuardAction::Hold => self.start_hold(&verdict, inspecting.held, body),
        }
    }

    fn start_hold(&mut self, verdict: &Verdict, mut held: HeldRequest, body: &[u8]) -> Action {
        let Some(plan) = verdict.hold.clone() else {
            return self.refuse(403, &blocked_body(verdict));
        };
        held.model = model_of(body);
        let request = hold::create_request(verdict, &plan, &held, body);
        let payload = match serde_json::to_vec(&request) {
            Ok(payload) => payload,
            Err(e) => {
                log::error!("could not encode the hold: {e}");
                return self.refuse(503, &unusable_policy());
            }
        };
        log::info!("holding `{}` for approval: {}", held.identity.subject, describe(verdict));
        match self.call_control_plane("POST", hold::HOLDS_PATH, Some(&payload), Duration::from_secs(5)) {
            Some(call) => {
                self.holding = Some(Holding { plan, call, id: None });
                Action::Pause
            }
            None => self.act(hold::on_created(None, b"", &plan)),
        }
    }

    fn call_control_plane(&self, method: &str, path: &str, body: Option<&[u8]>, timeout: Duration) -> Option<u32> {
        let cp = self.shared.borrow().control_plane.clone();
        let auth = format!("Bearer {}", cp.fleet_token);
        let headers = vec![
            (":method", method),
            (":path", path),
            (":authority", cp.authority.as_str()),
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ];
        match self.dispatch_http_call(&cp.cluster, headers, body, vec![], timeout) {
            Ok(call) => Some(call),
            Err(e) => {
                log::warn!("could not call the control plane for a hold: host status {e:?}");
                None
            }
        }
    }

    /// Carries out the next step of a hold, from a callback.
    fn act(&mut self, step: Step) -> Action {
        match step {
            Step::Poll { id } => {
                let timeout = Duration::from_millis(hold::LONG_POLL_MS + 5_000);
                match self.call_control_plane("GET", &hold::poll_path(&id), None, timeout) {
                    Some(call) => {
                        if let Some(holding) = &mut self.holding {
                            holding.call = call;
                            holding.id = Some(id);
                        }
                        Action::Pause
                    }
                    None => {
                        let Some(holding) = self.holding.as_ref() else { return Action::Pause };
                        let step = hold::on_polled(None, b"", &holding.plan, &id);
                        self.act(step)
                    }
                }
            }
            Step::Release { why } => {
                log::info!("releasing the held request: {why}");
                self.holding = None;
                self.resume_http_request();
                Action::Continue
            }
            Step::Refuse { status, body } => {
                self.holding = None;
                self.refuse(status, &body)
            }
        }
    }
}

fn unusable_policy() -> String {
    ErrorBody::new(
        "policy_unavailable",
        "portcullis_guard_policy_unusable",
        "the guard section of the policy in force could not be loaded, so requests are refused (fail closed); the gateway log says why",
    )
    .to_json()
}

/// The 403 body of a blocked request: names every blocking rule.
fn blocked_body(verdict: &Verdict) -> String {
    let rules: Vec<&str> =
        verdict.matches.iter().filter(|m| m.action == GuardAction::Block || m.action == GuardAction::Hold).map(|m| m.rule.as_str()).collect();
    let detail = verdict.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
    ErrorBody::new("permission_error", "portcullis_blocked", format!("Portcullis blocked this request (rule {}){detail}", rules.join(", ")))
        .to_json()
}

/// Rules and fields that matched, for logs: never the excerpt's raw text.
fn describe(verdict: &Verdict) -> String {
    verdict.matches.iter().map(|m| format!("{} in {}", m.rule, m.field)).collect::<Vec<_>>().join(", ")
}

fn model_of(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("model")?.as_str().map(str::to_owned)
}

impl Context for GuardHttp {
    fn on_http_call_response(&mut self, token: u32, _headers: usize, body_size: usize, _trailers: usize) {
        let Some(holding) = self.holding.as_ref() else { return };
        if holding.call != token {
            return;
        }
        let status = self
            .get_http_call_response_headers()
            .into_iter()
            .find(|(name, _)| name == ":status")
            .and_then(|(_, value)| value.parse::<u32>().ok());
        let body = self.get_http_call_response_body(0, body_size).unwrap_or_default();
        let step = match &holding.id {
            None => hold::on_created(status, &body, &holding.plan),
            Some(id) => hold::on_polled(status, &body, &holding.plan, id),
        };
        self.act(step);
    }
}

impl HttpContext for GuardHttp {
    fn on_http_request_headers(&mut self, _headers: usize, end_of_stream: bool) -> Action {
        let gate = self.policy.borrow().gate();
        let bundle = match gate {
            Gate::Reject { status, body } => return self.refuse(status, &body),
            Gate::Admit(bundle) => bundle,
        };
        let headers = self.get_http_request_headers();
        let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let (method, authority, path) =
            (header(":method").unwrap_or_default(), header(":authority").unwrap_or_default(), header(":path").unwrap_or_default());
        let target = bundle
            .as_ref()
            .and_then(|b| portcullis_identity::authz::match_target(&b.policy.identity.targets, &authority, &path, &method))
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let applies = match self.shared.borrow().guard.as_ref() {
            Some(Ok(guard)) => guard.applies_to(&target),
            Some(Err(_)) => return self.refuse(503, &unusable_policy()),
            None => false,
        };
        if !applies {
            return Action::Continue;
        }
        let subject = header(SUBJECT_HEADER).unwrap_or_default();
        let groups: Vec<String> = header(GROUPS_HEADER)
            .map(|g| g.split(',').filter(|s| !s.is_empty()).map(|s| s.replace("%2C", ",")).collect())
            .unwrap_or_default();
        let identity = HoldIdentity {
            subject: subject.clone(),
            groups: groups.clone(),
            client_id: header(CLIENT_ID_HEADER),
            provider: header(PROVIDER_HEADER).unwrap_or_default(),
        };
        let path_only = path.split('?').next().unwrap_or_default().to_owned();
        self.inspecting = Some(Inspecting {
            held: HeldRequest { identity, target, method, path: path_only, model: None },
            subject: Subject::new(subject, groups),
            content_type: header("content-type").unwrap_or_default(),
        });
        if end_of_stream {
            // No body (a Kubernetes DELETE, say): judge now. A hold pauses the
            // header phase and resumes it when released.
            return self.judge(b"");
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.inspecting.is_none() {
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let body = self.get_http_request_body(0, body_size).unwrap_or_default();
        self.judge(&body)
    }
}
