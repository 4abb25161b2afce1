//! The caches of verified and rejected tokens.

mod common;

use common::*;
use portcullis_identity::{AuthErrorCode, Authenticator, RequestParts};
use portcullis_policy::identity::{Algorithm, IdentityPolicy};
use serde_json::json;

fn es256_policy() -> IdentityPolicy {
    policy(vec![provider(&[Algorithm::ES256], &["ec-p256"])])
}

#[test]
fn a_hot_token_is_verified_once() {
    let mut auth = Authenticator::new(&es256_policy()).unwrap();
    let token = sign(Algorithm::ES256, &claims());
    let headers = vec![("authorization".to_string(), format!("Bearer {token}"))];
    let request = RequestParts::new("POST", "h", "/", &headers);
    let first = auth.authenticate(&request, NOW).unwrap();
    for i in 1..10 {
        assert_eq!(auth.authenticate(&request, NOW + i).unwrap(), first);
    }
    let stats = auth.stats();
    assert_eq!(stats.signature_verifications, 1);
    assert_eq!(stats.cache_hits, 9);
    assert_eq!(stats.cached_tokens, 1);
    auth.clear_caches();
    auth.authenticate(&request, NOW).unwrap();
    assert_eq!(auth.stats().signature_verifications, 2);
}

#[test]
fn expiry_is_checked_on_every_hit() {
    let mut auth = Authenticator::new(&es256_policy()).unwrap();
    let exp = NOW + 100;
    let token = sign(Algorithm::ES256, &claims_with(json!({"exp": exp})));
    assert!(auth.authenticate_token(&token, NOW).is_ok());
    // Still valid inside the 60 s skew, from the cache.
    assert!(auth.authenticate_token(&token, exp + 59).is_ok());
    assert_eq!(auth.stats().cache_hits, 1);
    let error = auth.authenticate_token(&token, exp + 60).unwrap_err();
    assert_eq!(error.code, AuthErrorCode::Expired);
    assert_eq!(auth.stats().signature_verifications, 1, "an expired token is refused before the signature");
    assert_eq!(auth.stats().cached_tokens, 0);
}

#[test]
fn the_cache_stays_within_its_bound() {
    let mut policy = es256_policy();
    policy.cache.max_entries = 8;
    let mut auth = Authenticator::new(&policy).unwrap();
    let tokens: Vec<String> = (0..40).map(|i| sign(Algorithm::ES256, &claims_with(json!({"jti": i})))).collect();
    for token in &tokens {
        auth.authenticate_token(token, NOW).unwrap();
        assert!(auth.stats().cached_tokens <= 8);
    }
    assert!(auth.stats().cache_evictions >= 32);
    // The most recent token is still cached; the first was evicted.
    auth.authenticate_token(&tokens[39], NOW).unwrap();
    assert_eq!(auth.stats().cache_hits, 1);
    auth.authenticate_token(&tokens[0], NOW).unwrap();
    assert_eq!(auth.stats().signature_verifications, 41);
}

#[test]
fn expired_entries_make_room_first() {
    let mut policy = es256_policy();
    policy.cache.max_entries = 2;
    let mut auth = Authenticator::new(&policy).unwrap();
    let short = sign(Algorithm::ES256, &claims_with(json!({"exp": NOW + 10, "jti": 1})));
    let long = sign(Algorithm::ES256, &claims_with(json!({"jti": 2})));
    let newer = sign(Algorithm::ES256, &claims_with(json!({"jti": 3})));
    auth.authenticate_token(&long, NOW).unwrap();
    auth.authenticate_token(&short, NOW).unwrap();
    auth.authenticate_token(&newer, NOW + 200).unwrap();
    auth.authenticate_token(&long, NOW + 200).unwrap();
    assert_eq!(auth.stats().cache_hits, 1, "the long-lived token survived; the expired one made room");
}

#[test]
fn a_replayed_forgery_costs_one_hash() {
    let mut auth = Authenticator::new(&es256_policy()).unwrap();
    let token = sign(Algorithm::ES256, &claims());
    let forged = format!("{}x", &token[..token.len() - 1]);
    let forged = if forged == token { format!("{}A", &token[..token.len() - 1]) } else { forged };
    for _ in 0..5 {
        let error = auth.authenticate_token(&forged, NOW).unwrap_err();
        assert!(matches!(error.code, AuthErrorCode::InvalidSignature | AuthErrorCode::MalformedToken), "{error}");
    }
    let stats = auth.stats();
    assert!(stats.signature_verifications <= 1);
    assert_eq!(stats.failure_cache_hits, 4);
    assert_eq!(stats.cached_tokens, 0);
}

#[test]
fn rejections_are_forgotten_after_their_ttl_and_transient_ones_are_not_kept() {
    let mut policy = es256_policy();
    policy.cache.failed_ttl_secs = 30;
    let mut auth = Authenticator::new(&policy).unwrap();
    let bad_aud = sign(Algorithm::ES256, &claims_with(json!({"aud": "other"})));
    auth.authenticate_token(&bad_aud, NOW).unwrap_err();
    auth.authenticate_token(&bad_aud, NOW + 29).unwrap_err();
    assert_eq!(auth.stats().failure_cache_hits, 1);
    auth.authenticate_token(&bad_aud, NOW + 30).unwrap_err();
    assert_eq!(auth.stats().failure_cache_hits, 1);
    // Not valid yet, then valid: the early rejection must not stick.
    let early = sign(Algorithm::ES256, &claims_with(json!({"nbf": NOW + 100, "iat": NOW})));
    assert_eq!(auth.authenticate_token(&early, NOW).unwrap_err().code, AuthErrorCode::NotYetValid);
    assert!(auth.authenticate_token(&early, NOW + 100).is_ok());
}

#[test]
fn the_rejection_cache_is_bounded() {
    let mut policy = es256_policy();
    policy.cache.max_failed_entries = 4;
    let mut auth = Authenticator::new(&policy).unwrap();
    for i in 0..50 {
        let token = sign(Algorithm::ES256, &claims_with(json!({"aud": format!("wrong-{i}")})));
        auth.authenticate_token(&token, NOW).unwrap_err();
    }
    assert!(auth.stats().cache_evictions >= 46);
}
