//! Throughput of the masking engine on PII-dense text and on clean prose,
//! whole and streamed. The text is generated here, deterministically.
//!
//! `cargo bench -p portcullis-masking --bench engine -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use portcullis_masking::{Masker, StreamMasker, TextStream};

/// Small deterministic generator (64-bit LCG).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "had",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "model",
    "request",
    "response",
    "gateway",
    "policy",
    "customer",
    "account",
    "order",
    "service",
    "team",
    "report",
    "quarterly",
    "revenue",
    "increase",
    "deploy",
    "cluster",
    "latency",
    "budget",
    "meeting",
    "review",
    "summary",
    "please",
    "thanks",
    "update",
    "status",
    "project",
    "feature",
    "release",
    "question",
    "answer",
];

fn luhn_complete(rng: &mut Rng, prefix: &str, len: usize) -> String {
    let mut d: Vec<u32> = prefix.bytes().map(|c| u32::from(c - b'0')).collect();
    while d.len() < len - 1 {
        d.push(rng.below(10) as u32);
    }
    for check in 0..10 {
        let mut all = d.clone();
        all.push(check);
        let sum: u32 = all
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &x)| {
                if i % 2 == 1 {
                    let y = x * 2;
                    if y > 9 {
                        y - 9
                    } else {
                        y
                    }
                } else {
                    x
                }
            })
            .sum();
        if sum % 10 == 0 {
            return all.iter().map(|x| char::from(b'0' + *x as u8)).collect();
        }
    }
    unreachable!()
}

fn iban_de(rng: &mut Rng) -> String {
    let bban = rng.digits(18);
    let numeric = format!("{bban}131400");
    let r = numeric.bytes().fold(0u32, |r, c| (r * 10 + u32::from(c - b'0')) % 97);
    format!("DE{:02}{bban}", 98 - r)
}

fn grouped(s: &str) -> String {
    s.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ")
}

/// Seven entities per ~250-byte line (one every ~36 bytes, ~28% of the bytes):
/// e-mail, phone, card, IBAN, SSN, IPv4 and an API key, plus an order number.
fn pii_dense(bytes: usize) -> String {
    let mut rng = Rng(42);
    let mut s = String::with_capacity(bytes + 256);
    let first = ["jane", "john", "maria", "li", "ahmed", "olga", "pierre", "anna"];
    let last = ["doe", "smith", "garcia", "wang", "khan", "novak", "martin", "kowalska"];
    while s.len() < bytes {
        let (f, l) = (rng.pick(&first), rng.pick(&last));
        let key = format!("{:016x}{:016x}", rng.next() * 2_654_435_761, rng.next() * 40_503);
        let prefix = ["4", "51", "55", "37", "6011"][rng.below(5) as usize];
        let card = luhn_complete(&mut rng, prefix, if prefix == "37" { 15 } else { 16 });
        let line = format!(
            "Customer {f} {l} <{f}.{l}{n}@example.com> called from +1 415 555 {p} about order {o}. \
             Card {card} was charged; refund to IBAN {iban}. SSN {a}-{g}-{sr}, host 10.{i}.{j}.{k}, \
             api_key: {key}\n",
            n = rng.below(100),
            p = rng.digits(4),
            o = rng.digits(8),
            card = grouped(&card),
            iban = grouped(&iban_de(&mut rng)),
            a = 100 + rng.below(500),
            g = 10 + rng.below(89),
            sr = 1000 + rng.below(8999),
            i = rng.below(255),
            j = rng.below(255),
            k = rng.below(255),
        );
        s.push_str(&line);
    }
    s
}

/// Support-ticket prose with one or two entities per ~200-byte paragraph.
fn pii_mixed(bytes: usize) -> String {
    let mut rng = Rng(99);
    let mut s = String::with_capacity(bytes + 256);
    while s.len() < bytes {
        for _ in 0..(14 + rng.below(10)) {
            s.push_str(rng.pick(WORDS));
            s.push(' ');
        }
        match rng.below(4) {
            0 => s.push_str(&format!("reach me at user{}@example.org ", rng.below(10_000))),
            1 => {
                let card = luhn_complete(&mut rng, "4", 16);
                s.push_str(&format!("card {} ", grouped(&card)));
            }
            2 => s.push_str(&format!("call +44 20 7946 {} ", rng.digits(4))),
            _ => s.push_str(&format!("ticket {} on 2024-03-{:02} ", rng.digits(6), 1 + rng.below(28))),
        }
        s.push_str(".\n");
    }
    s
}

/// Ordinary prose with numbers and punctuation but no entities.
fn clean_prose(bytes: usize) -> String {
    let mut rng = Rng(7);
    let mut s = String::with_capacity(bytes + 64);
    while s.len() < bytes {
        let n = 8 + rng.below(12);
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(rng.pick(WORDS));
            if rng.below(12) == 0 {
                s.push_str(&format!(" {}", rng.below(2000)));
            }
        }
        s.push_str(if rng.below(5) == 0 { ".\n" } else { ". " });
    }
    s
}

fn bench(c: &mut Criterion) {
    let masker = Arc::new(Masker::new());
    let dense = pii_dense(1 << 20);
    let clean = clean_prose(1 << 20);
    let mixed = pii_mixed(1 << 20);
    // Sanity: the dense text really is dense, the clean one clean.
    let found = masker.mask(&dense).counts.values().sum::<u32>();
    assert!(found as usize > dense.len() / 80, "only {found} entities");
    assert!(masker.mask(&clean).counts.is_empty());

    let mut g = c.benchmark_group("mask");
    for (name, text) in [("pii_dense", &dense), ("pii_mixed", &mixed), ("clean_prose", &clean)] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| b.iter(|| masker.mask(black_box(text))));
    }
    g.finish();

    let mut g = c.benchmark_group("stream_16B_pieces");
    for (name, text) in [("pii_dense", &dense), ("clean_prose", &clean)] {
        let pieces: Vec<&str> = text.as_bytes().chunks(16).map(|c| std::str::from_utf8(c).unwrap()).collect();
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut s = StreamMasker::new(Arc::clone(&masker));
                let mut n = 0;
                for p in &pieces {
                    n += s.push(black_box(p)).len();
                }
                n + s.finish().len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
