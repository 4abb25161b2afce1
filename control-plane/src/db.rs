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

#[cfg(test)]
mod tests {
    use super::*;

    /// An in-memory database migrated up to, not including, migration
    /// `version`, holding one hold `h1` of alice.
    async fn before_migration(version: i64) -> SqlitePool {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").unwrap().foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        let mut before = sqlx::migrate!("./migrations");
        before.migrations = before.migrations.iter().filter(|m| m.version < version).cloned().collect::<Vec<_>>().into();
        before.run(&pool).await.unwrap();
        sqlx::query("INSERT INTO holds (id, status, subject, groups, provider, target, rules, excerpt, reason, method, path, request_digest, created_at, expires_at) VALUES ('h1', 'approved', 'alice', '[]', 'corp', 'model', '[]', '', '', 'POST', '/v1', 'a', 1, 2)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    /// Migration 0004 rebuilds the audit table to allow a new kind: an existing
    /// database keeps every row and sequence number, and stays append-only.
    #[tokio::test]
    async fn the_audit_table_rebuild_keeps_rows_and_triggers() {
        let pool = before_migration(4).await;
        for kind in ["created", "approved", "grant_created"] {
            sqlx::query("INSERT INTO hold_events (hold_id, kind, actor, at) VALUES ('h1', ?, 'bob', 1)").bind(kind).execute(&pool).await.unwrap();
        }
        sqlx::query("DELETE FROM hold_events WHERE seq = 2").execute(&pool).await.expect_err("append-only before");

        migrate(&pool).await.unwrap();
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT seq, kind FROM hold_events ORDER BY seq").fetch_all(&pool).await.unwrap();
        assert_eq!(rows, vec![(1, "created".into()), (2, "approved".into()), (3, "grant_created".into())]);
        sqlx::query("INSERT INTO hold_events (hold_id, kind, actor, at) VALUES ('h1', 'grant_revoked', 'carol', 2)").execute(&pool).await.unwrap();
        let last: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM hold_events").fetch_one(&pool).await.unwrap();
        assert_eq!(last, 4, "numbering goes on after the copied rows");
        let update = sqlx::query("UPDATE hold_events SET actor = 'mallory' WHERE seq = 1").execute(&pool).await;
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = sqlx::query("DELETE FROM hold_events").execute(&pool).await;
        assert!(delete.unwrap_err().to_string().contains("append-only"));
        sqlx::query("INSERT INTO hold_events (hold_id, kind, actor, at) VALUES ('h1', 'rewritten', 'x', 3)").execute(&pool).await.expect_err("unknown kinds are still refused");
    }

    /// Migration 0005 keys votes by (hold, provider, subject): existing votes
    /// stay, the same subject may vote again from another provider, not twice
    /// from one.
    #[tokio::test]
    async fn votes_are_keyed_by_provider_and_subject() {
        let pool = before_migration(5).await;
        let vote = |provider: &'static str| {
            sqlx::query("INSERT INTO hold_decisions (hold_id, approver, provider, groups, decision, reason, decided_at) VALUES ('h1', 'bob', ?, '[\"ops\"]', 'approve', 'ok', 1)").bind(provider)
        };
        vote("corp").execute(&pool).await.unwrap();
        vote("partner").execute(&pool).await.expect_err("one vote per subject before");

        migrate(&pool).await.unwrap();
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT approver, provider, reason FROM hold_decisions").fetch_all(&pool).await.unwrap();
        assert_eq!(rows, vec![("bob".into(), "corp".into(), "ok".into())]);
        vote("partner").execute(&pool).await.unwrap();
        vote("partner").execute(&pool).await.expect_err("one vote per subject at a provider");
    }
}
