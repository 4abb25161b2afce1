//! Policy and event types shared by every Portcullis filter and the control plane.
//!
//! Operators write a [`Policy`] document (YAML in practice; any serde format
//! works). The control plane validates it with [`Policy::validate`], stores it
//! under a monotonically increasing version, and ships it to filters as a
//! [`PolicyBundle`] in JSON. Filters answer failures with an [`ErrorBody`],
//! shaped like OpenAI's error objects so that official clients surface them.
//!
//! This crate knows nothing about proxy-wasm, HTTP servers or databases: it
//! builds and tests natively and for `wasm32-wasip1`.
//!
//! ```
//! use portcullis_policy::Policy;
//!
//! let policy: Policy = serde_json::from_str(r#"{"name": "demo"}"#).unwrap();
//! assert!(policy.validate().is_ok());
//! ```

mod bundle;
mod error_body;
mod policy;
mod validation;

pub use bundle::{PolicyBundle, POLICY_VERSION_HEADER};
pub use error_body::{jsonrpc_request_id, ErrorBody, ErrorDetail, JSONRPC_REFUSED};
pub use policy::Policy;
pub use validation::{Problem, ValidationReport};

pub mod guard;
pub mod hold;
pub mod identity;
pub mod masking;
