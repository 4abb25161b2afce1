//! A small, self-contained credential masker for excerpts, and the excerpt builder.
//!
//! Excerpts go into verdicts, events and approval requests, so they must never carry a raw
//! secret. The masker errs on the side of masking (over-masking an excerpt costs nothing):
//!
//! * known token shapes: OpenAI/Anthropic `sk-…`, Stripe `sk_live_…`, AWS `AKIA…`/`ASIA…`,
//!   GitHub `ghp_…`/`gho_…`/`github_pat_…`, GitLab `glpat-…`, Slack `xox?-…`, Google `AIza…`,
//!   JWTs, PEM private keys;
//! * `Bearer <token>`, and the value after `password=`, `secret:`, `api_key=`, `token=`... ;
//! * the password in URLs such as `https://user:pass@host`;
//! * any other run of 20 or more token characters with letters *and* digits and a Shannon
//!   entropy of at least 3.5 bits per character (random keys, hashes, UUIDs).
//!
//! The excerpt builder masks a region wider than the excerpt (extended to white space), so a
//! secret that straddles the excerpt's edge is still recognised and replaced whole.

use regex::Regex;

/// What masked text is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Longest excerpt, in characters.
pub const MAX_EXCERPT_CHARS: usize = 160;

/// Masks credentials in text. Build once, use for every excerpt.
#[derive(Debug, Clone)]
pub struct SecretMasker {
    /// `None` only if a built-in pattern failed to compile (the tests make sure none does):
    /// then everything is masked rather than anything leaked.
    patterns: Option<Patterns>,
}

#[derive(Debug, Clone)]
struct Patterns {
    tokens: Regex,
    key_values: Regex,
    candidates: Regex,
}

const TOKENS: &str = r"(?x)
    sk-[A-Za-z0-9_-]{16,} | sk_(?:live|test)_[A-Za-z0-9]{16,} | rk_(?:live|test)_[A-Za-z0-9]{16,}
  | (?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}
  | gh[pousr]_[A-Za-z0-9]{30,} | github_pat_[A-Za-z0-9_]{22,} | glpat-[A-Za-z0-9_-]{20,}
  | xox[abposr]-[A-Za-z0-9-]{10,} | AIza[0-9A-Za-z_-]{35}
  | eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}
  | -----BEGIN[A-Z\ ]*PRIVATE\ KEY-----(?s:.*?)(?:-----END[A-Z\ ]*PRIVATE\ KEY-----|\z)
  | (?i:bearer)\s+[A-Za-z0-9._~+/-]{8,}=*
";

const KEY_VALUES: &str = r#"(?ix)
    (?:://[^/\s:@]{1,64}:([^/\s@]{1,256})@)
  | (?:\b(?:password|passwd|passphrase|pwd|pass|secret|client[_-]?secret|secret[_-]?key|token|access[_-]?token
        |refresh[_-]?token|auth[_-]?token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?)
      ["']?\s{0,3}[:=]\s{0,3}["']?([^\s"'&,;)}\]]{1,512}))
"#;

const CANDIDATES: &str = r"[A-Za-z0-9+/=_.~-]{20,}";

impl SecretMasker {
    /// Compiles the masker's patterns.
    pub fn new() -> Self {
        let patterns = match (Regex::new(TOKENS), Regex::new(KEY_VALUES), Regex::new(CANDIDATES)) {
            (Ok(tokens), Ok(key_values), Ok(candidates)) => Some(Patterns { tokens, key_values, candidates }),
            _ => None,
        };
        Self { patterns }
    }

    /// Byte ranges of `text` to mask, sorted and merged.
    pub fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let Some(p) = &self.patterns else {
            return if text.is_empty() { Vec::new() } else { vec![(0, text.len())] };
        };
        let mut spans: Vec<(usize, usize)> = p.tokens.find_iter(text).map(|m| (m.start(), m.end())).collect();
        for caps in p.key_values.captures_iter(text) {
            if let Some(m) = caps.get(1).or_else(|| caps.get(2)) {
                spans.push((m.start(), m.end()));
            }
        }
        spans.extend(p.candidates.find_iter(text).filter(|m| looks_random(m.as_str())).map(|m| (m.start(), m.end())));
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    /// `text` with every credential replaced by `[REDACTED]`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in self.spans(text) {
            out.push_str(text.get(at..start).unwrap_or(""));
            out.push_str(REDACTED);
            at = end;
        }
        out.push_str(text.get(at..).unwrap_or(""));
        out
    }

    /// A masked excerpt of at most [`MAX_EXCERPT_CHARS`] characters around `start..end` of
    /// `text`: the match (cut if long) with context on both sides, line breaks and control
    /// characters shown as spaces, `…` where text was cut.
    pub fn excerpt(&self, text: &str, start: usize, end: usize) -> String {
        let (start, end) = (floor(text, start.min(text.len())), floor(text, end.min(text.len()).max(start)));
        let match_chars = text.get(start..end).map_or(0, |m| m.chars().count()).min(MAX_EXCERPT_CHARS - 40);
        let end = advance(text, start, match_chars);
        let room = MAX_EXCERPT_CHARS - 2 - match_chars;
        let before = back(text, start, room / 2);
        let after = advance(text, end, room - text.get(before..start).map_or(0, |s| s.chars().count()));
        let region_start = extend_back(text, before.saturating_sub(1024));
        let region_end = extend_forward(text, (after + 1024).min(text.len()));
        let region = text.get(region_start..region_end).unwrap_or("");
        let spans: Vec<(usize, usize)> =
            self.spans(region).into_iter().map(|(s, e)| (s + region_start, e + region_start)).collect();
        let mut out = String::with_capacity(MAX_EXCERPT_CHARS * 2);
        if before > 0 {
            out.push('…');
        }
        let mut i = before;
        let mut spans = spans.into_iter().filter(|&(s, e)| e > before && s < after).peekable();
        while i < after {
            if let Some(&(s, e)) = spans.peek() {
                if i >= s {
                    out.push_str(REDACTED);
                    i = e.max(i + 1);
                    spans.next();
                    continue;
                }
            }
            let Some(c) = text.get(i..).and_then(|t| t.chars().next()) else { break };
            out.push(if c.is_control() { ' ' } else { c });
            i += c.len_utf8();
        }
        if i < text.len() {
            out.push('…');
        }
        if out.chars().count() > MAX_EXCERPT_CHARS {
            out = out.chars().take(MAX_EXCERPT_CHARS - 1).collect();
            out.push('…');
        }
        out
    }
}

impl Default for SecretMasker {
    fn default() -> Self {
        Self::new()
    }
}

/// Letters and digits, and at least 3.5 bits of entropy per character. A path or URL
/// (`/usr/lib/python3.11/…`) is judged by its parts.
fn looks_random(token: &str) -> bool {
    if token.starts_with(['/', '~', '.']) || token.contains("//") {
        return token.split('/').any(|part| part.len() >= 20 && random_run(part));
    }
    random_run(token)
}

fn random_run(token: &str) -> bool {
    let bytes = token.as_bytes();
    if !bytes.iter().any(u8::is_ascii_digit) || !bytes.iter().any(u8::is_ascii_alphabetic) {
        return false;
    }
    let mut counts = [0u32; 128];
    for &b in bytes {
        if let Some(slot) = counts.get_mut(usize::from(b & 0x7f)) {
            *slot += 1;
        }
    }
    let n = bytes.len() as f64;
    let entropy: f64 = counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum();
    entropy >= 3.5
}

fn floor(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The index `chars` characters after `from` (or the end).
fn advance(text: &str, from: usize, chars: usize) -> usize {
    text.get(from..).and_then(|t| t.char_indices().nth(chars)).map_or(text.len(), |(i, _)| from + i)
}

/// The index `chars` characters before `from` (or 0).
fn back(text: &str, from: usize, chars: usize) -> usize {
    if chars == 0 {
        return from;
    }
    text.get(..from).and_then(|t| t.char_indices().rev().nth(chars - 1)).map_or(0, |(i, _)| i)
}

/// Moves `i` back to white space, at most 4 KiB further.
fn extend_back(text: &str, i: usize) -> usize {
    let i = floor(text, i);
    let limit = i.saturating_sub(4096);
    text.get(limit..i).and_then(|t| t.rfind(char::is_whitespace)).map_or(floor(text, limit), |p| limit + p)
}

/// Moves `i` forward to white space, at most 4 KiB further.
fn extend_forward(text: &str, i: usize) -> usize {
    let i = floor(text, i);
    let limit = floor(text, (i + 4096).min(text.len()));
    text.get(i..limit).and_then(|t| t.find(char::is_whitespace)).map_or(limit, |p| i + p)
}

#[cfg(test)]
mod tests;
