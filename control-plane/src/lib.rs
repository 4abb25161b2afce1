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
//! - [`routes`]: the HTTP API, assembled by [`app`]; [`admin_api`] has the bodies of
//!   its admin part.

pub mod admin_api;
pub mod admin_client;
pub mod bundle;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod jwks;
pub mod policy_file;
pub mod routes;
pub mod secrets;
pub mod state;
pub mod store;
pub mod telemetry;

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
    if !state.admin_enabled() {
        tracing::info!("no admin token: the policy API (/v1/policy) is disabled; set --admin-token to enable it");
    }
    let addr = listener.local_addr()?;
    println!("portcullis control plane listening on http://{addr}");
    tracing::info!(%addr, "control plane ready");
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown_signal()).await?;
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
