//! The database pool and its migrations.

use std::str::FromStr;

use anyhow::Context as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::SqlitePool;

/// Opens (creating if needed) the database and runs pending migrations.
pub async fn connect(url: &str) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("invalid database URL `{url}`: expected sqlite://path/to/file.db"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("could not open database `{url}`"))?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Runs the numbered migrations in `control-plane/migrations`.
pub async fn migrate(pool: &SqlitePool) -> anyhow::Result<()> {
    sqlx::migrate!("./migrations").run(pool).await.context("database migration failed")?;
    Ok(())
}

/// An empty in-memory database, migrated: for tests.
pub async fn in_memory() -> anyhow::Result<SqlitePool> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::from_str("sqlite::memory:")?)
        .await?;
    migrate(&pool).await?;
    Ok(pool)
}
