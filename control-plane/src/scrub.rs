//! Scrubbing secrets out of what filters send with a hold.
//!
//! Filters mask a held prompt's excerpt with the policy's masking rules before they
//! send it, but those rules may leave secrets alone (or be switched off). The excerpt
//! is shown to approvers, stored, and posted to the webhook, so the control plane runs
//! the secret detectors of `portcullis-masking` over it (and over the filter's reason
//! and rule messages) once more: API keys, tokens, private keys, JWTs and
//! `password = ...` style values become placeholders such as `[OPENAI_KEY]`. Personal
//! data is the masking policy's business and is left as the filter sent it.

use std::collections::BTreeMap;

use portcullis_masking::{EntityKind, Masker, MaskingPolicy};
use portcullis_policy::masking::{EntityRule, BUILTIN_ENTITIES};

/// Longest excerpt kept, in characters; longer ones are cut (after scrubbing, so a
/// secret cut in two is still found whole).
pub const MAX_EXCERPT_CHARS: usize = 4000;

/// Replaces secrets with placeholders. Cheap to share: build once.
#[derive(Debug)]
pub struct Scrubber {
    masker: Masker,
}

impl Scrubber {
    /// A scrubber with every secret detector on and every other detector off.
    pub fn new() -> anyhow::Result<Self> {
        let entities: BTreeMap<String, EntityRule> = BUILTIN_ENTITIES
            .iter()
            .filter(|name| !EntityKind::from_name(name).is_some_and(EntityKind::is_secret))
            .map(|name| ((*name).to_owned(), EntityRule { enabled: false, ..EntityRule::default() }))
            .collect();
        let policy = MaskingPolicy { entities, ..MaskingPolicy::default() };
        let masker = Masker::from_policy(&policy, None).map_err(|problems| {
            let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the secret scrubber could not be built: {}", problems.join("; "))
        })?;
        Ok(Self { masker })
    }

    /// `text` with every secret replaced by a placeholder.
    pub fn scrub(&self, text: &str) -> String {
        self.masker.mask(text).text
    }

    /// An excerpt fit to keep: scrubbed, then cut to [`MAX_EXCERPT_CHARS`] (with `…`).
    pub fn excerpt(&self, text: &str) -> String {
        let scrubbed = self.scrub(text);
        match scrubbed.char_indices().nth(MAX_EXCERPT_CHARS) {
            Some((cut, _)) => format!("{}…", &scrubbed[..cut]),
            None => scrubbed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_and_other_text_is_kept() {
        let scrubber = Scrubber::new().unwrap();
        let text = "use key sk-proj-Abc123Def456Ghi789Jkl012Mno345 and AKIAQWERTYUIOPASDFGH, mail jane@example.com, password = \"hunter2hunter2Q\"";
        let scrubbed = scrubber.scrub(text);
        assert!(!scrubbed.contains("sk-proj-Abc123"), "{scrubbed}");
        assert!(!scrubbed.contains("AKIAQWERTYUIOPASDFGH"), "{scrubbed}");
        assert!(!scrubbed.contains("hunter2hunter2Q"), "{scrubbed}");
        assert!(scrubbed.contains("[OPENAI_KEY]") && scrubbed.contains("[AWS_ACCESS_KEY]"), "{scrubbed}");
        assert!(scrubbed.contains("jane@example.com"), "personal data is the masking policy's business: {scrubbed}");
    }

    #[test]
    fn long_excerpts_are_cut_after_scrubbing() {
        let scrubber = Scrubber::new().unwrap();
        let long = "é".repeat(MAX_EXCERPT_CHARS + 10);
        let cut = scrubber.excerpt(&long);
        assert_eq!(cut.chars().count(), MAX_EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(scrubber.excerpt("short"), "short");
    }
}
