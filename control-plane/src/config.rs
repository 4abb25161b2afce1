//! Settings of `portcullis serve`. Every flag can also come from the
//! environment, so the same binary runs from a shell, a unit file or a pod.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::bundle::BundleSettings;
use crate::jwks::JwksSettings;
use crate::state::StateOptions;

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

    /// Token operators present as `Authorization: Bearer ...` to the policy API
    /// (`/v1/policy...`: apply, list, show, roll back). Without it the policy API is
    /// off and answers 503. Must differ from the fleet token.
    #[arg(long, env = "PORTCULLIS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Shortest time, in seconds, between two fetches of one identity provider's keys:
    /// the floor for the provider's `Cache-Control: max-age`, and the rate limit of the
    /// early refetches filters ask for when they meet an unknown key id.
    #[arg(long, env = "PORTCULLIS_JWKS_MIN_REFRESH_SECS", default_value_t = 30)]
    pub jwks_min_refresh_secs: u64,

    /// Longest time, in seconds, provider keys are served without a refetch: the
    /// ceiling for the provider's `Cache-Control: max-age` (five minutes are used when
    /// the provider sends none).
    #[arg(long, env = "PORTCULLIS_JWKS_MAX_AGE_SECS", default_value_t = 3600)]
    pub jwks_max_age_secs: u64,

    /// Timeout, in seconds, of one request to a provider's discovery document or key set.
    #[arg(long, env = "PORTCULLIS_JWKS_TIMEOUT_SECS", default_value_t = 10)]
    pub jwks_timeout_secs: u64,

    /// Directory of secrets named by `secret_ref` in the policy: the secret `openai-key`
    /// is the file `DIR/openai-key`, trimmed. Secrets not found there are read from
    /// `PORTCULLIS_SECRET_<NAME>` variables (name upper-cased, other characters as `_`).
    /// Resolved secrets go into the bundles served to filters only: never into the
    /// database, the policy API or the log.
    #[arg(long, env = "PORTCULLIS_SECRETS_DIR")]
    pub secrets_dir: Option<PathBuf>,

    /// How often, in seconds, secrets are read again, so a rotated secret reaches the
    /// filters without a restart.
    #[arg(long, env = "PORTCULLIS_SECRETS_RECHECK_SECS", default_value_t = 10)]
    pub secrets_recheck_secs: u64,
}

impl ServeArgs {
    /// The handlers' settings these flags describe.
    pub fn state_options(&self) -> StateOptions {
        StateOptions {
            admin_token: self.admin_token.clone(),
            bundle: BundleSettings {
                jwks: JwksSettings {
                    min_refresh: Duration::from_secs(self.jwks_min_refresh_secs),
                    max_age: Duration::from_secs(self.jwks_max_age_secs),
                    timeout: Duration::from_secs(self.jwks_timeout_secs.max(1)),
                    ..JwksSettings::default()
                },
                secrets_dir: self.secrets_dir.clone(),
                secrets_recheck: Duration::from_secs(self.secrets_recheck_secs),
            },
        }
    }
}
