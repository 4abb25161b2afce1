//! Native prompt guard for the Portcullis filters: risky requests are detected, then logged,
//! blocked or held for human approval.
//!
//! Host-independent (no proxy-wasm, no threads, no filesystem, no clock, no randomness): the
//! guard filter wraps it, and it builds for `wasm32-wasip1`.
//!
//! * [`extract()`] reads a request (OpenAI chat, responses and completions; Anthropic
//!   messages; MCP `tools/call`; Kubernetes API requests; JSON; text) into [`Extracted`]:
//!   text [`Segment`]s with their roles and JSON paths, MCP [`ToolCall`]s, a [`K8sRequest`].
//! * [`normalize()`] is applied to every text before matching: NFKC, invisible characters
//!   removed, Unicode tag characters decoded.
//! * [`Guard::from_policy`] compiles a policy's `guard` section once per version: the
//!   operator's rules (regex, keywords, token and size thresholds, tool globs, Kubernetes
//!   matches, identity conditions) and the built-in packs (see [`PackName`]).
//! * [`Guard::inspect`] judges a request for a target and a [`Subject`]: a [`Verdict`] with
//!   the strongest action (`block` > `hold` > `log` > `allow`), every [`RuleMatch`] with a
//!   short excerpt whose credentials are masked, and, for holds, a [`HoldPlan`].
//!
//! Packs tell a *command to do* something dangerous from a *question about* it: see
//! [`context`] for the rules, and each pack's module for its detectors and
//! trade-offs (also in the crate's README).
//!
//! ```
//! use portcullis_guard::{Action, Guard, PackName, Subject};
//!
//! let guard = Guard::with_packs(&[PackName::DestructiveSql], Action::Hold).unwrap();
//! let who = Subject::new("alice", ["dev"]);
//! let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"Run DROP TABLE users;"}]}"#;
//! let verdict = guard.check("openai", &who, "application/json", "POST", "/v1/chat/completions", body);
//! assert_eq!(verdict.action, Action::Hold);
//! assert_eq!(verdict.matches[0].detector, Some("drop_object"));
//!
//! let question = br#"{"messages":[{"role":"user","content":"What does DROP TABLE users do?"}]}"#;
//! let verdict = guard.check("openai", &who, "application/json", "POST", "/v1/chat/completions", question);
//! assert_eq!(verdict.action, Action::Allow);
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod context;
mod extract;
mod glob;
mod guard;
mod normalize;
mod packs;
mod rules;
mod secrets;
mod verdict;

pub use extract::{
    extract, parse_k8s_path, ExtractError, ExtractOptions, Extracted, Format, K8sRequest, K8sVerb, Role, Segment,
    ToolCall,
};
pub use guard::Guard;
pub use normalize::{is_invisible, normalize};
pub use packs::{DESTRUCTIVE_RESOURCES, MIN_REPEATED_RUN};
pub use portcullis_policy::guard::{GuardAction as Action, GuardPolicy, HoldSettings, PackName, Unreachable};
pub use rules::Subject;
pub use secrets::{SecretMasker, MAX_EXCERPT_CHARS, REDACTED};
pub use verdict::{ApprovalRequirement, HoldPlan, RuleMatch, Verdict};
