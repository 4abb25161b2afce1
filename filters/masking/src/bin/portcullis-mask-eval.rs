//! Corpus evaluator for the masking engine.
//!
//! Reads a JSONL corpus (one `{"text": "...", "entities": [{"start": 0,
//! "end": 16, "kind": "credit_card"}, ...]}` per line, byte offsets), runs the
//! built-in detectors (or a policy given with `--policy`), and prints
//! precision and recall per entity kind plus the share of PII characters
//! left unmasked. Exits with status 1 when a checksum-validated kind falls below
//! `--min` (default 0.99) in precision or recall.
//!
//! ```text
//! portcullis-mask-eval corpus.jsonl [--min 0.99] [--policy masking.json] [--show 5]
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

use portcullis_masking::{Detection, EntityKind, Masker, MaskingPolicy};
use serde::Deserialize;

#[derive(Deserialize)]
struct Sample {
    text: String,
    #[serde(default)]
    entities: Vec<Gold>,
}

#[derive(Deserialize)]
struct Gold {
    start: usize,
    end: usize,
    kind: String,
}

#[derive(Default)]
struct Tally {
    gold: u32,
    found: u32,
    predicted: u32,
    correct: u32,
    misses: Vec<String>,
    false_alarms: Vec<String>,
}

struct Args {
    corpus: String,
    min: f64,
    policy: Option<String>,
    show: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut out = Args { corpus: String::new(), min: 0.99, policy: None, show: 3 };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--min" => out.min = args.next().and_then(|v| v.parse().ok()).ok_or("--min needs a number")?,
            "--policy" => out.policy = Some(args.next().ok_or("--policy needs a file")?),
            "--show" => out.show = args.next().and_then(|v| v.parse().ok()).ok_or("--show needs a number")?,
            "-h" | "--help" => return Err(String::new()),
            _ if out.corpus.is_empty() => out.corpus = a,
            _ => return Err(format!("unexpected argument `{a}`")),
        }
    }
    if out.corpus.is_empty() {
        return Err("missing corpus file".into());
    }
    Ok(out)
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

fn snippet(text: &str, start: usize, end: usize) -> String {
    let s = text.get(start..end).unwrap_or("?");
    let before = text.get(start.saturating_sub(24)..start).unwrap_or("");
    format!("…{before}⟦{s}⟧")
}

/// Characters in the gold span `span` of `text`, and how many of them no
/// detection covers (a character counts as masked when its first byte is).
fn unmasked_chars(text: &str, span: (usize, usize), found: &[Detection<'_>]) -> (usize, usize) {
    let Some(gold) = text.get(span.0..span.1) else {
        return (0, 0);
    };
    let mut total = 0;
    let mut leaked = 0;
    for (offset, _) in gold.char_indices() {
        let b = span.0 + offset;
        total += 1;
        if !found.iter().any(|d| d.start <= b && b < d.end) {
            leaked += 1;
        }
    }
    (total, leaked)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("usage: portcullis-mask-eval CORPUS.jsonl [--min 0.99] [--policy masking.json] [--show N]");
            return ExitCode::from(2);
        }
    };
    let masker = match &args.policy {
        None => Masker::new(),
        Some(path) => {
            let policy = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|s| serde_json::from_str::<MaskingPolicy>(&s).map_err(|e| e.to_string()));
            match policy.map(|p| Masker::from_policy(&p, Some(b"eval-key"))) {
                Ok(Ok(m)) => m,
                Ok(Err(problems)) => {
                    for p in problems {
                        eprintln!("policy error: {p}");
                    }
                    return ExitCode::from(2);
                }
                Err(e) => {
                    eprintln!("cannot read policy {path}: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let corpus = match std::fs::read_to_string(&args.corpus) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot read {}: {e}", args.corpus);
            return ExitCode::from(2);
        }
    };
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut pii_chars, mut leaked_chars, mut samples, mut text_bytes) = (0usize, 0usize, 0usize, 0usize);
    let started = std::time::Instant::now();
    for (n, line) in corpus.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let sample: Sample = match serde_json::from_str(line) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("line {}: {e}", n + 1);
                return ExitCode::from(2);
            }
        };
        samples += 1;
        text_bytes += sample.text.len();
        let found = masker.detect(&sample.text);
        let mut used = vec![false; found.len()];
        for g in &sample.entities {
            let t = tallies.entry(g.kind.clone()).or_default();
            t.gold += 1;
            let hit = found
                .iter()
                .enumerate()
                .find(|(_, d)| d.entity == g.kind && overlaps((d.start, d.end), (g.start, g.end)));
            match hit {
                Some((i, _)) => {
                    t.found += 1;
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                }
                None if t.misses.len() < args.show => t.misses.push(snippet(&sample.text, g.start, g.end)),
                None => {}
            }
            let (pii, leaked) = unmasked_chars(&sample.text, (g.start, g.end), &found);
            pii_chars += pii;
            leaked_chars += leaked;
        }
        for (i, d) in found.iter().enumerate() {
            let t = tallies.entry(d.entity.to_owned()).or_default();
            t.predicted += 1;
            let correct = used.get(i).copied().unwrap_or(false)
                || sample.entities.iter().any(|g| g.kind == d.entity && overlaps((d.start, d.end), (g.start, g.end)));
            if correct {
                t.correct += 1;
            } else if t.false_alarms.len() < args.show {
                t.false_alarms.push(snippet(&sample.text, d.start, d.end));
            }
        }
    }
    let elapsed = started.elapsed();
    println!(
        "{samples} samples, {text_bytes} bytes, {:.1} MB/s end to end{}",
        text_bytes as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9),
        if cfg!(debug_assertions) { " (debug build)" } else { "" }
    );
    println!("{:<16} {:>6} {:>6} {:>9} {:>7}  bar", "kind", "gold", "pred", "precision", "recall");
    let mut failed = Vec::new();
    for (kind, t) in &tallies {
        let precision = if t.predicted == 0 { 1.0 } else { f64::from(t.correct) / f64::from(t.predicted) };
        let recall = if t.gold == 0 { 1.0 } else { f64::from(t.found) / f64::from(t.gold) };
        let strict = EntityKind::from_name(kind).is_some_and(EntityKind::is_checksum_validated);
        let below = strict && (precision < args.min || recall < args.min);
        if below {
            failed.push(kind.clone());
        }
        println!(
            "{kind:<16} {:>6} {:>6} {precision:>9.4} {recall:>7.4}  {}",
            t.gold,
            t.predicted,
            if below {
                "FAIL"
            } else if strict {
                "ok"
            } else {
                "-"
            }
        );
        for m in &t.misses {
            println!("    missed: {m}");
        }
        for f in &t.false_alarms {
            println!("    false:  {f}");
        }
    }
    let leaked = if pii_chars == 0 { 0.0 } else { leaked_chars as f64 / pii_chars as f64 };
    println!("PII characters left unmasked: {leaked_chars} of {pii_chars} ({:.3}%)", leaked * 100.0);
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("below {} for checksum-validated kinds: {}", args.min, failed.join(", "));
        ExitCode::from(1)
    }
}
