//! Project automation: `cargo xtask <command>`.
//!
//! - `setup`: installs what is missing (wasm toolchain, Envoy, test clients).
//! - `build`: native crates, and every filter into `target/filters/*.wasm`.
//! - `test`: every test, end-to-end included.
//! - `demo`: starts the stack and runs a scripted scenario.
//! - `bench`: load runs through Envoy, reported as ratios to baselines.
//! - `eval`: detection quality of the masking engine on Faker corpora.

mod build;
mod eval;
mod setup;
mod tools;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use xshell::{cmd, Shell};

/// Portcullis project automation.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Install whatever is missing. Safe to run again: it only does what is needed.
    Setup,
    /// Build the native crates and every filter to `target/filters/*.wasm`.
    Build,
    /// Run every test, end-to-end ones included (runs `setup` and `build` first).
    Test {
        /// Extra arguments for `cargo test`, e.g. a test name filter.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Benchmarks: load Envoy over loopback and report ratios against
    /// baselines measured in the same run.
    Bench {
        /// Seconds of load per configuration.
        #[arg(long, default_value_t = 8)]
        duration: u64,
    },
    /// Masking quality: generate labelled Faker corpora and print precision
    /// and recall per entity kind and the share of PII characters left unmasked.
    Eval {
        /// Samples per corpus.
        #[arg(long, default_value_t = 4000)]
        samples: u32,
        /// Seeds, one corpus each (comma-separated).
        #[arg(long, value_delimiter = ',', default_values_t = [7u64, 11, 23])]
        seeds: Vec<u64>,
        /// Lowest precision and recall accepted for checksum-validated kinds.
        #[arg(long, default_value_t = 0.99)]
        min: f64,
    },
    /// Start the stack and run a scripted scenario, printing each step.
    Demo {
        /// Keep the stack running afterwards and print its URLs (Ctrl-C stops it).
        #[arg(long)]
        serve: bool,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    match cli.command {
        Command::Setup => setup::run(&sh).map(|_| ()),
        Command::Build => {
            let tools = setup::run(&sh)?;
            build::all(&sh, &tools)
        }
        Command::Test { args } => {
            let tools = setup::run(&sh)?;
            build::all(&sh, &tools)?;
            step("test: cargo test --workspace (unit, integration and end-to-end)");
            let _env = tools.test_env(&sh);
            let everything = args.is_empty();
            cmd!(sh, "cargo test --workspace --locked {args...}").run()?;
            if everything {
                step("test: masking quality on a Faker corpus (`cargo xtask eval` runs the full set)");
                let quick = eval::EvalOptions { samples: 2000, seeds: vec![5], min: 0.99, release: false };
                eval::run(&sh, &tools.python(), &quick)?;
            }
            step("test: all passed");
            Ok(())
        }
        Command::Bench { duration } => {
            let tools = setup::run(&sh)?;
            build::all(&sh, &tools)?;
            setup::load_tools(&sh)?;
            let _env = tools.test_env(&sh);
            let duration = duration.to_string();
            step("bench: token verification: no auth vs Envoy jwt_authn vs the Portcullis token filter");
            cmd!(sh, "cargo run --quiet --locked -p portcullis-e2e --bin portcullis-bench -- --duration {duration}").run()?;
            step("bench: masking: bare Envoy vs the Portcullis mask filter (JSON latency, SSE time to first byte)");
            cmd!(sh, "cargo run --quiet --locked -p portcullis-e2e --bin portcullis-bench-mask").run()?;
            Ok(())
        }
        Command::Eval { samples, seeds, min } => {
            let python = setup::python_env(&sh)?.join("bin/python");
            eval::run(&sh, &python, &eval::EvalOptions { samples, seeds, min, release: true })
        }
        Command::Demo { serve } => {
            let tools = setup::run(&sh)?;
            build::all(&sh, &tools)?;
            let _env = tools.test_env(&sh);
            let serve = serve.then_some("--serve");
            step("demo: starting the stack");
            cmd!(sh, "cargo run --quiet --locked -p portcullis-e2e --bin portcullis-demo -- {serve...}").run()?;
            Ok(())
        }
    }
}

/// Prints a progress line for a step.
pub(crate) fn step(message: &str) {
    eprintln!("==> {message}");
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn project_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}
