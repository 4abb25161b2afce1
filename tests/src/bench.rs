//! Load generation and measurement helpers for `portcullis-bench`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};

use crate::process::{free_port, Service};
use crate::{client, paths};

/// What one `wrk` run measured.
#[derive(Debug, Clone, Default)]
pub struct WrkResult {
    /// Requests completed.
    pub requests: u64,
    /// Throughput.
    pub requests_per_sec: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// CPU time the server spent during the run (filled in by the caller).
    pub cpu_seconds: f64,
}

impl WrkResult {
    /// Server CPU time per request, in microseconds.
    pub fn cpu_us_per_request(&self) -> f64 {
        if self.requests == 0 {
            return f64::NAN;
        }
        self.cpu_seconds * 1e6 / self.requests as f64
    }
}

/// CPU time (user + system) process `pid` has used so far, in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat.rsplit(')').next().context("malformed /proc stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after the name.
    let ticks: f64 = fields.get(11).context("no utime")?.parse::<f64>()? + fields.get(12).context("no stime")?.parse::<f64>()?;
    Ok(ticks / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// What each request of a load run sends.
#[derive(Debug, Clone, Copy)]
pub enum Load<'a> {
    /// `GET /` with the same token every time.
    HotToken(&'a str),
    /// `GET /` with the next token of this file (one per line) each time.
    DistinctTokens(&'a Path),
    /// `POST /` of this JSON file with the same token every time.
    PostJson {
        /// The token.
        token: &'a str,
        /// The body.
        body: &'a Path,
    },
}

/// Runs `wrk` against `url` with one thread.
pub fn run_wrk(url: &str, load: Load<'_>, seconds: u64, connections: u32) -> Result<WrkResult> {
    let mut command = Command::new("wrk");
    command.args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency"]);
    let script;
    match load {
        Load::PostJson { token, body } => {
            script = body.with_extension("lua");
            std::fs::write(
                &script,
                format!(
                    "wrk.method = \"POST\"\nlocal f = io.open(\"{}\", \"rb\")\nwrk.body = f:read(\"*a\")\nf:close()\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer {token}\"\n",
                    body.display()
                ),
            )?;
            command.arg("-s").arg(&script);
        }
        Load::DistinctTokens(file) => {
            script = file.with_extension("lua");
            std::fs::write(
                &script,
                format!(
                    "local tokens = {{}}\nfor line in io.lines(\"{}\") do tokens[#tokens + 1] = line end\nlocal i = 0\nrequest = function()\n  i = i % #tokens + 1\n  return wrk.format(\"GET\", \"/\", {{[\"Authorization\"] = \"Bearer \" .. tokens[i]}})\nend\n",
                    file.display()
                ),
            )?;
            command.arg("-s").arg(&script);
        }
        Load::HotToken(token) => {
            command.arg("-H").arg(format!("Authorization: Bearer {token}"));
        }
    }
    command.arg(url);
    let output = command.output().context("could not run wrk: install it (Debian: apt-get install wrk) or run `cargo xtask setup`")?;
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    }
    parse_wrk(&text)
}

/// Parses `wrk --latency` output.
pub fn parse_wrk(text: &str) -> Result<WrkResult> {
    let mut result = WrkResult::default();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            result.requests_per_sec = rest.trim().parse()?;
        } else if let Some(rest) = line.strip_prefix("50%") {
            result.p50_ms = duration_ms(rest.trim())?;
        } else if let Some(rest) = line.strip_prefix("99%") {
            result.p99_ms = duration_ms(rest.trim())?;
        } else if line.contains("requests in") {
            result.requests = line.split_whitespace().next().context("request count")?.parse()?;
        } else if line.starts_with("Non-2xx or 3xx responses:") {
            bail!("the load run got error responses: {line}");
        }
    }
    if result.requests == 0 {
        bail!("wrk reported no requests:\n{text}");
    }
    Ok(result)
}

fn duration_ms(text: &str) -> Result<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).context("duration without unit")?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse()?;
    Ok(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        other => bail!("unknown duration unit {other}"),
    })
}

/// Starts `portcullis serve` on `port` with `dir/policy.yaml`, a fresh
/// database in `dir`, and the harness's fleet token; waits until it answers.
pub fn start_bench_control_plane(dir: &Path, port: u16) -> Result<Service> {
    let mut command = Command::new(paths::workspace_binary("portcullis")?);
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--database-url")
        .arg(format!("sqlite://{}", dir.join("cp.db").display()))
        .arg("--policy")
        .arg(dir.join("policy.yaml"))
        .env("PORTCULLIS_FLEET_TOKEN", crate::stack::FLEET_TOKEN);
    let mut control_plane = Service::spawn("control plane", command, &dir.join("cp.log"))?;
    let health = format!("http://127.0.0.1:{port}/healthz");
    control_plane.wait_until(Duration::from_secs(20), || client::get(&health, &[]).map(|r| r.status == 200).unwrap_or(false))?;
    Ok(control_plane)
}

/// Starts Envoy with `envoy/bench/<file>` on one worker, filling its
/// `{{NAME}}` placeholders from `values`; returns it and its listener port.
pub fn start_bench_envoy(dir: &Path, file: &str, values: &[(&str, String)]) -> Result<(Service, u16)> {
    let (port, admin) = (free_port()?, free_port()?);
    let mut text = std::fs::read_to_string(paths::project_root().join("envoy/bench").join(file))?;
    text = text.replace("{{LISTEN_PORT}}", &port.to_string()).replace("{{ADMIN_PORT}}", &admin.to_string());
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    let config = dir.join(format!("envoy-{file}"));
    std::fs::write(&config, text)?;
    let mut command = Command::new(paths::envoy()?);
    command.arg("--config-path").arg(&config).args(["--concurrency", "1", "--disable-hot-restart", "--log-level", "warn"]);
    let mut envoy = Service::spawn("envoy", command, &dir.join(format!("envoy-{file}.log")))?;
    let ready = format!("http://127.0.0.1:{admin}/ready");
    envoy.wait_until(Duration::from_secs(20), || client::get(&ready, &[]).map(|r| r.status == 200).unwrap_or(false))?;
    Ok((envoy, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wrk_output() {
        let text = "Running 8s test @ http://127.0.0.1:1/\n  1 threads and 16 connections\n  Latency Distribution\n     50%  1.23ms\n     75%  2.00ms\n     90%  3.00ms\n     99%  812.00us\n  80000 requests in 8.00s, 9.00MB read\nRequests/sec:  10000.50\n";
        let r = parse_wrk(text).unwrap();
        assert_eq!(r.requests, 80000);
        assert!((r.p50_ms - 1.23).abs() < 1e-9);
        assert!((r.p99_ms - 0.812).abs() < 1e-9);
        assert!((r.requests_per_sec - 10000.5).abs() < 1e-9);
    }

    #[test]
    fn error_responses_fail_the_run() {
        assert!(parse_wrk("  10 requests in 1.00s\n  Non-2xx or 3xx responses: 10\nRequests/sec: 10\n").is_err());
    }
}
