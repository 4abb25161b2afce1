//! Logic every Portcullis filter shares, with no proxy-wasm dependency.
//!
//! - [`config`]: the plugin configuration an operator writes into Envoy's
//!   `plugin_config`, parsed and checked once at configure time.
//! - [`sync`]: the policy-sync state machine: what to ask the control plane,
//!   how to treat its answers, and whether a request may pass while no
//!   policy has arrived yet.
//!
//! The proxy-wasm glue in `portcullis-filter-sdk` drives these types; unit
//! tests drive them directly, natively.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod config;
pub mod sync;

pub use config::{BeforeFirstPolicy, ConfigError, ControlPlaneConfig, FilterConfig};
pub use sync::{FetchOutcome, FetchRequest, Gate, PolicySync};
