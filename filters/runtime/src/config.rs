//! The plugin configuration of a Portcullis filter.
//!
//! Example, as JSON inside Envoy's `plugin_config`:
//!
//! ```json
//! {
//!   "control_plane": {
//!     "cluster": "portcullis_control_plane",
//!     "authority": "control-plane",
//!     "fleet_token": "change-me"
//!   },
//!   "poll_interval_ms": 5000,
//!   "before_first_policy": "deny"
//! }
//! ```

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// How a filter reaches the control plane.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlPlaneConfig {
    /// Name of the Envoy cluster that points at the control plane.
    pub cluster: String,
    /// `:authority` to send; defaults to the cluster name.
    #[serde(default)]
    pub authority: Option<String>,
    /// Path of the policy endpoint.
    #[serde(default = "default_policy_path")]
    pub policy_path: String,
    /// Shared secret that proves this filter belongs to the fleet.
    pub fleet_token: String,
    /// Timeout of one fetch, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

/// What a filter does with requests before any policy has arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BeforeFirstPolicy {
    /// Answer 503 (fail closed). The default.
    #[default]
    Deny,
    /// Let requests through unchecked (fail open). The filter logs this
    /// choice at start so that it is on record.
    Allow,
}

/// The whole plugin configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Where the policy comes from.
    pub control_plane: ControlPlaneConfig,
    /// How often to poll for a new policy, in milliseconds.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// How often to retry while no policy has arrived yet, in milliseconds.
    #[serde(default = "default_retry_interval_ms")]
    pub retry_interval_ms: u64,
    /// Behaviour before the first policy arrives.
    #[serde(default)]
    pub before_first_policy: BeforeFirstPolicy,
}

fn default_policy_path() -> String {
    "/v1/filter/policy".to_owned()
}
fn default_timeout_ms() -> u64 {
    2_000
}
fn default_poll_interval_ms() -> u64 {
    5_000
}
fn default_retry_interval_ms() -> u64 {
    500
}

/// Why a plugin configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid plugin configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

impl FilterConfig {
    /// Parses and checks the plugin configuration bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.is_empty() {
            return Err(ConfigError(
                "it is empty: set `plugin_config` to a JSON object with at least `control_plane.cluster` and `control_plane.fleet_token`".into(),
            ));
        }
        let config: Self = serde_json::from_slice(bytes).map_err(|e| ConfigError(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.control_plane.cluster.trim().is_empty() {
            problems.push("control_plane.cluster must name the Envoy cluster of the control plane");
        }
        if self.control_plane.fleet_token.trim().is_empty() {
            problems.push("control_plane.fleet_token must not be empty");
        }
        if !self.control_plane.policy_path.starts_with('/') {
            problems.push("control_plane.policy_path must start with `/`");
        }
        if self.control_plane.timeout_ms == 0 {
            problems.push("control_plane.timeout_ms must be at least 1");
        }
        if self.poll_interval_ms < 100 {
            problems.push("poll_interval_ms must be at least 100");
        }
        if self.retry_interval_ms < 50 {
            problems.push("retry_interval_ms must be at least 50");
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems.join("; ")))
        }
    }

    /// The `:authority` to send to the control plane.
    pub fn authority(&self) -> &str {
        self.control_plane.authority.as_deref().unwrap_or(&self.control_plane.cluster)
    }

    /// Poll period once a policy is loaded.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    /// Retry period while no policy is loaded.
    pub fn retry_interval(&self) -> Duration {
        Duration::from_millis(self.retry_interval_ms)
    }

    /// Timeout of one fetch.
    pub fn fetch_timeout(&self) -> Duration {
        Duration::from_millis(self.control_plane.timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"control_plane":{"cluster":"cp","fleet_token":"t"}}"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let config = FilterConfig::parse(MINIMAL.as_bytes()).unwrap();
        assert_eq!(config.authority(), "cp");
        assert_eq!(config.control_plane.policy_path, "/v1/filter/policy");
        assert_eq!(config.poll_interval(), Duration::from_secs(5));
        assert_eq!(config.before_first_policy, BeforeFirstPolicy::Deny);
    }

    #[test]
    fn empty_config_says_what_to_set() {
        let err = FilterConfig::parse(b"").unwrap_err();
        assert!(err.to_string().contains("control_plane.cluster"), "{err}");
    }

    #[test]
    fn malformed_json_is_refused() {
        assert!(FilterConfig::parse(b"{not json").is_err());
    }

    #[test]
    fn unknown_field_is_refused() {
        let err = FilterConfig::parse(br#"{"control_plane":{"cluster":"cp","fleet_token":"t"},"pol_interval_ms":1}"#).unwrap_err();
        assert!(err.0.contains("pol_interval_ms"), "{err}");
    }

    #[test]
    fn every_problem_is_reported() {
        let err = FilterConfig::parse(
            br#"{"control_plane":{"cluster":" ","fleet_token":"","policy_path":"x"},"poll_interval_ms":1}"#,
        )
        .unwrap_err();
        for needle in ["cluster", "fleet_token", "policy_path", "poll_interval_ms"] {
            assert!(err.0.contains(needle), "missing {needle} in {err}");
        }
    }

    #[test]
    fn fail_open_must_be_spelled_out() {
        let config = FilterConfig::parse(
            br#"{"control_plane":{"cluster":"cp","fleet_token":"t"},"before_first_policy":"allow"}"#,
        )
        .unwrap();
        assert_eq!(config.before_first_policy, BeforeFirstPolicy::Allow);
        assert!(FilterConfig::parse(
            br#"{"control_plane":{"cluster":"cp","fleet_token":"t"},"before_first_policy":"maybe"}"#
        )
        .is_err());
    }
}
