//! The compiled guard: a policy's `guard` section, ready to judge requests.

use std::borrow::Cow;

use portcullis_policy::guard::{GuardAction as Action, GuardPolicy, HoldSettings, OtherContentAction, PackName};
use portcullis_policy::Problem;

use crate::extract::{extract, ExtractError, ExtractOptions, Extracted};
use crate::normalize::normalize;
use crate::packs::{fold, Pack};
use crate::rules::{CompiledRule, Scope, Subject};
use crate::secrets::SecretMasker;
use crate::verdict::{RuleMatch, Verdict};

/// A pack switched on in one entry.
struct PackUse {
    pack: usize,
    action: Action,
    message: Option<String>,
    scope: Scope,
    hold: Option<HoldSettings>,
}

/// One `guard.targets[]` entry.
struct Entry {
    target: String,
    options: ExtractOptions,
    packs: Vec<PackUse>,
    rules: Vec<CompiledRule>,
    on_error: Action,
    error_message: Option<String>,
    error_hold: HoldSettings,
}

/// A compiled `guard` policy section. Build it once per policy version with
/// [`Guard::from_policy`]; judging a request never allocates more than its verdict, the
/// normalised copies of texts that need one, and excerpts.
pub struct Guard {
    entries: Vec<Entry>,
    packs: Vec<Pack>,
    masker: SecretMasker,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let targets: Vec<&str> = self.entries.iter().map(|e| e.target.as_str()).collect();
        let packs: Vec<PackName> = self.packs.iter().map(|p| p.name).collect();
        f.debug_struct("Guard").field("targets", &targets).field("packs", &packs).finish()
    }
}

impl Guard {
    /// Compiles the section: every pack used, every rule's regex and keywords. All problems
    /// are reported, with paths such as `guard.targets[0].rules[2].regex`.
    ///
    /// The structural checks of [`GuardPolicy::validate`] are not repeated here: run them on
    /// the whole policy first (the control plane does).
    pub fn from_policy(policy: &GuardPolicy) -> Result<Guard, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut packs: Vec<Pack> = Vec::new();
        let mut entries = Vec::with_capacity(policy.targets.len());
        for (i, target) in policy.targets.iter().enumerate() {
            let mut uses = Vec::with_capacity(target.packs.len());
            for (j, pack_ref) in target.packs.iter().enumerate() {
                let index = match packs.iter().position(|p| p.name == pack_ref.pack) {
                    Some(index) => index,
                    None => match Pack::compile(pack_ref.pack) {
                        Ok(pack) => {
                            packs.push(pack);
                            packs.len() - 1
                        }
                        Err(message) => {
                            problems.push(Problem { path: format!("guard.targets[{i}].packs[{j}].pack"), message });
                            continue;
                        }
                    },
                };
                uses.push(PackUse {
                    pack: index,
                    action: pack_ref.action,
                    message: pack_ref.message.clone(),
                    scope: Scope::new(&pack_ref.only_for, &pack_ref.except_for, &pack_ref.roles, pack_ref.latest_turn_only),
                    hold: (pack_ref.action == Action::Hold).then(|| policy.approvals.resolve(pack_ref.hold.as_ref())),
                });
            }
            let mut rules = Vec::with_capacity(target.rules.len());
            for (k, rule) in target.rules.iter().enumerate() {
                match CompiledRule::compile(rule, Some(policy.approvals.resolve(rule.hold.as_ref()))) {
                    Ok(compiled) => rules.push(compiled),
                    Err(found) => problems.extend(found.into_iter().map(|(field, message)| Problem {
                        path: format!("guard.targets[{i}].rules[{k}].{field}"),
                        message,
                    })),
                }
            }
            entries.push(Entry {
                target: target.target.clone(),
                options: ExtractOptions::from_target(target),
                packs: uses,
                rules,
                on_error: target.on_error,
                error_message: target.error_message.clone(),
                error_hold: policy.approvals.resolve(None),
            });
        }
        if problems.is_empty() {
            Ok(Guard { entries, packs, masker: SecretMasker::new() })
        } else {
            Err(problems)
        }
    }

    /// A guard with the given packs switched on for every target (`*`), all with `action`:
    /// handy for tools, tests and benchmarks.
    pub fn with_packs(packs: &[PackName], action: Action) -> Result<Guard, Vec<Problem>> {
        let refs: Vec<serde_json::Value> =
            packs.iter().map(|p| serde_json::json!({"pack": p, "action": action})).collect();
        let policy = serde_json::json!({
            "approvals": {"approver_groups": ["approvers"]},
            "targets": [{"target": "*", "packs": refs}]
        });
        let policy: GuardPolicy = serde_json::from_value(policy)
            .map_err(|e| vec![Problem { path: "guard".into(), message: e.to_string() }])?;
        Guard::from_policy(&policy)
    }

    /// Whether any entry applies to requests for `target` (its own or `*`). When none does,
    /// the filter need not buffer the body.
    pub fn applies_to(&self, target: &str) -> bool {
        self.entries.iter().any(|e| e.target == target || e.target == "*")
    }

    /// How to read bodies for `target`: the named entry's settings, else the `*` entry's.
    pub fn extract_options(&self, target: &str) -> ExtractOptions {
        self.primary(target).map(|e| e.options.clone()).unwrap_or_default()
    }

    fn primary(&self, target: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.target == target).or_else(|| self.entries.iter().find(|e| e.target == "*"))
    }

    fn entries_for<'a>(&'a self, target: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        let named = self.entries.iter().filter(move |e| e.target == target && target != "*");
        named.chain(self.entries.iter().filter(|e| e.target == "*"))
    }

    /// Reads and judges a request in one step: [`extract`] with the target's options, then
    /// [`Guard::inspect`], or [`Guard::on_extract_error`] when the body cannot be read.
    pub fn check(&self, target: &str, who: &Subject, content_type: &str, method: &str, path: &str, body: &[u8]) -> Verdict {
        if !self.applies_to(target) {
            return Verdict::allow();
        }
        match extract(content_type, method, path, body, &self.extract_options(target)) {
            Ok(request) => self.inspect(target, who, &request),
            Err(error) => self.on_extract_error(target, &error),
        }
    }

    /// Judges an extracted request for `target` made by `who`.
    pub fn inspect(&self, target: &str, who: &Subject, request: &Extracted) -> Verdict {
        let Some(primary) = self.primary(target) else { return Verdict::allow() };
        let mut matches = Vec::new();
        if !request.inspected && primary.options.other_content.action == OtherContentAction::Block {
            matches.push(RuleMatch {
                rule: "other_content".into(),
                pack: None,
                detector: None,
                action: Action::Block,
                message: primary.error_message.clone(),
                field: "body".into(),
                excerpt: format!("{} bytes of a content type the guard does not read", request.body_bytes),
                hold: None,
            });
        }
        let texts: Vec<Cow<'_, str>> = request.texts.iter().map(|s| normalize(&s.text)).collect();
        let folded: Vec<Cow<'_, str>> = if self.packs.is_empty() { Vec::new() } else { texts.iter().map(|t| fold(t)).collect() };
        for entry in self.entries_for(target) {
            for pack_use in &entry.packs {
                if let Some(found) = self.scan_pack(pack_use, request, &texts, &folded, who) {
                    matches.push(found);
                }
            }
            for rule in &entry.rules {
                if let Some(found) = rule.evaluate(request, &texts, who, &self.masker) {
                    matches.push(found);
                }
            }
        }
        Verdict::from_matches(matches)
    }

    fn scan_pack(&self, pack_use: &PackUse, request: &Extracted, texts: &[Cow<'_, str>], folded: &[Cow<'_, str>], who: &Subject) -> Option<RuleMatch> {
        if !pack_use.scope.applies_to(who) {
            return None;
        }
        let pack = self.packs.get(pack_use.pack)?;
        let (detector, field, excerpt) = match pack.scan_structure(request) {
            Some(hit) => (hit.detector, hit.field.to_owned(), self.masker.excerpt(&hit.excerpt, 0, 0)),
            None => request.texts.iter().zip(texts.iter().zip(folded)).filter(|(s, _)| pack_use.scope.selects(s)).find_map(|(segment, (text, folded))| {
                let hit = pack.scan_text(text, folded)?;
                Some((hit.detector, segment.field.clone(), self.masker.excerpt(text, hit.start, hit.end)))
            })?,
        };
        Some(RuleMatch {
            rule: pack.name.name().to_owned(),
            pack: Some(pack.name),
            detector: Some(detector),
            action: pack_use.action,
            message: pack_use.message.clone(),
            field,
            excerpt,
            hold: pack_use.hold.clone(),
        })
    }

    /// The verdict for a body that could not be read: the target's `on_error` action
    /// (default `block`), with the error as the excerpt.
    pub fn on_extract_error(&self, target: &str, error: &ExtractError) -> Verdict {
        let Some(primary) = self.primary(target) else { return Verdict::allow() };
        Verdict::from_matches(vec![RuleMatch {
            rule: "on_error".into(),
            pack: None,
            detector: None,
            action: primary.on_error,
            message: primary.error_message.clone(),
            field: "body".into(),
            excerpt: self.masker.excerpt(&error.to_string(), 0, 0),
            hold: (primary.on_error == Action::Hold).then(|| primary.error_hold.clone()),
        }])
    }
}
