//! The HTTP client behind `portcullis policy apply|versions|show|rollback`: it calls the
//! admin policy API of a running control plane.

use std::fmt;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::de::DeserializeOwned;

use crate::admin_api::{ApplyResponse, ErrorDetail, ErrorResponse, RollbackRequest, VersionList};
use crate::store::{StoredPolicy, VersionInfo};

/// Longest wait for an answer. Applying waits for the first fetch of new providers'
/// keys, so allow more than the control plane's JWKS timeout.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A client of one control plane's admin API.
#[derive(Debug, Clone)]
pub struct AdminClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// The control plane refused a request; the detail lists every problem it found.
#[derive(Debug, Clone)]
pub struct ApiFailure {
    /// HTTP status.
    pub status: u16,
    /// The error body.
    pub detail: ErrorDetail,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the control plane answered {} ({}): {}", self.status, self.detail.code, self.detail.message)?;
        for problem in &self.detail.problems {
            write!(f, "\n  error: {problem}")?;
        }
        for problem in &self.detail.warnings {
            write!(f, "\n  warning: {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiFailure {}

impl AdminClient {
    /// A client of the control plane at `base_url` (such as `http://127.0.0.1:7070`).
    pub fn new(base_url: &str, admin_token: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("portcullis-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("could not build the HTTP client")?;
        Ok(Self { base: base_url.trim_end_matches('/').to_owned(), token: admin_token.to_owned(), http })
    }

    /// The control plane's base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `POST /v1/policy` with `document`, sent as `content_type`.
    pub async fn apply(&self, document: String, content_type: &str) -> anyhow::Result<ApplyResponse> {
        self.send(self.http.post(self.url("/v1/policy")).header(CONTENT_TYPE, content_type).body(document)).await
    }

    /// `GET /v1/policy/versions`: the history, newest first.
    pub async fn versions(&self) -> anyhow::Result<Vec<VersionInfo>> {
        let list: VersionList = self.send(self.http.get(self.url("/v1/policy/versions"))).await?;
        Ok(list.versions)
    }

    /// `GET /v1/policy/versions/{version}`, or `GET /v1/policy` for the version in force.
    pub async fn get(&self, version: Option<u64>) -> anyhow::Result<StoredPolicy> {
        let path = match version {
            Some(version) => format!("/v1/policy/versions/{version}"),
            None => "/v1/policy".to_owned(),
        };
        self.send(self.http.get(self.url(&path))).await
    }

    /// `POST /v1/policy/rollback`.
    pub async fn rollback(&self, version: u64) -> anyhow::Result<ApplyResponse> {
        self.send(self.http.post(self.url("/v1/policy/rollback")).json(&RollbackRequest { version })).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> anyhow::Result<T> {
        let response = request
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .send()
            .await
            .with_context(|| format!("could not reach the control plane at {}: is it running? (--control-plane / PORTCULLIS_URL)", self.base))?;
        let status = response.status();
        let body = response.bytes().await.context("the control plane's answer was cut short")?;
        if !status.is_success() {
            let detail = match serde_json::from_slice::<ErrorResponse>(&body) {
                Ok(error) => error.error,
                Err(_) => ErrorDetail {
                    code: format!("http_{}", status.as_u16()),
                    message: String::from_utf8_lossy(&body[..body.len().min(500)]).trim().to_owned(),
                    problems: Vec::new(),
                    warnings: Vec::new(),
                },
            };
            return Err(ApiFailure { status: status.as_u16(), detail }.into());
        }
        serde_json::from_slice(&body).context("the control plane's answer is not what this client expects: are both the same version?")
    }
}
