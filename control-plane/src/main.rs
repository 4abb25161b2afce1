//! `portcullis`: the control-plane binary.

use clap::Parser;

use portcullis_control_plane::cli::{Cli, Command, PolicyCommand};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            portcullis_control_plane::telemetry::init();
            portcullis_control_plane::serve(args).await
        }
        Command::Policy(PolicyCommand::Check { file }) => portcullis_control_plane::cli::policy_check(&file),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
