//! The `portcullis` command line.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::admin_api::ApplyResponse;
use crate::admin_client::AdminClient;
use crate::config::ServeArgs;
use crate::store::VersionInfo;

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
    Serve(Box<ServeArgs>),
    /// Work with policy documents.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

/// `portcullis policy ...`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy document and print every problem found (offline).
    Check {
        /// The YAML policy document.
        file: PathBuf,
    },
    /// Apply a policy document (YAML, or JSON when the file ends in `.json`) to a
    /// running control plane; prints the version in force and any warnings.
    Apply {
        /// The policy document.
        file: PathBuf,
        /// Where the control plane is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List the policy versions of a running control plane, newest first.
    Versions {
        /// Where the control plane is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Print a policy version as YAML (the version in force by default).
    Show {
        /// The version to print.
        version: Option<u64>,
        /// Where the control plane is.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Apply an earlier version's document again, as a new version.
    Rollback {
        /// The version whose document is applied again.
        version: u64,
        /// Where the control plane is.
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// How to reach the admin API of a running control plane.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// Base URL of the control plane.
    #[arg(long, env = "PORTCULLIS_URL", default_value = "http://127.0.0.1:7070")]
    pub control_plane: String,
    /// Admin token of the control plane (its `--admin-token`).
    #[arg(long, env = "PORTCULLIS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: String,
}

impl ApiArgs {
    fn client(&self) -> anyhow::Result<AdminClient> {
        AdminClient::new(&self.control_plane, &self.admin_token)
    }
}

/// Runs a `portcullis policy` subcommand; prints its result to stdout.
pub async fn run_policy(command: PolicyCommand) -> anyhow::Result<()> {
    let output = match command {
        PolicyCommand::Check { file } => return policy_check(&file),
        PolicyCommand::Apply { file, api } => policy_apply(&api.client()?, &file).await?,
        PolicyCommand::Versions { api } => policy_versions(&api.client()?).await?,
        PolicyCommand::Show { version, api } => policy_show(&api.client()?, version).await?,
        PolicyCommand::Rollback { version, api } => policy_rollback(&api.client()?, version).await?,
    };
    print!("{output}");
    Ok(())
}

/// `portcullis policy check FILE`: prints the report; fails on errors.
pub fn policy_check(file: &Path) -> anyhow::Result<()> {
    let policy = crate::policy_file::load(file)?;
    println!("{}: valid policy `{}`", file.display(), policy.name);
    Ok(())
}

/// `portcullis policy apply FILE`: what to print.
pub async fn policy_apply(client: &AdminClient, file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).with_context(|| format!("could not read policy file {}", file.display()))?;
    let content_type = if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) { "application/json" } else { "application/yaml" };
    let applied = client.apply(text, content_type).await.with_context(|| format!("{} was not applied", file.display()))?;
    let mut out = if applied.created {
        format!("{}: applied as version {}\n", file.display(), applied.version)
    } else {
        format!("{}: already in force as version {}; nothing changed\n", file.display(), applied.version)
    };
    push_warnings(&mut out, &applied);
    Ok(out)
}

/// `portcullis policy versions`: a table, newest first.
pub async fn policy_versions(client: &AdminClient) -> anyhow::Result<String> {
    let versions = client.versions().await?;
    Ok(versions_table(&versions))
}

/// `portcullis policy show [VERSION]`: the document as YAML, after a comment line.
pub async fn policy_show(client: &AdminClient, version: Option<u64>) -> anyhow::Result<String> {
    let stored = client.get(version).await?;
    // Through JSON, so enums print as the maps operators write (`- header: {...}`), not YAML tags.
    let document = serde_json::to_value(&stored.policy).context("could not print the policy")?;
    let yaml = serde_yaml_ng::to_string(&document).context("could not print the policy as YAML")?;
    let info = &stored.info;
    Ok(format!("# version {}, applied {} by {}, sha256 {}\n{yaml}", info.version, info.applied_at, info.source, info.digest))
}

/// `portcullis policy rollback VERSION`: what to print.
pub async fn policy_rollback(client: &AdminClient, version: u64) -> anyhow::Result<String> {
    let applied = client.rollback(version).await.with_context(|| format!("could not roll back to version {version}"))?;
    let mut out = if applied.created {
        format!("rolled back to version {version}'s document: now in force as version {}\n", applied.version)
    } else {
        format!("version {version}'s document is already in force (version {}); nothing changed\n", applied.version)
    };
    push_warnings(&mut out, &applied);
    Ok(out)
}

fn push_warnings(out: &mut String, applied: &ApplyResponse) {
    for warning in &applied.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
}

fn versions_table(versions: &[VersionInfo]) -> String {
    if versions.is_empty() {
        return "no policy has been applied yet\n".to_owned();
    }
    let source_width = versions.iter().map(|v| v.source.len()).max().unwrap_or(0).max("SOURCE".len());
    let mut out = format!("{:>7}  {:<20}  {:<source_width$}  DIGEST\n", "VERSION", "APPLIED AT", "SOURCE");
    for (i, v) in versions.iter().enumerate() {
        let digest = v.digest.get(..12).unwrap_or(&v.digest);
        let marker = if i == 0 { "  (in force)" } else { "" };
        let _ = writeln!(out, "{:>7}  {:<20}  {:<source_width$}  {digest}{marker}", v.version, v.applied_at, v.source);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{options, serve, state, ADMIN};

    async fn client() -> AdminClient {
        let addr = serve(crate::app(state(options()).await)).await;
        AdminClient::new(&format!("http://{addr}/"), ADMIN).unwrap()
    }

    #[tokio::test]
    async fn apply_versions_show_and_rollback_through_the_api() {
        let client = client().await;
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first.yaml");
        std::fs::write(&first, "name: first\n").unwrap();
        let second = dir.path().join("second.json");
        std::fs::write(&second, r#"{"name": "second", "description": "two"}"#).unwrap();

        let out = policy_apply(&client, &first).await.unwrap();
        assert!(out.starts_with(&format!("{}: applied as version 1\n", first.display())), "{out}");
        assert!(out.contains("warning: description: is empty"), "{out}");
        let out = policy_apply(&client, &first).await.unwrap();
        assert!(out.contains("already in force as version 1"), "{out}");
        let out = policy_apply(&client, &second).await.unwrap();
        assert!(out.contains("applied as version 2"), "{out}");

        let table = policy_versions(&client).await.unwrap();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[0].contains("VERSION") && lines[0].contains("SOURCE"));
        assert!(lines[1].trim_start().starts_with('2') && lines[1].ends_with("(in force)"), "{table}");
        assert!(lines[2].trim_start().starts_with('1') && lines[2].contains("api"), "{table}");

        let out = policy_rollback(&client, 1).await.unwrap();
        assert!(out.contains("now in force as version 3"), "{out}");
        let shown = policy_show(&client, None).await.unwrap();
        assert!(shown.starts_with("# version 3, applied ") && shown.contains("by api:rollback:1"), "{shown}");
        assert!(shown.contains("name: first"), "{shown}");
        assert!(policy_show(&client, Some(2)).await.unwrap().contains("name: second"));
        // What `show` prints applies again as the same document.
        let shown_file = dir.path().join("shown.yaml");
        std::fs::write(&shown_file, &shown).unwrap();
        assert!(policy_apply(&client, &shown_file).await.unwrap().contains("already in force as version 3"));
    }

    #[tokio::test]
    async fn refusals_list_every_problem() {
        let client = client().await;
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "name: ''\nidentity:\n  targets:\n    - name: t\n      hosts: []\n      path_prefix: v1\n").unwrap();
        let error = format!("{:#}", policy_apply(&client, &bad).await.unwrap_err());
        assert!(error.contains("was not applied: the control plane answered 422 (invalid_document)"), "{error}");
        for line in ["\n  error: name: ", "\n  error: identity.targets[0].hosts: ", "\n  error: identity.targets[0].path_prefix: "] {
            assert!(error.contains(line), "{line} missing from {error}");
        }

        let error = format!("{:#}", policy_rollback(&client, 7).await.unwrap_err());
        assert!(error.contains("404 (not_found)") && error.contains("version 7 does not exist"), "{error}");

        let wrong = AdminClient::new(client.base_url(), "not-the-token").unwrap();
        let error = format!("{:#}", policy_versions(&wrong).await.unwrap_err());
        assert!(error.contains("401 (unauthorized)"), "{error}");

        let nowhere = AdminClient::new("http://127.0.0.1:1", ADMIN).unwrap();
        let error = format!("{:#}", policy_versions(&nowhere).await.unwrap_err());
        assert!(error.contains("could not reach the control plane at http://127.0.0.1:1"), "{error}");
    }

    #[test]
    fn api_flags_parse_with_their_defaults() {
        let cli = Cli::try_parse_from(["portcullis", "policy", "rollback", "3", "--admin-token", "t"]).unwrap();
        let Command::Policy(PolicyCommand::Rollback { version, api }) = cli.command else { panic!("{cli:?}") };
        assert_eq!(version, 3);
        assert_eq!(api.admin_token, "t");
        if std::env::var_os("PORTCULLIS_URL").is_none() {
            assert_eq!(api.control_plane, "http://127.0.0.1:7070");
        }
    }
}
