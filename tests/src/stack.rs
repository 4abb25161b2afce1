//! The whole data path on loopback: control plane, mock model, Envoy.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use portcullis_policy::POLICY_VERSION_HEADER;

use crate::client;
use crate::paths;
use crate::process::{free_port, Service};

/// The fleet token the harness gives the control plane and the filters.
pub const FLEET_TOKEN: &str = "e2e-fleet-token";
/// The admin token of the control plane's policy API.
pub const ADMIN_TOKEN: &str = "e2e-admin-token";

/// How long any piece may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// One stack at a time per test process: the machines that run the suite
/// are small, and parallel Envoys make timings flaky.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What to start.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The policy document (YAML) the control plane applies at start.
    pub policy: String,
    /// Whether to start the control plane at all.
    pub control_plane: bool,
    /// Poll interval of the filters, in milliseconds.
    pub poll_interval_ms: u64,
    /// Envoy worker threads.
    pub concurrency: u32,
    /// Envoy bootstrap in `envoy/`: `gate.yaml` or `portcullis.yaml`.
    pub envoy_config: String,
    /// Whether to start the OpenID provider (`tests/idp`); `{{IDP_ISSUER}}`
    /// in `policy` becomes its issuer URL.
    pub idp: bool,
    /// Secrets the control plane can resolve (`secret_ref` name, value).
    pub secrets: Vec<(String, String)>,
    /// Extra environment of `portcullis serve`, such as
    /// `PORTCULLIS_APPROVER_GROUPS`.
    pub control_plane_env: Vec<(String, String)>,
    /// Whether to start the MCP server (`tests/clients/mcp_server.py`), which
    /// `portcullis.yaml` routes `/mcp` to.
    pub mcp: bool,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            policy: "name: e2e\ndescription: end-to-end tests\n".into(),
            control_plane: true,
            poll_interval_ms: 300,
            concurrency: 1,
            envoy_config: "gate.yaml".into(),
            idp: false,
            secrets: Vec::new(),
            control_plane_env: Vec::new(),
            mcp: false,
        }
    }
}

/// Loopback ports of the stack.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// Envoy's listener: where clients send requests.
    pub ingress: u16,
    /// Envoy's admin interface.
    pub admin: u16,
    /// The mock model.
    pub model: u16,
    /// The control plane.
    pub control_plane: u16,
    /// The OpenID provider.
    pub idp: u16,
    /// The MCP server (free but unused when it is not started).
    pub mcp: u16,
}

/// A running stack. Dropping it stops every process and removes its files.
pub struct Stack {
    /// Ports in use.
    pub ports: Ports,
    control_plane: Option<Service>,
    idp: Option<Service>,
    mcp: Option<Service>,
    model: Service,
    envoy: Service,
    dir: tempfile::TempDir,
    control_plane_env: Vec<(String, String)>,
    _turn: MutexGuard<'static, ()>,
}

impl Stack {
    /// Starts everything and waits until each piece is ready. With a control
    /// plane, it also waits until the filters have loaded the policy.
    pub fn start(options: StackOptions) -> Result<Self> {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let dir = tempfile::Builder::new().prefix("portcullis-e2e-").tempdir()?;
        let ports = Ports {
            ingress: free_port()?,
            admin: free_port()?,
            model: free_port()?,
            control_plane: free_port()?,
            idp: free_port()?,
            mcp: free_port()?,
        };
        let secrets = dir.path().join("secrets");
        std::fs::create_dir(&secrets)?;
        for (name, value) in &options.secrets {
            std::fs::write(secrets.join(name), value)?;
        }
        let idp = if options.idp { Some(start_idp(&dir, ports)?) } else { None };
        let mcp = if options.mcp { Some(start_mcp(&dir, ports)?) } else { None };
        std::fs::write(dir.path().join("policy.yaml"), render_policy(&options.policy, ports))?;

        let control_plane =
            if options.control_plane { Some(start_control_plane(&dir, ports, "policy.yaml", &options.control_plane_env)?) } else { None };
        let model = start_model(&dir, ports)?;
        let envoy = start_envoy(&dir, ports, &options)?;
        let stack = Self { ports, control_plane, idp, mcp, model, envoy, dir, control_plane_env: options.control_plane_env, _turn: turn };
        if options.control_plane {
            stack.wait_for_policy(None)?;
        }
        Ok(stack)
    }

    /// Base URL of Envoy's listener, e.g. `http://127.0.0.1:12345`.
    pub fn ingress_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.ingress)
    }

    /// Base URL of the control plane.
    pub fn control_plane_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.control_plane)
    }

    /// Base URL of the mock model (bypassing Envoy).
    pub fn model_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.model)
    }

    /// Base URL of Envoy's admin interface.
    pub fn admin_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.admin)
    }

    /// Stops the control plane (the filters keep their last policy).
    pub fn stop_control_plane(&mut self) {
        if let Some(mut cp) = self.control_plane.take() {
            cp.stop();
        }
    }

    /// Starts the control plane again on the same port and database, applying
    /// `policy` (YAML) at start.
    pub fn restart_control_plane(&mut self, policy: &str) -> Result<()> {
        self.stop_control_plane();
        let name = format!("policy-{}.yaml", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos());
        std::fs::write(self.dir.path().join(&name), render_policy(policy, self.ports))?;
        self.control_plane = Some(start_control_plane(&self.dir, self.ports, &name, &self.control_plane_env)?);
        Ok(())
    }

    /// Waits until a request through Envoy reports policy `version` (or any
    /// version, with `None`), and returns it.
    pub fn wait_for_policy(&self, version: Option<u64>) -> Result<u64> {
        let url = format!("{}/healthz", self.ingress_url());
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last = String::from("no answer");
        while Instant::now() < deadline {
            match client::get(&url, &[]) {
                Ok(response) => {
                    let seen = response.header(POLICY_VERSION_HEADER).and_then(|v| v.parse::<u64>().ok());
                    match (seen, version) {
                        (Some(seen), None) => return self.wait_for_every_filter(seen, deadline),
                        (Some(seen), Some(wanted)) if seen == wanted => return self.wait_for_every_filter(seen, deadline),
                        _ => last = format!("HTTP {} with policy version {seen:?}: {}", response.status, response.body),
                    }
                }
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "Envoy never reported policy version {version:?} (last: {last}); Envoy log ends with:\n{}",
            self.envoy.log_tail(30)
        )
    }

    /// Each filter VM polls on its own: one reporting `version` says little
    /// about the others. Waits until every Portcullis filter in the Envoy
    /// configuration has logged that `version` is in force.
    fn wait_for_every_filter(&self, version: u64, deadline: Instant) -> Result<u64> {
        let config = std::fs::read_to_string(self.dir.path().join("envoy.yaml"))?;
        let filters: Vec<&str> = config
            .lines()
            .filter_map(|line| line.trim().strip_prefix("root_id: "))
            .filter(|name| name.starts_with("portcullis."))
            .collect();
        let in_force = format!("policy version {version} in force");
        loop {
            let log = self.envoy_log();
            let missing: Vec<&&str> = filters
                .iter()
                .filter(|name| !log.lines().any(|line| line.contains(&format!("wasm log {name} {name}: {in_force}"))))
                .collect();
            if missing.is_empty() {
                return Ok(version);
            }
            if Instant::now() > deadline {
                bail!("filters {missing:?} never logged `{in_force}`; Envoy log ends with:\n{}", self.envoy.log_tail(30));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Envoy's whole log so far.
    pub fn envoy_log(&self) -> String {
        self.envoy.log_tail(usize::MAX)
    }

    /// The MCP server's whole log so far (empty when it was not started):
    /// each JSON-RPC message it received and each tool it ran.
    pub fn mcp_log(&self) -> String {
        self.mcp.as_ref().map(|s| s.log_tail(usize::MAX)).unwrap_or_default()
    }

    /// Issuer URL of the OpenID provider.
    pub fn idp_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.idp)
    }

    /// An access token for `client` from the OpenID provider
    /// (client-credentials grant; see `tests/idp/provider.mjs` for clients).
    pub fn token(&self, client: &str) -> Result<String> {
        crate::idp::client_credentials_token(&self.idp_url(), client)
    }

    /// Makes the OpenID provider sign with a new key; returns its `kid`.
    pub fn rotate_idp_keys(&self) -> Result<String> {
        crate::idp::rotate(&self.idp_url())
    }

    /// The running processes, name and pid, in start order.
    pub fn processes(&self) -> Vec<(&str, u32)> {
        self.idp
            .iter()
            .chain(self.mcp.iter())
            .chain(self.control_plane.iter())
            .chain([&self.model, &self.envoy])
            .filter_map(|s| s.pid().map(|pid| (s.name(), pid)))
            .collect()
    }
}

fn start_control_plane(dir: &tempfile::TempDir, ports: Ports, policy_file: &str, env: &[(String, String)]) -> Result<Service> {
    let mut command = Command::new(paths::workspace_binary("portcullis")?);
    command
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", ports.control_plane))
        .arg("--database-url")
        .arg(format!("sqlite://{}", dir.path().join("portcullis.db").display()))
        .arg("--policy")
        .arg(dir.path().join(policy_file))
        .env("PORTCULLIS_FLEET_TOKEN", FLEET_TOKEN)
        .env("PORTCULLIS_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("PORTCULLIS_SECRETS_DIR", dir.path().join("secrets"))
        .env("PORTCULLIS_JWKS_MIN_REFRESH_SECS", "1")
        .env("RUST_LOG", "info")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut service = Service::spawn("control plane", command, &dir.path().join("control-plane.log"))?;
    let url = format!("http://127.0.0.1:{}/healthz", ports.control_plane);
    service.wait_until(READY_TIMEOUT, || client::get(&url, &[]).map(|r| r.status == 200).unwrap_or(false))?;
    Ok(service)
}

fn render_policy(policy: &str, ports: Ports) -> String {
    policy.replace("{{IDP_ISSUER}}", &format!("http://127.0.0.1:{}", ports.idp))
}

fn start_idp(dir: &tempfile::TempDir, ports: Ports) -> Result<Service> {
    let script = paths::project_root().join("tests/idp/provider.mjs");
    if !paths::project_root().join("tests/idp/node_modules/oidc-provider").exists() {
        bail!("the OpenID provider's npm packages are missing: run `cargo xtask setup` first");
    }
    let url = format!("http://127.0.0.1:{}/.well-known/openid-configuration", ports.idp);
    // Starting makes an RSA signing key, whose prime search takes a random
    // time that a busy shared machine can stretch a long way: one stalled
    // start is given a second chance with a fresh process.
    let mut last_error = None;
    for attempt in 1..=2 {
        let mut command = Command::new("node");
        command.arg(&script).env("PORT", ports.idp.to_string());
        let log = dir.path().join(format!("oidc-provider-{attempt}.log"));
        let mut service = Service::spawn("oidc-provider", command, &log)?;
        match service.wait_until(READY_TIMEOUT, || client::get(&url, &[]).map(|r| r.status == 200).unwrap_or(false)) {
            Ok(()) => return Ok(service),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("oidc-provider did not start")))
}

fn start_mcp(dir: &tempfile::TempDir, ports: Ports) -> Result<Service> {
    let mut command = Command::new(paths::python()?);
    command.arg(paths::project_root().join("tests/clients/mcp_server.py")).env("PORT", ports.mcp.to_string());
    let log = dir.path().join("mcp-server.log");
    let mut service = Service::spawn("mcp server", command, &log)?;
    // It prints this line once it accepts connections.
    service.wait_until(READY_TIMEOUT, || std::fs::read_to_string(&log).is_ok_and(|text| text.contains("mcp server ready on")))?;
    Ok(service)
}

fn start_model(dir: &tempfile::TempDir, ports: Ports) -> Result<Service> {
    let mut command = Command::new(paths::workspace_binary("portcullis-mock-model")?);
    command.arg("--listen").arg(format!("127.0.0.1:{}", ports.model));
    let mut service = Service::spawn("mock model", command, &dir.path().join("mock-model.log"))?;
    let url = format!("http://127.0.0.1:{}/healthz", ports.model);
    service.wait_until(READY_TIMEOUT, || client::get(&url, &[]).map(|r| r.status == 200).unwrap_or(false))?;
    Ok(service)
}

/// Fills the placeholders of the Envoy bootstrap `envoy/<name>`.
pub fn render_envoy_config(name: &str, ports: Ports, filters_dir: &std::path::Path, poll_interval_ms: u64) -> Result<String> {
    let template_path = paths::project_root().join("envoy").join(name);
    let template = std::fs::read_to_string(&template_path).with_context(|| format!("cannot read {}", template_path.display()))?;
    let rendered = template
        .replace("{{ADMIN_PORT}}", &ports.admin.to_string())
        .replace("{{LISTEN_PORT}}", &ports.ingress.to_string())
        .replace("{{MODEL_PORT}}", &ports.model.to_string())
        .replace("{{MCP_PORT}}", &ports.mcp.to_string())
        .replace("{{CONTROL_PLANE_PORT}}", &ports.control_plane.to_string())
        .replace("{{FILTERS_DIR}}", &filters_dir.display().to_string())
        .replace("{{FLEET_TOKEN}}", FLEET_TOKEN)
        .replace("{{POLL_INTERVAL_MS}}", &poll_interval_ms.to_string());
    if let Some(start) = rendered.find("{{") {
        let end = rendered[start..].find("}}").map_or(rendered.len(), |e| start + e + 2);
        bail!("{} has a placeholder the harness does not know: {}", template_path.display(), &rendered[start..end]);
    }
    Ok(rendered)
}

fn start_envoy(dir: &tempfile::TempDir, ports: Ports, options: &StackOptions) -> Result<Service> {
    let config = render_envoy_config(&options.envoy_config, ports, &paths::filters_dir()?, options.poll_interval_ms)?;
    let config_path: PathBuf = dir.path().join("envoy.yaml");
    std::fs::write(&config_path, config)?;
    let mut command = Command::new(paths::envoy()?);
    command
        .arg("--config-path")
        .arg(&config_path)
        .arg("--concurrency")
        .arg(options.concurrency.to_string())
        .arg("--disable-hot-restart")
        .arg("--log-level")
        .arg("info")
        // Access log lines (e.g. what the mask filter masked) reach the log
        // within 100 ms rather than Envoy's default 10 s.
        .arg("--file-flush-interval-msec")
        .arg("100");
    // For debugging a scenario: e.g. PORTCULLIS_ENVOY_COMPONENT_LOG=wasm:debug,http:debug
    if let Ok(levels) = std::env::var("PORTCULLIS_ENVOY_COMPONENT_LOG") {
        command.arg("--component-log-level").arg(levels);
    }
    let mut service = Service::spawn("envoy", command, &dir.path().join("envoy.log"))?;
    let url = format!("http://127.0.0.1:{}/ready", ports.admin);
    service.wait_until(READY_TIMEOUT, || client::get(&url, &[]).map(|r| r.status == 200).unwrap_or(false))?;
    Ok(service)
}
