//! Storage of holds, votes, grants and the audit trail (tables of
//! `migrations/0002_holds.sql` and later).
//!
//! Every function takes a connection, so the hold service runs several of them in one
//! transaction. Times are Unix milliseconds.

use anyhow::Context as _;
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::hold_api::{Decision, DecisionInfo, EventKind, GrantDetail, GrantInfo, HoldApproval, HoldEventInfo, HoldIdentity, HoldStatus, MatchedRule};

/// Columns of a hold, and its approval count.
const HOLD_COLUMNS: &str = "h.id, h.status, h.subject, h.groups, h.client_id, h.provider, h.target, h.rules, h.excerpt, h.reason, h.method, h.path, h.model, h.request_digest, h.created_at, h.expires_at, h.decided_at, h.decided_by, h.decision_reason, h.approval, (SELECT COUNT(*) FROM hold_decisions d WHERE d.hold_id = h.id AND d.decision = 'approve') AS approvals";

/// One hold as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRow {
    /// Its id.
    pub id: String,
    /// Where it stands.
    pub status: HoldStatus,
    /// Who sent the request.
    pub identity: HoldIdentity,
    /// The target.
    pub target: String,
    /// The rules matched.
    pub rules: Vec<MatchedRule>,
    /// Masked, scrubbed excerpt.
    pub excerpt: String,
    /// Why the filter held it.
    pub reason: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Model.
    pub model: Option<String>,
    /// SHA-256 of the body.
    pub request_digest: String,
    /// When it was held.
    pub created_at: i64,
    /// When it expires if pending.
    pub expires_at: i64,
    /// When it was decided.
    pub decided_at: Option<i64>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Why.
    pub decision_reason: Option<String>,
    /// Approvals so far.
    pub approvals: u32,
    /// How it must be approved, as its rules ask; `None`: the control plane's settings.
    pub approval: Option<HoldApproval>,
}

impl HoldRow {
    /// Names of the rules matched.
    pub fn rule_names(&self) -> Vec<String> {
        self.rules.iter().map(|r| r.rule.clone()).collect()
    }
}

/// Which holds to list.
#[derive(Debug, Clone, Default)]
pub struct HoldFilter {
    /// Only holds in this state.
    pub status: Option<HoldStatus>,
    /// Only holds for this target.
    pub target: Option<String>,
    /// Only holds of this subject.
    pub subject: Option<String>,
    /// Only holds of identities of this provider.
    pub provider: Option<String>,
    /// Only holds that matched this rule.
    pub rule: Option<String>,
    /// At most this many.
    pub limit: u32,
}

/// One vote, as stored.
#[derive(Debug, Clone)]
pub struct NewDecision<'a> {
    /// The hold.
    pub hold_id: &'a str,
    /// The approver's subject.
    pub approver: &'a str,
    /// Their provider.
    pub provider: &'a str,
    /// Their groups.
    pub groups: &'a [String],
    /// The vote.
    pub decision: Decision,
    /// Why.
    pub reason: Option<&'a str>,
    /// Grant asked for.
    pub grant_minutes: Option<u32>,
    /// When.
    pub at: i64,
}

/// Stores a new hold.
pub async fn insert_hold(conn: &mut SqliteConnection, hold: &HoldRow) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO holds (id, status, subject, groups, client_id, provider, target, rules, excerpt, reason, method, path, model, request_digest, created_at, expires_at, decided_at, decided_by, decision_reason, approval) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&hold.id)
    .bind(hold.status.as_str())
    .bind(&hold.identity.subject)
    .bind(serde_json::to_string(&hold.identity.groups)?)
    .bind(&hold.identity.client_id)
    .bind(&hold.identity.provider)
    .bind(&hold.target)
    .bind(serde_json::to_string(&hold.rules)?)
    .bind(&hold.excerpt)
    .bind(&hold.reason)
    .bind(&hold.method)
    .bind(&hold.path)
    .bind(&hold.model)
    .bind(&hold.request_digest)
    .bind(hold.created_at)
    .bind(hold.expires_at)
    .bind(hold.decided_at)
    .bind(&hold.decided_by)
    .bind(&hold.decision_reason)
    .bind(hold.approval.as_ref().map(serde_json::to_string).transpose()?)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends to the audit trail.
pub async fn insert_event(conn: &mut SqliteConnection, hold_id: &str, kind: EventKind, actor: &str, reason: Option<&str>, at: i64, detail: Option<&Value>) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO hold_events (hold_id, kind, actor, reason, at, detail) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(hold_id)
        .bind(kind.as_str())
        .bind(actor)
        .bind(reason)
        .bind(at)
        .bind(detail.map(Value::to_string))
        .execute(conn)
        .await?;
    Ok(())
}

/// The hold called `id`.
pub async fn get(conn: &mut SqliteConnection, id: &str) -> anyhow::Result<Option<HoldRow>> {
    let row = sqlx::query(&format!("SELECT {HOLD_COLUMNS} FROM holds h WHERE h.id = ?")).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(hold_row).transpose()
}

/// Holds matching `filter`, newest first.
pub async fn list(conn: &mut SqliteConnection, filter: &HoldFilter) -> anyhow::Result<Vec<HoldRow>> {
    let mut sql = format!("SELECT {HOLD_COLUMNS} FROM holds h WHERE 1 = 1");
    if filter.status.is_some() {
        sql.push_str(" AND h.status = ?");
    }
    if filter.target.is_some() {
        sql.push_str(" AND h.target = ?");
    }
    if filter.subject.is_some() {
        sql.push_str(" AND h.subject = ?");
    }
    if filter.provider.is_some() {
        sql.push_str(" AND h.provider = ?");
    }
    if filter.rule.is_some() {
        sql.push_str(" AND EXISTS (SELECT 1 FROM json_each(h.rules) r WHERE json_extract(r.value, '$.rule') = ?)");
    }
    sql.push_str(" ORDER BY h.created_at DESC, h.rowid DESC LIMIT ?");
    let mut query = sqlx::query(&sql);
    if let Some(status) = filter.status {
        query = query.bind(status.as_str());
    }
    for value in [&filter.target, &filter.subject, &filter.provider, &filter.rule].into_iter().flatten() {
        query = query.bind(value);
    }
    let rows = query.bind(i64::from(filter.limit)).fetch_all(conn).await?;
    rows.iter().map(hold_row).collect()
}

/// The pending hold of the same request made earlier, if any is still waiting at `now`.
pub async fn pending_duplicate(conn: &mut SqliteConnection, identity: &HoldIdentity, target: &str, digest: &str, now: i64) -> anyhow::Result<Option<HoldRow>> {
    let row = sqlx::query(&format!(
        "SELECT {HOLD_COLUMNS} FROM holds h WHERE h.subject = ? AND h.request_digest = ? AND h.status = 'pending' AND h.provider = ? AND h.target = ? AND h.expires_at > ? ORDER BY h.created_at DESC LIMIT 1"
    ))
    .bind(&identity.subject)
    .bind(digest)
    .bind(&identity.provider)
    .bind(target)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(hold_row).transpose()
}

/// Grants active at `now` for this identity, one per rule of `rules` (the one ending
/// last); `None` unless every rule is covered.
pub async fn covering_grants(conn: &mut SqliteConnection, identity: &HoldIdentity, rules: &[(String, String)], now: i64) -> anyhow::Result<Option<Vec<GrantInfo>>> {
    let mut grants = Vec::with_capacity(rules.len());
    for (rule, terms) in rules {
        let row = sqlx::query("SELECT * FROM grants WHERE subject = ? AND provider = ? AND rule = ? AND terms = ? AND expires_at > ? AND revoked_at IS NULL ORDER BY expires_at DESC LIMIT 1")
            .bind(&identity.subject)
            .bind(&identity.provider)
            .bind(rule)
            .bind(terms)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            Some(row) => grants.push(grant_info(&row)?),
            None => return Ok(None),
        }
    }
    Ok(Some(grants))
}

/// Stores a grant.
pub async fn insert_grant(conn: &mut SqliteConnection, grant: &GrantInfo, terms: &str, reason: Option<&str>, created_at: i64, expires_at: i64) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO grants (id, subject, provider, rule, hold_id, granted_by, reason, created_at, expires_at, terms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(&grant.id)
        .bind(&grant.subject)
        .bind(&grant.provider)
        .bind(&grant.rule)
        .bind(&grant.hold_id)
        .bind(&grant.granted_by)
        .bind(reason)
        .bind(created_at)
        .bind(expires_at)
        .bind(terms)
        .execute(conn)
        .await?;
    Ok(())
}

/// Grants in force at `now` (not expired, not revoked), ending soonest first; at most `limit`.
pub async fn active_grants(conn: &mut SqliteConnection, now: i64, limit: u32) -> anyhow::Result<Vec<GrantDetail>> {
    let rows = sqlx::query("SELECT * FROM grants WHERE expires_at > ? AND revoked_at IS NULL ORDER BY expires_at, id LIMIT ?")
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(grant_detail).collect()
}

/// The grant called `id`, revoked or not, and when it ends (Unix milliseconds).
pub async fn grant(conn: &mut SqliteConnection, id: &str) -> anyhow::Result<Option<(GrantDetail, i64)>> {
    let row = sqlx::query("SELECT * FROM grants WHERE id = ?").bind(id).fetch_optional(conn).await?;
    row.as_ref().map(|row| Ok((grant_detail(row)?, row.try_get("expires_at")?))).transpose()
}

/// Revokes grant `id` unless it already is; returns whether this call revoked it.
pub async fn revoke_grant(conn: &mut SqliteConnection, id: &str, by: &str, reason: Option<&str>, at: i64) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE grants SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(at)
        .bind(by)
        .bind(reason)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Votes on hold `id`, oldest first.
pub async fn decisions(conn: &mut SqliteConnection, id: &str) -> anyhow::Result<Vec<DecisionInfo>> {
    let rows = sqlx::query("SELECT * FROM hold_decisions WHERE hold_id = ? ORDER BY decided_at, rowid").bind(id).fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            let decision: String = row.try_get("decision")?;
            let grant_minutes: Option<i64> = row.try_get("grant_minutes")?;
            Ok(DecisionInfo {
                approver: row.try_get("approver")?,
                provider: row.try_get("provider")?,
                groups: json_column(row, "groups")?,
                decision: if decision == "deny" { Decision::Deny } else { Decision::Approve },
                reason: row.try_get("reason")?,
                grant_minutes: grant_minutes.and_then(|m| u32::try_from(m).ok()),
                decided_at: rfc3339(row.try_get("decided_at")?),
            })
        })
        .collect()
}

/// Stores a vote; `false` when this approver (subject at provider) already
/// voted on this hold.
pub async fn insert_decision(conn: &mut SqliteConnection, decision: &NewDecision<'_>) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO hold_decisions (hold_id, approver, provider, groups, decision, reason, grant_minutes, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hold_id, provider, approver) DO NOTHING",
    )
    .bind(decision.hold_id)
    .bind(decision.approver)
    .bind(decision.provider)
    .bind(serde_json::to_string(decision.groups)?)
    .bind(decision.decision.as_str())
    .bind(decision.reason)
    .bind(decision.grant_minutes.map(i64::from))
    .bind(decision.at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves a pending hold to `status`; `false` when it was no longer pending.
pub async fn settle(conn: &mut SqliteConnection, id: &str, status: HoldStatus, at: i64, decided_by: &str, reason: Option<&str>) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE holds SET status = ?, decided_at = ?, decided_by = ?, decision_reason = ? WHERE id = ? AND status = 'pending'")
        .bind(status.as_str())
        .bind(at)
        .bind(decided_by)
        .bind(reason)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The audit trail of hold `id`, oldest first.
pub async fn events(conn: &mut SqliteConnection, id: &str) -> anyhow::Result<Vec<HoldEventInfo>> {
    let rows = sqlx::query("SELECT seq, kind, actor, reason, at, detail FROM hold_events WHERE hold_id = ? ORDER BY seq").bind(id).fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("kind")?;
            let detail: Option<String> = row.try_get("detail")?;
            Ok(HoldEventInfo {
                seq: row.try_get("seq")?,
                kind: EventKind::parse(&kind).with_context(|| format!("unknown hold event kind `{kind}` in the database"))?,
                actor: row.try_get("actor")?,
                reason: row.try_get("reason")?,
                at: rfc3339(row.try_get("at")?),
                detail: detail.map(|d| serde_json::from_str(&d)).transpose()?,
            })
        })
        .collect()
}

/// Ids of the holds still pending at `now` whose time ran out.
pub async fn due(conn: &mut SqliteConnection, now: i64) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM holds WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at").bind(now).fetch_all(conn).await?;
    rows.iter().map(|row| Ok(row.try_get("id")?)).collect()
}

/// When the next pending hold expires.
pub async fn next_expiry(conn: &mut SqliteConnection) -> anyhow::Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT MIN(expires_at) FROM holds WHERE status = 'pending'").fetch_one(conn).await?)
}

fn hold_row(row: &SqliteRow) -> anyhow::Result<HoldRow> {
    let status: String = row.try_get("status")?;
    let approvals: i64 = row.try_get("approvals")?;
    Ok(HoldRow {
        id: row.try_get("id")?,
        status: HoldStatus::parse(&status).with_context(|| format!("unknown hold status `{status}` in the database"))?,
        identity: HoldIdentity {
            subject: row.try_get("subject")?,
            groups: json_column(row, "groups")?,
            client_id: row.try_get("client_id")?,
            provider: row.try_get("provider")?,
        },
        target: row.try_get("target")?,
        rules: json_column(row, "rules")?,
        excerpt: row.try_get("excerpt")?,
        reason: row.try_get("reason")?,
        method: row.try_get("method")?,
        path: row.try_get("path")?,
        model: row.try_get("model")?,
        request_digest: row.try_get("request_digest")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        decided_at: row.try_get("decided_at")?,
        decided_by: row.try_get("decided_by")?,
        decision_reason: row.try_get("decision_reason")?,
        approvals: u32::try_from(approvals).unwrap_or(u32::MAX),
        approval: row
            .try_get::<Option<String>, _>("approval")?
            .map(|json| serde_json::from_str(&json).context("unreadable `approval` of a hold in the database"))
            .transpose()?,
    })
}

fn grant_info(row: &SqliteRow) -> anyhow::Result<GrantInfo> {
    Ok(GrantInfo {
        id: row.try_get("id")?,
        subject: row.try_get("subject")?,
        provider: row.try_get("provider")?,
        rule: row.try_get("rule")?,
        hold_id: row.try_get("hold_id")?,
        granted_by: row.try_get("granted_by")?,
        created_at: rfc3339(row.try_get("created_at")?),
        expires_at: rfc3339(row.try_get("expires_at")?),
    })
}

fn grant_detail(row: &SqliteRow) -> anyhow::Result<GrantDetail> {
    Ok(GrantDetail {
        grant: grant_info(row)?,
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(rfc3339),
        revoked_by: row.try_get("revoked_by")?,
        revoke_reason: row.try_get("revoke_reason")?,
    })
}

fn json_column<T: serde::de::DeserializeOwned>(row: &SqliteRow, column: &str) -> anyhow::Result<T> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).with_context(|| format!("column `{column}` of a hold no longer parses"))
}

/// RFC 3339 UTC with milliseconds of a Unix time in milliseconds.
pub fn rfc3339(unix_ms: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(unix_ms).unwrap_or(0));
    humantime::format_rfc3339_millis(time).to_string()
}
