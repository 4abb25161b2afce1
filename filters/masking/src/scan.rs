//! Scanning primitives shared by the detectors.
//!
//! Every detector reads the text through [`Scan::at`], which reports
//! [`Hold`] when a decision needs bytes that have not arrived yet (streaming)
//! and `None` past the true end of the text. Because detectors never look
//! further back than [`LOOK_BEHIND`] bytes nor decide anything from bytes they
//! have not read, the candidates found at a position depend only on a bounded
//! window around it: that is what makes streamed output equal to masking the
//! whole text at once.

use std::cell::RefCell;

use crate::context::window_distance;
use crate::context::ContextIndex;
pub(crate) use crate::detect::numeric::Run;
pub(crate) use crate::context::Words;
use crate::entity::EntityKind;

/// Most bytes any detector reads before the position it examines.
pub(crate) const LOOK_BEHIND: usize = 128;

/// "Undecided until more text arrives; an entity may start at this offset."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hold(pub usize);

/// Result of running a detector at one position.
pub(crate) type Step = Result<(), Hold>;

/// A possible entity: byte span and entity id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cand {
    pub start: usize,
    pub end: usize,
    pub id: u16,
}

/// Read access to the text being scanned.
#[derive(Clone, Copy)]
pub(crate) struct Scan<'a> {
    /// The bytes available so far.
    pub b: &'a [u8],
    /// Whether the text ends where `b` ends (no more pieces will come).
    pub fin: bool,
    /// What detectors have learnt about `b` so far (context words, the last digit run).
    pub memo: &'a Memo,
}

/// Per-text memory shared by the detectors during one scan, so that work
/// done at one position is not redone at the next. It only ever caches facts
/// about the bytes of this scan.
#[derive(Default)]
pub(crate) struct Memo {
    /// Context words, found lazily.
    pub ctx: ContextIndex,
    /// The last digit run read from a token start (see [`Run`]).
    pub run: RefCell<Run>,
}

impl<'a> Scan<'a> {
    /// Byte at `i`; `None` at the true end; `Hold(hold)` if it has not arrived.
    #[inline]
    pub fn at(&self, i: usize, hold: usize) -> Result<Option<u8>, Hold> {
        match self.b.get(i) {
            Some(&c) => Ok(Some(c)),
            None if self.fin => Ok(None),
            None => Err(Hold(hold)),
        }
    }

    /// Byte before `i`, if any.
    #[inline]
    pub fn prev(&self, i: usize) -> Option<u8> {
        i.checked_sub(1).and_then(|j| self.b.get(j).copied())
    }

    /// Bytes `start..end`, clamped to what is there.
    #[inline]
    pub fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        let end = end.min(self.b.len());
        self.b.get(start.min(end)..end).unwrap_or(&[])
    }

    /// Whether one of `words` occurs shortly before `start`; see [`Scan::context_distance`].
    pub fn has_context(&self, start: usize, words: &Words) -> bool {
        match words.id {
            Some(id) => self.memo.ctx.distance(self.b, start, id).is_some(),
            None => window_distance(self.b, start, words, false).is_some(),
        }
    }

    /// [`Scan::context_distance`] when only a distance of at most `reach` counts.
    pub fn context_within(&self, start: usize, words: &Words, reach: usize) -> Option<usize> {
        match words.id {
            Some(id) => self.memo.ctx.distance_within(self.b, start, id, reach),
            None => window_distance(self.b, start, words, true).filter(|&d| d <= reach),
        }
    }

    /// Bytes between the closest of `words` and `start`, if one occurs in
    /// the [`CONTEXT_WINDOW`](crate::context::CONTEXT_WINDOW) bytes before `start` within the same field: the
    /// search stops at a line break (unless only blanks follow it), at `;`,
    /// and at the end of a previous quoted value (`",` or `',`).
    pub fn context_distance(&self, start: usize, words: &Words) -> Option<usize> {
        match words.id {
            Some(id) => self.memo.ctx.distance(self.b, start, id),
            None => window_distance(self.b, start, words, true),
        }
    }
}

/// Whether `hay` starts with `lower` (ASCII lower case), ignoring ASCII case.
#[inline]
pub(crate) fn starts_with_ci(hay: &[u8], lower: &[u8]) -> bool {
    hay.len() >= lower.len() && hay.iter().zip(lower).all(|(h, l)| h.to_ascii_lowercase() == *l)
}

/// ASCII letter or digit.
#[inline]
pub(crate) fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// Collects candidates for the enabled kinds.
pub(crate) struct Sink<'o> {
    pub cands: &'o mut Vec<Cand>,
    /// Bit `k` set when built-in kind with id `k` is enabled.
    pub on: u64,
}

impl Sink<'_> {
    /// Whether `kind` is enabled.
    #[inline]
    pub fn wants(&self, kind: EntityKind) -> bool {
        self.on & (1u64 << kind.id()) != 0
    }

    /// Whether a candidate for exactly `start..end` of a kind with a higher
    /// priority than `kind` was recorded since the last one starting before
    /// `start`. A candidate of `kind` with that span could then never be
    /// masked: overlap resolution takes the higher priority first among
    /// candidates of the same length, and anything that overlaps the one
    /// overlaps the other. Detectors use this to skip work whose only use
    /// would be such a candidate (a context-word search, say).
    pub fn outranked(&self, kind: EntityKind, start: usize, end: usize) -> bool {
        let priority = kind.priority();
        for c in self.cands.iter().rev() {
            if c.start < start {
                break;
            }
            if c.start == start && c.end == end && kind_priority(c.id) > priority {
                return true;
            }
        }
        false
    }

    /// Records a candidate if `kind` is enabled and the span is not empty.
    #[inline]
    pub fn push(&mut self, kind: EntityKind, start: usize, end: usize) {
        if self.wants(kind) && end > start {
            self.cands.push(Cand { start, end, id: kind.id() });
        }
    }
}

/// The priority of the built-in kind with id `id` (the sink only holds those).
fn kind_priority(id: u16) -> u8 {
    EntityKind::ALL.get(usize::from(id)).map_or(0, |k| k.priority())
}

/// Shannon entropy of `s` in bits per byte, for values up to 1024 bytes
/// (longer ones count their first 1024).
pub(crate) fn entropy(s: &[u8]) -> f64 {
    static F_LOG_F: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let table = F_LOG_F
        .get_or_init(|| (0..=1024u32).map(|f| if f == 0 { 0.0 } else { f64::from(f) * f64::from(f).log2() }).collect());
    let s = s.get(..1024).unwrap_or(s);
    if s.is_empty() {
        return 0.0;
    }
    let mut freq = [0u16; 256];
    let mut seen = [0u64; 4];
    for &c in s {
        freq[usize::from(c)] += 1;
        seen[usize::from(c >> 6)] |= 1 << (c & 63);
    }
    let n = s.len() as f64;
    // The sum runs over the byte values in ascending order, as a sum over the
    // whole table would: the result is the same to the last bit.
    let mut sum = -0.0f64;
    for (w, &word) in seen.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let c = w * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let f = freq.get(c).copied().unwrap_or(0);
            sum += table.get(usize::from(f)).copied().unwrap_or(0.0);
        }
    }
    n.log2() - sum / n
}

/// Whether [`entropy`] of `s` is below `min`, deciding most high-entropy
/// values without computing it.
///
/// The collision entropy `H2 = log2(n² / Σ f²)` (`f` the count of each byte
/// value) is never above the Shannon entropy, and needs neither logarithms
/// nor the ascending sum: when `H2` exceeds `min` by a margin far larger than
/// the rounding error of [`entropy`], the answer is "no". Otherwise the
/// entropy is computed as before, so the answer is always the same.
pub(crate) fn entropy_below(s: &[u8], min: f64) -> bool {
    /// Bits by which `H2` must exceed `min` (rounding errors are ~1e-12).
    const MARGIN: f64 = 1.0 / 64.0;
    let s = s.get(..1024).unwrap_or(s);
    if s.is_empty() {
        return entropy(s) < min;
    }
    let mut freq = [0u16; 256];
    // Σ f², grown by `2f + 1` each time a count goes from `f` to `f + 1`.
    let mut sum_sq: u32 = 0;
    for &c in s {
        let f = &mut freq[usize::from(c)];
        sum_sq += 2 * u32::from(*f) + 1;
        *f += 1;
    }
    let n = s.len() as f64;
    // `H2 > min + MARGIN`, that is `Σ f² · 2^(min + MARGIN) < n²` (exact
    // integers below 2^21, times a power of two, up to one rounding).
    if f64::from(sum_sq) * (min + MARGIN).exp2() < n * n {
        return false;
    }
    entropy(s) < min
}

/// Whether a secret-looking value is a documentation placeholder
/// (`EXAMPLE`, `xxxx`, `changeme`, `<...>`, `${...}`, a single repeated character...).
pub(crate) fn is_placeholder(v: &[u8]) -> bool {
    const MARKERS: &[&[u8]] = &[
        b"example",
        b"xxxx",
        b"changeme",
        b"change_me",
        b"change-me",
        b"placeholder",
        b"dummy",
        b"redacted",
        b"your_",
        b"your-",
        b"yourkey",
        b"sample",
        b"****",
        b"...",
        b"<",
        b">",
        b"${",
        b"{{",
        b"%(",
        b"\xe2\x80\xa6",
        b"fake",
        b"insert",
    ];
    /// Bit `k` set in `FIRST[x]` when marker `k` starts with `x` (either
    /// case), in `SECOND[y]` when its second byte is `y` (either case) or it
    /// has only one byte (then any `y`, and 0 stands for the end of `v`).
    const FIRST: [u32; 256] = marker_bytes(0);
    const SECOND: [u32; 256] = marker_bytes(1);
    const fn marker_bytes(at: usize) -> [u32; 256] {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < MARKERS.len() {
            let m = MARKERS[i];
            if at < m.len() {
                t[m[at] as usize] |= 1 << i;
                t[m[at].to_ascii_uppercase() as usize] |= 1 << i;
            } else {
                let mut c = 0;
                while c < 256 {
                    t[c] |= 1 << i;
                    c += 1;
                }
            }
            i += 1;
        }
        t
    }
    const WHOLE: &[&[u8]] = &[
        b"password",
        b"secret",
        b"token",
        b"null",
        b"none",
        b"nil",
        b"true",
        b"false",
        b"undefined",
        b"required",
        b"optional",
        b"string",
        b"hidden",
        b"masked",
    ];
    if WHOLE.iter().any(|w| v.eq_ignore_ascii_case(w)) {
        return true;
    }
    let n = v.len();
    for i in 0..n {
        let Some(&c) = v.get(i) else { break };
        let next = v.get(i + 1).copied().unwrap_or(0);
        let bits = FIRST[usize::from(c)] & SECOND[usize::from(next)];
        if bits != 0 && marker_at(v.get(i..).unwrap_or(&[]), bits) {
            return true;
        }
    }
    /// Whether one of the markers in `bits` starts `rest`.
    #[inline(never)]
    fn marker_at(rest: &[u8], mut bits: u32) -> bool {
        while bits != 0 {
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // `xxxx` counts only in one case: random tokens contain `XxXx`.
            let hit = MARKERS.get(k).is_some_and(|m| {
                if m.first() == Some(&b'x') {
                    rest.starts_with(b"xxxx") || rest.starts_with(b"XXXX")
                } else {
                    starts_with_ci(rest, m)
                }
            });
            if hit {
                return true;
            }
        }
        false
    }
    at_most_two_bytes(v)
}

/// Whether `v` holds at most two distinct byte values, ignoring ASCII case
/// (`aAaA`, `0000`, `abab`). Stops at the third value, which random values
/// show within a few bytes.
fn at_most_two_bytes(v: &[u8]) -> bool {
    let mut bytes = v.iter().map(u8::to_ascii_lowercase);
    let Some(first) = bytes.next() else { return true };
    let mut second = None;
    for c in bytes {
        if c == first {
            continue;
        }
        match second {
            None => second = Some(c),
            Some(d) if d == c => {}
            Some(_) => return false,
        }
    }
    true
}

/// Largest char boundary of `s` that is `<= i`.
pub(crate) fn floor_boundary(s: &str, i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    let mut j = i;
    while j > 0 && !s.is_char_boundary(j) {
        j -= 1;
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Ctx;
    use crate::detect::generic::{GENERIC_MIN_ENTROPY, PASSWORD_MIN_ENTROPY};

    #[test]
    fn context_words_need_a_left_boundary() {
        const SIN: Words = Words::new(&[Ctx(b"sin", false)]);
        const TEL_PREFIX: Words = Words::new(&[Ctx(b"tel", true)]);
        const TEL: Words = Words::new(&[Ctx(b"tel", false)]);
        let sc = Scan { b: b"using 123", fin: true, memo: &Memo::default() };
        assert!(!sc.has_context(6, &SIN));
        let sc = Scan { b: b"SIN: 123", fin: true, memo: &Memo::default() };
        assert!(sc.has_context(5, &SIN));
        let sc = Scan { b: b"telephone 1", fin: true, memo: &Memo::default() };
        assert!(sc.has_context(10, &TEL_PREFIX));
        assert!(!sc.has_context(10, &TEL));
        let sc = Scan { b: b"tel: 1\nref 2, \"x\", 3; 4", fin: true, memo: &Memo::default() };
        assert_eq!(sc.context_distance(5, &TEL), Some(2));
        assert!(!sc.has_context(11, &TEL), "other line");
        assert!(!sc.has_context(17, &TEL));
        let sc = Scan { b: b"Tel:\n  5", fin: true, memo: &Memo::default() };
        assert!(sc.has_context(7, &TEL), "label on the line above");
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder(b"xxxxxxxxxxxxxxxx"));
        assert!(is_placeholder(b"${DB_PASSWORD}"));
        assert!(is_placeholder(b"00000000000000000000"));
        assert!(!is_placeholder(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCY"));
    }

    /// The shortcut answers like comparing [`entropy`], also at the
    /// thresholds the detectors use and for values right at them.
    #[test]
    fn entropy_below_agrees_with_entropy() {
        let mut seed = 3u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let mut values: Vec<Vec<u8>> = vec![b"".to_vec(), b"abcdefgh".to_vec(), b"abcd".to_vec(), b"aabb".to_vec()];
        for _ in 0..20_000 {
            let len = 1 + next(70) as usize;
            let alphabet = 1 + next(40);
            values.push((0..len).map(|_| b'!' + next(alphabet) as u8).collect());
        }
        values.push((0..2000).map(|k| (k % 251) as u8).collect());
        for v in &values {
            for min in [GENERIC_MIN_ENTROPY, PASSWORD_MIN_ENTROPY, 2.5, 3.0, 4.0] {
                assert_eq!(entropy_below(v, min), entropy(v) < min, "{v:?} {min}");
            }
        }
    }

    #[test]
    fn at_most_two_bytes_folds_case() {
        assert!(at_most_two_bytes(b""));
        assert!(at_most_two_bytes(b"aAaA"));
        assert!(at_most_two_bytes(b"abAB"));
        assert!(!at_most_two_bytes(b"abc"));
        assert!(!at_most_two_bytes(b"aa\xc3\x80\xc3"));
        assert!(at_most_two_bytes(b"@`@`"), "only letters fold");
    }

    #[test]
    fn entropy_of_uniform_bytes() {
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!(entropy(b"aaaa").abs() < 1e-9);
    }
}
