//! Helpers shared by the unit tests: states, requests, and a fake identity provider.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

use crate::approval::ApprovalSettings;
use crate::bundle::BundleSettings;
use crate::jwks::JwksSettings;
use crate::state::{AppState, StateOptions};
use crate::store::PolicyStore;

pub(crate) const FLEET: &str = "fleet-secret";
pub(crate) const ADMIN: &str = "admin-secret";

/// Options with the admin token set and fast key refreshes.
pub(crate) fn options() -> StateOptions {
    StateOptions {
        admin_token: Some(ADMIN.into()),
        bundle: BundleSettings {
            jwks: JwksSettings {
                min_refresh: Duration::from_millis(300),
                max_age: Duration::from_secs(3600),
                timeout: Duration::from_secs(2),
                first_retry: Duration::from_millis(100),
            },
            secrets_dir: None,
            secrets_recheck: Duration::from_secs(10),
        },
        ..StateOptions::default()
    }
}

/// Secret of the HS256 provider of [`approvals_app`]'s policy.
const HS_SECRET: &str = "approvals-test-secret-of-at-least-32-bytes";
/// Name of that secret (read from `PORTCULLIS_SECRET_CP_APPROVALS_TEST_HS`).
const HS_SECRET_REF: &str = "cp-approvals-test-hs";

/// Default approval settings, with the group `approvers` as approvers.
pub(crate) fn approvers() -> ApprovalSettings {
    ApprovalSettings { approver_groups: vec!["approvers".into()], ..ApprovalSettings::default() }
}

/// An app under a policy with one HS256 provider, `corp`, whose tokens [`sign`] makes,
/// and `approval` as approval settings.
pub(crate) async fn approvals_app(approval: ApprovalSettings) -> (Router, AppState) {
    approvals_app_with(StateOptions { approval, ..options() }).await
}

/// Like [`approvals_app`], with all of the state's options given.
pub(crate) async fn approvals_app_with(options: StateOptions) -> (Router, AppState) {
    std::env::set_var(crate::secrets::env_var_name(HS_SECRET_REF), HS_SECRET);
    let state = state(options).await;
    let app = crate::app(state.clone());
    let (status, body) = apply_yaml(&app, &approvals_policy()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (app, state)
}

/// The policy [`approvals_app`] applies: one HS256 provider, `corp`, and no guard section.
pub(crate) fn approvals_policy() -> String {
    format!(
        "name: approvals\ndescription: approvers sign in with HS256 tokens\nidentity:\n  providers:\n    - name: corp\n      issuer: https://idp.example/\n      audiences: [portcullis]\n      algorithms: [HS256]\n      allow_hmac: true\n      jwks: {{ keys: [ {{ kty: oct, kid: hs1, secret_ref: {HS_SECRET_REF} }} ] }}\n"
    )
}

/// Applies [`approvals_policy`] with `guard` (a YAML `guard:` section) added.
pub(crate) async fn apply_guard(app: &Router, guard: &str) {
    let (status, body) = apply_yaml(app, &format!("{}{guard}", approvals_policy())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A guard section whose rule `destructive-command` is decided by `dba` members
/// (`hold` gives the rest of the rule's `hold` overrides, e.g. `quorum: 2, `).
pub(crate) fn dba_guard(hold: &str) -> String {
    format!(
        "guard:\n  targets:\n    - target: \"*\"\n      rules:\n        - {{ name: destructive-command, keywords: [\"rm -rf\"], action: hold, hold: {{ {hold}approver_groups: [dba] }} }}\n"
    )
}

/// A token of provider `corp` for `subject` in `groups`, valid for ten minutes.
pub(crate) fn sign(subject: &str, groups: &[&str]) -> String {
    sign_with(subject, groups, 600)
}

/// Like [`sign`], expiring `expires_in` seconds from now (negative: in the past).
pub(crate) fn sign_with(subject: &str, groups: &[&str], expires_in: i64) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac as _};
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap();
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "hs1"});
    let claims = json!({"iss": "https://idp.example/", "aud": "portcullis", "sub": subject, "groups": groups, "iat": now + expires_in - 900, "exp": now + expires_in});
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(HS_SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

/// A hold request of `subject` (provider `corp`) on target `model` for the rule
/// `destructive-command`.
pub(crate) fn hold_body(subject: &str) -> Value {
    json!({
        "identity": {"subject": subject, "groups": ["engineering"], "client_id": "cli", "provider": "corp"},
        "target": "model",
        "rules": [{"rule": "destructive-command", "pack": "shell", "message": "deletes files recursively"}],
        "excerpt": "please run rm -rf / on [EMAIL]'s laptop",
        "reason": "destructive shell command",
        "method": "POST",
        "path": "/v1/chat/completions",
        "model": "gpt-4o",
        "request_digest": "a".repeat(64),
    })
}

/// Posts a hold as a filter; returns the answer.
pub(crate) async fn create_hold(app: &Router, body: Value) -> (StatusCode, Value) {
    let (status, _, answer) = send(app, request("POST", "/v1/filter/holds", Some(FLEET), Some("application/json"), body.to_string())).await;
    (status, answer)
}

/// A state over a fresh in-memory database.
pub(crate) async fn state(options: StateOptions) -> AppState {
    let store = PolicyStore::new(crate::db::in_memory().await.unwrap());
    AppState::new(store, FLEET, options).unwrap()
}

/// A request with an optional bearer token and body.
pub(crate) fn request(method: &str, uri: &str, token: Option<&str>, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(body.into()).unwrap()
}

/// Status, headers and body (JSON, or `Null` when empty) of one request.
pub(crate) async fn send(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (parts.status, parts.headers, value)
}

/// Applies a YAML document through the admin API; returns the answer.
pub(crate) async fn apply_yaml(app: &Router, yaml: &str) -> (StatusCode, Value) {
    let (status, _, body) = send(app, request("POST", "/v1/policy", Some(ADMIN), Some("application/yaml"), yaml.to_owned())).await;
    (status, body)
}

/// The bundle served to filters, with its ETag.
pub(crate) async fn bundle(app: &Router) -> (String, Value) {
    let (status, headers, body) = send(app, request("GET", "/v1/filter/policy", Some(FLEET), None, Body::empty())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (headers[header::ETAG].to_str().unwrap().to_owned(), body)
}

/// Serves `router` on a free port of 127.0.0.1.
pub(crate) async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A fake OpenID provider: a discovery document and a key set whose keys, failures
/// and `max-age` the test controls; it counts key set fetches.
#[derive(Clone)]
pub(crate) struct FakeIdp {
    addr: SocketAddr,
    state: Arc<IdpState>,
}

struct IdpState {
    kids: Mutex<Vec<String>>,
    failing: AtomicBool,
    max_age: u64,
    fetches: AtomicUsize,
    jwks_uri: Mutex<String>,
}

impl FakeIdp {
    /// Starts a provider serving keys `kids` with `Cache-Control: max-age=<max_age>`.
    pub(crate) async fn start(kids: &[&str], max_age: u64) -> Self {
        let state = Arc::new(IdpState {
            kids: Mutex::new(kids.iter().map(|k| (*k).to_owned()).collect()),
            failing: AtomicBool::new(false),
            max_age,
            fetches: AtomicUsize::new(0),
            jwks_uri: Mutex::new(String::new()),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .with_state(Arc::clone(&state));
        let addr = serve(router).await;
        *state.jwks_uri.lock().unwrap() = format!("http://{addr}/jwks");
        Self { addr, state }
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the keys served.
    pub(crate) fn set_kids(&self, kids: &[&str]) {
        *self.state.kids.lock().unwrap() = kids.iter().map(|k| (*k).to_owned()).collect();
    }

    /// Makes the key set answer 503 (or recover).
    pub(crate) fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// Key set requests received so far.
    pub(crate) fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// A policy with one provider `corp` reading this provider's discovery document.
    pub(crate) fn policy(&self) -> String {
        let url = self.url();
        format!(
            "name: idp-test\ndescription: keys from a fake provider\nidentity:\n  providers:\n    - name: corp\n      issuer: {url}\n      audiences: [portcullis]\n      discovery_url: {url}/.well-known/openid-configuration\n  targets:\n    - name: model\n      hosts: [model.example]\n  rules:\n    - {{ name: all, targets: [model], effect: allow }}\n"
        )
    }
}

async fn discovery(State(state): State<Arc<IdpState>>) -> Json<Value> {
    let jwks_uri = state.jwks_uri.lock().unwrap().clone();
    Json(json!({"issuer": "fake", "jwks_uri": jwks_uri}))
}

async fn jwks(State(state): State<Arc<IdpState>>) -> Response {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    if state.failing.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response();
    }
    let keys: Vec<Value> = state
        .kids
        .lock()
        .unwrap()
        .iter()
        .map(|kid| json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": format!("modulus-of-{kid}"), "e": "AQAB"}))
        .collect();
    ([(header::CACHE_CONTROL, format!("public, max-age={}", state.max_age))], Json(json!({"keys": keys}))).into_response()
}

/// The `kid`s of provider `name` in a served bundle.
pub(crate) fn kids(bundle: &Value, name: &str) -> Vec<String> {
    let providers = bundle["policy"]["identity"]["providers"].as_array().unwrap();
    let provider = providers.iter().find(|p| p["name"] == name).unwrap();
    provider["jwks"]["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap_or_default().to_owned()).collect()
}
