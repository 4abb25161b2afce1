//! `cargo xtask eval`: measures the masking engine's detection quality.
//!
//! Generates labelled corpora with Faker (`filters/masking/eval/gen_corpus.py`,
//! several locales and text shapes, hard negatives included) into
//! `target/eval/`, then runs `portcullis-mask-eval` on each. The evaluator
//! prints precision and recall per entity kind and the share of PII
//! characters left unmasked, and fails when a checksum-validated kind falls
//! below the bar.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use xshell::{cmd, Shell};

use crate::step;

/// What to generate and how strict to be.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Samples per corpus.
    pub samples: u32,
    /// One corpus per seed.
    pub seeds: Vec<u64>,
    /// Lowest precision and recall accepted for checksum-validated kinds.
    pub min: f64,
    /// Build the evaluator with `--release` (faster on large corpora).
    pub release: bool,
}

/// Generates one corpus per seed and evaluates each; fails if any falls below `min`.
pub fn run(sh: &Shell, python: &std::path::Path, opts: &EvalOptions) -> Result<()> {
    let dir = crate::project_root().join("target/eval");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let samples = opts.samples.to_string();
    let min = opts.min.to_string();
    let release = opts.release.then_some("--release");
    let mut failed = Vec::new();
    for seed in &opts.seeds {
        let corpus: PathBuf = dir.join(format!("corpus-n{samples}-seed{seed}.jsonl"));
        let seed = seed.to_string();
        step(&format!("eval: generating {samples} samples with Faker (seed {seed}) into {}", corpus.display()));
        let text = cmd!(sh, "{python} filters/masking/eval/gen_corpus.py --n {samples} --seed {seed}")
            .read()
            .context("the corpus generator failed: is Faker installed? (`cargo xtask setup` installs it)")?;
        std::fs::write(&corpus, text + "\n").with_context(|| format!("cannot write {}", corpus.display()))?;
        step(&format!("eval: precision and recall per entity kind (seed {seed})"));
        let ok = cmd!(
            sh,
            "cargo run --quiet --locked {release...} -p portcullis-masking --bin portcullis-mask-eval -- {corpus} --min {min}"
        )
        .run()
        .is_ok();
        if !ok {
            failed.push(seed);
        }
    }
    if failed.is_empty() {
        step(&format!("eval: every checksum-validated kind is at or above {min} on every corpus"));
        Ok(())
    } else {
        anyhow::bail!("eval: below {min} (or the evaluator failed) on the corpora with seed {}", failed.join(", "))
    }
}
