//! Shared test helpers: fixture keys, token signing, and policies.
#![allow(dead_code)]

use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{EncodingKey, Header};
use portcullis_policy::identity::{AccessRule, Algorithm, Effect, IdentityPolicy, IdentityProvider, Jwk, Jwks};
use serde_json::{json, Value};

/// The time every test runs at.
pub const NOW: u64 = 1_700_000_100;
pub const ISSUER: &str = "https://idp.example.com";
pub const AUDIENCE: &str = "portcullis";
pub const HMAC_SECRET: &[u8; 64] = b"test-only-hmac-secret-of-64-bytes/test-only-hmac-secret-64-bytes";

pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn b64_decode(data: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(data).unwrap()
}

/// Public keys of every fixture, plus an `hmac` oct key holding [`HMAC_SECRET`].
pub fn all_jwks() -> Vec<Jwk> {
    let mut keys: Jwks = serde_json::from_str(&fixture("jwks.json")).unwrap();
    keys.keys.push(Jwk { kty: "oct".into(), kid: Some("hmac".into()), k: Some(b64(HMAC_SECRET)), ..Jwk::default() });
    keys.keys
}

pub fn jwk(kid: &str) -> Jwk {
    all_jwks().into_iter().find(|k| k.kid.as_deref() == Some(kid)).unwrap()
}

/// The fixture key each algorithm signs with by default.
pub fn default_kid(alg: Algorithm) -> &'static str {
    use Algorithm::*;
    match alg {
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => "rsa-2048",
        ES256 => "ec-p256",
        ES384 => "ec-p384",
        EdDSA => "ed25519",
        HS256 | HS384 | HS512 => "hmac",
    }
}

fn jwt_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    alg.name().parse().unwrap()
}

pub fn encoding_key(kid: &str) -> EncodingKey {
    install_crypto();
    if kid == "hmac" {
        return EncodingKey::from_secret(HMAC_SECRET);
    }
    let pem = fixture(&format!("{kid}.pem"));
    if kid.starts_with("rsa") {
        EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()
    } else if kid.starts_with("ec") {
        EncodingKey::from_ec_pem(pem.as_bytes()).unwrap()
    } else {
        EncodingKey::from_ed_pem(pem.as_bytes()).unwrap()
    }
}

/// Makes sure jsonwebtoken uses its pure-Rust backend, whatever features the workspace unifies.
pub fn install_crypto() {
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(&jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER);
}

/// Signs `claims` with the fixture key `kid` (the header names `kid` when `header_kid`).
pub fn sign_with(alg: Algorithm, kid: &str, header_kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(jwt_alg(alg));
    header.kid = header_kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &encoding_key(kid)).unwrap()
}

/// Signs `claims` with the default key of `alg`, naming it in the header.
pub fn sign(alg: Algorithm, claims: &Value) -> String {
    let kid = default_kid(alg);
    sign_with(alg, kid, Some(kid), claims)
}

/// Valid claims at [`NOW`].
pub fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "iat": NOW - 100,
        "exp": NOW + 3600,
        "groups": ["ml", "staff"],
        "client_id": "cli",
    })
}

/// `claims()` with `changes` merged in (a null value removes the claim).
pub fn claims_with(changes: Value) -> Value {
    let mut claims = claims();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

/// A provider trusting [`ISSUER`] for [`AUDIENCE`] with the given algorithms and keys.
pub fn provider(algorithms: &[Algorithm], kids: &[&str]) -> IdentityProvider {
    let keys = kids.iter().map(|kid| jwk(kid)).collect();
    let allow_hmac = algorithms.iter().any(|a| a.is_hmac());
    let mut provider: IdentityProvider = serde_json::from_value(json!({
        "name": "test-idp",
        "issuer": ISSUER,
        "audiences": [AUDIENCE],
        "allow_hmac": allow_hmac,
    }))
    .unwrap();
    provider.algorithms = algorithms.to_vec();
    provider.jwks = Some(Jwks { keys });
    provider
}

pub fn allow_all() -> AccessRule {
    AccessRule {
        name: "allow-all".into(),
        subjects: vec![],
        groups: vec![],
        claims: Default::default(),
        targets: vec![],
        models: vec![],
        methods: vec![],
        paths: vec![],
        effect: Effect::Allow,
    }
}

pub fn policy(providers: Vec<IdentityProvider>) -> IdentityPolicy {
    IdentityPolicy { providers, rules: vec![allow_all()], ..IdentityPolicy::default() }
}

/// A policy with one provider that accepts every algorithm, with every fixture key.
pub fn everything_policy() -> IdentityPolicy {
    let kids: Vec<String> = all_jwks().into_iter().filter_map(|k| k.kid).collect();
    let kids: Vec<&str> = kids.iter().map(String::as_str).collect();
    policy(vec![provider(&Algorithm::ALL, &kids)])
}
