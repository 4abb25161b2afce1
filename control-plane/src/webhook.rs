//! Posting hold news to a chat webhook (`--webhook-url`).
//!
//! On a new hold and on each decision (every vote, the outcome, expiry) the control
//! plane POSTs a Slack-compatible message, `{"text": ..., "blocks": [...]}`, which
//! Slack incoming webhooks and most chat tools that copy them accept. Sending is fire
//! and forget: a background task with a timeout, at most [`MAX_IN_FLIGHT`] at once
//! (further messages are dropped and logged), failures logged; the API never waits.
//!
//! Messages carry the masked and scrubbed excerpt and never a token or secret. Log
//! lines name the webhook's host only: webhook addresses are secrets themselves.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::hold_api::{EventKind, HoldSummary};

/// Most deliveries under way at once.
pub const MAX_IN_FLIGHT: usize = 16;

/// Longest excerpt put into a message, in characters.
const MAX_MESSAGE_EXCERPT: usize = 500;

/// Where and how to post.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The webhook's address.
    pub url: String,
    /// Timeout of one delivery.
    pub timeout: Duration,
    /// Public address of the control plane, for links to the approvals page.
    pub public_url: Option<String>,
}

/// What a message is about.
#[derive(Debug, Clone)]
pub struct Notice {
    /// What happened.
    pub kind: EventKind,
    /// The hold, as it stands after the change.
    pub hold: HoldSummary,
    /// Who caused the change.
    pub actor: String,
    /// Their reason, if any.
    pub reason: Option<String>,
    /// The masked excerpt (new holds only).
    pub excerpt: Option<String>,
}

/// Posts messages. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Webhook {
    client: reqwest::Client,
    settings: Arc<WebhookSettings>,
    host: Arc<str>,
    in_flight: Arc<Semaphore>,
}

impl Webhook {
    /// A webhook posting to `settings.url`.
    pub fn new(settings: WebhookSettings) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(&settings.url).with_context(|| "the webhook URL is not a valid URL".to_owned())?;
        if !matches!(url.scheme(), "https" | "http") {
            anyhow::bail!("the webhook URL must be http:// or https://");
        }
        let host: Arc<str> = url.host_str().unwrap_or("(no host)").into();
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("portcullis-control-plane/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("could not build the HTTP client for the webhook")?;
        Ok(Self { client, settings: Arc::new(settings), host, in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)) })
    }

    /// Posts the message about `notice` in the background.
    pub fn send(&self, notice: &Notice) {
        let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            tracing::warn!(host = %self.host, hold = %notice.hold.id, "webhook: too many deliveries under way; message dropped");
            return;
        };
        let payload = message(notice, self.settings.public_url.as_deref());
        let request = self.client.post(&self.settings.url).json(&payload);
        let host = Arc::clone(&self.host);
        let hold = notice.hold.id.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match request.send().await {
                Ok(response) if response.status().is_success() => {}
                Ok(response) => tracing::warn!(%host, %hold, status = %response.status(), "webhook refused the message"),
                Err(e) => tracing::warn!(%host, %hold, error = %without_url(&e), "webhook delivery failed"),
            }
        });
    }
}

/// The error without the URL reqwest adds (it may hold a secret path).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&e.to_string());
        source = e.source();
    }
    match error.url() {
        Some(url) => text.replace(url.as_str(), "(webhook)"),
        None => text,
    }
}

/// The Slack-compatible message about `notice`.
pub fn message(notice: &Notice, public_url: Option<&str>) -> Value {
    let hold = &notice.hold;
    let rules = hold.rules.join(", ");
    let headline = match notice.kind {
        EventKind::Created => format!("Approval needed: {} was held on `{}` (rules: {rules})", hold.subject, hold.target),
        EventKind::Approval => format!("{} approved hold {} ({} approval(s) so far)", notice.actor, hold.id, hold.approvals),
        EventKind::Denial => format!("{} denied hold {}", notice.actor, hold.id),
        EventKind::Approved => format!("Hold {} of {} on `{}` is approved (by {})", hold.id, hold.subject, hold.target, notice.actor),
        EventKind::Denied => format!("Hold {} of {} on `{}` is denied (by {})", hold.id, hold.subject, hold.target, notice.actor),
        EventKind::Expired => format!("Hold {} of {} on `{}` expired: nobody decided in time", hold.id, hold.subject, hold.target),
        EventKind::GrantCreated => format!("{} granted {} just-in-time access for rules {rules}", notice.actor, hold.subject),
        EventKind::GrantUsed => format!("Hold {} of {} on `{}` was approved by a just-in-time grant", hold.id, hold.subject, hold.target),
        EventKind::GrantRevoked => format!("{} revoked the just-in-time grant {} had from hold {}", notice.actor, hold.subject, hold.id),
    };
    let mut lines = vec![format!("*{}*", escape(&headline))];
    if notice.kind == EventKind::Created {
        lines.push(format!("Request: `{} {}`{}", escape(&hold.method), escape(&hold.path), hold.model.as_deref().map(|m| format!(" (model `{}`)", escape(m))).unwrap_or_default()));
        if !hold.reason.is_empty() {
            lines.push(format!("Why: {}", escape(&hold.reason)));
        }
        lines.push(format!("Expires: {}", hold.expires_at));
    }
    if let Some(reason) = notice.reason.as_deref().filter(|r| !r.is_empty()) {
        lines.push(format!("Reason: {}", escape(reason)));
    }
    let mut blocks = vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}})];
    if let Some(excerpt) = notice.excerpt.as_deref().filter(|e| !e.is_empty()) {
        let cut: String = excerpt.chars().take(MAX_MESSAGE_EXCERPT).collect();
        let more = if cut.len() < excerpt.len() { "…" } else { "" };
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("```{}{more}```", escape(&cut).replace("```", "'''"))}}));
    }
    let mut text = headline;
    if let Some(base) = public_url {
        let link = format!("{}/approvals/#hold={}", base.trim_end_matches('/'), hold.id);
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("<{link}|Review in Portcullis>")}]}));
        text = format!("{text} {link}");
    }
    json!({"text": text, "blocks": blocks})
}

/// Escapes the three characters Slack's `mrkdwn` gives meaning to.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hold_api::HoldStatus;

    fn summary() -> HoldSummary {
        HoldSummary {
            id: "hold_1".into(),
            status: HoldStatus::Pending,
            subject: "alice".into(),
            target: "model".into(),
            rules: vec!["rm-rf".into(), "exfil".into()],
            reason: "dangerous <command>".into(),
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            model: Some("gpt".into()),
            created_at: "2025-01-01T00:00:00.000Z".into(),
            expires_at: "2025-01-01T00:05:00.000Z".into(),
            expires_in_ms: 300_000,
            decided_at: None,
            decided_by: None,
            approvals: 0,
        }
    }

    #[test]
    fn new_hold_messages_carry_the_excerpt_escaped_and_a_link() {
        let notice = Notice { kind: EventKind::Created, hold: summary(), actor: "alice".into(), reason: None, excerpt: Some("rm -rf / && echo [EMAIL]".into()) };
        let message = message(&notice, Some("https://cp.example/"));
        let text = message["text"].as_str().unwrap();
        assert!(text.contains("alice") && text.contains("https://cp.example/approvals/#hold=hold_1"), "{text}");
        let blocks = message["blocks"].as_array().unwrap();
        assert!(blocks[0]["text"]["text"].as_str().unwrap().contains("dangerous &lt;command&gt;"));
        assert_eq!(blocks[1]["text"]["text"], "```rm -rf / &amp;&amp; echo [EMAIL]```");
        assert_eq!(blocks[2]["type"], "context");
    }
}
