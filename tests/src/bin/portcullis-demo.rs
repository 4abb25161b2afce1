//! `cargo xtask demo`: starts the stack and walks a request through it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use portcullis_e2e::{client, paths, python, Stack, StackOptions};
use serde_json::{json, Value};

fn step(n: u32, text: &str) {
    println!("\n[{n}] {text}");
}

fn main() -> Result<()> {
    let serve = std::env::args().any(|a| a == "--serve");
    let policy_path = paths::project_root().join("examples/policies/demo.yaml");
    let policy = std::fs::read_to_string(&policy_path).with_context(|| format!("cannot read {}", policy_path.display()))?;

    step(1, "Starting the control plane, the mock model and Envoy with the Portcullis gate filter");
    let mut stack = Stack::start(StackOptions { policy, poll_interval_ms: 1000, ..StackOptions::default() })?;
    println!("    envoy (clients talk here)  {}", stack.ingress_url());
    println!("    control plane              {}", stack.control_plane_url());
    println!("    mock model (behind Envoy)  {}", stack.model_url());
    println!("    the gate filter loaded policy version {}", stack.wait_for_policy(None)?);

    let url = format!("{}/v1/chat/completions", stack.ingress_url());
    step(2, "POST /v1/chat/completions through Envoy (not streamed)");
    let body = json!({"model": "mock-small", "messages": [{"role": "user", "content": "Hello, Portcullis!"}]});
    println!("    client → Envoy → gate filter → mock model: {body}");
    let response = client::post_json(&url, &[], &body)?;
    println!(
        "    ← HTTP {} x-portcullis-policy-version: {}",
        response.status,
        response.header("x-portcullis-policy-version").unwrap_or("(none)")
    );
    println!("    ← answer: {}", response.json()?["choices"][0]["message"]["content"]);

    step(3, "The same, streamed (server-sent events, printed as they arrive)");
    let body = json!({"model": "mock-small", "stream": true, "messages": [{"role": "user",
        "content": "[[mock {\"reply\": \"Streaming through the gateway, one word at a time.\", \"delay_ms\": 80}]]"}]});
    let response = client::post_sse(&url, &[], &body, |data| {
        let piece = serde_json::from_str::<Value>(data).ok().and_then(|e| e["choices"][0]["delta"]["content"].as_str().map(str::to_owned));
        match piece {
            Some(text) if !text.is_empty() => println!("    ← event: {text:?}"),
            _ if data == "[DONE]" => println!("    ← event: [DONE]"),
            _ => {}
        }
    })?;
    println!("    ← HTTP {}, policy version {}", response.status, response.header("x-portcullis-policy-version").unwrap_or("(none)"));

    step(4, "The official openai Python client, streaming and not");
    match python::run_client("openai_chat.py", &[("PORTCULLIS_BASE_URL", &stack.ingress_url())]) {
        Ok(seen) => {
            println!("    non-streamed answer: {}", seen["non_stream"]["content"]);
            println!("    streamed pieces:     {}", seen["stream"]["pieces"]);
            println!("    a 429 from the model reaches the client as: {}", seen["rate_limited"]["message"]);
        }
        Err(e) => println!("    skipped: {e:#}"),
    }

    step(5, "The control plane goes away: the filter keeps the last policy it had");
    stack.stop_control_plane();
    std::thread::sleep(Duration::from_millis(2500));
    let response = client::post_json(&url, &[], &json!({"model": "mock-small", "messages": [{"role": "user", "content": "Are you still there?"}]}))?;
    println!(
        "    ← HTTP {} with policy version {}",
        response.status,
        response.header("x-portcullis-policy-version").unwrap_or("(none)")
    );

    step(6, "The control plane returns with a changed policy: Envoy picks up version 2 without a restart");
    stack.restart_control_plane("name: demo\ndescription: The second version of the demo policy.\n")?;
    println!("    the gate filter now enforces policy version {}", stack.wait_for_policy(Some(2))?);

    if serve {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).context("could not install the Ctrl-C handler")?;
        println!("\nThe stack keeps running. Try:");
        println!(
            "    curl -s {url} -H 'content-type: application/json' -d '{{\"model\":\"mock-small\",\"messages\":[{{\"role\":\"user\",\"content\":\"hi\"}}]}}'"
        );
        println!("    envoy admin    {}", stack.admin_url());
        println!("    control plane  {}/healthz", stack.control_plane_url());
        let pids: Vec<String> = stack.processes().iter().map(|(name, pid)| format!("{name}={pid}")).collect();
        println!("    processes      {}", pids.join(" "));
        println!("Press Ctrl-C to stop.");
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(200));
        }
        let names: Vec<&str> = stack.processes().iter().map(|(name, _)| *name).collect();
        println!("stopping {}", names.join(", "));
    }
    println!("\nDemo finished; every process stopped.");
    Ok(())
}
