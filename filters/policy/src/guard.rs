//! Prompt guard: risky requests are detected, then logged, blocked or held for human approval.
//!
//! The engine that applies this section lives in `portcullis-guard`; this
//! module holds only the document types and the checks that need no regex
//! engine. Custom regexes are compiled (and so checked) by
//! `portcullis_guard::Guard::from_policy`, which reports with the same paths.
//!
//! Each entry of [`GuardPolicy::targets`] applies to one identity target (or
//! to every target with `*`). A request is checked against the entry naming
//! its target *and* the `*` entry: their packs and rules add up. Of all the
//! rules and packs that match, the strongest action wins
//! (`block` > `hold` > `log` > `allow`).
//!
//! ```yaml
//! guard:
//!   approvals:
//!     approver_groups: [sre-oncall]
//!     default_ttl_secs: 900
//!     quorum: 1
//!     require_reason: true
//!     on_control_plane_unreachable: deny
//!   targets:
//!     - target: "*"
//!       packs:
//!         - { pack: prompt_injection, action: log }
//!         - { pack: secret_exfiltration, action: block, message: "Requests for credentials are blocked." }
//!     - target: prod-k8s
//!       format: kubernetes
//!       packs:
//!         - pack: destructive_k8s
//!           action: hold
//!           except_for: { groups: [platform-admins] }
//!           hold: { quorum: 2, approver_groups: [platform-leads] }
//!       rules:
//!         - name: prod-writes
//!           k8s: { verbs: [patch, update], namespaces: ["prod*"] }
//!           action: hold
//!       other_content: { action: block }
//! ```
//!
//! ```
//! use portcullis_policy::guard::{GuardAction, GuardPolicy, PackName};
//!
//! let policy: GuardPolicy = serde_json::from_str(r#"{
//!     "approvals": {"approver_groups": ["sre"]},
//!     "targets": [{"target": "*", "packs": [{"pack": "destructive_sql", "action": "hold"}]}]
//! }"#).unwrap();
//! assert_eq!(policy.targets[0].packs[0].pack, PackName::DestructiveSql);
//! let mut report = portcullis_policy::ValidationReport::default();
//! policy.validate(&Default::default(), &mut report);
//! assert!(report.errors.is_empty(), "{report}");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

mod approvals;
mod validate;

pub use approvals::{ApprovalSettings, HoldOverrides, HoldSettings, Unreachable};
#[cfg(test)]
mod tests;

/// Largest accepted body limit ([`TargetGuard::max_body_bytes`], [`OtherContent::max_bytes`]): 64 MiB.
pub const MAX_GUARD_BODY_BYTES: usize = 64 << 20;

/// Longest hold, in seconds: one day.
pub const MAX_HOLD_TTL_SECS: u64 = 86_400;

/// Largest quorum of approvals a hold may ask for.
pub const MAX_QUORUM: u32 = 10;

/// Role names the extractors give text segments, for [`GuardRule::roles`] and [`PackRef::roles`].
pub const KNOWN_ROLES: &[&str] = &["system", "developer", "user", "assistant", "tool", "function"];

/// Kubernetes verbs a [`K8sMatch`] may name (the API server's own names).
pub const K8S_VERBS: &[&str] =
    &["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "other"];

/// The `guard` section of a policy. Its `Default` is the section left out: nothing is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardPolicy {
    /// What is checked per target. A request is checked against the entry that names its
    /// target and against the `*` entry, if any: their packs and rules add up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetGuard>,
    /// Who approves held requests, and how, unless a rule says otherwise.
    #[serde(default)]
    pub approvals: ApprovalSettings,
}

impl GuardPolicy {
    /// The `hold` overrides of the pack called `pack` (for a pack's match) or
    /// else of the rule called `rule`, as it applies to `target`: from the
    /// target's own entry first, then from `*`. `None` when no entry names it
    /// with overrides: the policy-wide [`ApprovalSettings`] apply.
    pub fn hold_overrides(&self, target: &str, rule: &str, pack: Option<&str>) -> Option<&HoldOverrides> {
        let named = self.targets.iter().filter(|t| t.target == target);
        let wildcard = self.targets.iter().filter(|t| t.target == "*" && target != "*");
        named.chain(wildcard).find_map(|entry| {
            let from_pack = pack.and_then(|pack| entry.packs.iter().find(|p| p.pack.name() == pack)).map(|p| p.hold.as_ref());
            from_pack.or_else(|| entry.rules.iter().find(|r| r.name == rule).map(|r| r.hold.as_ref()))
        })?
    }
}

/// What is checked on requests to one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetGuard {
    /// Name of a target under `identity.targets`, or `*` for every target.
    pub target: String,
    /// How request bodies are read (default `auto`: from the content type, path and body shape).
    #[serde(default)]
    pub format: FormatHint,
    /// Built-in detector packs switched on, each with its own action.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<PackRef>,
    /// The operator's own rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<GuardRule>,
    /// What happens to bodies of a content type the guard cannot parse (images, archives,
    /// form uploads...). The named target's setting wins over the `*` entry's.
    #[serde(default)]
    pub other_content: OtherContent,
    /// Largest body parsed, in bytes (default 8 MiB). Larger bodies are not read: `on_error` applies.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Action for a body that cannot be inspected: larger than `max_body_bytes`, malformed
    /// JSON, or a known format with fields of the wrong type (default `block`: fail closed).
    #[serde(default = "default_on_error")]
    pub on_error: GuardAction,
    /// Message for the caller when `on_error` or `other_content: block` refuses a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// How a target's request bodies are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatHint {
    /// Decide per request: JSON bodies by their shape (`messages`, `input`, `prompt`,
    /// `jsonrpc`), Kubernetes by an `/api/...` or `/apis/...` path, `text/*` as text.
    #[default]
    Auto,
    /// OpenAI chat completions, responses or legacy completions.
    Openai,
    /// Anthropic messages.
    Anthropic,
    /// MCP (JSON-RPC 2.0) over HTTP.
    Mcp,
    /// Kubernetes API requests: the path gives verb, resource, namespace and name.
    Kubernetes,
    /// The whole body as text, whatever its content type.
    Text,
}

/// What a matching rule or pack does.
///
/// Declared weakest first: when several match, the greatest (`block`) wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardAction {
    /// Do nothing. The match is listed in the verdict but is not an event; it cannot override a
    /// stronger match (use `except_for` to exempt callers).
    Allow,
    /// Observe mode: report the match as an event and let the request through.
    Log,
    /// Hold the request until enough approvers allow it (see [`ApprovalSettings`]).
    Hold,
    /// Refuse the request.
    Block,
}

impl GuardAction {
    /// The policy name, such as `hold`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Log => "log",
            Self::Hold => "hold",
            Self::Block => "block",
        }
    }
}

impl fmt::Display for GuardAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A built-in detector pack. Every pack tells a *command to do* something dangerous from a
/// *question about* it: a question about dropping a table is not a command to drop one. The
/// engine's docs (`portcullis-guard`, README) list each pack's detectors and trade-offs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackName {
    /// `DROP TABLE|DATABASE|SCHEMA`, `TRUNCATE`, `DELETE`/`UPDATE` without `WHERE`,
    /// `ALTER TABLE … DROP`, in command position only (start of a line or code line, after
    /// `;`, or after "run"/"execute"/"please"). "What does DROP TABLE do?" does not match.
    DestructiveSql,
    /// Kubernetes `DELETE` of namespaces, workloads, services, volumes and cluster objects read
    /// from the API path (dry runs excepted), and `kubectl delete` in command position.
    DestructiveK8s,
    /// `rm -r` of `/`, `/*`, `~`, `$HOME` or a top-level system directory, `mkfs`, `wipefs`,
    /// `dd of=/dev/…`, fork bombs, `chmod`/`chown -R` of `/`, in command position. Relative
    /// paths (`rm -rf ./build`) do not match.
    DestructiveShell,
    /// "Ignore/disregard previous instructions", "you are now DAN", "enable developer mode",
    /// chat-template tokens: addressed to the model, not quoted in prose or asked about.
    PromptInjection,
    /// Requests that the model reveal, print or repeat *its own* system prompt or initial
    /// instructions (questions like "what is your system prompt?" count; "what is a system
    /// prompt?" does not).
    SystemPromptExtraction,
    /// "Repeat the word X forever", long runs of one repeated word, requests for verbatim
    /// training data.
    TrainingDataExtraction,
    /// Requests to print or send environment variables, API keys, credentials, `~/.ssh`,
    /// `/etc/passwd`, `.env`; network tools posting secrets to a URL.
    SecretExfiltration,
}

impl PackName {
    /// Every pack.
    pub const ALL: [PackName; 7] = [
        Self::DestructiveSql,
        Self::DestructiveK8s,
        Self::DestructiveShell,
        Self::PromptInjection,
        Self::SystemPromptExtraction,
        Self::TrainingDataExtraction,
        Self::SecretExfiltration,
    ];

    /// The policy name, such as `destructive_sql`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::DestructiveSql => "destructive_sql",
            Self::DestructiveK8s => "destructive_k8s",
            Self::DestructiveShell => "destructive_shell",
            Self::PromptInjection => "prompt_injection",
            Self::SystemPromptExtraction => "system_prompt_extraction",
            Self::TrainingDataExtraction => "training_data_extraction",
            Self::SecretExfiltration => "secret_exfiltration",
        }
    }
}

impl fmt::Display for PackName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A built-in pack switched on for a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackRef {
    /// Which pack.
    pub pack: PackName,
    /// What a match does.
    pub action: GuardAction,
    /// Message for the caller when this pack blocks or holds the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Apply only to these callers; empty for everyone.
    #[serde(default, skip_serializing_if = "Audience::is_empty")]
    pub only_for: Audience,
    /// Never apply to these callers.
    #[serde(default, skip_serializing_if = "Audience::is_empty")]
    pub except_for: Audience,
    /// Look only at text of these roles (see [`KNOWN_ROLES`]); empty for all. Text without a
    /// role (MCP arguments, Kubernetes bodies, plain text) counts as `user`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Look only at the newest turn of a conversation (the messages after the last assistant
    /// message), so that a command already in the history does not match again on every turn.
    /// The caller writes the whole history, so this trades coverage for fewer repeats.
    #[serde(default, skip_serializing_if = "is_false")]
    pub latest_turn_only: bool,
    /// Hold settings for this pack, over [`GuardPolicy::approvals`]; only with `action: hold`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<HoldOverrides>,
}

/// An operator's rule. It matches when **every** matcher it gives matches (each on its own,
/// anywhere in the request), and its conditions (`only_for`, `except_for`) hold. A rule must
/// give at least one matcher: `regex`, `keywords`, `min_tokens`, `min_bytes`, `tools` or `k8s`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardRule {
    /// Unique name within the target, reported when the rule matches.
    pub name: String,
    /// Free text for humans: what the rule is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// What a match does.
    pub action: GuardAction,
    /// Message for the caller when this rule blocks or holds the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Rust `regex` syntax, matched against the normalised text (NFKC, invisible characters
    /// removed) of each text segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Words or phrases, any of which matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Keywords match only where not glued to a letter, digit or `_` on either side.
    #[serde(default, skip_serializing_if = "is_false")]
    pub whole_word: bool,
    /// `regex` and `keywords` ignore case.
    #[serde(default, skip_serializing_if = "is_false")]
    pub case_insensitive: bool,
    /// Matches when the estimated token count of the inspected text (characters / 4, rounded
    /// up) is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tokens: Option<u64>,
    /// Matches when the request body is at least this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_bytes: Option<u64>,
    /// Tool names (globs with `*` and `?`) of MCP `tools/call` requests; any may match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// Kubernetes API requests (verb, resource, namespace, name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s: Option<K8sMatch>,
    /// Apply only to these callers; empty for everyone.
    #[serde(default, skip_serializing_if = "Audience::is_empty")]
    pub only_for: Audience,
    /// Never apply to these callers.
    #[serde(default, skip_serializing_if = "Audience::is_empty")]
    pub except_for: Audience,
    /// Text matchers look only at text of these roles; empty for all (see [`PackRef::roles`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Text matchers look only at the newest turn (see [`PackRef::latest_turn_only`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub latest_turn_only: bool,
    /// Hold settings for this rule, over [`GuardPolicy::approvals`]; only with `action: hold`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<HoldOverrides>,
}

/// Which Kubernetes API requests match. Every non-empty list must match; entries are globs
/// (`*`, `?`); an empty list matches anything. Requests that are not Kubernetes never match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sMatch {
    /// Verbs, such as `delete` (see [`K8S_VERBS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verbs: Vec<String>,
    /// Plural resource names, such as `deployments`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Namespaces; cluster-scoped requests have none and never match a non-empty list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Object names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// A set of callers: a caller is in it when its subject matches one of `subjects` or one of
/// its groups matches one of `groups` (globs with `*` and `?`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// Subjects, such as `svc:ci-bot` or `*@contractors.example.com`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// Groups, such as `sre`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

impl Audience {
    /// Whether the set names nobody.
    pub fn is_empty(&self) -> bool {
        self.subjects.is_empty() && self.groups.is_empty()
    }
}

/// What happens to bodies whose content type the guard cannot parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherContent {
    /// `inspect` (default): read the first `max_bytes` as text (invalid UTF-8 replaced);
    /// `pass`: let them through unchecked; `block`: refuse them.
    #[serde(default)]
    pub action: OtherContentAction,
    /// Bytes read with `inspect` (default 64 KiB). The rest is not checked.
    #[serde(default = "default_other_max_bytes")]
    pub max_bytes: usize,
}

impl Default for OtherContent {
    fn default() -> Self {
        Self { action: OtherContentAction::Inspect, max_bytes: default_other_max_bytes() }
    }
}

/// See [`OtherContent::action`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherContentAction {
    /// Read the first bytes as text.
    #[default]
    Inspect,
    /// Let the body through unchecked.
    Pass,
    /// Refuse the request.
    Block,
}

fn is_false(value: &bool) -> bool {
    !*value
}
fn default_max_body_bytes() -> usize {
    8 << 20
}
fn default_other_max_bytes() -> usize {
    64 << 10
}
fn default_on_error() -> GuardAction {
    GuardAction::Block
}
