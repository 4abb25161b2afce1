//! Holds: requests a filter stopped until humans approve them.
//!
//! A filter that detects a risky prompt creates a hold ([`HoldService::create`]) and
//! polls it, or long-polls it ([`HoldService::wait_status`]), until it is approved,
//! denied or expired. Approvers vote ([`HoldService::decide`]) under the quorum rule of
//! [`crate::approval`]; an approval may also create a just-in-time grant so that the
//! same identity's holds for the same rules are approved at creation for a while.
//! A background task expires pending holds at their `expires_at` (reads expire overdue
//! holds too, so a late task never shows a stale `pending`).
//!
//! Every change is appended to the audit trail (`hold_events`), published to the live
//! feed ([`crate::hold_feed`]) and, when configured, posted to the webhook
//! ([`crate::webhook`]). Writes are serialized by one lock, each in one transaction.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use portcullis_identity::Identity;
use portcullis_policy::guard::GuardPolicy;
use portcullis_policy::ValidationReport;
use serde_json::json;
use sqlx::SqlitePool;
use tokio::sync::{Mutex, Notify};

use crate::approval::{self, ApprovalSettings, Outcome, Vote, MAX_HOLD_TTL};
use crate::error::ApiError;
use crate::hold_api::{
    ApprovalRequirement, CreateHoldRequest, CreateHoldResponse, DecideRequest, Decision, EventKind, GrantDetail, GrantInfo, GrantList, HoldApproval,
    HoldChange, MatchedRule,
    HoldDetail, HoldList, HoldStatus, HoldStatusResponse, HoldSummary, QuorumState, RequirementState, RevokeRequest,
};
use crate::hold_feed::HoldFeed;
use crate::hold_store::{self, rfc3339, HoldFilter, HoldRow, NewDecision};
use crate::scrub::Scrubber;
use crate::webhook::{Notice, Webhook, WebhookSettings};

/// How long filters are told to wait before their first poll.
pub const POLL_AFTER_MS: u64 = 1000;

/// Longest long-poll (`wait_ms`) of a filter.
pub const MAX_WAIT: Duration = Duration::from_secs(25);

/// Actor recorded for what the control plane does by itself (expiry).
pub const SYSTEM_ACTOR: &str = "portcullis";

/// Longest reason an approver may give, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

/// Holds, votes, grants and their notifications. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HoldService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: SqlitePool,
    /// The settings from flags, which a policy's guard section overrides.
    base: ApprovalSettings,
    settings: std::sync::RwLock<ApprovalSettings>,
    /// The guard section of the policy in force: where holds' own requirements come from.
    guard: std::sync::RwLock<Arc<GuardPolicy>>,
    feed: HoldFeed,
    webhook: Option<Webhook>,
    scrubber: Scrubber,
    write: Mutex<()>,
    expiry_wake: Arc<Notify>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Lets the expiry task see that the service is gone.
        self.expiry_wake.notify_one();
    }
}

impl HoldService {
    /// A service over a migrated `pool`. Within a Tokio runtime it also starts the
    /// expiry task, which ends when the last clone of the service is dropped.
    pub fn new(pool: SqlitePool, settings: ApprovalSettings, webhook: Option<WebhookSettings>) -> anyhow::Result<Self> {
        let inner = Arc::new(Inner {
            pool,
            base: settings.clone(),
            settings: std::sync::RwLock::new(settings),
            guard: std::sync::RwLock::new(Arc::new(GuardPolicy::default())),
            feed: HoldFeed::new(),
            webhook: webhook.map(Webhook::new).transpose()?,
            scrubber: Scrubber::new()?,
            write: Mutex::new(()),
            expiry_wake: Arc::new(Notify::new()),
        });
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(run_expiry(Arc::downgrade(&inner), Arc::clone(&inner.expiry_wake)));
        }
        Ok(Self { inner })
    }

    /// The approval settings in force.
    pub fn settings(&self) -> ApprovalSettings {
        self.inner.settings.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Takes approval settings from the policy's guard section: when
    /// `guard.approvals` names approver groups, its groups, quorum, default TTL
    /// and reason rule replace the flags; otherwise the flags stay in force.
    /// Groups that rules name as their own approvers (`hold.approver_groups`)
    /// may decide those rules' holds either way.
    pub fn adopt_policy(&self, guard: &portcullis_policy::guard::GuardPolicy) {
        let approvals = &guard.approvals;
        let mut next = self.inner.base.clone();
        if !approvals.approver_groups.is_empty() {
            next.approver_groups = approvals.approver_groups.clone();
            next.quorum = approvals.quorum.max(1);
            next.hold_ttl = std::time::Duration::from_secs(approvals.default_ttl_secs);
            next.require_reason = approvals.require_reason;
        }
        let overrides = guard.targets.iter().flat_map(|t| t.packs.iter().map(|p| &p.hold).chain(t.rules.iter().map(|r| &r.hold)));
        let mut rule_groups: Vec<String> = overrides.flatten().filter_map(|h| h.approver_groups.clone()).flatten().collect();
        rule_groups.sort();
        rule_groups.dedup();
        next.rule_approver_groups = rule_groups;
        *self.inner.settings.write().unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        *self.inner.guard.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(guard.clone());
    }

    /// How a hold of `rules` on `target` must be approved under the policy in
    /// force: each rule's `hold` overrides resolved against the settings in
    /// force (the policy's `guard.approvals`, or the flags), one requirement
    /// per distinct quorum and group set. Worked out here, never taken from
    /// the filter: a fleet token must not be able to choose its approvers.
    pub fn approval_for(&self, target: &str, rules: &[MatchedRule]) -> HoldApproval {
        let settings = self.settings();
        let guard = Arc::clone(&self.inner.guard.read().unwrap_or_else(std::sync::PoisonError::into_inner));
        let mut approval = HoldApproval { requirements: Vec::new(), require_reason: settings.require_reason, allow_self_approval: guard.approvals.allow_self_approval };
        for rule in rules {
            let overrides = guard.hold_overrides(target, &rule.rule, rule.pack.as_deref());
            let quorum = overrides.and_then(|o| o.quorum).unwrap_or(settings.quorum).max(1);
            let groups = overrides.and_then(|o| o.approver_groups.clone()).unwrap_or_else(|| settings.approver_groups.clone());
            approval.require_reason |= overrides.and_then(|o| o.require_reason).unwrap_or(false);
            ApprovalRequirement::add(&mut approval.requirements, &rule.rule, quorum, groups);
        }
        approval
    }

    /// The live feed of changes.
    pub fn feed(&self) -> &HoldFeed {
        &self.inner.feed
    }

    /// Holds a request. Returns whether a new pending hold was made (`false` when a
    /// grant approved it at once, or when the same request's pending hold was found).
    pub async fn create(&self, request: CreateHoldRequest) -> Result<(bool, CreateHoldResponse), ApiError> {
        validate_create(&request).map_err(ApiError::Invalid)?;
        let scrubber = &self.inner.scrubber;
        let mut rules = request.rules;
        for rule in &mut rules {
            rule.message = rule.message.as_deref().map(|m| scrubber.scrub(m));
        }
        let ttl = self.settings().ttl(request.ttl_secs);
        let approval = self.approval_for(&request.target, &rules);
        let _write = self.inner.write.lock().await;
        let now = now_ms();
        let mut hold = HoldRow {
            id: new_id("hold")?,
            status: HoldStatus::Pending,
            identity: request.identity,
            target: request.target,
            rules,
            excerpt: scrubber.excerpt(&request.excerpt),
            reason: scrubber.scrub(&request.reason),
            method: request.method,
            path: request.path,
            model: request.model,
            request_digest: request.request_digest.to_ascii_lowercase(),
            created_at: now,
            expires_at: now.saturating_add(millis(ttl)),
            decided_at: None,
            decided_by: None,
            decision_reason: None,
            approvals: 0,
            approval: Some(approval),
        };
        let mut tx = self.write_tx().await?;
        // A grant covers this hold only if the policy asks for the same approval now.
        let settings = self.settings();
        let terms: Vec<(String, String)> = hold
            .rule_names()
            .into_iter()
            .map(|rule| {
                let terms = approval::grant_terms(&settings, hold.approval.as_ref(), &rule);
                (rule, terms)
            })
            .collect();
        if let Some(grants) = hold_store::covering_grants(&mut tx, &hold.identity, &terms, now).await? {
            // The grant ending first bounds the window: report that one.
            let Some(grant) = grants.iter().min_by(|a, b| a.expires_at.cmp(&b.expires_at)).cloned() else {
                return Err(anyhow::anyhow!("a hold without rules passed validation").into());
            };
            let granted_by = grant.granted_by.clone();
            let reason = format!("covered by just-in-time grant {} of {} (until {})", grant.id, granted_by, grant.expires_at);
            hold.status = HoldStatus::Approved;
            hold.decided_at = Some(now);
            hold.decided_by = Some(granted_by.clone());
            hold.decision_reason = Some(reason.clone());
            hold_store::insert_hold(&mut tx, &hold).await?;
            hold_store::insert_event(&mut tx, &hold.id, EventKind::Created, &hold.identity.subject, Some(&hold.reason), now, None).await?;
            let ids: Vec<&str> = grants.iter().map(|g| g.id.as_str()).collect();
            let detail = json!({"grant_ids": ids, "granted_by": granted_by, "rules": hold.rule_names()});
            hold_store::insert_event(&mut tx, &hold.id, EventKind::GrantUsed, &format!("grant:{}", grant.id), None, now, Some(&detail)).await?;
            hold_store::insert_event(&mut tx, &hold.id, EventKind::Approved, &granted_by, Some(&reason), now, None).await?;
            tx.commit().await?;
            tracing::info!(hold = %hold.id, subject = %hold.identity.subject, grant = %grant.id, "hold approved by a just-in-time grant");
            self.announce(&hold, EventKind::GrantUsed, &granted_by, Some(&reason), true, now);
            let response = CreateHoldResponse { id: hold.id, status: HoldStatus::Approved, expires_at: rfc3339(hold.expires_at), poll_after_ms: None, grant: Some(grant) };
            return Ok((false, response));
        }
        if let Some(existing) = hold_store::pending_duplicate(&mut tx, &hold.identity, &hold.target, &hold.request_digest, now).await? {
            tx.rollback().await?;
            let response =
                CreateHoldResponse { id: existing.id, status: HoldStatus::Pending, expires_at: rfc3339(existing.expires_at), poll_after_ms: Some(POLL_AFTER_MS), grant: None };
            return Ok((false, response));
        }
        hold_store::insert_hold(&mut tx, &hold).await?;
        hold_store::insert_event(&mut tx, &hold.id, EventKind::Created, &hold.identity.subject, Some(&hold.reason), now, None).await?;
        tx.commit().await?;
        self.inner.expiry_wake.notify_one();
        tracing::info!(hold = %hold.id, subject = %hold.identity.subject, target = %hold.target, rules = ?hold.rule_names(), "request held for approval");
        self.announce(&hold, EventKind::Created, &hold.identity.subject, None, false, now);
        let response = CreateHoldResponse { id: hold.id, status: HoldStatus::Pending, expires_at: rfc3339(hold.expires_at), poll_after_ms: Some(POLL_AFTER_MS), grant: None };
        Ok((true, response))
    }

    /// The hold called `id` as it stands (an overdue pending hold is expired first).
    pub async fn get(&self, id: &str) -> Result<HoldRow, ApiError> {
        let row = {
            let mut conn = self.inner.pool.acquire().await?;
            hold_store::get(&mut conn, id).await?
        };
        let row = row.ok_or_else(|| unknown_hold(id))?;
        if row.status == HoldStatus::Pending && row.expires_at <= now_ms() {
            self.expire_due().await?;
            let mut conn = self.inner.pool.acquire().await?;
            return hold_store::get(&mut conn, id).await?.ok_or_else(|| unknown_hold(id));
        }
        Ok(row)
    }

    /// What a filter polls. With a `wait`, a pending hold is answered when it is
    /// decided or expires, or after `wait` (at most [`MAX_WAIT`]), whichever is first.
    pub async fn wait_status(&self, id: &str, wait: Duration) -> Result<HoldStatusResponse, ApiError> {
        let wait = wait.min(MAX_WAIT);
        if wait.is_zero() {
            return Ok(status_response(&self.get(id).await?));
        }
        let feed = &self.inner.feed;
        let mut settled = feed.wait_for(id);
        let result = async {
            let row = self.get(id).await?;
            if row.status != HoldStatus::Pending {
                return Ok(row);
            }
            let until_expiry = Duration::from_millis(u64::try_from(row.expires_at.saturating_sub(now_ms())).unwrap_or(0) + 5);
            tokio::select! {
                _ = tokio::time::timeout(wait.min(until_expiry), settled.changed()) => {}
                () = feed.closed() => {}
            }
            self.get(id).await
        }
        .await;
        drop(settled);
        feed.leave(id);
        Ok(status_response(&result?))
    }

    /// Holds matching `filter`, newest first.
    ///
    /// With `viewer` (an approver's groups), an approver that only rules name
    /// (not one of the control plane's approvers) sees only the holds they
    /// may decide.
    pub async fn list(&self, filter: &HoldFilter, viewer: Option<&[String]>) -> Result<HoldList, ApiError> {
        // Overdue holds are shown as expired, not as pending.
        self.expire_due().await?;
        let mut conn = self.inner.pool.acquire().await?;
        let rows = hold_store::list(&mut conn, filter).await?;
        let now = now_ms();
        let settings = self.settings();
        let visible = |row: &&HoldRow| match viewer {
            Some(groups) if !settings.is_global_approver(groups) => settings.may_decide(row.approval.as_ref(), groups),
            _ => true,
        };
        Ok(HoldList { holds: rows.iter().filter(visible).map(|row| summary(row, now)).collect() })
    }

    /// Everything about hold `id`: the request, the votes and the audit trail.
    pub async fn detail(&self, id: &str) -> Result<HoldDetail, ApiError> {
        let row = self.get(id).await?;
        let mut conn = self.inner.pool.acquire().await?;
        let decisions = hold_store::decisions(&mut conn, id).await?;
        let events = hold_store::events(&mut conn, id).await?;
        let votes: Vec<Vote> = decisions.iter().map(|d| Vote { approver: d.approver.clone(), provider: d.provider.clone(), groups: d.groups.clone(), approve: d.decision == Decision::Approve }).collect();
        let settings = &self.settings();
        let missing_groups = match approval::outcome(settings, row.approval.as_ref(), &votes) {
            Outcome::Pending { missing_groups, .. } => missing_groups,
            Outcome::Approved | Outcome::Denied => Vec::new(),
        };
        let requirements: Vec<RequirementState> = approval::progress(settings, row.approval.as_ref(), &votes)
            .into_iter()
            .map(|p| RequirementState {
                quorum: p.requirement.quorum,
                approver_groups: p.requirement.approver_groups,
                rules: p.requirement.rules,
                approvals: p.approvals,
            })
            .collect();
        let now = now_ms();
        Ok(HoldDetail {
            quorum: QuorumState {
                required: requirements.iter().map(|r| r.quorum).max().unwrap_or(settings.quorum),
                groups: settings.quorum_groups.clone(),
                approvals: row.approvals,
                missing_groups,
                requirements,
                reason_required: settings.reason_required(row.approval.as_ref()),
            },
            id: row.id,
            status: row.status,
            identity: row.identity,
            target: row.target,
            rules: row.rules,
            excerpt: row.excerpt,
            reason: row.reason,
            method: row.method,
            path: row.path,
            model: row.model,
            request_digest: row.request_digest,
            created_at: rfc3339(row.created_at),
            expires_at: rfc3339(row.expires_at),
            expires_in_ms: remaining(row.expires_at, now),
            decided_at: row.decided_at.map(rfc3339),
            decided_by: row.decided_by,
            decision_reason: row.decision_reason,
            decisions,
            events,
        })
    }

    /// Records `approver`'s vote on hold `id` and applies the quorum rule.
    ///
    /// Refused with 422 (reason missing when required, grant asked for with a denial or
    /// out of range), 403 (the approver's own hold), 404, or 409 (the hold expired or is
    /// decided, or this approver already voted).
    pub async fn decide(&self, id: &str, approver: &Identity, decision: Decision, request: DecideRequest) -> Result<HoldDetail, ApiError> {
        let settings = &self.settings();
        let reason = request.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(|r| self.inner.scrubber.scrub(r));
        let mut expired = false;
        let (hold, settled) = {
            let _write = self.inner.write.lock().await;
            let now = now_ms();
            let mut tx = self.write_tx().await?;
            let hold = hold_store::get(&mut tx, id).await?.ok_or_else(|| unknown_hold(id))?;
            let own = hold.approval.as_ref();
            if hold.identity.subject == approver.subject && !own.is_some_and(|a| a.allow_self_approval) {
                return Err(ApiError::Forbidden("you cannot decide your own hold: another approver must".into()));
            }
            if !settings.may_decide(own, &approver.groups) {
                let groups: Vec<String> = settings.requirements(own).into_iter().flat_map(|r| r.approver_groups).collect();
                return Err(ApiError::Forbidden(format!(
                    "`{}` may not decide hold {id}: its rules ask for a member of {}",
                    approver.subject,
                    groups.join(", ")
                )));
            }
            validate_decision(settings, settings.reason_required(own), decision, &request).map_err(ApiError::Invalid)?;
            match hold.status {
                HoldStatus::Pending if hold.expires_at <= now => expired = true,
                HoldStatus::Pending => {}
                HoldStatus::Expired => return Err(conflict_expired(&hold)),
                HoldStatus::Approved | HoldStatus::Denied => {
                    return Err(ApiError::Conflict { code: "already_decided", message: format!("hold {id} is already {}", hold.status.as_str()) })
                }
            }
            if expired {
                tx.rollback().await?;
                (hold, None)
            } else {
                let vote = NewDecision {
                    hold_id: id,
                    approver: &approver.subject,
                    provider: &approver.provider,
                    groups: &approver.groups,
                    decision,
                    reason: reason.as_deref(),
                    grant_minutes: request.grant_minutes,
                    at: now,
                };
                if !hold_store::insert_decision(&mut tx, &vote).await? {
                    return Err(ApiError::Conflict { code: "already_voted", message: format!("you already voted on hold {id}") });
                }
                let kind = if decision == Decision::Approve { EventKind::Approval } else { EventKind::Denial };
                let detail = request.grant_minutes.map(|m| json!({"grant_minutes": m}));
                hold_store::insert_event(&mut tx, id, kind, &approver.subject, reason.as_deref(), now, detail.as_ref()).await?;
                let settled = self.settle_votes(&mut tx, &hold, &approver.subject, now).await?;
                tx.commit().await?;
                let hold = hold_store::get(&mut *self.inner.pool.acquire().await?, id).await?.ok_or_else(|| unknown_hold(id))?;
                (hold, Some((kind, settled, now)))
            }
        };
        if expired {
            self.expire_due().await?;
            return Err(conflict_expired(&hold));
        }
        if let Some((kind, settled, now)) = settled {
            tracing::info!(hold = id, approver = %approver.subject, decision = decision.as_str(), "vote recorded");
            match settled {
                Some((outcome, by, reason)) => {
                    // One message for the outcome; the feed gets the vote too.
                    self.inner.feed.publish(change(&hold, kind, &approver.subject, now), false);
                    self.announce(&hold, outcome, &by, reason.as_deref(), true, now);
                }
                None => self.announce(&hold, kind, &approver.subject, reason.as_deref(), false, now),
            }
        }
        self.detail(id).await
    }

    /// Applies the quorum rule after a vote; settles the hold (and creates grants) when
    /// it decides. Returns the outcome event, who decided and why.
    async fn settle_votes(&self, conn: &mut sqlx::SqliteConnection, hold: &HoldRow, voter: &str, now: i64) -> anyhow::Result<Option<(EventKind, String, Option<String>)>> {
        let decisions = hold_store::decisions(conn, &hold.id).await?;
        let votes: Vec<Vote> = decisions.iter().map(|d| Vote { approver: d.approver.clone(), provider: d.provider.clone(), groups: d.groups.clone(), approve: d.decision == Decision::Approve }).collect();
        let (status, kind) = match approval::outcome(&self.settings(), hold.approval.as_ref(), &votes) {
            Outcome::Pending { .. } => return Ok(None),
            Outcome::Approved => (HoldStatus::Approved, EventKind::Approved),
            Outcome::Denied => (HoldStatus::Denied, EventKind::Denied),
        };
        let deciders: Vec<_> = decisions.iter().filter(|d| (d.decision == Decision::Approve) == (status == HoldStatus::Approved)).collect();
        let by = deciders.iter().map(|d| d.approver.as_str()).collect::<Vec<_>>().join(", ");
        let reasons: Vec<&str> = deciders.iter().filter_map(|d| d.reason.as_deref()).collect();
        let mut reason = (!reasons.is_empty()).then(|| reasons.join("; "));
        hold_store::settle(conn, &hold.id, status, now, &by, reason.as_deref()).await?;
        hold_store::insert_event(conn, &hold.id, kind, voter, reason.as_deref(), now, None).await?;
        // A grant needs every approval that decided to ask for one; the shortest asked wins.
        let minutes = deciders.iter().map(|d| d.grant_minutes).collect::<Option<Vec<u32>>>().and_then(|m| m.into_iter().min());
        if let (HoldStatus::Approved, Some(minutes)) = (status, minutes) {
            let expires_at = now.saturating_add(i64::from(minutes) * 60_000);
            for rule in hold.rule_names() {
                let grant = GrantInfo {
                    id: new_id("grant")?,
                    subject: hold.identity.subject.clone(),
                    provider: hold.identity.provider.clone(),
                    rule: rule.clone(),
                    hold_id: hold.id.clone(),
                    granted_by: by.clone(),
                    created_at: rfc3339(now),
                    expires_at: rfc3339(expires_at),
                };
                let terms = approval::grant_terms(&self.settings(), hold.approval.as_ref(), &rule);
                hold_store::insert_grant(conn, &grant, &terms, reason.as_deref(), now, expires_at).await?;
                let detail = json!({"grant_id": grant.id, "rule": rule, "minutes": minutes, "expires_at": grant.expires_at});
                hold_store::insert_event(conn, &hold.id, EventKind::GrantCreated, voter, reason.as_deref(), now, Some(&detail)).await?;
            }
            let note = format!("just-in-time grant for {minutes} min");
            reason = Some(reason.map_or_else(|| note.clone(), |r| format!("{r} ({note})")));
        }
        Ok(Some((kind, by, reason)))
    }

    /// Grants in force now, ending soonest first (at most `limit`).
    pub async fn grants(&self, limit: u32) -> Result<GrantList, ApiError> {
        let mut conn = self.inner.pool.acquire().await?;
        Ok(GrantList { grants: hold_store::active_grants(&mut conn, now_ms(), limit).await? })
    }

    /// Revokes grant `id` at once: holds it would have approved wait for humans again.
    /// Any approver may revoke (it only takes access away). Refused with 404, 409
    /// (already revoked, or already ended) or 422 (a required reason is missing).
    pub async fn revoke_grant(&self, id: &str, approver: &Identity, request: RevokeRequest) -> Result<GrantDetail, ApiError> {
        let reason = request.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(|r| self.inner.scrubber.scrub(r));
        let mut report = ValidationReport::default();
        if self.settings().require_reason && reason.is_none() {
            report.error("reason", "is required: say why the grant ends early (the control plane runs with reasons required)");
        }
        if reason.as_ref().is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
            report.error("reason", format!("must be at most {MAX_REASON_CHARS} characters long"));
        }
        if !report.errors.is_empty() {
            return Err(ApiError::Invalid(report));
        }
        let (grant, hold, now) = {
            let _write = self.inner.write.lock().await;
            let now = now_ms();
            let mut tx = self.write_tx().await?;
            let (mut grant, ends) = hold_store::grant(&mut tx, id).await?.ok_or_else(|| ApiError::NotFound(format!("no grant `{id}`")))?;
            if grant.revoked_at.is_some() {
                return Err(ApiError::Conflict { code: "already_revoked", message: format!("grant {id} was already revoked") });
            }
            if ends <= now {
                return Err(ApiError::Conflict { code: "grant_ended", message: format!("grant {id} already ended at {}", grant.grant.expires_at) });
            }
            hold_store::revoke_grant(&mut tx, id, &approver.subject, reason.as_deref(), now).await?;
            let detail = json!({"grant_id": id, "rule": grant.grant.rule, "subject": grant.grant.subject});
            hold_store::insert_event(&mut tx, &grant.grant.hold_id, EventKind::GrantRevoked, &approver.subject, reason.as_deref(), now, Some(&detail)).await?;
            grant.revoked_at = Some(rfc3339(now));
            grant.revoked_by = Some(approver.subject.clone());
            grant.revoke_reason.clone_from(&reason);
            let hold = hold_store::get(&mut tx, &grant.grant.hold_id).await?;
            tx.commit().await?;
            (grant, hold, now)
        };
        tracing::info!(grant = id, approver = %approver.subject, subject = %grant.grant.subject, rule = %grant.grant.rule, "grant revoked");
        if let Some(hold) = hold {
            self.announce(&hold, EventKind::GrantRevoked, &approver.subject, reason.as_deref(), false, now);
        }
        Ok(grant)
    }

    /// Expires every pending hold whose time ran out; returns how many.
    pub async fn expire_due(&self) -> anyhow::Result<usize> {
        // The common case, nothing due, costs one indexed read and no lock.
        if hold_store::due(&mut *self.inner.pool.acquire().await?, now_ms()).await?.is_empty() {
            return Ok(0);
        }
        let (expired, now) = {
            let _write = self.inner.write.lock().await;
            let now = now_ms();
            let mut tx = self.write_tx().await?;
            let ids = hold_store::due(&mut tx, now).await?;
            let mut expired = Vec::with_capacity(ids.len());
            for id in ids {
                let reason = "nobody decided in time";
                if hold_store::settle(&mut tx, &id, HoldStatus::Expired, now, SYSTEM_ACTOR, Some(reason)).await? {
                    hold_store::insert_event(&mut tx, &id, EventKind::Expired, SYSTEM_ACTOR, Some(reason), now, None).await?;
                    expired.extend(hold_store::get(&mut tx, &id).await?);
                }
            }
            tx.commit().await?;
            (expired, now)
        };
        for hold in &expired {
            tracing::info!(hold = %hold.id, subject = %hold.identity.subject, "hold expired: nobody decided in time");
            self.announce(hold, EventKind::Expired, SYSTEM_ACTOR, hold.decision_reason.as_deref(), true, now);
        }
        Ok(expired.len())
    }

    /// A transaction that takes the database's write lock at once (`BEGIN IMMEDIATE`),
    /// so reading then writing in it never fails on a concurrent writer.
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.inner.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// When the next pending hold expires.
    async fn next_expiry(&self) -> anyhow::Result<Option<i64>> {
        let mut conn = self.inner.pool.acquire().await?;
        hold_store::next_expiry(&mut conn).await
    }

    /// Publishes a change to the feed and posts it to the webhook.
    fn announce(&self, hold: &HoldRow, kind: EventKind, actor: &str, reason: Option<&str>, settled: bool, now: i64) {
        self.inner.feed.publish(change(hold, kind, actor, now), settled);
        if let Some(webhook) = &self.inner.webhook {
            let excerpt = (kind == EventKind::Created).then(|| hold.excerpt.clone());
            webhook.send(&Notice { kind, hold: summary(hold, now), actor: actor.to_owned(), reason: reason.map(str::to_owned), excerpt });
        }
    }
}

/// Expires holds as they fall due, until the service is dropped.
async fn run_expiry(service: Weak<Inner>, wake: Arc<Notify>) {
    loop {
        let Some(inner) = service.upgrade() else { return };
        let service_now = HoldService { inner };
        let pause = match service_now.expire_due().await {
            Ok(_) => match service_now.next_expiry().await {
                Ok(Some(at)) => Duration::from_millis(u64::try_from(at.saturating_sub(now_ms())).unwrap_or(0)).clamp(Duration::from_millis(10), Duration::from_secs(60)),
                Ok(None) => Duration::from_secs(60),
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "could not read when the next hold expires");
                    Duration::from_secs(1)
                }
            },
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "could not expire holds; retrying");
                Duration::from_secs(1)
            }
        };
        drop(service_now);
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = wake.notified() => {}
        }
    }
}

fn validate_create(request: &CreateHoldRequest) -> Result<(), ValidationReport> {
    let mut report = ValidationReport::default();
    let mut required = |path: &str, value: &str, max: usize| {
        if value.trim().is_empty() {
            report.error(path, "must not be empty");
        } else if value.chars().count() > max {
            report.error(path, format!("must be at most {max} characters long"));
        }
    };
    required("identity.subject", &request.identity.subject, 512);
    required("identity.provider", &request.identity.provider, 128);
    required("target", &request.target, 256);
    required("method", &request.method, 16);
    required("path", &request.path, 4096);
    for (i, rule) in request.rules.iter().enumerate() {
        required(&format!("rules[{i}].rule"), &rule.rule, 256);
    }
    if request.rules.is_empty() {
        report.error("rules", "must name at least one rule: the one that held the request");
    }
    if !request.path.is_empty() && !request.path.starts_with('/') {
        report.error("path", "must start with `/`");
    }
    if request.identity.groups.len() > 256 {
        report.error("identity.groups", "lists more than 256 groups");
    }
    if request.reason.chars().count() > MAX_REASON_CHARS {
        report.error("reason", format!("must be at most {MAX_REASON_CHARS} characters long"));
    }
    let digest = &request.request_digest;
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        report.error("request_digest", "must be the SHA-256 of the held body: 64 hex digits");
    }
    match request.ttl_secs {
        Some(0) => report.error("ttl_secs", "must be at least 1"),
        Some(ttl) if ttl > MAX_HOLD_TTL.as_secs() => report.error("ttl_secs", format!("must be at most {} (a day)", MAX_HOLD_TTL.as_secs())),
        _ => {}
    }
    report.into_result().map(|_| ())
}

/// Checks a vote; `reason_required` when the hold's rules or the control plane ask for one.
fn validate_decision(settings: &ApprovalSettings, reason_required: bool, decision: Decision, request: &DecideRequest) -> Result<(), ValidationReport> {
    let mut report = ValidationReport::default();
    let reason = request.reason.as_deref().map(str::trim).unwrap_or_default();
    if reason_required && reason.is_empty() {
        report.error("reason", "is required: say why you decide this way (the hold's rules or the control plane ask for one)");
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        report.error("reason", format!("must be at most {MAX_REASON_CHARS} characters long"));
    }
    match (decision, request.grant_minutes) {
        (Decision::Deny, Some(_)) => report.error("grant_minutes", "only an approval can create a grant: leave it out when denying"),
        (Decision::Approve, Some(minutes)) if minutes == 0 || minutes > settings.max_grant_minutes => {
            report.error("grant_minutes", format!("must be between 1 and {} minutes", settings.max_grant_minutes));
        }
        _ => {}
    }
    report.into_result().map(|_| ())
}

/// The list entry of `row` at `now`.
pub fn summary(row: &HoldRow, now: i64) -> HoldSummary {
    HoldSummary {
        id: row.id.clone(),
        status: row.status,
        subject: row.identity.subject.clone(),
        target: row.target.clone(),
        rules: row.rule_names(),
        reason: row.reason.clone(),
        method: row.method.clone(),
        path: row.path.clone(),
        model: row.model.clone(),
        created_at: rfc3339(row.created_at),
        expires_at: rfc3339(row.expires_at),
        expires_in_ms: remaining(row.expires_at, now),
        decided_at: row.decided_at.map(rfc3339),
        decided_by: row.decided_by.clone(),
        approvals: row.approvals,
    }
}

fn status_response(row: &HoldRow) -> HoldStatusResponse {
    HoldStatusResponse {
        id: row.id.clone(),
        status: row.status,
        decided_by: row.decided_by.clone(),
        reason: row.decision_reason.clone(),
        decided_at: row.decided_at.map(rfc3339),
        expires_at: rfc3339(row.expires_at),
    }
}

fn change(hold: &HoldRow, kind: EventKind, actor: &str, now: i64) -> HoldChange {
    let groups = hold.approval.iter().flat_map(|a| a.requirements.iter().flat_map(|r| r.approver_groups.iter().cloned()));
    HoldChange {
        decided_by_groups: groups.collect(),
        id: hold.id.clone(),
        kind,
        status: hold.status,
        subject: hold.identity.subject.clone(),
        target: hold.target.clone(),
        actor: actor.to_owned(),
        at: rfc3339(now),
    }
}

fn unknown_hold(id: &str) -> ApiError {
    ApiError::NotFound(format!("hold `{id}` does not exist"))
}

fn conflict_expired(hold: &HoldRow) -> ApiError {
    ApiError::Conflict { code: "hold_expired", message: format!("hold {} expired at {}: it can no longer be decided", hold.id, rfc3339(hold.expires_at)) }
}

fn remaining(expires_at: i64, now: i64) -> u64 {
    u64::try_from(expires_at.saturating_sub(now)).unwrap_or(0)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, millis)
}

/// `<prefix>_` and 32 random hex digits.
fn new_id(prefix: &str) -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for an id: {e}"))?;
    Ok(format!("{prefix}_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_policy_overrides_the_flags_only_when_it_names_approvers() {
        let flags = ApprovalSettings { approver_groups: vec!["flag-approvers".into()], ..ApprovalSettings::default() };
        let holds = HoldService::new(crate::db::in_memory().await.unwrap(), flags, None).unwrap();
        let mut guard = portcullis_policy::guard::GuardPolicy::default();
        holds.adopt_policy(&guard);
        assert_eq!(holds.settings().approver_groups, vec!["flag-approvers".to_owned()]);

        let policy = &mut guard.approvals;
        policy.approver_groups = vec!["dba-leads".into()];
        policy.quorum = 2;
        policy.require_reason = true;
        policy.default_ttl_secs = 120;
        holds.adopt_policy(&guard);
        let settings = holds.settings();
        assert_eq!(settings.approver_groups, vec!["dba-leads".to_owned()]);
        assert_eq!((settings.quorum, settings.require_reason), (2, true));
        assert_eq!(settings.hold_ttl, std::time::Duration::from_secs(120));
    }
}
