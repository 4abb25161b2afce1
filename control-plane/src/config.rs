//! Settings of `portcullis serve`. Every flag can also come from the
//! environment, so the same binary runs from a shell, a unit file or a pod.

use std::path::PathBuf;

use clap::Args;

/// Settings of `portcullis serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on. Port 0 picks a free port (printed at start).
    #[arg(long, env = "PORTCULLIS_LISTEN", default_value = "127.0.0.1:7070")]
    pub listen: String,

    /// Database URL. SQLite (`sqlite://path/to/file.db`) is embedded and
    /// created on first use; migrations run at every start.
    #[arg(long, env = "PORTCULLIS_DATABASE_URL", default_value = "sqlite://portcullis.db")]
    pub database_url: String,

    /// Policy document to apply at start. A new version is stored only when
    /// its content differs from the version in force.
    #[arg(long, env = "PORTCULLIS_POLICY")]
    pub policy: Option<PathBuf>,

    /// Shared secret the filters present as `Authorization: Bearer ...`.
    /// Requests to the filter API without it are refused.
    #[arg(long, env = "PORTCULLIS_FLEET_TOKEN", hide_env_values = true)]
    pub fleet_token: String,
}
