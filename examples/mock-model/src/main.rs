//! `portcullis-mock-model`: serves the mock model API until SIGINT/SIGTERM.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// A deterministic, prompt-steered stand-in for the OpenAI and Anthropic
/// model APIs.
#[derive(Debug, Parser)]
#[command(name = "portcullis-mock-model", version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free port (the bound address is
    /// printed on stdout).
    #[arg(long, env = "PORTCULLIS_MOCK_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let shutdown = shutdown_signal()?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "portcullis-mock-model listening on http://{addr}")?;
        stdout.flush()?;
    }
    tracing::info!(%addr, "serving");
    axum::serve(listener, portcullis_mock_model::app())
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving")?;
    tracing::info!("shut down");
    Ok(())
}

/// Installs the SIGINT and SIGTERM handlers now (so a signal that arrives
/// right after the readiness line is not lost) and returns a future that
/// resolves on the first of them.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    Ok(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        tracing::info!("{name} received, shutting down");
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
