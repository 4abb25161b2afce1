//! Token shape and claim checks, and where tokens are found in requests.

mod common;

use common::*;
use portcullis_identity::{AuthErrorCode, Authenticator, RequestParts};
use portcullis_policy::identity::{Algorithm, ClaimRequirement, IdentityProvider, TokenSource};
use serde_json::json;

fn es256_provider() -> IdentityProvider {
    provider(&[Algorithm::ES256], &["ec-p256"])
}

fn auth_with(provider: IdentityProvider) -> Authenticator {
    Authenticator::new(&policy(vec![provider])).unwrap()
}

#[test]
fn claim_checks() {
    let mut lifetime = es256_provider();
    lifetime.max_lifetime_secs = Some(3600);
    let mut required = es256_provider();
    required.required_claims = vec![
        ClaimRequirement { claim: "tenant".into(), values: vec![json!("acme")] },
        ClaimRequirement { claim: "realm_access.roles".into(), values: vec![json!("user")] },
        ClaimRequirement { claim: "email_verified".into(), values: vec![] },
    ];
    let required_ok = json!({"tenant": "acme", "realm_access": {"roles": ["admin", "user"]}, "email_verified": true});
    let cases: Vec<(&str, IdentityProvider, serde_json::Value, Option<AuthErrorCode>)> = vec![
        ("valid", es256_provider(), json!({}), None),
        ("expired", es256_provider(), json!({"exp": NOW - 61}), Some(AuthErrorCode::Expired)),
        ("expired within skew", es256_provider(), json!({"exp": NOW - 30}), None),
        ("expired exactly at the skew", es256_provider(), json!({"exp": NOW - 60}), Some(AuthErrorCode::Expired)),
        ("no exp", es256_provider(), json!({"exp": null}), Some(AuthErrorCode::MissingClaim)),
        ("exp as text", es256_provider(), json!({"exp": "soon"}), Some(AuthErrorCode::MalformedToken)),
        ("fractional exp", es256_provider(), json!({"exp": (NOW + 10) as f64 + 0.5}), None),
        ("nbf in future", es256_provider(), json!({"nbf": NOW + 61}), Some(AuthErrorCode::NotYetValid)),
        ("nbf within skew", es256_provider(), json!({"nbf": NOW + 30}), None),
        ("iat in future", es256_provider(), json!({"iat": NOW + 120}), Some(AuthErrorCode::IssuedInFuture)),
        ("iat within skew", es256_provider(), json!({"iat": NOW + 59}), None),
        ("lifetime too long", lifetime.clone(), json!({"iat": NOW - 10, "exp": NOW + 3600}), Some(AuthErrorCode::LifetimeTooLong)),
        ("lifetime at the limit", lifetime.clone(), json!({"iat": NOW - 10, "exp": NOW + 3590}), None),
        ("lifetime from nbf", lifetime.clone(), json!({"iat": null, "nbf": NOW, "exp": NOW + 7200}), Some(AuthErrorCode::LifetimeTooLong)),
        ("lifetime from now", lifetime, json!({"iat": null, "exp": NOW + 7200}), Some(AuthErrorCode::LifetimeTooLong)),
        ("wrong iss", es256_provider(), json!({"iss": "https://evil.example.com"}), Some(AuthErrorCode::UntrustedIssuer)),
        ("no iss", es256_provider(), json!({"iss": null}), Some(AuthErrorCode::UntrustedIssuer)),
        ("iss with trailing slash", es256_provider(), json!({"iss": format!("{ISSUER}/")}), Some(AuthErrorCode::UntrustedIssuer)),
        ("wrong aud", es256_provider(), json!({"aud": "other-app"}), Some(AuthErrorCode::InvalidAudience)),
        ("wrong aud array", es256_provider(), json!({"aud": ["a", "b"]}), Some(AuthErrorCode::InvalidAudience)),
        ("aud array with ours", es256_provider(), json!({"aud": ["a", AUDIENCE]}), None),
        ("no aud", es256_provider(), json!({"aud": null}), Some(AuthErrorCode::InvalidAudience)),
        ("aud as number", es256_provider(), json!({"aud": 7}), Some(AuthErrorCode::InvalidAudience)),
        ("no sub", es256_provider(), json!({"sub": null}), Some(AuthErrorCode::MissingClaim)),
        ("empty sub", es256_provider(), json!({"sub": ""}), Some(AuthErrorCode::MissingClaim)),
        ("required claims present", required.clone(), required_ok.clone(), None),
        ("required claim missing", required.clone(), json!({"tenant": "acme", "realm_access": {"roles": ["user"]}}), Some(AuthErrorCode::MissingClaim)),
        ("required claim null", required.clone(), json!({"tenant": "acme", "realm_access": {"roles": ["user"]}, "email_verified": null}), Some(AuthErrorCode::MissingClaim)),
        ("required claim wrong", required.clone(), json!({"tenant": "other", "realm_access": {"roles": ["user"]}, "email_verified": true}), Some(AuthErrorCode::ClaimNotAccepted)),
        ("required nested claim wrong", required, json!({"tenant": "acme", "realm_access": {"roles": ["admin"]}, "email_verified": true}), Some(AuthErrorCode::ClaimNotAccepted)),
    ];
    for (name, provider, changes, expected) in cases {
        let mut auth = auth_with(provider);
        let token = sign(Algorithm::ES256, &claims_with(changes));
        let result = auth.authenticate_token(&token, NOW);
        assert_eq!(result.as_ref().err().map(|e| e.code), expected, "{name}: {result:?}");
    }
}

#[test]
fn malformed_tokens() {
    let mut auth = auth_with(es256_provider());
    let good = sign(Algorithm::ES256, &claims());
    let (header, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let none_header = b64(br#"{"alg":"none"}"#);
    let cases = [
        ("empty", String::new(), AuthErrorCode::MalformedToken),
        ("one segment", header.to_string(), AuthErrorCode::MalformedToken),
        ("two segments", format!("{header}.{payload}"), AuthErrorCode::MalformedToken),
        ("four segments", format!("{good}.{signature}"), AuthErrorCode::MalformedToken),
        ("bad base64 header", format!("{header}*.{payload}.{signature}"), AuthErrorCode::MalformedToken),
        ("bad base64 payload", format!("{header}.{payload}%.{signature}"), AuthErrorCode::MalformedToken),
        ("bad base64 signature", format!("{header}.{payload}.{signature}="), AuthErrorCode::MalformedToken),
        ("padded standard base64", format!("{header}.{payload}.ab+/"), AuthErrorCode::MalformedToken),
        ("header not json", format!("{}.{payload}.{signature}", b64(b"{alg:")), AuthErrorCode::MalformedToken),
        ("alg none unsigned", format!("{none_header}.{payload}."), AuthErrorCode::MalformedToken),
        ("alg none signed", format!("{none_header}.{payload}.{signature}"), AuthErrorCode::UnsupportedAlgorithm),
        ("alg None", format!("{}.{payload}.{signature}", b64(br#"{"alg":"None"}"#)), AuthErrorCode::UnsupportedAlgorithm),
        ("alg missing", format!("{}.{payload}.{signature}", b64(br#"{"typ":"JWT"}"#)), AuthErrorCode::MalformedToken),
        ("unsupported alg", format!("{}.{payload}.{signature}", b64(br#"{"alg":"ES512"}"#)), AuthErrorCode::UnsupportedAlgorithm),
        ("alg not allowed", sign(Algorithm::EdDSA, &claims()), AuthErrorCode::AlgorithmNotAllowed),
        ("crit header", format!("{}.{payload}.{signature}", b64(br#"{"alg":"ES256","crit":["exp"],"exp":1}"#)), AuthErrorCode::MalformedToken),
        ("payload not an object", format!("{header}.{}.{signature}", b64(b"\"sub\"")), AuthErrorCode::MalformedToken),
        ("payload not json", format!("{header}.{}.{signature}", b64(b"\xff\xfe")), AuthErrorCode::MalformedToken),
        ("oversized", format!("{header}.{}.{signature}", "A".repeat(4 * 1024 * 1024)), AuthErrorCode::TokenTooLarge),
        ("just over the limit", format!("{header}.{}.{signature}", "A".repeat(16 * 1024)), AuthErrorCode::TokenTooLarge),
    ];
    for (name, token, expected) in cases {
        let result = auth.authenticate_token(&token, NOW);
        assert_eq!(result.as_ref().err().map(|e| e.code), Some(expected), "{name}");
    }
    assert!(auth.authenticate_token(&good, NOW).is_ok());
    // Only the signature check counted: every malformed token was refused before it.
    assert_eq!(auth.stats().signature_verifications, 1);
}

#[test]
fn identity_is_taken_from_the_configured_claims() {
    let mut provider = es256_provider();
    provider.subject_claim = "user.email".into();
    provider.groups_claim = "scope".into();
    let mut auth = auth_with(provider);
    let token = sign(
        Algorithm::ES256,
        &claims_with(json!({"user": {"email": "a@example.com"}, "scope": "read  write", "client_id": null, "azp": "web"})),
    );
    let identity = auth.authenticate_token(&token, NOW).unwrap();
    assert_eq!(identity.subject, "a@example.com");
    assert_eq!(identity.groups, ["read", "write"]);
    assert_eq!(identity.client_id.as_deref(), Some("web"));
    assert_eq!(identity.expires_at, Some(NOW + 3600));
}

#[test]
fn tokens_are_found_in_each_configured_source() {
    let mut provider = es256_provider();
    provider.token_sources = vec![
        TokenSource::Header { name: "authorization".into(), prefix: "Bearer ".into() },
        TokenSource::Header { name: "x-token".into(), prefix: String::new() },
        TokenSource::Query { name: "access_token".into() },
        TokenSource::Cookie { name: "session".into() },
    ];
    let mut auth = auth_with(provider);
    let token = sign(Algorithm::ES256, &claims());
    let path = format!("/v1/chat?access_token={token}");
    type Case<'a> = (Vec<(String, String)>, &'a str, Option<&'a str>);
    let requests: Vec<Case> = vec![
        (vec![("Authorization".into(), format!("Bearer {token}"))], "/", Some("authorization")),
        (vec![("authorization".into(), format!("bearer {token}"))], "/", Some("authorization")),
        (vec![("x-token".into(), token.clone())], "/", Some("x-token")),
        (vec![], &path, None),
        (vec![("cookie".into(), format!("theme=dark; session={token}"))], "/", None),
    ];
    for (headers, path, credential_header) in requests {
        let request = RequestParts::new("POST", "gw.example.com", path, &headers);
        let identity = auth.authenticate(&request, NOW).unwrap_or_else(|e| panic!("{headers:?} {path}: {e}"));
        assert_eq!(identity.subject, "alice");
        assert_eq!(identity.credential_header.as_deref(), credential_header);
    }
    let nothing: Vec<(String, String)> = vec![("authorization".into(), "Basic dXNlcjpwYXNz".into())];
    let error = auth.authenticate(&RequestParts::new("GET", "h", "/", &nothing), NOW).unwrap_err();
    assert_eq!(error.code, AuthErrorCode::MissingCredentials);
    assert_eq!(error.www_authenticate(), "Bearer realm=\"portcullis\"");
}

#[test]
fn a_provider_only_accepts_tokens_from_its_own_sources() {
    let mut cookie_only = es256_provider();
    cookie_only.token_sources = vec![TokenSource::Cookie { name: "session".into() }];
    let mut other = provider(&[Algorithm::EdDSA], &["ed25519"]);
    other.name = "other".into();
    other.issuer = "https://other.example.com".into();
    let mut auth = Authenticator::new(&policy(vec![cookie_only, other])).unwrap();
    let token = sign(Algorithm::ES256, &claims());
    let headers = vec![("authorization".to_string(), format!("Bearer {token}"))];
    let error = auth.authenticate(&RequestParts::new("GET", "h", "/", &headers), NOW).unwrap_err();
    assert_eq!(error.code, AuthErrorCode::UntrustedIssuer);
    let headers = vec![("cookie".to_string(), format!("session={token}"))];
    assert!(auth.authenticate(&RequestParts::new("GET", "h", "/", &headers), NOW).is_ok());
}

#[test]
fn errors_render_as_401_responses() {
    let mut auth = auth_with(es256_provider());
    let token = sign(Algorithm::ES256, &claims_with(json!({"exp": NOW - 1000})));
    let error = auth.authenticate_token(&token, NOW).unwrap_err();
    assert_eq!(error.status(), 401);
    let challenge = error.www_authenticate();
    assert!(challenge.starts_with("Bearer realm=\"portcullis\", error=\"invalid_token\", error_description=\""), "{challenge}");
    assert_eq!(challenge.matches('"').count(), 6, "{challenge}");
    let body: serde_json::Value = serde_json::from_str(&error.body_json()).unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(body["error"]["code"], "portcullis_token_expired");
    assert!(body["error"]["message"].as_str().unwrap().contains("expired"));
    // Attacker-controlled text cannot break the header.
    let evil = b64(br#"{"alg":"x\"\r\nSet-Cookie: a=b"}"#);
    let error = auth.authenticate_token(&format!("{evil}.e30.YQ"), NOW).unwrap_err();
    let challenge = error.www_authenticate();
    assert!(!challenge.contains('\r') && !challenge.contains('\n'), "{challenge}");
    assert_eq!(challenge.matches('"').count(), 6, "{challenge}");
}
