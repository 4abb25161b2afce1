//! Polling the control plane for policy from a root context.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use portcullis_filter_runtime::{BeforeFirstPolicy, ConfigError, FetchOutcome, FilterConfig, PolicySync};
use portcullis_policy::PolicyBundle;
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, Bytes, MapType};

/// The policy state of one VM, shared by its root and HTTP contexts.
///
/// proxy-wasm runs each VM on one thread, so `Rc<RefCell<_>>` is enough.
pub type SharedPolicy = Rc<RefCell<PolicySync>>;

/// Keeps a VM's policy fresh: one fetch at start, then one per tick.
#[derive(Debug)]
pub struct PolicyClient {
    sync: SharedPolicy,
    in_flight: Option<u32>,
    tick: Duration,
    /// The last failure logged, so that a control plane that stays down
    /// logs once per change rather than once per retry.
    last_logged_failure: Option<String>,
}

impl PolicyClient {
    /// Parses the plugin configuration the host handed to `on_configure`.
    pub fn from_plugin_config(bytes: Option<Bytes>) -> Result<Self, ConfigError> {
        let config = FilterConfig::parse(bytes.as_deref().unwrap_or_default())?;
        if config.before_first_policy == BeforeFirstPolicy::Allow {
            log::warn!("before_first_policy is `allow`: requests pass unchecked until the first policy arrives (fail open, as configured)");
        }
        let tick = config.retry_interval();
        Ok(Self { sync: Rc::new(RefCell::new(PolicySync::new(config))), in_flight: None, tick, last_logged_failure: None })
    }

    /// The state HTTP contexts read.
    pub fn shared(&self) -> SharedPolicy {
        Rc::clone(&self.sync)
    }

    /// The policy in force, if any.
    pub fn current(&self) -> Option<std::sync::Arc<PolicyBundle>> {
        self.sync.borrow().current().cloned()
    }

    /// Starts polling: sets the tick and sends the first fetch.
    pub fn start(&mut self) {
        let first = self.sync.borrow().next_fetch_in();
        self.set_tick(first);
        self.fetch();
    }

    /// Call from `RootContext::on_tick`.
    pub fn on_tick(&mut self) {
        if self.in_flight.is_none() {
            self.fetch();
        }
    }

    /// Call from `Context::on_http_call_response`. Returns `false` when the
    /// token is not one of ours, so the caller can handle it.
    pub fn on_http_call_response(&mut self, token: u32, body_size: usize) -> bool {
        if self.in_flight != Some(token) {
            return false;
        }
        self.in_flight = None;
        let headers = hostcalls::get_map(MapType::HttpCallResponseHeaders).unwrap_or_default();
        let header = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let status = header(":status").and_then(|v| v.parse::<u32>().ok());
        let outcome = match status {
            None => self.sync.borrow_mut().on_failure("control plane unreachable (no response: connection refused, reset or timed out)"),
            Some(status) => {
                let limit = body_size.min(portcullis_filter_runtime::sync::MAX_BUNDLE_BYTES + 1);
                let body = match hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, limit) {
                    Ok(body) => body.unwrap_or_default(),
                    Err(e) => {
                        log::warn!("could not read the policy response body: host status {e:?}");
                        Vec::new()
                    }
                };
                self.sync.borrow_mut().on_response(status, header("etag"), &body)
            }
        };
        match outcome {
            FetchOutcome::Updated { previous, version } => {
                self.last_logged_failure = None;
                match previous {
                    Some(previous) => log::info!("policy version {version} in force (was {previous})"),
                    None => log::info!("policy version {version} in force"),
                }
            }
            FetchOutcome::Unchanged => self.last_logged_failure = None,
            FetchOutcome::Failed { reason } => {
                if self.last_logged_failure.as_deref() != Some(reason.as_str()) {
                    let kept = self.sync.borrow().current().map(|b| b.version);
                    match kept {
                        Some(v) => log::warn!("policy fetch failed, keeping version {v}: {reason}"),
                        None => log::warn!("policy fetch failed and no policy is loaded, so requests are refused: {reason}"),
                    }
                    self.last_logged_failure = Some(reason);
                }
            }
        }
        let next = self.sync.borrow().next_fetch_in();
        if next != self.tick {
            self.set_tick(next);
        }
        true
    }

    fn fetch(&mut self) {
        let (cluster, headers, timeout) = {
            let sync = self.sync.borrow();
            let request = sync.fetch_request();
            (sync.config().control_plane.cluster.clone(), request.headers, sync.config().fetch_timeout())
        };
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        match hostcalls::dispatch_http_call(&cluster, headers, None, vec![], timeout) {
            Ok(token) => self.in_flight = Some(token),
            Err(e) => {
                let reason = format!("could not dispatch to cluster `{cluster}` (host status {e:?}): is the cluster defined in Envoy?");
                let _ = self.sync.borrow_mut().on_failure(reason.clone());
                log::warn!("{reason}");
            }
        }
    }

    fn set_tick(&mut self, period: Duration) {
        self.tick = period;
        if let Err(e) = hostcalls::set_tick_period(period) {
            log::error!("could not set the tick period: host status {e:?}");
        }
    }
}
