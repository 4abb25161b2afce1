//! Where the built binaries, filters and tools are.
//!
//! Each path can be overridden by an environment variable, which `cargo
//! xtask test` sets; the defaults are where `cargo xtask build` and `cargo
//! xtask setup` put things.

use std::path::PathBuf;

use anyhow::{bail, Result};

/// The workspace root.
pub fn project_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| project_root().join("target"))
}

fn existing(path: PathBuf, what: &str, fix: &str) -> Result<PathBuf> {
    if path.exists() {
        Ok(path)
    } else {
        bail!("{what} not found at {}: run `{fix}` first", path.display())
    }
}

/// A binary of the workspace, built by `cargo build`.
pub fn workspace_binary(name: &str) -> Result<PathBuf> {
    existing(target_dir().join("debug").join(name), &format!("binary `{name}`"), "cargo xtask build")
}

/// The folder of built `.wasm` filters.
pub fn filters_dir() -> Result<PathBuf> {
    let dir = std::env::var_os("PORTCULLIS_FILTERS_DIR").map(PathBuf::from).unwrap_or_else(|| target_dir().join("filters"));
    existing(dir, "the built wasm filters", "cargo xtask build")
}

/// The Envoy binary.
pub fn envoy() -> Result<PathBuf> {
    let path = std::env::var_os("PORTCULLIS_ENVOY")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join(".tools/venv/bin/envoy"));
    existing(path, "Envoy", "cargo xtask setup")
}

/// The project virtualenv's Python, with the official client libraries.
pub fn python() -> Result<PathBuf> {
    let path = std::env::var_os("PORTCULLIS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join(".tools/venv/bin/python"));
    existing(path, "the project's Python", "cargo xtask setup")
}
