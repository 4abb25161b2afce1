//! Policy sync: the state a filter keeps about the policy it enforces.
//!
//! The rules:
//! - Until the first policy arrives, requests are refused with 503 and a JSON
//!   body that says why (fail closed), unless the configuration says
//!   `before_first_policy: allow`.
//! - A fetch that fails, times out, or returns something unusable never
//!   replaces the policy in force: the filter keeps the last good version.
//! - Fetches carry `If-None-Match`, so an unchanged policy costs a `304`.

use std::sync::Arc;
use std::time::Duration;

use portcullis_policy::{ErrorBody, PolicyBundle};

use crate::config::{BeforeFirstPolicy, FilterConfig};

/// Largest policy bundle a filter accepts, in bytes.
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;

/// The headers of one fetch, ready for `dispatch_http_call`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    /// Pseudo-headers and headers, in order.
    pub headers: Vec<(String, String)>,
}

/// What a fetch did to the policy in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// A new version is now in force.
    Updated {
        /// The version that replaced the previous one (`None` at start).
        previous: Option<u64>,
        /// The version now in force.
        version: u64,
    },
    /// The control plane confirmed the version in force.
    Unchanged,
    /// The fetch failed; the previous policy (if any) stays in force.
    Failed {
        /// Why, for the log.
        reason: String,
    },
}

/// Whether a request may pass, given the policy state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Go on; `None` only when `before_first_policy: allow` is configured.
    Admit(Option<Arc<PolicyBundle>>),
    /// Answer the caller with this status and JSON body.
    Reject {
        /// HTTP status.
        status: u32,
        /// JSON body, in OpenAI's error shape.
        body: String,
    },
}

/// The policy a filter enforces and how it keeps it fresh.
#[derive(Debug, Clone)]
pub struct PolicySync {
    config: FilterConfig,
    current: Option<Arc<PolicyBundle>>,
    /// The control plane's ETag for `current`, sent back in `If-None-Match`.
    etag: Option<String>,
    last_failure: Option<String>,
}

impl PolicySync {
    /// Starts with no policy.
    pub fn new(config: FilterConfig) -> Self {
        Self { config, current: None, etag: None, last_failure: None }
    }

    /// The plugin configuration.
    pub fn config(&self) -> &FilterConfig {
        &self.config
    }

    /// The policy in force, if any.
    pub fn current(&self) -> Option<&Arc<PolicyBundle>> {
        self.current.as_ref()
    }

    /// How long to wait before the next fetch.
    pub fn next_fetch_in(&self) -> Duration {
        if self.current.is_some() {
            self.config.poll_interval()
        } else {
            self.config.retry_interval()
        }
    }

    /// The request to send to the control plane now.
    pub fn fetch_request(&self) -> FetchRequest {
        let cp = &self.config.control_plane;
        let mut headers = vec![
            (":method".to_owned(), "GET".to_owned()),
            (":path".to_owned(), cp.policy_path.clone()),
            (":authority".to_owned(), self.config.authority().to_owned()),
            ("accept".to_owned(), "application/json".to_owned()),
            ("authorization".to_owned(), format!("Bearer {}", cp.fleet_token)),
        ];
        if self.current.is_some() {
            if let Some(etag) = &self.etag {
                headers.push(("if-none-match".to_owned(), etag.clone()));
            }
        }
        FetchRequest { headers }
    }

    /// Applies the control plane's answer: status, `ETag` header, and body.
    ///
    /// The ETag is opaque: the control plane changes it whenever anything in
    /// the bundle changes (policy version, keys, secrets).
    pub fn on_response(&mut self, status: u32, etag: Option<&str>, body: &[u8]) -> FetchOutcome {
        match status {
            200 => {
                let outcome = self.apply_body(body);
                if !matches!(outcome, FetchOutcome::Failed { .. }) {
                    self.etag = etag.map(str::to_owned);
                }
                outcome
            }
            304 if self.current.is_some() => {
                self.last_failure = None;
                FetchOutcome::Unchanged
            }
            304 => self.fail("control plane answered 304 Not Modified but no policy is loaded yet".into()),
            401 | 403 => self.fail(format!(
                "control plane refused the fleet token (HTTP {status}): check control_plane.fleet_token"
            )),
            404 => self.fail("control plane has no policy yet (HTTP 404): apply one with `portcullis policy apply`".into()),
            503 => self.fail("control plane unavailable (HTTP 503: Envoy answers this when the cluster has no reachable endpoint)".into()),
            other => self.fail(format!("control plane answered HTTP {other}")),
        }
    }

    /// Records a fetch that never got an answer (connection refused, timeout).
    pub fn on_failure(&mut self, reason: impl Into<String>) -> FetchOutcome {
        self.fail(reason.into())
    }

    fn apply_body(&mut self, body: &[u8]) -> FetchOutcome {
        if body.len() > MAX_BUNDLE_BYTES {
            return self.fail(format!("policy bundle of {} bytes exceeds the {MAX_BUNDLE_BYTES}-byte limit", body.len()));
        }
        let bundle: PolicyBundle = match serde_json::from_slice(body) {
            Ok(bundle) => bundle,
            Err(e) => return self.fail(format!("policy bundle is not valid: {e}")),
        };
        if let Err(report) = bundle.policy.validate() {
            return self.fail(format!("policy version {} failed validation: {}", bundle.version, report.to_string().trim()));
        }
        let previous = self.current.as_ref().map(|b| b.version);
        let version = bundle.version;
        // The ETag changes for new keys or secrets too; only report an update
        // when the content did change.
        if self.current.as_deref() == Some(&bundle) {
            self.last_failure = None;
            return FetchOutcome::Unchanged;
        }
        self.current = Some(Arc::new(bundle));
        self.last_failure = None;
        FetchOutcome::Updated { previous, version }
    }

    fn fail(&mut self, reason: String) -> FetchOutcome {
        self.last_failure = Some(reason.clone());
        FetchOutcome::Failed { reason }
    }

    /// Decides whether a request may pass right now.
    pub fn gate(&self) -> Gate {
        if let Some(bundle) = &self.current {
            return Gate::Admit(Some(Arc::clone(bundle)));
        }
        if self.config.before_first_policy == BeforeFirstPolicy::Allow {
            return Gate::Admit(None);
        }
        let why = self.last_failure.as_deref().unwrap_or("the first fetch has not completed yet");
        let body = ErrorBody::new(
            "policy_unavailable",
            "portcullis_no_policy",
            format!("Portcullis has no policy to enforce yet, so it refuses requests (fail closed). Last attempt: {why}."),
        );
        Gate::Reject { status: 503, body: body.to_json() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync() -> PolicySync {
        let config = FilterConfig::parse(br#"{"control_plane":{"cluster":"cp","fleet_token":"secret"}}"#).unwrap();
        PolicySync::new(config)
    }

    fn bundle_json(version: u64) -> Vec<u8> {
        format!(r#"{{"version":{version},"policy":{{"name":"p"}}}}"#).into_bytes()
    }

    fn header<'a>(req: &'a FetchRequest, name: &str) -> Option<&'a str> {
        req.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn refuses_with_503_before_first_policy() {
        let mut s = sync();
        s.on_failure("connection refused");
        match s.gate() {
            Gate::Reject { status, body } => {
                assert_eq!(status, 503);
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["error"]["code"], "portcullis_no_policy");
                assert!(v["error"]["message"].as_str().unwrap().contains("connection refused"));
            }
            other => panic!("expected reject, got {other:?}"),
        }
    }

    #[test]
    fn fail_open_admits_without_policy() {
        let config = FilterConfig::parse(
            br#"{"control_plane":{"cluster":"cp","fleet_token":"t"},"before_first_policy":"allow"}"#,
        )
        .unwrap();
        assert_eq!(PolicySync::new(config).gate(), Gate::Admit(None));
    }

    #[test]
    fn first_fetch_has_auth_and_no_etag() {
        let req = sync().fetch_request();
        assert_eq!(header(&req, "authorization"), Some("Bearer secret"));
        assert_eq!(header(&req, ":path"), Some("/v1/filter/policy"));
        assert_eq!(header(&req, "if-none-match"), None);
    }

    #[test]
    fn loads_policy_then_sends_etag() {
        let mut s = sync();
        assert_eq!(s.on_response(200, Some("\"4-abc\""), &bundle_json(4)), FetchOutcome::Updated { previous: None, version: 4 });
        assert_eq!(header(&s.fetch_request(), "if-none-match"), Some("\"4-abc\""));
        assert!(matches!(s.gate(), Gate::Admit(Some(b)) if b.version == 4));
        assert_eq!(s.next_fetch_in(), s.config().poll_interval());
    }

    #[test]
    fn keeps_last_good_policy_on_every_kind_of_failure() {
        let mut s = sync();
        s.on_response(200, Some("\"2\""), &bundle_json(2));
        let failures: Vec<FetchOutcome> = vec![
            s.on_failure("timeout"),
            s.on_response(500, None, b"oops"),
            s.on_response(401, None, b""),
            s.on_response(200, None, b"{not json"),
            s.on_response(200, None, br#"{"version":3,"policy":{"name":""}}"#),
            s.on_response(200, None, &vec![b' '; MAX_BUNDLE_BYTES + 1]),
        ];
        for outcome in failures {
            assert!(matches!(outcome, FetchOutcome::Failed { .. }), "{outcome:?}");
            assert_eq!(s.current().map(|b| b.version), Some(2));
        }
    }

    #[test]
    fn not_modified_keeps_version() {
        let mut s = sync();
        s.on_response(200, Some("\"1\""), &bundle_json(1));
        assert_eq!(s.on_response(304, None, b""), FetchOutcome::Unchanged);
        assert_eq!(s.current().map(|b| b.version), Some(1));
    }

    #[test]
    fn not_modified_without_policy_is_a_failure() {
        let mut s = sync();
        assert!(matches!(s.on_response(304, None, b""), FetchOutcome::Failed { .. }));
        assert!(matches!(s.gate(), Gate::Reject { .. }));
    }

    #[test]
    fn new_version_replaces_old() {
        let mut s = sync();
        s.on_response(200, Some("\"1\""), &bundle_json(1));
        assert_eq!(s.on_response(200, Some("\"2\""), &bundle_json(2)), FetchOutcome::Updated { previous: Some(1), version: 2 });
    }

    #[test]
    fn same_content_under_a_new_etag_is_unchanged() {
        let mut s = sync();
        s.on_response(200, Some("\"1-a\""), &bundle_json(1));
        assert_eq!(s.on_response(200, Some("\"1-b\""), &bundle_json(1)), FetchOutcome::Unchanged);
        assert_eq!(header(&s.fetch_request(), "if-none-match"), Some("\"1-b\""));
    }

    #[test]
    fn refused_token_message_names_the_setting() {
        let mut s = sync();
        match s.on_response(401, None, b"") {
            FetchOutcome::Failed { reason } => assert!(reason.contains("fleet_token")),
            other => panic!("{other:?}"),
        }
    }
}
