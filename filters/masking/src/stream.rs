//! Streaming: mask text that arrives in pieces (SSE deltas) with the same
//! result as masking it whole.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::masker::Masker;
use crate::pseudo::Pseudonymizer;
use crate::resolve::{cut, resolve_in_place};
use crate::scan::{floor_boundary, Cand, LOOK_BEHIND};

/// A transformation of text that arrives in pieces.
///
/// `push` returns what can be released now; `finish` releases the rest.
/// Implementations guarantee that the concatenated outputs do not depend on
/// where the input was split.
pub trait TextStream {
    /// Feeds the next piece and returns the output that is final already.
    fn push(&mut self, piece: &str) -> String;
    /// Ends the text and returns everything still held back.
    fn finish(&mut self) -> String;
    /// Entities replaced so far, per entity name (none for streams that do not mask).
    fn counts(&self) -> BTreeMap<String, u32> {
        BTreeMap::new()
    }
}

/// Adds `b` into `a`.
pub(crate) fn merge_counts(a: &mut BTreeMap<String, u32>, b: BTreeMap<String, u32>) {
    for (k, v) in b {
        *a.entry(k).or_insert(0) += v;
    }
}

/// Two transformations one after the other, e.g. mask then restore.
impl<A: TextStream, B: TextStream> TextStream for (A, B) {
    fn push(&mut self, piece: &str) -> String {
        let mid = self.0.push(piece);
        self.1.push(&mid)
    }

    fn finish(&mut self) -> String {
        let mid = self.0.finish();
        let mut out = self.1.push(&mid);
        out.push_str(&self.1.finish());
        out
    }

    fn counts(&self) -> BTreeMap<String, u32> {
        let mut c = self.0.counts();
        merge_counts(&mut c, self.1.counts());
        c
    }
}

/// Masks text that arrives in pieces.
///
/// Holds back only a tail that may still be the start of an entity: each
/// detector says where an undecided entity could begin, bounded by its
/// maximum length (a PEM private key block is the longest, see
/// [`MAX_PRIVATE_KEY_BYTES`](crate::MAX_PRIVATE_KEY_BYTES)).
///
/// Invariant (property-tested): for any text and any split into pieces, the
/// concatenation of every `push` output and the `finish` output equals
/// [`Masker::mask`] of the whole text.
#[derive(Debug)]
pub struct StreamMasker {
    masker: Arc<Masker>,
    pseudo: Pseudonyms,
    buf: String,
    /// `buf[..from]` has been released.
    from: usize,
    /// The hold of the last scan: `cands` holds every candidate starting in
    /// `from..resume` (final ones: more text cannot change them), and the next
    /// scan only looks for candidates from `resume` on, instead of re-reading
    /// the whole held-back tail on every piece.
    resume: usize,
    counts: Vec<u32>,
    cands: Vec<Cand>,
    picked: Vec<Cand>,
}

/// A pseudonym mapping that several streams of one exchange number their
/// pseudonyms in (the choices, tool calls and fields of one streamed answer,
/// see [`SseRewriter`](crate::SseRewriter)): equal values get equal
/// placeholders across them, different values different ones.
pub type SharedPseudonymizer = Rc<RefCell<Pseudonymizer>>;

/// Where a stream numbers its pseudonyms.
#[derive(Debug)]
enum Pseudonyms {
    Own(Pseudonymizer),
    Shared(SharedPseudonymizer),
}

impl StreamMasker {
    /// A stream with its own (empty) pseudonym mapping.
    pub fn new(masker: Arc<Masker>) -> Self {
        Self::with_pseudonymizer(masker, Pseudonymizer::new())
    }

    /// A stream that numbers pseudonyms in `pseudo`, continuing an exchange.
    pub fn with_pseudonymizer(masker: Arc<Masker>, pseudo: Pseudonymizer) -> Self {
        Self::with_pseudonyms(masker, Pseudonyms::Own(pseudo))
    }

    /// A stream that numbers pseudonyms in a mapping it shares with other
    /// streams of the same exchange.
    pub fn with_shared_pseudonymizer(masker: Arc<Masker>, shared: SharedPseudonymizer) -> Self {
        Self::with_pseudonyms(masker, Pseudonyms::Shared(shared))
    }

    fn with_pseudonyms(masker: Arc<Masker>, pseudo: Pseudonyms) -> Self {
        let n = masker.entity_count();
        StreamMasker {
            masker,
            pseudo,
            buf: String::new(),
            from: 0,
            resume: 0,
            counts: vec![0; n],
            cands: Vec::new(),
            picked: Vec::new(),
        }
    }

    /// Bytes received but not yet released.
    pub fn pending_len(&self) -> usize {
        self.buf.len() - self.from
    }

    /// Replacements so far, per entity name.
    pub fn counts(&self) -> BTreeMap<String, u32> {
        self.masker.count_map(&self.counts)
    }

    /// Gives the pseudonym mapping back (for restoring the response); a
    /// copy of it when it is shared.
    pub fn into_pseudonymizer(self) -> Pseudonymizer {
        match self.pseudo {
            Pseudonyms::Own(p) => p,
            Pseudonyms::Shared(shared) => shared.try_borrow().map(|p| p.clone()).unwrap_or_default(),
        }
    }

    fn step(&mut self, fin: bool) -> String {
        // A shared mapping is never held elsewhere while a stream masks (one
        // thread, no re-entry). Were it, numbering from scratch could make a
        // placeholder the restore stream turns into a request's value: keep
        // everything buffered instead.
        if let Pseudonyms::Shared(shared) = &self.pseudo {
            if shared.try_borrow_mut().is_err() {
                return String::new();
            }
        }
        let masker = Arc::clone(&self.masker);
        let hold = masker.scan_resuming(&self.buf, self.from, self.resume, fin, &mut self.cands);
        let p = if fin { self.buf.len() } else { cut(hold, &self.cands) };
        // Release what ends by `p`; keep the final candidates after it.
        self.picked.clear();
        self.picked.extend(self.cands.iter().filter(|c| c.end <= p));
        self.cands.retain(|c| c.start >= p && c.start < hold && !masker.is_regex(c.id));
        self.resume = hold;
        resolve_in_place(&mut self.picked, |id| masker.priority(id));
        let out = if p > self.from {
            let mut out = String::with_capacity(p - self.from + 16);
            match &mut self.pseudo {
                Pseudonyms::Own(pseudo) => {
                    masker.emit(&self.buf, self.from, p, &self.picked, pseudo, &mut self.counts, &mut out);
                }
                // Checked free at the start of this step.
                Pseudonyms::Shared(shared) => {
                    if let Ok(mut pseudo) = shared.try_borrow_mut() {
                        masker.emit(&self.buf, self.from, p, &self.picked, &mut pseudo, &mut self.counts, &mut out);
                    }
                }
            }
            out
        } else {
            String::new()
        };
        self.from = p;
        // Keep LOOK_BEHIND bytes of released text as context for later detections.
        if self.from > 2 * LOOK_BEHIND {
            let drop = floor_boundary(&self.buf, self.from - LOOK_BEHIND);
            self.buf.drain(..drop);
            self.from -= drop;
            self.resume -= drop;
            for c in &mut self.cands {
                c.start -= drop;
                c.end -= drop;
            }
        }
        out
    }
}

impl TextStream for StreamMasker {
    fn push(&mut self, piece: &str) -> String {
        if piece.is_empty() {
            return String::new();
        }
        self.buf.push_str(piece);
        self.step(false)
    }

    fn finish(&mut self) -> String {
        self.step(true)
    }

    fn counts(&self) -> BTreeMap<String, u32> {
        StreamMasker::counts(self)
    }
}
