//! Settings of `portcullis serve`. Every flag can also come from the
//! environment, so the same binary runs from a shell, a unit file or a pod.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::approval::ApprovalSettings;
use crate::bundle::BundleSettings;
use crate::jwks::JwksSettings;
use crate::state::StateOptions;
use crate::webhook::WebhookSettings;

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

    /// Groups whose members may approve or deny held requests (comma-separated), as
    /// the `groups` of their OIDC tokens from the policy's identity providers. Without
    /// any, nobody can decide and held requests expire. The policy's guard settings are
    /// meant to override this.
    #[arg(long, env = "PORTCULLIS_APPROVER_GROUPS", value_delimiter = ',')]
    pub approver_groups: Vec<String>,

    /// Distinct approvers who must approve a held request; one denial always denies it.
    #[arg(long, env = "PORTCULLIS_QUORUM", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub quorum: u32,

    /// Groups (comma-separated) each of which at least one approving approver must
    /// belong to, on top of the quorum: `security,team-leads` asks for one of each.
    #[arg(long, env = "PORTCULLIS_QUORUM_GROUPS", value_delimiter = ',')]
    pub quorum_groups: Vec<String>,

    /// How long, in seconds, a held request waits for a decision before it expires,
    /// when the filter does not say (at most a day).
    #[arg(long, env = "PORTCULLIS_HOLD_TTL_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub hold_ttl_secs: u64,

    /// Require a reason with every approval and denial.
    #[arg(long, env = "PORTCULLIS_REQUIRE_REASON", default_value_t = false)]
    pub require_reason: bool,

    /// Longest just-in-time grant, in minutes, an approval may create (`grant_minutes`).
    #[arg(long, env = "PORTCULLIS_MAX_GRANT_MINUTES", default_value_t = 480, value_parser = clap::value_parser!(u32).range(1..=10_080))]
    pub max_grant_minutes: u32,

    /// Webhook (Slack-compatible: `{"text", "blocks"}`) to post new holds and decisions
    /// to. Messages carry the masked excerpt, never secrets; failures are logged.
    #[arg(long, env = "PORTCULLIS_WEBHOOK_URL", hide_env_values = true)]
    pub webhook_url: Option<String>,

    /// Timeout, in seconds, of one webhook delivery.
    #[arg(long, env = "PORTCULLIS_WEBHOOK_TIMEOUT_SECS", default_value_t = 5)]
    pub webhook_timeout_secs: u64,

    /// Address approvers reach the control plane at (such as `https://portcullis.example`),
    /// for links to the approvals page in webhook messages.
    #[arg(long, env = "PORTCULLIS_PUBLIC_URL")]
    pub public_url: Option<String>,
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
            approval: ApprovalSettings {
                approver_groups: clean(&self.approver_groups),
                rule_approver_groups: Vec::new(),
                quorum: self.quorum,
                quorum_groups: clean(&self.quorum_groups),
                hold_ttl: Duration::from_secs(self.hold_ttl_secs),
                require_reason: self.require_reason,
                max_grant_minutes: self.max_grant_minutes,
            },
            webhook: self.webhook_url.as_ref().filter(|url| !url.trim().is_empty()).map(|url| WebhookSettings {
                url: url.trim().to_owned(),
                timeout: Duration::from_secs(self.webhook_timeout_secs.max(1)),
                public_url: self.public_url.clone(),
            }),
        }
    }
}

/// Group names trimmed, without empty ones or repeats.
fn clean(groups: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for group in groups.iter().map(|g| g.trim()).filter(|g| !g.is_empty()) {
        if !out.iter().any(|g| g == group) {
            out.push(group.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    #[test]
    fn approval_flags_fill_the_settings_with_sane_defaults() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["serve", "--fleet-token", "f"];
            argv.extend_from_slice(extra);
            Serve::try_parse_from(argv).map(|s| s.args.state_options())
        };
        // Defaults, unless the environment of the test run sets them.
        if std::env::vars().all(|(name, _)| !name.starts_with("PORTCULLIS_")) {
            let options = parse(&[]).unwrap();
            assert_eq!(options.approval, ApprovalSettings::default());
            assert!(options.webhook.is_none());
        }
        let options = parse(&["--approver-groups", "sec, ops,,sec", "--quorum", "2", "--hold-ttl-secs", "60", "--require-reason", "--webhook-url", "https://hooks.example/x"]).unwrap();
        assert_eq!(options.approval.approver_groups, ["sec", "ops"]);
        assert_eq!((options.approval.quorum, options.approval.hold_ttl.as_secs(), options.approval.require_reason), (2, 60, true));
        assert_eq!(options.webhook.unwrap().url, "https://hooks.example/x");
        assert!(parse(&["--quorum", "0"]).is_err());
        assert!(parse(&["--hold-ttl-secs", "0"]).is_err());
    }
}
