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
    }
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
