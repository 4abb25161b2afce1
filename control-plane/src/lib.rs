//! The Portcullis control plane.
//!
//! It stores every version of the policy, validates documents before they
//! are applied, and serves the current version to the filters, which poll
//! it with `If-None-Match`.
//!
//! - [`cli`]: the `portcullis` command line; [`admin_client`] calls the admin API for it.
//! - [`config`]: settings of `portcullis serve`, from flags or environment.
//! - [`db`]: the database pool and its migrations.
//! - [`policy_file`]: reading and validating a policy document.
//! - [`store`]: versioned policy storage.
//! - [`bundle`]: the bundle served to filters: the stored policy with provider keys
//!   ([`jwks`]) and secrets ([`secrets`]) filled in, cached with its ETag.
//! - [`holds`]: requests filters hold until humans approve them: storage
//!   ([`hold_store`]), the quorum rule and its settings ([`approval`]), secret scrubbing
//!   of excerpts ([`scrub`]), live notifications ([`hold_feed`]), the chat webhook
//!   ([`webhook`]), and approvers' sign-in ([`approvers`]).
//! - [`routes`]: the HTTP API, assembled by [`app`]; [`admin_api`] has the bodies of
//!   its admin part, [`hold_api`] those of the hold and approval part. It also serves
//!   the approvers' page (`/approvals/`) and its OpenAPI document (`/openapi.yaml`).

pub mod admin_api;
pub mod admin_client;
pub mod approval;
pub mod approvers;
pub mod bundle;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod hold_api;
pub mod hold_feed;
pub mod hold_store;
pub mod holds;
pub mod jwks;
pub mod policy_file;
pub mod routes;
pub mod scrub;
pub mod secrets;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod webhook;

#[cfg(test)]
mod testing;

use anyhow::Context as _;

pub use routes::app;
pub use state::AppState;

/// Runs `portcullis serve` until SIGINT or SIGTERM.
pub async fn serve(args: config::ServeArgs) -> anyhow::Result<()> {
    let pool = db::connect(&args.database_url).await?;
    let store = store::PolicyStore::new(pool);
    let state = AppState::new(store.clone(), &args.fleet_token, args.state_options())?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("could not listen on {}: is the port free?", args.listen))?;
    if let Some(path) = &args.policy {
        let policy = policy_file::load(path)?;
        let source = format!("file:{}", path.display());
        let warnings = state.bundles.prepare(&policy).await;
        let outcome = store.apply(&policy, &source).await?;
        tracing::info!(version = outcome.version, created = outcome.created, "policy from {} in force", path.display());
        for warning in warnings {
            tracing::warn!(path = %warning.path, "{}: {}", path.display(), warning.message);
        }
    } else if let Some(current) = store.latest().await? {
        // Fetch the keys before the first filter asks for the bundle.
        for warning in state.bundles.prepare(&current.policy).await {
            tracing::warn!(version = current.info.version, path = %warning.path, "{}", warning.message);
        }
    }
    let approval = state.holds.settings();
    if approval.approver_groups.is_empty() {
        tracing::warn!("no approver groups: held requests can only expire; set --approver-groups to let people approve them");
    } else {
        tracing::info!(groups = ?approval.approver_groups, quorum = approval.quorum, "approvals at /approvals/");
    }
    if !state.admin_enabled() {
        tracing::info!("no admin token: the policy API (/v1/policy) is disabled; set --admin-token to enable it");
    }
    let addr = listener.local_addr()?;
    println!("portcullis control plane listening on http://{addr}");
    tracing::info!(%addr, "control plane ready");
    let feed = state.holds.feed().clone();
    let shutdown = async move {
        shutdown_signal().await;
        // Event streams and long-polls end now rather than hold the shutdown up.
        feed.shut_down();
    };
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
