//! Streaming invariant: for any text and any split into pieces, the
//! concatenated output of a `StreamMasker` equals masking the whole text.

mod common;

use std::sync::Arc;

use portcullis_masking::{Masker, StreamMasker, TextStream};
use proptest::prelude::*;

fn streamed(masker: &Arc<Masker>, pieces: &[&str]) -> (String, usize) {
    let mut s = StreamMasker::new(Arc::clone(masker));
    let mut out = String::new();
    let mut max_pending = 0;
    for p in pieces {
        out.push_str(&s.push(p));
        max_pending = max_pending.max(s.pending_len());
    }
    out.push_str(&s.finish());
    assert_eq!(s.pending_len(), 0);
    (out, max_pending)
}

fn every_char_boundary(masker: &Arc<Masker>, text: &str) {
    let whole = masker.mask(text).text;
    // One piece per character.
    let chars: Vec<String> = text.chars().map(String::from).collect();
    let pieces: Vec<&str> = chars.iter().map(String::as_str).collect();
    assert_eq!(streamed(masker, &pieces).0, whole, "char by char: {text:?}");
    // Every single cut point.
    for (i, _) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        let (a, b) = text.split_at(i);
        assert_eq!(streamed(masker, &[a, b]).0, whole, "cut at {i}: {text:?}");
    }
}

#[test]
fn every_split_of_every_fragment() {
    let plain = Arc::new(Masker::new());
    let rich = common::rich_masker();
    for f in common::FRAGMENTS {
        let text = format!("pre {f} post");
        every_char_boundary(&plain, &text);
        every_char_boundary(&rich, &text);
    }
    let all = common::FRAGMENTS.join(" | ");
    every_char_boundary(&rich, &all);
}

#[test]
fn hold_back_is_small_for_ordinary_text() {
    let masker = Arc::new(Masker::new());
    let text = "The quick brown fox jumps over the lazy dog, then calls 415 555 0123. ".repeat(20);
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    let (_, max_pending) = streamed(&masker, &words);
    assert!(max_pending <= 64, "held back {max_pending} bytes");
}

#[test]
fn pseudonyms_are_numbered_in_stream_order() {
    let masker = common::rich_masker();
    let text = "from a@b.io to c@d.io, again a@b.io";
    let pieces: Vec<String> = text.chars().map(String::from).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let (out, _) = streamed(&masker, &pieces);
    assert_eq!(out, "from [EMAIL_1] to [EMAIL_2], again [EMAIL_1]");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(384), ..ProptestConfig::default() })]

    #[test]
    fn stream_equals_whole(text in common::text(), cuts in prop::collection::vec(0.0f64..1.0, 0..12)) {
        let masker = common::rich_masker();
        let pieces = common::split(&text, &cuts);
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        let whole = masker.mask(&text);
        let mut s = StreamMasker::new(Arc::clone(&masker));
        let mut out = String::new();
        for p in &pieces {
            out.push_str(&s.push(p));
        }
        out.push_str(&s.finish());
        prop_assert_eq!(&out, &whole.text);
        prop_assert_eq!(s.counts(), whole.counts);
    }

    #[test]
    fn arbitrary_text_never_panics_and_streams_equal(text in "\\PC{0,200}", cuts in prop::collection::vec(0.0f64..1.0, 0..6)) {
        let masker = common::rich_masker();
        let pieces = common::split(&text, &cuts);
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        prop_assert_eq!(streamed(&masker, &pieces).0, masker.mask(&text).text);
    }

    #[test]
    fn digit_soup_streams_equal(text in "[0-9 .()+:@a-fA-F-]{0,120}", cuts in prop::collection::vec(0.0f64..1.0, 0..8)) {
        let masker = Arc::new(Masker::new());
        let pieces = common::split(&text, &cuts);
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        prop_assert_eq!(streamed(&masker, &pieces).0, masker.mask(&text).text);
    }
}
