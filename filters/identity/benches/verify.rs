//! Signature and token verification cost: this crate against jsonwebtoken's `rust_crypto`
//! backend (which the filters used before), natively.
//!
//! Run: `cargo bench -p portcullis-identity --bench verify`

#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{DecodingKey, Validation};
use portcullis_identity::{Authenticator, VerifyingKey};
use portcullis_policy::identity::Algorithm;

fn decoding_key(alg: Algorithm) -> DecodingKey {
    let jwk = jwk(default_kid(alg));
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_components(jwk.x.as_deref().unwrap(), jwk.y.as_deref().unwrap()).unwrap(),
        Algorithm::EdDSA => DecodingKey::from_ed_components(jwk.x.as_deref().unwrap()).unwrap(),
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => DecodingKey::from_secret(HMAC_SECRET),
        _ => DecodingKey::from_rsa_components(jwk.n.as_deref().unwrap(), jwk.e.as_deref().unwrap()).unwrap(),
    }
}

/// The signature alone: signing input and signature already split.
fn signatures(c: &mut Criterion) {
    install_crypto();
    for alg in [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA, Algorithm::HS256] {
        let token = sign(alg, &claims());
        let (input, signature) = token.rsplit_once('.').unwrap();
        let raw = b64_decode(signature);
        let ours = VerifyingKey::from_jwk(&jwk(default_kid(alg))).unwrap();
        let theirs = decoding_key(alg);
        let jalg: jsonwebtoken::Algorithm = alg.name().parse().unwrap();
        assert!(ours.verify(alg, input.as_bytes(), &raw));
        assert!(jsonwebtoken::crypto::verify(signature, input.as_bytes(), &theirs, jalg).unwrap());
        let mut group = c.benchmark_group(format!("signature/{alg}"));
        group.bench_function("portcullis", |b| b.iter(|| ours.verify(alg, black_box(input.as_bytes()), black_box(&raw))));
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| jsonwebtoken::crypto::verify(black_box(signature), black_box(input.as_bytes()), &theirs, jalg).unwrap())
        });
        group.finish();
    }
}

/// Whole tokens: parsing, claim checks and signature, without (and with) the cache.
fn tokens(c: &mut Criterion) {
    install_crypto();
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let token = sign(alg, &claims());
        let mut policy = policy(vec![provider(&[alg], &[default_kid(alg)])]);
        policy.cache.max_entries = 0;
        policy.cache.max_failed_entries = 0;
        let mut uncached = Authenticator::new(&policy).unwrap();
        policy.cache.max_entries = 1024;
        let mut cached = Authenticator::new(&policy).unwrap();
        let theirs = decoding_key(alg);
        let mut validation = Validation::new(alg.name().parse().unwrap());
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_exp = false; // the fixture claims are dated NOW, not the wall clock
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &theirs, &validation).is_ok());
        let mut group = c.benchmark_group(format!("token/{alg}"));
        group.bench_function("portcullis", |b| b.iter(|| uncached.authenticate_token(black_box(&token), NOW).unwrap()));
        group.bench_function("portcullis-cached", |b| b.iter(|| cached.authenticate_token(black_box(&token), NOW).unwrap()));
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| jsonwebtoken::decode::<serde_json::Value>(black_box(&token), &theirs, &validation).unwrap())
        });
        group.finish();
    }
}

/// One-time key preparation (per policy version), for scale.
fn key_preparation(c: &mut Criterion) {
    let rsa = jwk("rsa-2048");
    c.bench_function("prepare/RSA-2048", |b| b.iter(|| VerifyingKey::from_jwk(black_box(&rsa)).unwrap()));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = signatures, tokens, key_preparation
}
criterion_main!(benches);
