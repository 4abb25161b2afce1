//! Versioned policy storage.
//!
//! Every applied document becomes a new row; nothing is ever updated or
//! deleted. Applying a document identical to the version in force is a
//! no-op, so restarting with the same `--policy` file does not bump the
//! version and filters do not reload.

use anyhow::Context as _;
use portcullis_policy::{Policy, PolicyBundle};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

/// Stored policy versions.
#[derive(Debug, Clone)]
pub struct PolicyStore {
    pool: SqlitePool,
}

/// What `apply` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// The version in force afterwards.
    pub version: u64,
    /// Whether a new version was stored (false when nothing changed).
    pub created: bool,
}

/// One row of the version history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Version number.
    pub version: u64,
    /// SHA-256 of the canonical JSON document.
    pub digest: String,
    /// Who or what applied it.
    pub source: String,
    /// When, RFC 3339 UTC.
    pub applied_at: String,
}

/// One stored version with its document, as written (secrets by name only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPolicy {
    /// Version, digest, source and time.
    #[serde(flatten)]
    pub info: VersionInfo,
    /// The document.
    pub policy: Policy,
}

impl PolicyStore {
    /// Wraps a migrated pool.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The database pool, for health checks.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Stores `policy` as a new version unless it equals the current one.
    pub async fn apply(&self, policy: &Policy, source: &str) -> anyhow::Result<ApplyOutcome> {
        let document = serde_json::to_string(policy).context("could not serialise the policy")?;
        let digest = hex_sha256(&document);
        let mut tx = self.pool.begin().await?;
        let latest = sqlx::query("SELECT version, digest FROM policy_versions ORDER BY version DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = &latest {
            let version: i64 = row.try_get("version")?;
            let current_digest: String = row.try_get("digest")?;
            if current_digest == digest {
                return Ok(ApplyOutcome { version: to_version(version)?, created: false });
            }
        }
        let next: i64 = match &latest {
            Some(row) => row.try_get::<i64, _>("version")? + 1,
            None => 1,
        };
        let applied_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        sqlx::query("INSERT INTO policy_versions (version, document, digest, source, applied_at) VALUES (?, ?, ?, ?, ?)")
            .bind(next)
            .bind(&document)
            .bind(&digest)
            .bind(source)
            .bind(&applied_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ApplyOutcome { version: to_version(next)?, created: true })
    }

    /// The version in force, if any policy was ever applied.
    pub async fn current(&self) -> anyhow::Result<Option<PolicyBundle>> {
        let row = sqlx::query("SELECT version, document FROM policy_versions ORDER BY version DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let version: i64 = row.try_get("version")?;
        let document: String = row.try_get("document")?;
        let policy: Policy = serde_json::from_str(&document)
            .with_context(|| format!("stored policy version {version} no longer parses"))?;
        Ok(Some(PolicyBundle { version: to_version(version)?, policy }))
    }

    /// The number of the version in force; cheaper than [`Self::current`].
    pub async fn current_version(&self) -> anyhow::Result<Option<u64>> {
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM policy_versions").fetch_one(&self.pool).await?;
        version.map(to_version).transpose()
    }

    /// The version in force with its details.
    pub async fn latest(&self) -> anyhow::Result<Option<StoredPolicy>> {
        let row = sqlx::query("SELECT version, document, digest, source, applied_at FROM policy_versions ORDER BY version DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(stored_policy).transpose()
    }

    /// One version with its details; `None` when it does not exist.
    pub async fn get(&self, version: u64) -> anyhow::Result<Option<StoredPolicy>> {
        let Ok(version) = i64::try_from(version) else { return Ok(None) };
        let row = sqlx::query("SELECT version, document, digest, source, applied_at FROM policy_versions WHERE version = ?")
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(stored_policy).transpose()
    }

    /// The whole history, newest first.
    pub async fn versions(&self) -> anyhow::Result<Vec<VersionInfo>> {
        let rows = sqlx::query("SELECT version, digest, source, applied_at FROM policy_versions ORDER BY version DESC")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(VersionInfo {
                    version: to_version(row.try_get("version")?)?,
                    digest: row.try_get("digest")?,
                    source: row.try_get("source")?,
                    applied_at: row.try_get("applied_at")?,
                })
            })
            .collect()
    }
}

fn stored_policy(row: &SqliteRow) -> anyhow::Result<StoredPolicy> {
    let version: i64 = row.try_get("version")?;
    let document: String = row.try_get("document")?;
    let policy: Policy = serde_json::from_str(&document)
        .with_context(|| format!("stored policy version {version} no longer parses"))?;
    Ok(StoredPolicy {
        info: VersionInfo {
            version: to_version(version)?,
            digest: row.try_get("digest")?,
            source: row.try_get("source")?,
            applied_at: row.try_get("applied_at")?,
        },
        policy,
    })
}

fn to_version(v: i64) -> anyhow::Result<u64> {
    u64::try_from(v).context("negative policy version in the database")
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str) -> Policy {
        Policy { description: "d".into(), ..Policy::named(name) }
    }

    #[tokio::test]
    async fn versions_increase_and_duplicates_are_no_ops() {
        let store = PolicyStore::new(crate::db::in_memory().await.unwrap());
        assert!(store.current().await.unwrap().is_none());
        assert_eq!(store.apply(&policy("a"), "t").await.unwrap(), ApplyOutcome { version: 1, created: true });
        assert_eq!(store.apply(&policy("a"), "t").await.unwrap(), ApplyOutcome { version: 1, created: false });
        assert_eq!(store.apply(&policy("b"), "t").await.unwrap(), ApplyOutcome { version: 2, created: true });
        assert_eq!(store.apply(&policy("a"), "t").await.unwrap(), ApplyOutcome { version: 3, created: true });
        let current = store.current().await.unwrap().unwrap();
        assert_eq!((current.version, current.policy.name.as_str()), (3, "a"));
        let history = store.versions().await.unwrap();
        assert_eq!(history.iter().map(|v| v.version).collect::<Vec<_>>(), vec![3, 2, 1]);
        assert_eq!(history[0].digest, history[2].digest);
        assert_eq!(store.current_version().await.unwrap(), Some(3));
        let second = store.get(2).await.unwrap().unwrap();
        assert_eq!((second.info.version, second.policy.name.as_str()), (2, "b"));
        assert_eq!(store.latest().await.unwrap().unwrap().info, history[0]);
        assert!(store.get(9).await.unwrap().is_none());
        assert!(store.get(u64::MAX).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_empty_store_has_no_version() {
        let store = PolicyStore::new(crate::db::in_memory().await.unwrap());
        assert_eq!(store.current_version().await.unwrap(), None);
        assert!(store.latest().await.unwrap().is_none());
    }
}
