//! Child processes that never outlive the harness.

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

/// A running child process, its output captured to a log file.
///
/// Dropping it stops the process: `SIGTERM`, then `SIGKILL` after a grace
/// period.
#[derive(Debug)]
pub struct Service {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

/// Returns a port that was free a moment ago on 127.0.0.1.
///
/// The port is taken from below the kernel's ephemeral range. A port handed
/// out by `bind(0)` is an ephemeral one, and between the moment it is
/// released and the moment a child binds it, any outgoing connection (a
/// readiness probe, a JWKS fetch) may pick it as its source port; Envoy then
/// fails with "Address already in use". Ports below the range are never
/// chosen for outgoing connections. Successive calls walk the range from an
/// offset derived from the process id, so two harness processes rarely meet,
/// and each candidate is checked by binding it.
pub fn free_port() -> Result<u16> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (low, high) = outside_ephemeral_range();
    let span = u32::from(high - low);
    let start = std::process::id().wrapping_mul(7919) % span;
    for _ in 0..span {
        let step = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = low + u16::try_from((start + step) % span).unwrap_or(0);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").context("no free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// The port range `[low, high)` just below the ephemeral range
/// (`net.ipv4.ip_local_port_range`), at most 16384 ports wide.
fn outside_ephemeral_range() -> (u16, u16) {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let high = ephemeral_low.max(2048);
    (high.saturating_sub(16384).max(1024), high)
}

impl Service {
    /// Starts `command`, logging stdout and stderr to `log`.
    ///
    /// The child is asked to die with the harness: the kernel sends it
    /// `SIGKILL` when the thread that spawned it exits, which covers a
    /// panicking test, Ctrl-C and a killed test process alike.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<Self> {
        let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone()?;
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        // SAFETY: `prctl(PR_SET_PDEATHSIG)` is async-signal-safe and touches
        // no memory of the parent; it is the documented way to tie a child's
        // life to its parent's on Linux.
        #[allow(unsafe_code)]
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().with_context(|| format!("could not start {name}"))?;
        Ok(Self { name: name.to_owned(), child: Some(child), log: log.to_owned() })
    }

    /// The operating-system process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The process name given at spawn.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The last `lines` lines of the process's output.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Fails with the log tail if the process has exited.
    pub fn check_running(&mut self) -> Result<()> {
        if let Some(child) = &mut self.child {
            if let Some(status) = child.try_wait()? {
                bail!("{} exited early ({status}); its log ends with:\n{}", self.name, self.log_tail(30));
            }
        }
        Ok(())
    }

    /// Waits until `probe` returns true, checking the process is alive.
    pub fn wait_until(&mut self, timeout: Duration, mut probe: impl FnMut() -> bool) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_running()?;
            if probe() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{} not ready after {timeout:?}; its log ends with:\n{}", self.name, self.log_tail(30));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the process: `SIGTERM`, then `SIGKILL` after two seconds.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: sending a signal to a child we own; no memory involved.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- {} log (last 40 lines) ---\n{}", self.name, self.log_tail(40));
        }
        self.stop();
    }
}
