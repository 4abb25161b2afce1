//! Built-in detector packs: sets of matchers compiled once, each tuned for precision.
//!
//! Every pack reads the *normalised* text of each segment (see [`crate::normalize()`]) and
//! stops at its first hit. Each detector is a regex plus, where the regex cannot say it all, a
//! check in code (`rm` flags and paths, `WHERE` clauses, fork-bomb names), and a
//! [`Context`] that decides whether the match is a command or a direct request; structural
//! detectors (Kubernetes API deletes, repeated-word runs) need none. The per-pack modules document what each detector matches and where it draws the
//! line between a *question about* a dangerous action and a *command to do it*.

use portcullis_policy::guard::PackName;
use regex::{Regex, RegexBuilder};

use crate::context::{accepts, Context};
use crate::extract::Extracted;

mod exfiltration;
mod injection;
mod k8s;
mod shell;
mod sql;
mod training;

pub use k8s::DESTRUCTIVE_RESOURCES;
pub use training::MIN_REPEATED_RUN;

/// A check in code on a regex match: `(text, start, end)`.
pub(crate) type Check = fn(&str, usize, usize) -> bool;

/// How a pack detector is written.
pub(crate) struct Spec {
    /// Reported as the match's detector.
    pub(crate) name: &'static str,
    /// Rust regex; `\b` is compiled as an ASCII word boundary, so the fast engines apply.
    pub(crate) pattern: &'static str,
    /// When a match counts.
    pub(crate) context: Context,
    /// Further check on the matched text (given the normalised text, not the folded copy).
    pub(crate) check: Option<Check>,
    /// Match the normalised text as it is. Otherwise (the default) the regex runs on its ASCII
    /// lower-cased copy, whose byte offsets are the same: patterns are written in lower case,
    /// without `(?i)`, so that the regex engine's literal prefilters apply.
    pub(crate) exact_case: bool,
}

enum Matcher {
    Regex { regex: Regex, context: Context, check: Option<Check>, exact_case: bool },
    RepeatedWords,
}

struct Detector {
    name: &'static str,
    matcher: Matcher,
}

/// A hit in one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextHit {
    pub(crate) detector: &'static str,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// A hit on the request's structure (not on a text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StructHit {
    pub(crate) detector: &'static str,
    pub(crate) field: &'static str,
    pub(crate) excerpt: String,
}

/// A compiled pack.
pub(crate) struct Pack {
    pub(crate) name: PackName,
    detectors: Vec<Detector>,
}

/// Compiles a pattern with ASCII word boundaries and generous but bounded sizes.
pub(crate) fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&pattern.replace(r"\b", r"(?-u:\b)"))
        .size_limit(8 << 20)
        .dfa_size_limit(4 << 20)
        .multi_line(true)
        .build()
}

impl Pack {
    /// Compiles every detector of the pack; an error names the detector (a bug, caught by tests).
    pub(crate) fn compile(name: PackName) -> Result<Pack, String> {
        let specs: &[Spec] = match name {
            PackName::DestructiveSql => sql::SPECS,
            PackName::DestructiveK8s => k8s::SPECS,
            PackName::DestructiveShell => shell::SPECS,
            PackName::PromptInjection => injection::INJECTION,
            PackName::SystemPromptExtraction => injection::EXTRACTION,
            PackName::TrainingDataExtraction => training::SPECS,
            PackName::SecretExfiltration => exfiltration::SPECS,
        };
        let mut detectors = Vec::with_capacity(specs.len() + 1);
        for spec in specs {
            let regex = compile(spec.pattern).map_err(|e| format!("built-in detector {name}/{}: {e}", spec.name))?;
            let matcher = Matcher::Regex { regex, context: spec.context, check: spec.check, exact_case: spec.exact_case };
            detectors.push(Detector { name: spec.name, matcher });
        }
        if name == PackName::TrainingDataExtraction {
            detectors.push(Detector { name: "repeated_word_run", matcher: Matcher::RepeatedWords });
        }
        Ok(Pack { name, detectors })
    }

    /// The first hit in `text` (normalised); `folded` is [`fold`] of it.
    pub(crate) fn scan_text(&self, text: &str, folded: &str) -> Option<TextHit> {
        for detector in &self.detectors {
            let found = match &detector.matcher {
                Matcher::Regex { regex, context, check, exact_case } => {
                    let haystack = if *exact_case || folded.len() != text.len() { text } else { folded };
                    regex.find_iter(haystack).find_map(|m| {
                    let (start, end) = (m.start(), m.end());
                        let ok = check.is_none_or(|check| check(text, start, end)) && accepts(*context, text, start, end);
                        ok.then_some((start, end))
                    })
                }
                Matcher::RepeatedWords => training::repeated_run(text),
            };
            if let Some((start, end)) = found {
                return Some(TextHit { detector: detector.name, start, end });
            }
        }
        None
    }

    /// A hit on the request's structure: Kubernetes deletes for `destructive_k8s`.
    pub(crate) fn scan_structure(&self, request: &Extracted) -> Option<StructHit> {
        match self.name {
            PackName::DestructiveK8s => k8s::structural(request),
            _ => None,
        }
    }
}

/// `text` with ASCII letters lower-cased: same length, same byte offsets. Borrowed when it
/// has no upper-case ASCII letter.
pub(crate) fn fold(text: &str) -> std::borrow::Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(text.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Words that are not identifiers: "drop table *of* contents", "delete from *the* list".
pub(crate) const NOT_IDENTIFIERS: &[&str] = &[
    "the", "a", "an", "this", "that", "these", "those", "it", "its", "my", "your", "our", "their", "his", "her",
    "of", "from", "in", "on", "to", "for", "with", "and", "or", "if", "when", "does", "do", "is", "will", "would",
    "can", "could", "should", "rows", "row", "columns", "column", "entries", "entry", "data", "menu", "menus",
    "down", "list", "lists", "statement", "statements", "command", "commands", "syntax", "permission",
    "permissions", "privilege", "privileges", "operation", "operations", "query", "queries", "string", "strings",
    "text", "texts", "output", "outputs", "line", "lines", "number", "numbers", "value", "values", "message",
    "messages", "title", "titles", "name", "names", "all", "everything", "them", "some", "any", "each", "every",
    "here", "there", "now", "then", "me", "you", "us", "him", "first", "last", "next",
];

/// The last identifier-like word of `s`, lower-cased, without quotes or schema prefix.
pub(crate) fn last_word(s: &str) -> String {
    let word = s.rsplit(|c: char| c.is_whitespace() || c == '.').next().unwrap_or("");
    word.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']' | ';' | ',')).to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
