//! `cargo xtask build`: native crates, then every filter to wasm.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use xshell::{cmd, Shell};

use crate::tools::{Tools, WasmToolchain};
use crate::{project_root, step};

/// Where the built `.wasm` files are collected.
pub fn filters_dir() -> PathBuf {
    project_root().join("target/filters")
}

/// Builds everything.
pub fn all(sh: &Shell, tools: &Tools) -> Result<()> {
    step("build: native crates (cargo build --workspace)");
    cmd!(sh, "cargo build --workspace --locked").run()?;
    filters(sh, tools)
}

/// A filter cdylib: its package name and the file name cargo gives its `.wasm`.
struct Filter {
    package: String,
    wasm_file: String,
}

/// Every package under `filters/` that builds a cdylib.
fn filter_packages(sh: &Shell) -> Result<Vec<Filter>> {
    let mut found = Vec::new();
    for dir in sh.read_dir(project_root().join("filters"))? {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        if !text.contains("\"cdylib\"") {
            continue;
        }
        let package = text
            .lines()
            .find_map(|l| l.strip_prefix("name = \"").and_then(|rest| rest.strip_suffix('"')))
            .with_context(|| format!("{} has no package name", manifest.display()))?
            .to_owned();
        let wasm_file = format!("{}.wasm", package.replace('-', "_"));
        found.push(Filter { package, wasm_file });
    }
    found.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(found)
}

fn filters(sh: &Shell, tools: &Tools) -> Result<()> {
    let filters = filter_packages(sh)?;
    let mut args = vec![
        "build".to_owned(),
        "--locked".to_owned(),
        "--target".to_owned(),
        "wasm32-wasip1".to_owned(),
        "--profile".to_owned(),
        "wasm".to_owned(),
        "--target-dir".to_owned(),
        "target/wasm".to_owned(),
    ];
    for filter in &filters {
        args.push("-p".to_owned());
        args.push(filter.package.clone());
    }
    let names: Vec<&str> = filters.iter().map(|f| f.package.as_str()).collect();
    step(&format!("build: filters to wasm32-wasip1 ({})", names.join(", ")));
    match &tools.wasm {
        WasmToolchain::Rustup => cmd!(sh, "cargo {args...}").run()?,
        WasmToolchain::Debian { lld } => {
            let rustflags = format!("-C linker={} -L /usr/lib/wasm32-wasi", lld.display());
            let _rustc = sh.push_env("RUSTC", "/usr/bin/rustc");
            let _bootstrap = sh.push_env("RUSTC_BOOTSTRAP", "1");
            let _flags = sh.push_env("RUSTFLAGS", rustflags);
            cmd!(sh, "/usr/bin/cargo {args...} -Zbuild-std=std,panic_abort").run()?;
        }
    }
    let out = filters_dir();
    sh.create_dir(&out)?;
    for filter in &filters {
        let built = project_root().join("target/wasm/wasm32-wasip1/wasm").join(&filter.wasm_file);
        let dest = out.join(&filter.wasm_file);
        sh.copy_file(&built, &dest).with_context(|| format!("{} was not built", built.display()))?;
        let size = std::fs::metadata(&dest)?.len();
        step(&format!("build: {} ({:.0} KiB)", dest.display(), size as f64 / 1024.0));
    }
    Ok(())
}
