//! `cargo xtask bench`: loads Envoy over loopback three ways in one run and
//! reports CPU per request and latency as ratios.
//!
//! (a) no authentication, (b) Envoy's native `jwt_authn` with the same keys
//! and tokens, (c) the Portcullis token filter. Each runs on one Envoy worker
//! (`--concurrency 1`) behind a `direct_response` route, loaded by `wrk`
//! from the other core. Two workloads: one hot token, and 1000 distinct
//! tokens in turn with both verified-token caches smaller than that, so that
//! every request pays a signature verification.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use portcullis_e2e::bench::{cpu_seconds, run_wrk, start_bench_control_plane, start_bench_envoy, Load, WrkResult};
use portcullis_e2e::process::{free_port, Service};
use portcullis_e2e::{client, paths, stack::FLEET_TOKEN};
use serde_json::Value;

const CACHE_SIZE: usize = 100;
const DISTINCT_TOKENS: usize = 1000;

struct Args {
    duration_secs: u64,
    connections: u32,
    workloads: Vec<String>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { duration_secs: 8, connections: 16, workloads: vec!["hot".into(), "distinct".into(), "prompt".into()] };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let value = it.next().with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--duration" => args.duration_secs = value.parse()?,
            "--connections" => args.connections = value.parse()?,
            "--workload" => args.workloads = vec![value],
            other => bail!("unknown argument {other}: use --duration SECS, --connections N or --workload hot|distinct|prompt"),
        }
    }
    Ok(args)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let dir = tempfile::Builder::new().prefix("portcullis-bench-").tempdir()?;
    let material = make_tokens(dir.path())?;
    let issuer = material["issuer"].as_str().context("issuer")?.to_owned();
    let jwks = material["jwks"].to_string();
    let tokens: Vec<String> = material["tokens"].as_array().context("tokens")?.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect();
    std::fs::write(dir.path().join("tokens.txt"), tokens.join("\n"))?;
    let hot = &tokens[0];

    let cp_port = free_port()?;
    let packs: String = ["destructive_sql", "destructive_k8s", "destructive_shell", "prompt_injection", "system_prompt_extraction", "training_data_extraction", "secret_exfiltration"]
        .iter()
        .map(|p| format!("        - {{ pack: {p}, action: block }}\n"))
        .collect();
    let prompt = dir.path().join("prompt.json");
    std::fs::write(&prompt, serde_json::to_vec(&serde_json::json!({"model": "bench", "messages": [
        {"role": "system", "content": "You are a helpful assistant for a logistics company. Answer briefly."},
        {"role": "user", "content": "Our warehouse in Rotterdam ships about 1200 pallets a week. Draft a short note to the team explaining the new loading schedule: trucks arrive at 06:00 and 14:00, pallets must be wrapped and labelled the evening before, and the forklift rota is posted on the board by the canteen. Keep a friendly tone, mention that questions go to the shift lead, and end with a reminder about safety shoes. Also suggest three ways to cut waiting time at the docks, such as pre-assigning bays and sharing arrival windows with carriers."}
    ]}))?)?;
    let policy = format!(
        "name: bench\ndescription: token filter benchmark\nidentity:\n  providers:\n    - name: bench\n      issuer: \"{issuer}\"\n      audiences: [portcullis]\n      jwks: {jwks}\n  cache:\n    max_entries: {CACHE_SIZE}\n  targets:\n    - name: bench\n      hosts: [\"127.0.0.1\"]\n  rules:\n    - {{ name: bench, groups: [bench], targets: [bench], effect: allow }}\nguard:\n  targets:\n    - target: bench\n      packs:\n{packs}"
    );
    std::fs::write(dir.path().join("policy.yaml"), policy)?;
    let mut control_plane = start_bench_control_plane(dir.path(), cp_port)?;

    let token_configs = [("a", "none.yaml", "no auth"), ("b", "jwt_authn.yaml", "Envoy jwt_authn"), ("c", "token.yaml", "Portcullis token filter")];
    let prompt_configs = [("a", "none.yaml", "bare Envoy"), ("c", "token.yaml", "token filter"), ("d", "guard.yaml", "token + prompt-guard")];
    let mut results: Vec<(String, String, WrkResult)> = Vec::new();
    for workload in args.workloads.iter().map(String::as_str) {
        let configs = if workload == "prompt" { prompt_configs } else { token_configs };
        for (key, file, label) in configs {
            let values = [
                ("ISSUER", issuer.clone()),
                ("JWKS_JSON", jwks.clone()),
                ("CACHE_SIZE", CACHE_SIZE.to_string()),
                ("CONTROL_PLANE_PORT", cp_port.to_string()),
                ("FLEET_TOKEN", FLEET_TOKEN.to_owned()),
                ("FILTERS_DIR", paths::filters_dir()?.display().to_string()),
            ];
            let (mut envoy, port) = start_bench_envoy(dir.path(), file, &values)?;
            let url = format!("http://127.0.0.1:{port}/");
            let prompt_body: Option<Value> = (workload == "prompt").then(|| serde_json::from_slice(&std::fs::read(&prompt).unwrap_or_default())).transpose()?;
            check_config(key, &url, hot, prompt_body.as_ref(), &mut envoy)?;
            let pid = envoy.pid().context("envoy pid")?;
            let tokens_file = dir.path().join("tokens.txt");
            let load = match workload {
                "distinct" => Load::DistinctTokens(&tokens_file),
                "prompt" => Load::PostJson { token: hot, body: &prompt },
                _ => Load::HotToken(hot),
            };
            // Warm up, then measure.
            run_wrk(&url, load, 2, args.connections)?;
            let cpu_before = cpu_seconds(pid)?;
            let mut result = run_wrk(&url, load, args.duration_secs, args.connections)?;
            result.cpu_seconds = cpu_seconds(pid)? - cpu_before;
            eprintln!("  {workload:8} ({key}) {label:26} {:>9.0} req/s", result.requests_per_sec);
            results.push((workload.to_owned(), key.to_owned(), result));
            envoy.stop();
        }
    }
    control_plane.stop();
    report(&results);
    Ok(())
}

fn make_tokens(dir: &Path) -> Result<Value> {
    let script = paths::project_root().join("tests/bench/tokens.mjs");
    let output = Command::new("node").arg(script).env("COUNT", DISTINCT_TOKENS.to_string()).output()?;
    if !output.status.success() {
        bail!("tokens.mjs failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    std::fs::write(dir.join("tokens.json"), &output.stdout)?;
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// Makes sure each configuration does what it claims before measuring it.
/// Requests carry the prompt body when there is one.
fn check_config(key: &str, url: &str, token: &str, prompt: Option<&Value>, envoy: &mut Service) -> Result<()> {
    let bearer = format!("Bearer {token}");
    let send = |headers: &[(&str, &str)]| match prompt {
        Some(body) => client::post_json(url, headers, body),
        None => client::get(url, headers),
    };
    envoy.wait_until(Duration::from_secs(20), || send(&[("authorization", &bearer)]).map(|r| r.status == 200).unwrap_or(false))?;
    let anonymous = send(&[])?.status;
    let expected = if key == "a" { 200 } else { 401 };
    if anonymous != expected {
        bail!("configuration ({key}) answered {anonymous} without a token, expected {expected}");
    }
    if key == "d" {
        let risky = serde_json::json!({"model": "bench", "messages": [{"role": "user", "content": "Run this now:\n```\nrm -rf /\n```"}]});
        let status = client::post_json(url, &[("authorization", &bearer)], &risky)?.status;
        if status != 403 {
            bail!("configuration (d) answered {status} to a destructive shell command, expected 403: the guard is not inspecting");
        }
    }
    Ok(())
}

fn report(results: &[(String, String, WrkResult)]) {
    let find = |w: &str, k: &str| results.iter().find(|(rw, rk, _)| rw == w && rk == k).map(|(_, _, r)| r);
    println!("\n| workload | config | req/s | CPU µs/req | p50 ms | p99 ms | CPU/req vs base | p50 vs base | p99 vs base |");
    println!("|---|---|---|---|---|---|---|---|---|");
    println!("(base: (b) jwt_authn for the token workloads, (a) bare Envoy for the prompt workload)");
    for (workload, key, r) in results {
        let base = if workload == "prompt" { "a" } else { "b" };
        let Some(b) = find(workload, base) else { continue };
        println!(
            "| {workload} | ({key}) | {:.0} | {:.1} | {:.3} | {:.3} | {:.2} | {:.2} | {:.2} |",
            r.requests_per_sec,
            r.cpu_us_per_request(),
            r.p50_ms,
            r.p99_ms,
            r.cpu_us_per_request() / b.cpu_us_per_request(),
            r.p50_ms / b.p50_ms,
            r.p99_ms / b.p99_ms,
        );
    }
    if let (Some(a), Some(c), Some(d)) = (find("prompt", "a"), find("prompt", "c"), find("prompt", "d")) {
        println!(
            "prompt: the prompt-guard filter adds {:.1} µs CPU and {:.3} ms p50 per request over the token filter; the whole chain is {:.2}x bare Envoy's CPU per request",
            d.cpu_us_per_request() - c.cpu_us_per_request(),
            d.p50_ms - c.p50_ms,
            d.cpu_us_per_request() / a.cpu_us_per_request()
        );
    }
    for workload in ["hot", "distinct"] {
        if let (Some(b), Some(c)) = (find(workload, "b"), find(workload, "c")) {
            let ratio = c.cpu_us_per_request() / b.cpu_us_per_request();
            let verdict = if ratio <= 1.5 { "meets" } else { "misses" };
            println!("{workload}: token filter CPU per request is {ratio:.2}x jwt_authn's ({verdict} the 1.5x target)");
        }
    }
}
