//! The [`Masker`]: built from a policy once, then used for any number of texts.

use std::collections::BTreeMap;
use std::fmt;

use portcullis_policy::masking::{MaskingPolicy, Operator};
use portcullis_policy::{Problem, ValidationReport};

use crate::custom::{self, CustomRegex, DenyMatcher};
use crate::detect;
use crate::entity::{EntityKind, CUSTOM_PRIORITY};
use crate::operator;
use crate::pseudo::Pseudonymizer;
use crate::resolve::resolve_in_place;
use crate::scan::{floor_boundary, Cand, Memo, Scan, Sink};

/// Masked text and how many entities of each kind were replaced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Masked {
    /// The text with every detected entity replaced.
    pub text: String,
    /// Replacements per entity name (`credit_card`, a custom rule's name...).
    /// Counts only, never values: safe to record.
    pub counts: BTreeMap<String, u32>,
}

/// One detected entity, for evaluation and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection<'m> {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset just past the last byte.
    pub end: usize,
    /// Entity name.
    pub entity: &'m str,
}

#[derive(Debug, Clone)]
pub(crate) struct Entity {
    pub name: String,
    pub label: String,
    pub op: Operator,
    pub priority: u8,
    /// `[LABEL]`, what `redact` writes.
    pub redacted: String,
}

/// A compiled masking policy. Immutable and cheap to share (wrap it in an
/// `Arc` for [`StreamMasker`](crate::StreamMasker) and [`SseRewriter`](crate::SseRewriter)).
#[derive(Clone)]
pub struct Masker {
    entities: Vec<Entity>,
    on: u64,
    regexes: Vec<CustomRegex>,
    deny: Option<DenyMatcher>,
    hmac_key: Option<Vec<u8>>,
    pub(crate) mask_json_keys: bool,
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.entities.iter().map(|e| e.name.as_str()).collect();
        f.debug_struct("Masker")
            .field("entities", &names)
            .field("hmac_key", &self.hmac_key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

impl Default for Masker {
    fn default() -> Self {
        Masker::new()
    }
}

impl Masker {
    /// Every built-in detector on, every entity redacted to `[LABEL]`.
    pub fn new() -> Masker {
        let entities = EntityKind::ALL
            .iter()
            .map(|k| Entity {
                name: k.name().to_owned(),
                label: k.label(),
                op: Operator::Redact,
                priority: k.priority(),
                redacted: format!("[{}]", k.label()),
            })
            .collect();
        Masker {
            entities,
            on: (1u64 << EntityKind::ALL.len()) - 1,
            regexes: Vec::new(),
            deny: None,
            hmac_key: None,
            mask_json_keys: false,
        }
    }

    /// Compiles `policy`. `hmac_key` is the secret named by
    /// `policy.hmac_key_ref`, needed when any operator is `hash`.
    ///
    /// Collects every problem (policy validation errors, regexes that do not
    /// compile or are unbounded) with paths under `masking`.
    pub fn from_policy(policy: &MaskingPolicy, hmac_key: Option<&[u8]>) -> Result<Masker, Vec<Problem>> {
        let mut report = ValidationReport::default();
        policy.validate(&mut report, "masking");
        let mut m = Masker::new();
        m.mask_json_keys = policy.mask_json_keys;
        m.on = 0;
        let mut uses_hash = false;
        for (kind, entity) in EntityKind::ALL.iter().zip(m.entities.iter_mut()) {
            let rule = policy.entities.get(kind.name());
            let enabled = rule.is_none_or(|r| r.enabled);
            entity.op = rule.map_or_else(|| policy.default_operator.clone(), |r| r.operator.clone());
            if enabled {
                m.on |= 1u64 << kind.id();
                uses_hash |= matches!(entity.op, Operator::Hash { .. });
            }
        }
        let mut next_id = EntityKind::ALL.len();
        let mut new_entity = |m: &mut Masker, name: &str, op: &Operator| -> u16 {
            let id = u16::try_from(next_id).unwrap_or(u16::MAX);
            next_id += 1;
            let label = name.to_ascii_uppercase();
            m.entities.push(Entity {
                name: name.to_owned(),
                redacted: format!("[{label}]"),
                label,
                op: op.clone(),
                priority: CUSTOM_PRIORITY,
            });
            id
        };
        for (i, c) in policy.custom.iter().enumerate() {
            uses_hash |= matches!(c.operator, Operator::Hash { .. });
            match custom::compile_regex(&c.regex) {
                Ok((re, max_len)) => {
                    let id = new_entity(&mut m, &c.name, &c.operator);
                    m.regexes.push(CustomRegex { id, re, max_len });
                }
                Err(msg) => report.error(format!("masking.custom[{i}].regex"), msg),
            }
        }
        let mut lists = Vec::new();
        for d in &policy.deny_lists {
            uses_hash |= matches!(d.operator, Operator::Hash { .. });
            let id = new_entity(&mut m, &d.name, &d.operator);
            lists.push((id, d.words.clone(), d.case_insensitive));
        }
        match DenyMatcher::new(&lists) {
            Ok(deny) => m.deny = deny,
            Err(msg) => report.error("masking.deny_lists", msg),
        }
        if m.entities.len() > usize::from(u16::MAX) {
            report.error("masking", "too many custom rules");
        }
        match hmac_key {
            Some(key) if !key.is_empty() => m.hmac_key = Some(key.to_vec()),
            _ if uses_hash && policy.hmac_key_ref.is_some() => {
                report.error("masking.hmac_key_ref", "the HMAC key is missing or empty: the `hash` operator needs it");
            }
            _ => {}
        }
        if report.errors.is_empty() {
            Ok(m)
        } else {
            Err(report.errors)
        }
    }

    /// Masks `text`. Pseudonymised entities are numbered within this call only.
    pub fn mask(&self, text: &str) -> Masked {
        self.mask_with(text, &mut Pseudonymizer::new())
    }

    /// Masks `text`, numbering pseudonymised entities in `pseudo` so that the
    /// same exchange's response can be restored with it.
    pub fn mask_with(&self, text: &str, pseudo: &mut Pseudonymizer) -> Masked {
        let mut counts = vec![0u32; self.entities.len()];
        let text = self.mask_counting(text, pseudo, &mut counts).unwrap_or_else(|| text.to_owned());
        Masked { text, counts: self.count_map(&counts) }
    }

    /// Masks `text`, adding to `counts`; `None` when nothing was found.
    pub(crate) fn mask_counting(&self, text: &str, pseudo: &mut Pseudonymizer, counts: &mut [u32]) -> Option<String> {
        let mut cands = Vec::new();
        self.scan(text, 0, true, &mut cands);
        if cands.is_empty() {
            return None;
        }
        resolve_in_place(&mut cands, |id| self.priority(id));
        let mut out = String::with_capacity(text.len());
        self.emit(text, 0, text.len(), &cands, pseudo, counts, &mut out);
        Some(out)
    }

    /// The entities that [`mask`](Self::mask) would replace, after overlap resolution.
    pub fn detect(&self, text: &str) -> Vec<Detection<'_>> {
        let mut cands = Vec::new();
        self.scan(text, 0, true, &mut cands);
        resolve_in_place(&mut cands, |id| self.priority(id));
        cands.iter().map(|c| Detection { start: c.start, end: c.end, entity: self.name(c.id) }).collect()
    }

    /// Names of all entities this masker knows, built-in and custom.
    pub fn entity_names(&self) -> impl Iterator<Item = &str> {
        self.entities.iter().map(|e| e.name.as_str())
    }

    pub(crate) fn name(&self, id: u16) -> &str {
        self.entities.get(usize::from(id)).map_or("unknown", |e| e.name.as_str())
    }

    pub(crate) fn priority(&self, id: u16) -> u8 {
        self.entities.get(usize::from(id)).map_or(0, |e| e.priority)
    }

    pub(crate) fn entity_count(&self) -> usize {
        self.entities.len()
    }

    /// Finds candidates starting at or after `from`. Returns the hold
    /// position: no entity starting before it can change as more text arrives.
    pub(crate) fn scan(&self, text: &str, from: usize, fin: bool, cands: &mut Vec<Cand>) -> usize {
        self.scan_resuming(text, from, from, fin, cands)
    }

    /// Like [`scan`](Self::scan), for a caller that already holds the
    /// candidates starting in `from..resume` from an earlier scan of the same
    /// text whose hold was `resume` (they are final): only those starting at
    /// or after `resume` are added. Custom regexes, whose matches depend on
    /// where the previous match ended, are always searched from `from`, so
    /// the caller must not keep theirs (see [`is_regex`](Self::is_regex)).
    pub(crate) fn scan_resuming(
        &self,
        text: &str,
        from: usize,
        resume: usize,
        fin: bool,
        cands: &mut Vec<Cand>,
    ) -> usize {
        let first = cands.len();
        let memo = Memo::default();
        let sc = Scan { b: text.as_bytes(), fin, memo: &memo };
        let mut hold = text.len();
        if self.on != 0 {
            let mut sink = Sink { cands, on: self.on };
            hold = detect::detect(&sc, resume, &mut sink);
        }
        for r in &self.regexes {
            hold = hold.min(custom::scan_regex(r, text, from, fin, cands));
        }
        if let Some(deny) = &self.deny {
            hold = hold.min(deny.scan(text, resume, fin, cands));
        }
        // Snap the new candidates to char boundaries and drop those before the scan start.
        let mut kept = first;
        for k in first..cands.len() {
            let Some(mut c) = cands.get(k).copied() else { break };
            c.start = floor_boundary(text, c.start);
            c.end = ceil_boundary(text, c.end);
            let start = if self.is_regex(c.id) { from } else { resume };
            if c.start >= start {
                if let Some(slot) = cands.get_mut(kept) {
                    *slot = c;
                }
                kept += 1;
            }
        }
        cands.truncate(kept);
        floor_boundary(text, hold).max(from)
    }

    /// Whether `id` is a custom regex's entity.
    pub(crate) fn is_regex(&self, id: u16) -> bool {
        self.regexes.iter().any(|r| r.id == id)
    }

    /// Appends `text[from..to]` to `out` with the `picked` entities replaced.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn emit(
        &self,
        text: &str,
        from: usize,
        to: usize,
        picked: &[Cand],
        pseudo: &mut Pseudonymizer,
        counts: &mut [u32],
        out: &mut String,
    ) {
        let mut pos = from;
        for c in picked.iter().filter(|c| c.start >= from && c.end <= to) {
            let (Some(before), Some(entity)) = (text.get(pos..c.start), self.entities.get(usize::from(c.id))) else {
                continue;
            };
            if matches!(entity.op, Operator::Redact) {
                if !text.is_char_boundary(c.end) {
                    continue;
                }
                out.push_str(before);
                out.push_str(&entity.redacted);
            } else {
                let Some(value) = text.get(c.start..c.end) else { continue };
                out.push_str(before);
                operator::apply(&entity.op, &entity.label, value, self.hmac_key.as_deref(), pseudo, out);
            }
            if let Some(n) = counts.get_mut(usize::from(c.id)) {
                *n += 1;
            }
            pos = c.end;
        }
        out.push_str(text.get(pos..to).unwrap_or(""));
    }

    pub(crate) fn count_map(&self, counts: &[u32]) -> BTreeMap<String, u32> {
        counts
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(id, &n)| (self.entities.get(id).map_or_else(|| "unknown".to_owned(), |e| e.name.clone()), n))
            .collect()
    }
}

fn ceil_boundary(s: &str, i: usize) -> usize {
    let mut j = i.min(s.len());
    while j < s.len() && !s.is_char_boundary(j) {
        j += 1;
    }
    j
}
