//! Verification cost inside a WebAssembly engine, without Envoy: this crate against
//! jsonwebtoken's `rust_crypto` backend. Build it for `wasm32-wasip1` and run it under
//! Node's WASI (V8, the engine Envoy embeds):
//!
//! ```text
//! cargo build --profile wasm --target wasm32-wasip1 -p portcullis-identity --example wasm_bench
//! node --no-warnings filters/identity/examples/run_wasm_bench.mjs target/wasm32-wasip1/wasm/examples/wasm_bench.wasm
//! ```
//!
//! (Without the rustup target, use the Debian route `cargo xtask` sets up: `RUSTC=/usr/bin/rustc
//! RUSTC_BOOTSTRAP=1 RUSTFLAGS="-C linker=<rustup sysroot>/lib/rustlib/<host>/bin/rust-lld -L
//! /usr/lib/wasm32-wasi" /usr/bin/cargo build ... -Zbuild-std=std,panic_abort`.)
//!
//! Natively, `cargo run --release -p portcullis-identity --example wasm_bench` prints the
//! same table for comparison.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{DecodingKey, EncodingKey, Header};
use portcullis_identity::{Authenticator, VerifyingKey};
use portcullis_policy::identity::{AccessRule, Algorithm, Effect, IdentityPolicy, IdentityProvider, Jwk, Jwks};
use serde_json::json;

const NOW: u64 = 1_700_000_100;
const JWKS: &str = include_str!("../tests/fixtures/jwks.json");

fn pem(kid: &str) -> &'static str {
    match kid {
        "rsa-2048" => include_str!("../tests/fixtures/rsa-2048.pem"),
        "ec-p256" => include_str!("../tests/fixtures/ec-p256.pem"),
        _ => include_str!("../tests/fixtures/ed25519.pem"),
    }
}

/// Mean time per call over at least `min` (and at least 20 calls), after a warm-up that lets
/// the engine's optimizing tier take over.
fn measure(min: Duration, mut f: impl FnMut()) -> Duration {
    let warm_up = Instant::now();
    while warm_up.elapsed() < min / 3 {
        f();
    }
    let start = Instant::now();
    let mut calls = 0u32;
    while calls < 20 || start.elapsed() < min {
        f();
        calls += 1;
    }
    start.elapsed() / calls
}

fn main() {
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(&jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER);
    let jwks: Jwks = serde_json::from_str(JWKS).unwrap();
    let claims = json!({"iss": "https://idp.example.com", "aud": "portcullis", "sub": "alice", "iat": NOW - 100, "exp": NOW + 3600});
    println!("{:<8} {:>18} {:>18} {:>16} {:>16} {:>14}", "alg", "signature (ours)", "signature (jwt)", "token (ours)", "token (jwt)", "cached (ours)");
    for (alg, kid) in [(Algorithm::RS256, "rsa-2048"), (Algorithm::ES256, "ec-p256"), (Algorithm::EdDSA, "ed25519")] {
        let jwk: Jwk = jwks.keys.iter().find(|k| k.kid.as_deref() == Some(kid)).unwrap().clone();
        let jalg: jsonwebtoken::Algorithm = alg.name().parse().unwrap();
        let encoding = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(pem(kid).as_bytes()),
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem(kid).as_bytes()),
            _ => EncodingKey::from_ed_pem(pem(kid).as_bytes()),
        }
        .unwrap();
        let mut header = Header::new(jalg);
        header.kid = Some(kid.into());
        let token = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let raw = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let decoding = match alg {
            Algorithm::RS256 => DecodingKey::from_rsa_components(jwk.n.as_deref().unwrap(), jwk.e.as_deref().unwrap()),
            Algorithm::ES256 => DecodingKey::from_ec_components(jwk.x.as_deref().unwrap(), jwk.y.as_deref().unwrap()),
            _ => DecodingKey::from_ed_components(jwk.x.as_deref().unwrap()),
        }
        .unwrap();
        let ours = VerifyingKey::from_jwk(&jwk).unwrap();
        let mut provider: IdentityProvider =
            serde_json::from_value(json!({"name": "idp", "issuer": "https://idp.example.com", "audiences": ["portcullis"]})).unwrap();
        provider.algorithms = vec![alg];
        provider.jwks = Some(Jwks { keys: vec![jwk.clone()] });
        let rule = AccessRule {
            name: "all".into(),
            subjects: vec![],
            groups: vec![],
            claims: Default::default(),
            targets: vec![],
            models: vec![],
            methods: vec![],
            paths: vec![],
            effect: Effect::Allow,
        };
        let mut policy = IdentityPolicy { providers: vec![provider], rules: vec![rule], ..IdentityPolicy::default() };
        policy.cache.max_entries = 0;
        policy.cache.max_failed_entries = 0;
        let mut uncached = Authenticator::new(&policy).unwrap();
        policy.cache.max_entries = 1024;
        let mut cached = Authenticator::new(&policy).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jalg);
        validation.set_issuer(&["https://idp.example.com"]);
        validation.set_audience(&["portcullis"]);
        validation.validate_exp = false;

        let min = Duration::from_millis(1500);
        let sig_ours = measure(min, || assert!(ours.verify(alg, black_box(input.as_bytes()), black_box(&raw))));
        let sig_jwt = measure(min, || assert!(jsonwebtoken::crypto::verify(black_box(signature), input.as_bytes(), &decoding, jalg).unwrap()));
        let tok_ours = measure(min, || {
            uncached.authenticate_token(black_box(&token), NOW).unwrap();
        });
        let tok_jwt = measure(min, || {
            jsonwebtoken::decode::<serde_json::Value>(black_box(&token), &decoding, &validation).unwrap();
        });
        let tok_cached = measure(min, || {
            cached.authenticate_token(black_box(&token), NOW).unwrap();
        });
        let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
        println!("{:<8} {:>18} {:>18} {:>16} {:>16} {:>14}", alg.name(), us(sig_ours), us(sig_jwt), us(tok_ours), us(tok_jwt), us(tok_cached));
    }
}
