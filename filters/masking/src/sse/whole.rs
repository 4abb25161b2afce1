//! Fail-closed masking of what is not streamed: strings masked whole (log
//! probabilities are dropped by [`crate::logprobs`]).

use std::collections::BTreeMap;

use crate::stream::{merge_counts, TextStream};

/// The longest string whose whole-text result is remembered.
const WHOLE_CACHE_MAX_LEN: usize = 256;
/// How many whole-text results are remembered (the cache is emptied when full).
const WHOLE_CACHE_ENTRIES: usize = 64;

/// What masking a string whole gave: the new text (`None`: unchanged) and
/// the entities replaced.
#[derive(Clone)]
struct WholeResult {
    text: Option<String>,
    counts: BTreeMap<String, u32>,
}

/// Masks strings that are not streamed, each whole with a fresh stream, so
/// the result equals masking that text alone (a `.done` event's full text
/// comes out as its deltas did). Remembers recent short strings: ids, model
/// names and event types repeat in every event.
#[derive(Default)]
pub(super) struct Whole {
    cache: BTreeMap<String, WholeResult>,
}

impl Whole {
    /// `text` masked whole, or `None` when it is unchanged; adds the entities
    /// to `counts` when given.
    pub fn mask<T: TextStream>(
        &mut self,
        factory: &mut dyn FnMut() -> T,
        text: &str,
        counts: Option<&mut BTreeMap<String, u32>>,
    ) -> Option<String> {
        if text.is_empty() {
            return None;
        }
        let result = match self.cache.get(text) {
            Some(hit) => hit.clone(),
            None => {
                let mut stream = factory();
                let mut masked = stream.push(text);
                masked.push_str(&stream.finish());
                let result = WholeResult {
                    text: (masked != text).then_some(masked),
                    counts: stream.counts(),
                };
                if text.len() <= WHOLE_CACHE_MAX_LEN {
                    if self.cache.len() >= WHOLE_CACHE_ENTRIES {
                        self.cache.clear();
                    }
                    self.cache.insert(text.to_owned(), result.clone());
                }
                result
            }
        };
        if let Some(counts) = counts {
            merge_counts(counts, result.counts);
        }
        result.text
    }
}
