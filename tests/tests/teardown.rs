//! No process outlives the harness: neither after Ctrl-C nor when the
//! harness itself is killed.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use portcullis_e2e::paths;

/// Starts `portcullis-demo --serve` and returns it with the pids it reports.
fn serving_demo() -> (std::process::Child, Vec<i32>) {
    let mut demo = Command::new(paths::workspace_binary("portcullis-demo").unwrap())
        .arg("--serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = demo.stdout.take().unwrap();
    let mut pids = Vec::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(list) = line.trim().strip_prefix("processes") {
            pids = list.split_whitespace().filter_map(|p| p.rsplit('=').next()?.parse().ok()).collect();
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    // Keep reading, so the demo never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    assert_eq!(pids.len(), 3, "the demo should report three processes");
    for pid in &pids {
        assert!(alive(*pid), "process {pid} should run while the demo serves");
    }
    (demo, pids)
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

fn wait_all_gone(pids: &[i32]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) {
        assert!(Instant::now() < deadline, "still running after teardown: {:?}", pids.iter().filter(|p| alive(**p)).collect::<Vec<_>>());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(pid: u32, signal: i32) {
    let status = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_stops_every_process() {
    let (mut demo, pids) = serving_demo();
    signal(demo.id(), 2); // SIGINT, as Ctrl-C sends
    let status = demo.wait().unwrap();
    assert!(status.success(), "the demo should exit cleanly on Ctrl-C: {status}");
    wait_all_gone(&pids);
}

#[test]
fn killing_the_harness_stops_every_process() {
    let (mut demo, pids) = serving_demo();
    signal(demo.id(), 9); // SIGKILL: no chance to clean up
    let _ = demo.wait();
    wait_all_gone(&pids);
}
