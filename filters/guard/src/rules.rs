//! Operators' rules, compiled: matchers, identity conditions and text selection.
//!
//! A rule matches when **all** the matchers it gives match, each on its own and anywhere in
//! the request (the regex may match one segment and a keyword another), and its identity
//! conditions hold:
//!
//! | Matcher | Matches when |
//! | --- | --- |
//! | `regex` | it matches the normalised text of a selected segment (`^`/`$` are the segment's ends unless `(?m)`) |
//! | `keywords` | one of the (normalised) words occurs in a selected segment; `whole_word` rejects matches glued to a letter, digit or `_` |
//! | `min_tokens` | the selected segments hold at least this many estimated tokens: characters / 4, rounded up |
//! | `min_bytes` | the request body has at least this many bytes |
//! | `tools` | an MCP `tools/call` names a matching tool (globs) |
//! | `k8s` | the request is a Kubernetes API request whose verb, resource, namespace and name match |
//!
//! `case_insensitive` applies to `regex` and `keywords` (Unicode simple case folding; ASCII
//! keywords use a case-insensitive automaton, so no lower-cased copy of the text is made).

use aho_corasick::{AhoCorasick, MatchKind};
use portcullis_policy::guard::{Audience, GuardAction as Action, GuardRule, HoldSettings, K8sMatch};
use regex::{Regex, RegexBuilder};

use crate::extract::{Extracted, Role, Segment};
use crate::glob::any_glob;
use crate::normalize::normalize;
use crate::secrets::SecretMasker;
use crate::verdict::RuleMatch;

/// Largest compiled size of an operator's regex (bounds memory in the filter VM).
const RULE_REGEX_SIZE_LIMIT: usize = 2 << 20;

/// Who is making a request: the verified identity's subject and groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// Subject, such as `alice@example.com` or `svc:ci-bot`; empty when unauthenticated.
    pub subject: String,
    /// Groups the identity has.
    pub groups: Vec<String>,
}

impl Subject {
    /// A subject with its groups.
    pub fn new(subject: impl Into<String>, groups: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { subject: subject.into(), groups: groups.into_iter().map(Into::into).collect() }
    }

    /// No identity: matches no `only_for`/`except_for` entry.
    pub fn anonymous() -> Self {
        Self::default()
    }

    fn is_in(&self, audience: &Audience) -> bool {
        (!self.subject.is_empty() && any_glob(&audience.subjects, &self.subject))
            || self.groups.iter().any(|g| any_glob(&audience.groups, g))
    }
}

/// Who a rule or pack applies to and which text it reads.
pub(crate) struct Scope {
    only_for: Audience,
    except_for: Audience,
    roles: Vec<Role>,
    latest_only: bool,
}

impl Scope {
    pub(crate) fn new(only_for: &Audience, except_for: &Audience, roles: &[String], latest_only: bool) -> Self {
        let roles = roles.iter().map(|r| Role::parse(r)).collect();
        Self { only_for: only_for.clone(), except_for: except_for.clone(), roles, latest_only }
    }

    pub(crate) fn applies_to(&self, who: &Subject) -> bool {
        (self.only_for.is_empty() || who.is_in(&self.only_for)) && !who.is_in(&self.except_for)
    }

    pub(crate) fn selects(&self, segment: &Segment) -> bool {
        (self.roles.is_empty() || self.roles.contains(&segment.role)) && (!self.latest_only || segment.latest)
    }
}

enum Keywords {
    Ascii(AhoCorasick),
    Unicode(Regex),
}

/// A rule ready to evaluate.
pub(crate) struct CompiledRule {
    pub(crate) name: String,
    action: Action,
    message: Option<String>,
    regex: Option<Regex>,
    keywords: Option<Keywords>,
    whole_word: bool,
    min_tokens: Option<u64>,
    min_bytes: Option<u64>,
    tools: Vec<String>,
    k8s: Option<K8sMatch>,
    scope: Scope,
    hold: Option<HoldSettings>,
}

impl CompiledRule {
    /// Compiles `rule`; problems are `(field, message)` under the rule's path.
    pub(crate) fn compile(rule: &GuardRule, hold: Option<HoldSettings>) -> Result<Self, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let regex = rule.regex.as_deref().and_then(|source| {
            RegexBuilder::new(source)
                .case_insensitive(rule.case_insensitive)
                .size_limit(RULE_REGEX_SIZE_LIMIT)
                .dfa_size_limit(RULE_REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| problems.push(("regex", regex_problem(&e))))
                .ok()
        });
        let keywords = if rule.keywords.is_empty() {
            None
        } else {
            match keywords(&rule.keywords, rule.case_insensitive) {
                Ok(k) => Some(k),
                Err(message) => {
                    problems.push(("keywords", message));
                    None
                }
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            name: rule.name.clone(),
            action: rule.action,
            message: rule.message.clone(),
            regex,
            keywords,
            whole_word: rule.whole_word,
            min_tokens: rule.min_tokens,
            min_bytes: rule.min_bytes,
            tools: rule.tools.clone(),
            k8s: rule.k8s.clone(),
            scope: Scope::new(&rule.only_for, &rule.except_for, &rule.roles, rule.latest_turn_only),
            hold: (rule.action == Action::Hold).then_some(hold).flatten(),
        })
    }

    /// The match, if every matcher matches and the conditions hold. `texts` are the
    /// normalised segment texts.
    pub(crate) fn evaluate(&self, request: &Extracted, texts: &[std::borrow::Cow<'_, str>], who: &Subject, masker: &SecretMasker) -> Option<RuleMatch> {
        if !self.scope.applies_to(who) {
            return None;
        }
        let selected = || request.texts.iter().zip(texts).enumerate().filter(|(_, (s, _))| self.scope.selects(s));
        let mut location: Option<(usize, usize, usize)> = None;
        if let Some(regex) = &self.regex {
            let hit = selected().find_map(|(i, (_, t))| regex.find(t).map(|m| (i, m.start(), m.end())))?;
            location = Some(hit);
        }
        if let Some(keywords) = &self.keywords {
            let hit = selected().find_map(|(i, (_, t))| self.find_keyword(keywords, t).map(|(s, e)| (i, s, e)))?;
            location.get_or_insert(hit);
        }
        let mut described: Option<(String, String)> = None;
        if let Some(min) = self.min_tokens {
            let chars: usize = selected().map(|(_, (_, t))| t.chars().count()).sum();
            let tokens = chars.div_ceil(4) as u64;
            if tokens < min {
                return None;
            }
            described.get_or_insert_with(|| ("body".into(), format!("about {tokens} tokens (limit {min})")));
        }
        if let Some(min) = self.min_bytes {
            if (request.body_bytes as u64) < min {
                return None;
            }
            described.get_or_insert_with(|| ("body".into(), format!("{} bytes (limit {min})", request.body_bytes)));
        }
        if !self.tools.is_empty() {
            let tool = request.tools.iter().find(|t| any_glob(&self.tools, &t.name))?;
            described.get_or_insert_with(|| ("params.name".into(), format!("tools/call {}", tool.name)));
        }
        if let Some(k8s_match) = &self.k8s {
            let k8s = request.k8s.as_ref().filter(|k| k8s_matches(k8s_match, k))?;
            described.get_or_insert_with(|| ("path".into(), k8s.to_string()));
        }
        let (field, excerpt) = match (location, described) {
            (Some((i, start, end)), _) => {
                let field = request.texts.get(i).map(|s| s.field.clone()).unwrap_or_default();
                (field, masker.excerpt(texts.get(i).map_or("", |t| t.as_ref()), start, end))
            }
            (None, Some((field, text))) => (field, masker.excerpt(&text, 0, 0)),
            (None, None) => return None,
        };
        Some(RuleMatch {
            rule: self.name.clone(),
            pack: None,
            detector: None,
            action: self.action,
            message: self.message.clone(),
            field,
            excerpt,
            hold: self.hold.clone(),
        })
    }

    fn find_keyword(&self, keywords: &Keywords, text: &str) -> Option<(usize, usize)> {
        let bounded = |s: usize, e: usize| !self.whole_word || (!word_char_before(text, s) && !word_char_after(text, e));
        match keywords {
            Keywords::Ascii(ac) if self.whole_word => {
                ac.find_overlapping_iter(text).map(|m| (m.start(), m.end())).find(|&(s, e)| bounded(s, e))
            }
            Keywords::Ascii(ac) => ac.find(text).map(|m| (m.start(), m.end())),
            Keywords::Unicode(re) => re.find_iter(text).map(|m| (m.start(), m.end())).find(|&(s, e)| bounded(s, e)),
        }
    }
}

fn keywords(words: &[String], case_insensitive: bool) -> Result<Keywords, String> {
    let words: Vec<String> = words.iter().map(|w| normalize(w).into_owned()).collect();
    if case_insensitive && words.iter().any(|w| !w.is_ascii()) {
        let alternation: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
        return RegexBuilder::new(&format!("(?:{})", alternation.join("|")))
            .case_insensitive(true)
            .size_limit(RULE_REGEX_SIZE_LIMIT)
            .build()
            .map(Keywords::Unicode)
            .map_err(|e| format!("could not be compiled: {e}; use fewer or shorter keywords"));
    }
    AhoCorasick::builder()
        .ascii_case_insensitive(case_insensitive)
        .match_kind(MatchKind::Standard)
        .build(&words)
        .map(Keywords::Ascii)
        .map_err(|e| format!("could not be compiled: {e}; use fewer or shorter keywords"))
}

fn regex_problem(error: &regex::Error) -> String {
    match error {
        regex::Error::CompiledTooBig(limit) => format!(
            "compiles to more than {limit} bytes: simplify it (bounded repetitions such as `{{1,1000}}` and large Unicode classes grow it) or split it into several rules"
        ),
        other => format!(
            "is not a valid Rust regex ({}): look-around and back-references are not supported",
            other.to_string().lines().last().unwrap_or("syntax error").trim()
        ),
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn word_char_before(text: &str, at: usize) -> bool {
    text.get(..at).and_then(|t| t.chars().next_back()).is_some_and(is_word)
}

fn word_char_after(text: &str, at: usize) -> bool {
    text.get(at..).and_then(|t| t.chars().next()).is_some_and(is_word)
}

fn k8s_matches(m: &K8sMatch, k: &crate::extract::K8sRequest) -> bool {
    let list = |patterns: &[String], value: Option<&str>| patterns.is_empty() || value.is_some_and(|v| any_glob(patterns, v));
    list(&m.verbs, Some(k.verb.as_str()))
        && list(&m.resources, Some(&k.resource))
        && list(&m.namespaces, k.namespace.as_deref())
        && list(&m.names, k.name.as_deref())
}
