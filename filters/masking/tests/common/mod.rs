//! Shared test helpers: a policy exercising every feature and text fragments.
#![allow(dead_code)]

use std::sync::Arc;

use portcullis_masking::{Masker, MaskingPolicy};
use proptest::prelude::*;

/// Built-ins plus a custom regex, a deny-list and every operator.
pub fn rich_masker() -> Arc<Masker> {
    let policy: MaskingPolicy = serde_json::from_str(
        r#"{
            "entities": {
                "credit_card": {"operator": {"partial": {"keep_last": 4}}},
                "email": {"operator": "pseudonymize"},
                "iban": {"operator": {"hash": {"hex_len": 8}}}
            },
            "custom": [{"name": "employee_id", "regex": "\\bEMP-\\d{6}\\b"}],
            "deny_lists": [{"name": "codename", "words": ["Bluebird", "Project Nightjar"], "case_insensitive": true}],
            "hmac_key_ref": "k"
        }"#,
    )
    .unwrap();
    Arc::new(Masker::from_policy(&policy, Some(b"test-key")).unwrap())
}

/// Entities and near misses that streaming must get right wherever they are cut.
pub const FRAGMENTS: &[&str] = &[
    "4111 1111 1111 1111",
    "4111111111111111",
    "4111 1111 1111 1112",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "jane.doe@example.com",
    "a@b.io",
    "123-45-6789",
    "SSN 123456789",
    "+44 20 7946 0958",
    "phone: (415) 555-0123",
    "192.168.1.10",
    "2001:db8::1",
    "00:1A:2B:3C:4D:5E",
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "routing 021000021",
    "NHS 943 476 5919",
    "DNI 12345678Z",
    "AKIAZ7Q2L4M6N8P0R2T4",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5",
    "sk-proj-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df",
    "sk-ant-api03-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df",
    "password = \"S3cr3t!Pa55\"",
    "api_key: a8f5f167f44f4964e6c998dee827110c",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4Rk2\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\nMIIE",
    "EMP-123456",
    "bluebird",
    "Project Nightjar",
    "550e8400-e29b-41d4-a716-446655440000",
    "2024-01-15T10:30:00Z",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
];

pub const FILLER: &[&str] = &[
    " ", " ", " ", "\n", ", ", ". ", ":", "=", "\"", "(", ")", "-", "@", "+", "the ", "call ", "card ", "über ",
    "日本 ", "✓", "1", "42", "x", "token", "ok",
];

/// Random text made of fragments and filler.
pub fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
            4 => prop::sample::select(FILLER).prop_map(str::to_owned),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

/// Splits `text` at the given fractions, moved to char boundaries.
pub fn split(text: &str, cuts: &[f64]) -> Vec<String> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|f| {
            let mut i = ((text.len() as f64) * f) as usize;
            while i < text.len() && !text.is_char_boundary(i) {
                i += 1;
            }
            i.min(text.len())
        })
        .collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut last = 0;
    for p in points.into_iter().chain(std::iter::once(text.len())) {
        out.push(text[last..p].to_owned());
        last = p;
    }
    out
}

/// Proptest case count: `default`, or `PROPTEST_CASES` when set.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
