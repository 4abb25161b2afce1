//! Policy-defined detectors: custom regexes and deny-lists of literal words.
//!
//! Both keep the streaming guarantee: regex matches must have a bounded
//! length and must not use `^`/`$`/`\A`/`\z` (validated when compiling), and
//! deny-list words are found with overlapping Aho-Corasick search, so the
//! matches near a position depend only on a bounded window around it.

use aho_corasick::{AhoCorasick, Input, MatchKind};
use regex::{Regex, RegexBuilder};
use regex_syntax::hir::Look;

use crate::scan::Cand;

/// Longest match a custom regex may produce, in bytes.
pub const MAX_CUSTOM_MATCH_BYTES: usize = 1024;

/// A compiled custom pattern.
#[derive(Debug, Clone)]
pub(crate) struct CustomRegex {
    pub id: u16,
    pub re: Regex,
    pub max_len: usize,
}

/// Compiles a policy regex, or says what is wrong with it.
pub(crate) fn compile_regex(pattern: &str) -> Result<(Regex, usize), String> {
    let hir = regex_syntax::ParserBuilder::new()
        .nest_limit(64)
        .build()
        .parse(pattern)
        .map_err(|e| format!("invalid regex: {e}"))?;
    let props = hir.properties();
    let looks = props.look_set();
    if looks.contains(Look::Start) || looks.contains(Look::End) {
        return Err("must not use `^`, `$`, `\\A` or `\\z` outside `(?m)`: text is scanned in pieces; use `\\b`".into());
    }
    if props.minimum_len().unwrap_or(0) == 0 {
        return Err("must not match the empty string".into());
    }
    match props.maximum_len() {
        None => {
            return Err(format!(
                "matches must have a bounded length (at most {MAX_CUSTOM_MATCH_BYTES} bytes): use `{{m,n}}` instead of `+` or `*`"
            ))
        }
        Some(n) if n > MAX_CUSTOM_MATCH_BYTES => {
            return Err(format!("matches may be {n} bytes long; the limit is {MAX_CUSTOM_MATCH_BYTES}"));
        }
        Some(_) => {}
    }
    let max_len = props.maximum_len().unwrap_or(MAX_CUSTOM_MATCH_BYTES);
    let re = RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .nest_limit(64)
        .build()
        .map_err(|e| format!("invalid regex: {e}"))?;
    Ok((re, max_len))
}

/// Finds matches of `r` at or after `from`; returns the hold position.
pub(crate) fn scan_regex(r: &CustomRegex, text: &str, from: usize, fin: bool, out: &mut Vec<Cand>) -> usize {
    let len = text.len();
    let horizon = len.saturating_sub(r.max_len + 4);
    let mut pos = from;
    while pos <= len {
        match r.re.find_at(text, pos) {
            Some(m) if fin || m.start() + r.max_len + 4 <= len => {
                if m.end() > m.start() {
                    out.push(Cand { start: m.start(), end: m.end(), id: r.id });
                }
                pos = m.end().max(m.start() + 1);
            }
            _ => return if fin { len } else { pos.max(horizon) },
        }
    }
    len
}

/// All deny-list words, one automaton per case mode.
#[derive(Debug, Clone)]
pub(crate) struct DenyMatcher {
    exact: Option<(AhoCorasick, Vec<u16>)>,
    folded: Option<(AhoCorasick, Vec<u16>)>,
    max_len: usize,
}

impl DenyMatcher {
    /// Builds the matcher from `(entity id, words, case_insensitive)` lists.
    pub fn new(lists: &[(u16, Vec<String>, bool)]) -> Result<Option<DenyMatcher>, String> {
        let mut exact = (Vec::new(), Vec::new());
        let mut folded = (Vec::new(), Vec::new());
        let mut max_len = 0;
        for (id, words, ci) in lists {
            let target = if *ci { &mut folded } else { &mut exact };
            for w in words.iter().filter(|w| !w.trim().is_empty()) {
                max_len = max_len.max(w.len());
                target.0.push(w.clone());
                target.1.push(*id);
            }
        }
        let build =
            |(words, ids): (Vec<String>, Vec<u16>), ci: bool| -> Result<Option<(AhoCorasick, Vec<u16>)>, String> {
                if words.is_empty() {
                    return Ok(None);
                }
                let ac = AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(ci)
                    .build(&words)
                    .map_err(|e| format!("cannot build the deny-list matcher: {e}"))?;
                Ok(Some((ac, ids)))
            };
        let exact = build(exact, false)?;
        let folded = build(folded, true)?;
        if exact.is_none() && folded.is_none() {
            return Ok(None);
        }
        Ok(Some(DenyMatcher { exact, folded, max_len }))
    }

    /// Finds words at or after `from`; returns the hold position.
    pub fn scan(&self, text: &str, from: usize, fin: bool, out: &mut Vec<Cand>) -> usize {
        let len = text.len();
        for (ac, ids) in [&self.exact, &self.folded].into_iter().flatten() {
            let input = Input::new(text).span(from.min(len)..len);
            let Ok(iter) = ac.try_find_overlapping_iter(input) else { continue };
            for m in iter {
                if bounded(text, m.start(), m.end()) {
                    if let Some(&id) = ids.get(m.pattern().as_usize()) {
                        out.push(Cand { start: m.start(), end: m.end(), id });
                    }
                }
            }
        }
        if fin {
            len
        } else {
            from.max(len.saturating_sub(self.max_len + 4))
        }
    }
}

/// A word that starts (ends) with a letter or digit must not be glued to
/// another letter or digit on that side.
fn bounded(text: &str, start: usize, end: usize) -> bool {
    let word = text.get(start..end).unwrap_or("");
    let glued_left = word.chars().next().is_some_and(char::is_alphanumeric)
        && text.get(..start).and_then(|t| t.chars().next_back()).is_some_and(char::is_alphanumeric);
    let glued_right = word.chars().next_back().is_some_and(char::is_alphanumeric)
        && text.get(end..).and_then(|t| t.chars().next()).is_some_and(char::is_alphanumeric);
    !glued_left && !glued_right
}
