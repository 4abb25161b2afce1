//! The `portcullis` command line.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::config::ServeArgs;

/// Portcullis control plane: versioned policy for the Portcullis filters.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the control plane.
    Serve(ServeArgs),
    /// Work with policy documents.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

/// `portcullis policy ...`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy document and print every problem found.
    Check {
        /// The YAML policy document.
        file: PathBuf,
    },
}

/// `portcullis policy check FILE`: prints the report; fails on errors.
pub fn policy_check(file: &Path) -> anyhow::Result<()> {
    let policy = crate::policy_file::load(file)?;
    println!("{}: valid policy `{}`", file.display(), policy.name);
    Ok(())
}
