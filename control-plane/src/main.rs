//! `portcullis`: the control-plane binary.

use clap::Parser;

use portcullis_control_plane::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            portcullis_control_plane::telemetry::init();
            portcullis_control_plane::serve(*args).await
        }
        Command::Policy(command) => portcullis_control_plane::cli::run_policy(command).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
