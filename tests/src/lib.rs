//! End-to-end test support for Portcullis.
//!
//! [`Stack`] starts the real pieces on free loopback ports: the control
//! plane (`portcullis serve`), the mock model, and the official Envoy binary
//! with the built wasm filters. It waits until each is ready and tears
//! everything down when dropped: on success, on a failed assertion, and when
//! the test process dies (children get `SIGKILL` from the kernel through
//! `PR_SET_PDEATHSIG`), so no process outlives a run.
//!
//! The pieces must be built first: `cargo xtask build` (which `cargo xtask
//! test` runs). Errors say so when something is missing.

pub mod bench;
pub mod client;
pub mod idp;
pub mod paths;
pub mod process;
pub mod python;
pub mod stack;

pub use stack::{Stack, StackOptions};
