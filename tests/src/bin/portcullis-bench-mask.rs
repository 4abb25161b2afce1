//! `cargo xtask bench` (second part): what the mask filter adds to a request
//! through Envoy, measured against bare Envoy in the same run.
//!
//! Two Envoys run side by side, one worker each, in front of the same mock
//! model: `envoy/bench/mask-bare.yaml` (router only) and
//! `envoy/bench/mask.yaml` (the mask filter, then the router). A sequential
//! client alternates between them request by request, so both see the same
//! machine load, and reports p50/p99 latencies and their ratios:
//!
//! - `json-4k`, `json-64k`: a chat completion whose request carries that
//!   much PII-dense prompt text and whose JSON answer carries as much again
//!   (cards, IBANs, e-mails, SSNs, AWS keys): masked both ways, buffered;
//! - `sse`: a streamed answer with PII split across events: time to the
//!   first body byte (TTFB).
//!
//! `cargo run -p portcullis-e2e --bin portcullis-bench-mask -- --requests 300`
//! after `cargo xtask build` (`cargo xtask bench` runs it too).

use std::io::Read as _;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use portcullis_e2e::bench::{start_bench_control_plane, start_bench_envoy};
use portcullis_e2e::process::{free_port, Service};
use portcullis_e2e::{client, paths, stack::FLEET_TOKEN};
use serde_json::{json, Value};

struct Args {
    requests: usize,
    warmup: usize,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { requests: 300, warmup: 30 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let value = it.next().with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--requests" => args.requests = value.parse()?,
            "--warmup" => args.warmup = value.parse()?,
            other => bail!("unknown argument {other}: use --requests N or --warmup N"),
        }
    }
    Ok(args)
}

/// PII-dense prompt text, about 190 bytes per repetition.
const PII_LINE: &str = "Customer Jane Doe, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, mail jane.doe@example.com, SSN 123-45-6789, phone +44 20 7946 0958, key AKIAZ7Q2VHNK3RJXW4PB. ";

/// The same kind of text as mock-model chunks, split so that no entity is
/// whole inside the request (request masking would mask the directive); the
/// answer is their concatenation.
const PII_CHUNKS: [&str; 6] = [
    "Customer card 4111 1111 ",
    "1111 1111, IBAN DE89 3704 0044 ",
    "0532 0130 00, mail jane.doe@",
    "example.com, SSN 123-45-",
    "6789, key AKIAZ7Q2",
    "VHNK3RJXW4PB, all on file. ",
];

fn chunks_len() -> usize {
    PII_CHUNKS.iter().map(|c| c.len()).sum()
}

/// A chat completion with about `size` bytes of PII in the prompt and in the answer.
fn json_request(size: usize) -> Value {
    let prompt = PII_LINE.repeat(size / PII_LINE.len() + 1);
    let directive = json!({"chunks": PII_CHUNKS, "repeat": size / chunks_len() + 1});
    json!({"model": "mock-small", "messages": [{"role": "user", "content": format!("{prompt} [[mock {directive}]]")}]})
}

fn sse_request() -> Value {
    let directive = json!({"chunks": PII_CHUNKS, "repeat": 4});
    json!({"model": "mock-small", "stream": true, "messages": [{"role": "user", "content": format!("[[mock {directive}]]")}]})
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let dir = tempfile::Builder::new().prefix("portcullis-bench-mask-").tempdir()?;

    let cp_port = free_port()?;
    std::fs::write(dir.path().join("policy.yaml"), "name: bench-mask\ndescription: mask filter benchmark (default masking)\n")?;
    let mut control_plane = start_bench_control_plane(dir.path(), cp_port)?;

    let model_port = free_port()?;
    let mut model_cmd = Command::new(paths::workspace_binary("portcullis-mock-model")?);
    model_cmd.arg("--listen").arg(format!("127.0.0.1:{model_port}")).env("RUST_LOG", "warn");
    let mut model = Service::spawn("mock model", model_cmd, &dir.path().join("model.log"))?;
    let model_health = format!("http://127.0.0.1:{model_port}/healthz");
    model.wait_until(Duration::from_secs(20), || client::get(&model_health, &[]).map(|r| r.status == 200).unwrap_or(false))?;

    let values = [
        ("MODEL_PORT", model_port.to_string()),
        ("CONTROL_PLANE_PORT", cp_port.to_string()),
        ("FLEET_TOKEN", FLEET_TOKEN.to_owned()),
        ("FILTERS_DIR", paths::filters_dir()?.display().to_string()),
    ];
    let (mut bare, bare_port) = start_bench_envoy(dir.path(), "mask-bare.yaml", &values)?;
    let (mut mask, mask_port) = start_bench_envoy(dir.path(), "mask.yaml", &values)?;
    let urls = [format!("http://127.0.0.1:{bare_port}"), format!("http://127.0.0.1:{mask_port}")];
    check_configs(&urls, &mut mask)?;

    let agents = [agent(), agent()];
    let mut rows = Vec::new();
    for (name, size) in [("json-4k", 4 * 1024), ("json-64k", 64 * 1024)] {
        let body = serde_json::to_vec(&json_request(size))?;
        let [mut b, mut m] = alternate(&agents, &urls, &args, |agent, url| Ok(vec![time_json(agent, url, &body)?]))?;
        let (b, m) = (b.remove(0), m.remove(0));
        eprintln!("  {name:9} bare p50 {:.3} ms, mask p50 {:.3} ms", b.p50(), m.p50());
        rows.push((format!("{name} round trip"), b, m));
    }
    let body = serde_json::to_vec(&sse_request())?;
    let [mut b, mut m] = alternate(&agents, &urls, &args, |agent, url| time_stream(agent, url, &body))?;
    eprintln!("  sse       bare TTFB p50 {:.3} ms, mask TTFB p50 {:.3} ms", b[0].p50(), m[0].p50());
    rows.push(("sse time to first byte".into(), b.remove(0), m.remove(0)));

    bare.stop();
    mask.stop();
    model.stop();
    control_plane.stop();
    report(&rows, args.requests);
    Ok(())
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build()
}

/// Latency samples in milliseconds.
#[derive(Debug, Default, Clone)]
struct Samples {
    ms: Vec<f64>,
}

impl Samples {
    fn quantile(&self, q: f64) -> f64 {
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    }

    fn p50(&self) -> f64 {
        self.quantile(0.50)
    }

    fn p99(&self) -> f64 {
        self.quantile(0.99)
    }
}

/// Runs `warmup` then `requests` rounds, each one request to bare Envoy and
/// one to Envoy with the mask filter (which goes first flips every round).
/// `run` returns one or more durations per request (one series each).
fn alternate(
    agents: &[ureq::Agent; 2],
    urls: &[String; 2],
    args: &Args,
    mut run: impl FnMut(&ureq::Agent, &str) -> Result<Vec<f64>>,
) -> Result<[Vec<Samples>; 2]> {
    let mut samples: [Vec<Samples>; 2] = [Vec::new(), Vec::new()];
    for round in 0..args.warmup + args.requests {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let values = run(&agents[i], &urls[i])?;
            if round < args.warmup {
                continue;
            }
            samples[i].resize_with(values.len(), Samples::default);
            for (series, v) in samples[i].iter_mut().zip(values) {
                series.ms.push(v);
            }
        }
    }
    Ok(samples)
}

fn post(agent: &ureq::Agent, url: &str, body: &[u8]) -> Result<ureq::Response> {
    let response = agent
        .post(&format!("{url}/v1/chat/completions"))
        .set("content-type", "application/json")
        .send_bytes(body)
        .with_context(|| format!("POST {url}"))?;
    Ok(response)
}

/// Milliseconds until the whole answer was read.
fn time_json(agent: &ureq::Agent, url: &str, body: &[u8]) -> Result<f64> {
    let start = Instant::now();
    let response = post(agent, url, body)?;
    let mut out = Vec::new();
    response.into_reader().read_to_end(&mut out)?;
    Ok(start.elapsed().as_secs_f64() * 1e3)
}

/// Milliseconds until the first body byte. The rest of the stream is read
/// but not timed: on loopback its end is dominated by TCP delayed-ACK
/// timing, not by the filters.
fn time_stream(agent: &ureq::Agent, url: &str, body: &[u8]) -> Result<Vec<f64>> {
    let start = Instant::now();
    let response = post(agent, url, body)?;
    let mut reader = response.into_reader();
    let mut first = [0u8; 1];
    if reader.read(&mut first)? == 0 {
        bail!("empty stream from {url}");
    }
    let ttfb = start.elapsed().as_secs_f64() * 1e3;
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest)?;
    Ok(vec![ttfb])
}

/// Makes sure bare Envoy passes PII and the mask filter masks it (in both
/// directions) before measuring anything.
fn check_configs(urls: &[String; 2], mask: &mut Service) -> Result<()> {
    let request = json_request(4 * 1024);
    let content = |url: &str| -> Result<String> {
        let response = client::post_json(&format!("{url}/v1/chat/completions"), &[], &request)?;
        if response.status != 200 {
            bail!("{url} answered {}: {}", response.status, response.body);
        }
        Ok(response.json()?["choices"][0]["message"]["content"].as_str().unwrap_or("").to_owned())
    };
    let bare = content(&urls[0])?;
    if !bare.contains("4111 1111 1111 1111") {
        bail!("bare Envoy should pass the answer as is: {bare}");
    }
    // The mask filter refuses requests until its first policy arrives.
    mask.wait_until(Duration::from_secs(20), || content(&urls[1]).is_ok())?;
    let masked = content(&urls[1])?;
    if masked.contains("4111") || !masked.contains("[CREDIT_CARD]") {
        bail!("the mask filter should mask the answer: {masked}");
    }
    let echo = json!({"model": "mock-small", "messages": [{"role": "user", "content": format!("{PII_LINE} [[mock {{\"echo\": true}}]]")}]});
    let echoed = client::post_json(&format!("{}/v1/chat/completions", urls[1]), &[], &echo)?.json()?;
    let echoed = echoed["choices"][0]["message"]["content"].as_str().unwrap_or("").to_owned();
    if echoed.contains("4111") || !echoed.contains("[CREDIT_CARD]") {
        bail!("the mask filter should mask the prompt: the model saw {echoed}");
    }
    Ok(())
}

fn report(rows: &[(String, Samples, Samples)], requests: usize) {
    println!("\nMask filter vs bare Envoy, {requests} requests each, alternating, one Envoy worker each (milliseconds):\n");
    println!("| workload | bare p50 | mask p50 | added p50 | p50 ratio | bare p99 | mask p99 | added p99 | p99 ratio |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, b, m) in rows {
        println!(
            "| {name} | {:.3} | {:.3} | {:+.3} | {:.2} | {:.3} | {:.3} | {:+.3} | {:.2} |",
            b.p50(),
            m.p50(),
            m.p50() - b.p50(),
            m.p50() / b.p50(),
            b.p99(),
            m.p99(),
            m.p99() - b.p99(),
            m.p99() / b.p99(),
        );
    }
}
