//! Reversible pseudonymisation for one exchange: values become numbered
//! placeholders such as `[EMAIL_1]` on the way to the model, and placeholders
//! in the model's answer become the original values again.
//!
//! The mapping lives in memory only. [`Pseudonymizer`] implements neither
//! `Serialize` nor a `Debug` that shows values, so it cannot end up in logs or
//! recordings by accident; drop it when the exchange ends.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::stream::TextStream;

/// Value-to-placeholder mapping for one request/response exchange.
#[derive(Default, Clone)]
pub struct Pseudonymizer {
    by_value: BTreeMap<(String, String), String>,
    by_placeholder: BTreeMap<String, String>,
    next: BTreeMap<String, u32>,
    longest: usize,
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymizer").field("placeholders", &self.by_placeholder.len()).finish_non_exhaustive()
    }
}

impl Pseudonymizer {
    /// An empty mapping.
    pub fn new() -> Self {
        Self::default()
    }

    /// The placeholder for `value` of an entity labelled `label`, such as
    /// `[EMAIL_1]`; equal values get equal placeholders.
    pub fn pseudonym(&mut self, label: &str, value: &str) -> &str {
        let key = (label.to_owned(), value.to_owned());
        if !self.by_value.contains_key(&key) {
            let n = self.next.entry(label.to_owned()).or_insert(0);
            *n += 1;
            let placeholder = format!("[{label}_{n}]");
            self.longest = self.longest.max(placeholder.len());
            self.by_placeholder.insert(placeholder.clone(), value.to_owned());
            self.by_value.insert(key.clone(), placeholder);
        }
        self.by_value.get(&key).map_or("", String::as_str)
    }

    /// Number of distinct values replaced so far.
    pub fn len(&self) -> usize {
        self.by_placeholder.len()
    }

    /// Whether nothing has been replaced.
    pub fn is_empty(&self) -> bool {
        self.by_placeholder.is_empty()
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Replaces every known placeholder in `text` with its original value.
    pub fn restore(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let done = self.restore_into(text, true, &mut out);
        out.push_str(text.get(done..).unwrap_or(""));
        out
    }

    /// A restorer for text that arrives in pieces; see [`RestoreStream`].
    pub fn restore_stream(self: &Arc<Self>) -> RestoreStream {
        RestoreStream { map: Arc::clone(self), buf: String::new() }
    }

    /// Restores `text` into `out` and returns how many bytes were consumed:
    /// all of them when `fin`, otherwise up to a `[` that may still become a
    /// placeholder once more text arrives.
    fn restore_into(&self, text: &str, fin: bool, out: &mut String) -> usize {
        let bytes = text.as_bytes();
        let mut copied = 0;
        let mut i = 0;
        while let Some(off) = bytes.get(i..).and_then(|rest| memchr::memchr(b'[', rest)) {
            let open = i + off;
            let window_end = (open + self.longest).min(bytes.len());
            let close = bytes.get(open..window_end).and_then(|w| memchr::memchr(b']', w));
            match close {
                Some(c) => {
                    let end = open + c + 1;
                    if let Some(original) = text.get(open..end).and_then(|p| self.by_placeholder.get(p)) {
                        out.push_str(text.get(copied..open).unwrap_or(""));
                        out.push_str(original);
                        copied = end;
                        i = end;
                        continue;
                    }
                }
                None if !fin && open + self.longest > bytes.len() => {
                    out.push_str(text.get(copied..open).unwrap_or(""));
                    return open;
                }
                None => {}
            }
            i = open + 1;
        }
        out.push_str(text.get(copied..).unwrap_or(""));
        bytes.len()
    }
}

/// Restores placeholders in text that arrives in pieces (streamed model
/// output). A placeholder split across pieces is restored: only a tail that
/// starts with `[` and is shorter than the longest placeholder is held back.
///
/// Invariant: the concatenated outputs of `push` and `finish` equal
/// [`Pseudonymizer::restore`] of the concatenated input.
#[derive(Debug)]
pub struct RestoreStream {
    map: Arc<Pseudonymizer>,
    buf: String,
}

impl RestoreStream {
    fn step(&mut self, fin: bool) -> String {
        let mut out = String::with_capacity(self.buf.len());
        let done = self.map.restore_into(&self.buf, fin, &mut out);
        self.buf.drain(..done.min(self.buf.len()));
        out
    }
}

impl TextStream for RestoreStream {
    fn push(&mut self, piece: &str) -> String {
        self.buf.push_str(piece);
        self.step(false)
    }

    fn finish(&mut self) -> String {
        self.step(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_and_restore() {
        let mut p = Pseudonymizer::new();
        assert_eq!(p.pseudonym("EMAIL", "a@x.io"), "[EMAIL_1]");
        assert_eq!(p.pseudonym("EMAIL", "b@x.io"), "[EMAIL_2]");
        assert_eq!(p.pseudonym("EMAIL", "a@x.io"), "[EMAIL_1]");
        assert_eq!(p.pseudonym("PHONE", "+1 415 555 0123"), "[PHONE_1]");
        assert_eq!(p.restore("to [EMAIL_2], cc [EMAIL_1] [EMAIL_3] [x"), "to b@x.io, cc a@x.io [EMAIL_3] [x");
        assert_eq!(format!("{p:?}"), "Pseudonymizer { placeholders: 3, .. }");
    }

    #[test]
    fn streamed_restore_handles_split_placeholders() {
        let mut p = Pseudonymizer::new();
        p.pseudonym("EMAIL", "a@x.io");
        let p = Arc::new(p);
        let text = "hi [EMAIL_1]! [[EMAIL_1]] [EMAIL_";
        for cut in 0..=text.len() {
            for cut2 in cut..=text.len() {
                let mut s = p.restore_stream();
                let mut out = s.push(&text[..cut]);
                out += &s.push(&text[cut..cut2]);
                out += &s.push(&text[cut2..]);
                out += &s.finish();
                assert_eq!(out, p.restore(text), "cuts {cut} {cut2}");
            }
        }
    }
}
