//! Context words ("SSN", "phone", "routing", ...) that some detectors need
//! shortly before a value.
//!
//! Every built-in list is registered here, and [`ContextIndex`] finds the
//! words of all of them in one lazy forward pass over the text (two-byte
//! table lookup at each word start, then a verification), so that a query
//! costs a few comparisons instead of re-reading its window. The answers are
//! exactly those of the window scan in [`Scan::context_distance`]; the
//! window scan is kept as the reference (and for unregistered lists).
//!
//! [`Scan::context_distance`]: crate::scan::Scan::context_distance

use std::cell::Cell;

/// How far before an entity its context word may be.
pub(crate) const CONTEXT_WINDOW: usize = 48;

/// A context word: lowercase bytes, and whether longer words starting with it count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx(pub &'static [u8], pub bool);

/// A list of context words (at most 32) indexed by first byte.
pub(crate) struct Words {
    pub(crate) list: &'static [Ctx],
    pub(crate) first: [u32; 256],
    /// Position in [`REGISTRY`] when the list is indexed by [`ContextIndex`].
    pub(crate) id: Option<u8>,
}

impl Words {
    /// Indexes `list` (lower-case words) by first byte.
    pub const fn new(list: &'static [Ctx]) -> Words {
        let mut first = [0u32; 256];
        let mut k = 0;
        while k < list.len() && k < 32 {
            first[list[k].0[0] as usize] |= 1 << k;
            k += 1;
        }
        Words { list, first, id: None }
    }

    const fn registered(id: u8) -> Words {
        let mut w = Words::new(REGISTRY[id as usize]);
        w.id = Some(id);
        w
    }
}

const SSN_LIST: &[Ctx] = &[Ctx(b"ssn", true), Ctx(b"social security", true), Ctx(b"ss#", false), Ctx(b"soc sec", true)];
const ITIN_LIST: &[Ctx] = &[Ctx(b"itin", true), Ctx(b"taxpayer", true), Ctx(b"tin", false)];
const ABA_LIST: &[Ctx] = &[Ctx(b"routing", true), Ctx(b"aba", false), Ctx(b"rtn", false), Ctx(b"transit", true)];
const SIN_LIST: &[Ctx] =
    &[Ctx(b"sin", false), Ctx(b"social insurance", true), Ctx(b"nas", false), Ctx(b"assurance sociale", true)];
const NHS_LIST: &[Ctx] = &[Ctx(b"nhs", false), Ctx(b"health service", true)];
const AADHAAR_LIST: &[Ctx] = &[Ctx(b"aadhaar", true), Ctx(b"aadhar", true), Ctx(b"uidai", true), Ctx(b"uid", false)];
const BSN_LIST: &[Ctx] = &[Ctx(b"bsn", false), Ctx(b"burgerservicenummer", true), Ctx(b"sofi", true)];
const PESEL_LIST: &[Ctx] = &[Ctx(b"pesel", true)];
const PHONE_LIST: &[Ctx] = &[
    Ctx(b"phone", true),
    Ctx(b"tel", true),
    Ctx(b"t\xc3\xa9l", true),
    Ctx(b"t\xc3\x89l", true),
    Ctx(b"call", true),
    Ctx(b"mobi", true),
    Ctx(b"cell", true),
    Ctx(b"fax", true),
    Ctx(b"whatsapp", true),
    Ctx(b"sms", false),
    Ctx(b"text me", false),
    Ctx(b"contact", true),
    Ctx(b"kontakt", true),
    Ctx(b"handy", false),
    Ctx(b"movil", true),
    Ctx(b"m\xc3\xb3vil", true),
    Ctx(b"portable", true),
    Ctx(b"numer", true),
    Ctx(b"nummer", true),
    Ctx(b"kom\xc3\xb3rk", true),
    Ctx(b"ring", true),
    Ctx(b"dial", true),
    Ctx(b"reach", true),
    Ctx(b"landline", true),
    Ctx(b"hotline", true),
];

/// The lists [`ContextIndex`] knows, by id.
const REGISTRY: [&[Ctx]; 9] =
    [SSN_LIST, ITIN_LIST, ABA_LIST, SIN_LIST, NHS_LIST, AADHAAR_LIST, BSN_LIST, PESEL_LIST, PHONE_LIST];

pub(crate) const SSN_CTX: Words = Words::registered(0);
pub(crate) const ITIN_CTX: Words = Words::registered(1);
pub(crate) const ABA_CTX: Words = Words::registered(2);
pub(crate) const SIN_CTX: Words = Words::registered(3);
pub(crate) const NHS_CTX: Words = Words::registered(4);
pub(crate) const AADHAAR_CTX: Words = Words::registered(5);
pub(crate) const BSN_CTX: Words = Words::registered(6);
pub(crate) const PESEL_CTX: Words = Words::registered(7);
pub(crate) const PHONE_CTX: Words = Words::registered(8);

/// The length of the longest word of each registered list.
const LONGEST: [usize; REGISTRY.len()] = {
    let mut out = [0; REGISTRY.len()];
    let mut l = 0;
    while l < REGISTRY.len() {
        let mut k = 0;
        while k < REGISTRY[l].len() {
            if REGISTRY[l][k].0.len() > out[l] {
                out[l] = REGISTRY[l][k].0.len();
            }
            k += 1;
        }
        l += 1;
    }
    out
};

/// One word of one registered list.
#[derive(Clone, Copy)]
struct Entry {
    word: &'static [u8],
    prefix: bool,
    list: u8,
}

const MAX_ENTRIES: usize = 64;

/// Every registered word, list by list and in list order, and how many there are.
const ENTRIES: ([Entry; MAX_ENTRIES], usize) = {
    let mut out = [Entry { word: b"", prefix: false, list: u8::MAX }; MAX_ENTRIES];
    let mut n = 0;
    let mut l = 0;
    while l < REGISTRY.len() {
        let list = REGISTRY[l];
        let mut k = 0;
        // Like `Words::new`, only the first 32 words of a list count.
        while k < list.len() && k < 32 {
            assert!(n < MAX_ENTRIES, "too many context words");
            assert!(list[k].0.len() >= 3, "context words have at least three bytes");
            out[n] = Entry { word: list[k].0, prefix: list[k].1, list: l as u8 };
            n += 1;
            k += 1;
        }
        l += 1;
    }
    (out, n)
};

/// Bit `e` set in `LIST_ENTRIES[l]` when entry `e` belongs to list `l`
/// (entries past the registry: none).
const LIST_ENTRIES: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut e = 0;
    while e < ENTRIES.1 {
        t[ENTRIES.0[e].list as usize] |= 1 << e;
        e += 1;
    }
    t
};

/// Bit `e` set in `FIRST[x]` (`SECOND[y]`, `THIRD[z]`) when entry `e` has
/// the first (second, third) byte `x` (`y`, `z`) in either case; a space in a
/// word also matches `_` and `-` (see [`starts_with_words`]). Every word has
/// at least three bytes.
const FIRST: [u64; 256] = entry_bytes(0);
const SECOND: [u64; 256] = entry_bytes(1);
const THIRD: [u64; 256] = entry_bytes(2);

const fn entry_bytes(at: usize) -> [u64; 256] {
    let mut t = [0u64; 256];
    let mut e = 0;
    while e < ENTRIES.1 {
        let c = ENTRIES.0[e].word[at];
        t[c as usize] |= 1 << e;
        t[c.to_ascii_uppercase() as usize] |= 1 << e;
        if c == b' ' {
            t[b'_' as usize] |= 1 << e;
            t[b'-' as usize] |= 1 << e;
        }
        e += 1;
    }
    t
}

#[inline]
pub(crate) const fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphabetic() || c >= 0x80
}

/// Like [`crate::scan::starts_with_ci`], and a space in `lower` also matches
/// `_` or `-` (`social_insurance_number`, `NHS-number`).
#[inline]
pub(crate) fn starts_with_words(hay: &[u8], lower: &[u8]) -> bool {
    hay.len() >= lower.len()
        && hay.iter().zip(lower).all(|(h, l)| h.to_ascii_lowercase() == *l || (*l == b' ' && matches!(h, b'_' | b'-')))
}

/// A registered word found at a word start.
#[derive(Clone, Copy)]
struct Hit {
    pos: usize,
    end: usize,
    entry: u8,
    /// The byte after the word is not a word byte (or the text ends there).
    bounded: bool,
}

/// The registered context words at word starts of one text, found lazily
/// for the stretch of text that queries have needed so far.
#[derive(Default)]
pub(crate) struct ContextIndex {
    /// Word starts in `base..done` have been examined.
    base: Cell<usize>,
    done: Cell<usize>,
    /// Hits in `base..done`, by position (then entry).
    hits: Cell<Vec<Hit>>,
}

impl ContextIndex {
    /// The distance from the closest word of list `id` to `start`, under the
    /// rules of [`crate::scan::Scan::context_distance`].
    pub(crate) fn distance(&self, b: &[u8], start: usize, id: u8) -> Option<usize> {
        self.distance_from(b, start, id, start.saturating_sub(CONTEXT_WINDOW))
    }

    /// [`distance`](Self::distance) when only answers up to `reach` bytes
    /// count: `None` for a word farther away. Only the last `reach` bytes
    /// plus the longest word of the list are read, not the whole window.
    pub(crate) fn distance_within(&self, b: &[u8], start: usize, id: u8, reach: usize) -> Option<usize> {
        let longest = LONGEST.get(usize::from(id)).copied().unwrap_or(CONTEXT_WINDOW);
        // A word that starts before `from` ends more than `reach` bytes
        // before `start`. So does a word the window starts inside (see
        // `distance_from`) when `reach + longest < CONTEXT_WINDOW`: it then
        // ends at least `CONTEXT_WINDOW - longest` bytes before `start`.
        let w0 = start.saturating_sub(CONTEXT_WINDOW);
        let from = if reach.saturating_add(longest) < CONTEXT_WINDOW { start.saturating_sub(reach + longest) } else { w0 };
        self.distance_from(b, start, id, from.max(w0)).filter(|&d| d <= reach)
    }

    /// [`distance`](Self::distance), having found the words at word starts
    /// from `cover_from` on (at or after the window start); words before it
    /// may or may not be seen.
    fn distance_from(&self, b: &[u8], start: usize, id: u8, cover_from: usize) -> Option<usize> {
        let w0 = start.saturating_sub(CONTEXT_WINDOW);
        let mut hits = self.hits.take();
        self.cover(b, cover_from, start, &mut hits);
        let mut lo: Option<usize> = None;
        let mut found = None;
        let upto = hits.partition_point(|h| h.pos < start);
        for h in hits.get(..upto).unwrap_or(&[]).iter().rev() {
            if h.pos < w0 {
                break;
            }
            let Some(entry) = ENTRIES.0.get(usize::from(h.entry)) else { continue };
            if entry.list != id || h.end > start || !(entry.prefix || h.bounded || h.end == start) {
                continue;
            }
            let lo = *lo.get_or_insert_with(|| field_start(b, start));
            if h.pos < lo {
                break;
            }
            found = Some(start - h.end);
            break;
        }
        self.hits.set(hits);
        if found.is_some() {
            return found;
        }
        // A window that starts inside a word treats that part as a word.
        if w0 > 0 && b.get(w0).is_some_and(|&c| is_word_byte(c)) && b.get(w0 - 1).is_some_and(|&c| is_word_byte(c)) {
            let rest = b.get(w0..start).unwrap_or(&[]);
            let byte = |k: usize| usize::from(rest.get(k).copied().unwrap_or(0));
            // The entries of list `id` whose first three bytes match, in entry order.
            let mut bits = FIRST[byte(0)] & SECOND[byte(1)] & THIRD[byte(2)] & LIST_ENTRIES[usize::from(id)];
            let mut best = None;
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let Some(e) = ENTRIES.0.get(k) else { continue };
                if starts_with_words(rest, e.word) {
                    let next = rest.get(e.word.len()).copied();
                    if e.prefix || next.is_none_or(|n| !is_word_byte(n)) {
                        best = Some(rest.len() - e.word.len());
                    }
                }
            }
            if best.is_some() && lo.unwrap_or_else(|| field_start(b, start)) == w0 {
                return best;
            }
        }
        None
    }

    /// Makes sure every word start in `from..to` has been examined.
    fn cover(&self, b: &[u8], from: usize, to: usize, hits: &mut Vec<Hit>) {
        let (base, done) = (self.base.get(), self.done.get());
        let scan_from = if from >= base && from <= done {
            if to <= done {
                return;
            }
            done
        } else {
            hits.clear();
            self.base.set(from);
            from
        };
        find_words(b, scan_from, to, hits);
        self.done.set(to.max(scan_from));
    }
}

/// Appends the registered words at word starts in `from..to`.
#[inline(never)]
fn find_words(b: &[u8], from: usize, to: usize, hits: &mut Vec<Hit>) {
    let to = to.min(b.len());
    let mut prev_word = from.checked_sub(1).and_then(|j| b.get(j)).is_some_and(|&c| is_word_byte(c));
    let mut p = from;
    // Eight bytes at a time: a mask of the word starts among them.
    while let Some(chunk) = b.get(p..p + 8).filter(|_| p + 8 <= to) {
        let x = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
        let word = word_bytes8(x);
        let mut starts = word & !((word << 8) | u64::from(prev_word) << 7);
        while starts != 0 {
            let k = (starts.trailing_zeros() / 8) as usize;
            starts &= starts - 1;
            word_at(b, p + k, hits);
        }
        prev_word = word >> 63 != 0;
        p += 8;
    }
    while p < to {
        let word = b.get(p).is_some_and(|&c| is_word_byte(c));
        if word && !prev_word {
            word_at(b, p, hits);
        }
        prev_word = word;
        p += 1;
    }
}

/// SWAR: the top bit of each byte of the result is set when that byte of
/// `x` is a word byte (an ASCII letter or any byte `>= 0x80`); the other bits
/// are clear.
#[inline]
fn word_bytes8(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Fold ASCII case (`A..Z` to `a..z`; other bytes may move but stay below
    // `a` or above `z` only if they were: `@ [ \ ] ^ _` become `` ` { | } ~ DEL``).
    let y = (x | (0x20 * ONES)) & LOW7;
    // Bytes at or above `a`, and bytes above `z`.
    let ge_a = (y + (0x80 - 0x61) * ONES) & HIGH;
    let gt_z = (y + (0x80 - 0x7b) * ONES) & HIGH;
    (ge_a & !gt_z) | (x & HIGH)
}

/// Records the registered words that start at the word start `p`.
#[inline]
fn word_at(b: &[u8], p: usize, hits: &mut Vec<Hit>) {
    let byte = |k: usize| usize::from(b.get(p + k).copied().unwrap_or(0));
    let bits = FIRST[byte(0)] & SECOND[byte(1)] & THIRD[byte(2)];
    if bits != 0 {
        verify(b, p, bits, hits);
    }
}

/// Records the entries in `bits` (whose first three bytes match) that start at `p`.
#[inline(never)]
fn verify(b: &[u8], p: usize, mut bits: u64, hits: &mut Vec<Hit>) {
    let rest = b.get(p..).unwrap_or(&[]);
    while bits != 0 {
        let e = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        let Some(entry) = ENTRIES.0.get(e) else { continue };
        if starts_with_words(rest, entry.word) {
            let end = p + entry.word.len();
            let bounded = b.get(end).is_none_or(|&n| !is_word_byte(n));
            hits.push(Hit { pos: p, end, entry: e as u8, bounded });
        }
    }
}

/// Start of the field that `start` is in, at most [`CONTEXT_WINDOW`] bytes
/// back: the search stops at a line break (unless only blanks follow it),
/// at `;`, and at the end of a previous quoted value (`",` or `',`).
pub(crate) fn field_start(b: &[u8], start: usize) -> usize {
    let lo = start.saturating_sub(CONTEXT_WINDOW);
    // Bytes past the end of the text count as blanks.
    let end = start.min(b.len());
    let window = b.get(lo.min(end)..end).unwrap_or(&[]);
    // Whether a byte after the candidate is not blank.
    let mut content = false;
    let mut hi = window.len();
    while let Some(k) = memchr::memrchr3(b'\n', b';', b',', window.get(..hi).unwrap_or(&[])) {
        content = content || window.get(k + 1..hi).is_some_and(|t| t.iter().any(|c| !c.is_ascii_whitespace()));
        let j = lo + k;
        let field_break = match window.get(k) {
            Some(b'\n') => content,
            Some(b';') => true,
            _ => matches!(j.checked_sub(1).and_then(|i| b.get(i)), Some(b'"' | b'\'')),
        };
        if field_break {
            return j + 1;
        }
        // A `,` that does not end a quoted value is content.
        content = content || window.get(k) == Some(&b',');
        hi = k;
    }
    lo
}

/// Reference implementation: the first (or, with `closest`, the closest)
/// word of `words` in the field before `start`, read from the window.
pub(crate) fn window_distance(b: &[u8], start: usize, words: &Words, closest: bool) -> Option<usize> {
    let lo = field_start(b, start);
    let end = start.min(b.len());
    let window = b.get(lo.min(end)..end).unwrap_or(&[]);
    let mut best = None;
    let mut prev_is_word = false;
    for (i, &c) in window.iter().enumerate() {
        let is_word = is_word_byte(c);
        if is_word && !prev_is_word {
            let mut bits = words.first.get(usize::from(c.to_ascii_lowercase())).copied().unwrap_or(0);
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let (Some(w), Some(rest)) = (words.list.get(k), window.get(i..)) else { continue };
                if starts_with_words(rest, w.0) {
                    let next = rest.get(w.0.len()).copied();
                    if w.1 || next.is_none_or(|n| !is_word_byte(n)) {
                        best = Some(window.len() - i - w.0.len());
                        if !closest {
                            return best;
                        }
                    }
                }
            }
        }
        prev_is_word = is_word;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [&Words; 9] =
        [&SSN_CTX, &ITIN_CTX, &ABA_CTX, &SIN_CTX, &NHS_CTX, &AADHAAR_CTX, &BSN_CTX, &PESEL_CTX, &PHONE_CTX];

    /// Small deterministic generator.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    const PARTS: &[&str] = &[
        " ",
        " ",
        "\n",
        ";",
        ",",
        "\",",
        "', ",
        "  \n ",
        "_",
        "-",
        "1",
        "123",
        "x",
        "call",
        "Phone",
        "TEL",
        "tél",
        "TÉL",
        "telephone",
        "recall",
        "ssn",
        "SSN#",
        "ss#",
        "soc sec",
        "soc_sec",
        "social-security",
        "itin",
        "tin",
        "taxpayer",
        "routing",
        "aba",
        "abacus",
        "rtn",
        "transit",
        "sin",
        "using",
        "nas",
        "social insurance",
        "assurance sociale",
        "nhs",
        "NHS-number",
        "health service",
        "aadhaar",
        "aadhar",
        "uidai",
        "uid",
        "bsn",
        "burgerservicenummer",
        "sofi",
        "pesel",
        "text me",
        "text_me",
        "sms",
        "handy",
        "móvil",
        "komórk",
        "日本",
        "über",
        "numer",
        "nummer",
        "reach",
        "ring",
        "dial",
    ];

    #[test]
    fn index_answers_like_the_window_scan() {
        let mut rng = Rng(1);
        for _ in 0..3000 {
            let n = rng.below(30);
            let text: String = (0..n).map(|_| PARTS[rng.below(PARTS.len() as u64) as usize]).collect();
            let b = text.as_bytes();
            // Queries in increasing order (as the detectors make them) and a few out of order.
            let index = ContextIndex::default();
            let mut starts: Vec<usize> = (0..=b.len()).collect();
            for _ in 0..4 {
                starts.push(rng.below(b.len() as u64 + 1) as usize);
            }
            for &start in &starts {
                for words in ALL {
                    let id = words.id.unwrap_or(u8::MAX);
                    assert_eq!(
                        index.distance(b, start, id),
                        window_distance(b, start, words, true),
                        "{text:?} at {start}, list {id}"
                    );
                    assert_eq!(
                        index.distance(b, start, id).is_some(),
                        window_distance(b, start, words, false).is_some(),
                    );
                    let reach = rng.below(40) as usize;
                    assert_eq!(
                        index.distance_within(b, start, id, reach),
                        window_distance(b, start, words, true).filter(|&d| d <= reach),
                        "{text:?} at {start}, list {id}, within {reach}"
                    );
                }
            }
        }
    }
}
