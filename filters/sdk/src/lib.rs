//! Thin proxy-wasm glue shared by the Portcullis filter cdylibs.
//!
//! Everything that decides lives in `portcullis-filter-runtime`; this crate
//! only moves bytes between that logic and the host:
//!
//! - [`PolicyRoot`] is the root context of every filter; a filter says what
//!   it derives from each bundle by implementing [`Filter`].
//! - [`PolicyClient`] polls the control plane from a root context with
//!   `dispatch_http_call` and feeds the answers to a
//!   [`PolicySync`](portcullis_filter_runtime::PolicySync).
//! - [`reply`] sends a local JSON reply to the caller.
//! - [`init_logging`] routes `log` records and panics to the host's log.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod policy_client;
pub mod reply;
mod root;

pub use policy_client::{PolicyClient, SharedPolicy};
pub use root::{Filter, PolicyRoot};

use proxy_wasm::types::LogLevel;

/// Routes `log` records to the host at `info` and above, and logs panics
/// through the host before the VM aborts.
pub fn init_logging() {
    proxy_wasm::set_log_level(LogLevel::Info);
}
