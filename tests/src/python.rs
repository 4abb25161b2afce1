//! Running the official Python client libraries against the stack.

use std::process::Command;

use anyhow::{bail, Context as _, Result};
use serde_json::Value;

use crate::paths;

/// Runs `tests/clients/<script>` with the project's Python and `env`, and
/// parses the JSON it prints on stdout.
pub fn run_client(script: &str, env: &[(&str, &str)]) -> Result<Value> {
    let path = paths::project_root().join("tests/clients").join(script);
    let mut command = Command::new(paths::python()?);
    command.arg(&path);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().with_context(|| format!("could not run {}", path.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("{script} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status);
    }
    serde_json::from_str(stdout.trim()).with_context(|| format!("{script} printed no JSON:\n{stdout}\nstderr:\n{stderr}"))
}
