//! Every algorithm family: positive cases, published vectors, tampering, and confusion.

mod common;

use common::*;
use portcullis_identity::{AuthErrorCode, Authenticator, VerifyingKey};
use portcullis_policy::identity::{Algorithm, Jwk};
use serde_json::json;

fn code(result: Result<portcullis_identity::Identity, portcullis_identity::AuthError>) -> AuthErrorCode {
    result.expect_err("the token must be refused").code
}

#[test]
fn every_algorithm_verifies_tokens_signed_by_jsonwebtoken() {
    let mut auth = Authenticator::new(&everything_policy()).unwrap();
    assert!(auth.warnings().is_empty(), "{:?}", auth.warnings());
    for alg in Algorithm::ALL {
        let token = sign(alg, &claims());
        let identity = auth.authenticate_token(&token, NOW).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(identity.subject, "alice", "{alg}");
        assert_eq!(identity.groups, ["ml", "staff"]);
        assert_eq!(identity.client_id.as_deref(), Some("cli"));
        assert_eq!(identity.provider, "test-idp");
    }
    assert_eq!(auth.stats().signature_verifications, Algorithm::ALL.len() as u64);
}

#[test]
fn rsa_keys_of_every_supported_size_verify() {
    let mut auth = Authenticator::new(&everything_policy()).unwrap();
    for kid in ["rsa-2049", "rsa-3072", "rsa-4096"] {
        for alg in [Algorithm::RS256, Algorithm::PS512] {
            let token = sign_with(alg, kid, Some(kid), &claims());
            assert!(auth.authenticate_token(&token, NOW).is_ok(), "{alg} with {kid}");
        }
    }
}

#[test]
fn tokens_signed_by_openssl_verify() {
    let vectors: Vec<serde_json::Value> = serde_json::from_str(&fixture("openssl_vectors.json")).unwrap();
    assert_eq!(vectors.len(), 11);
    let mut auth = Authenticator::new(&everything_policy()).unwrap();
    for vector in vectors {
        let token = vector["token"].as_str().unwrap();
        let identity = auth.authenticate_token(token, NOW).unwrap_or_else(|e| panic!("{}: {e}", vector["alg"]));
        assert_eq!(identity.subject, "openssl-user");
        // A flipped bit anywhere in the signature breaks it.
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut signature = b64_decode(signature);
        let last = signature.len() - 1;
        signature[last / 2] ^= 0x10;
        let tampered = format!("{input}.{}", b64(&signature));
        assert_eq!(code(auth.authenticate_token(&tampered, NOW)), AuthErrorCode::InvalidSignature, "{}", vector["alg"]);
    }
}

/// Checks a published JWS against its published key, then with its signature reversed.
fn check_published(alg: Algorithm, jwk: serde_json::Value, token: &str) {
    let key = VerifyingKey::from_jwk(&serde_json::from_value::<Jwk>(jwk).unwrap()).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = b64_decode(signature);
    assert!(key.verify(alg, input.as_bytes(), &signature), "{alg} published vector");
    let reversed: Vec<u8> = signature.iter().rev().copied().collect();
    assert!(!key.verify(alg, input.as_bytes(), &reversed));
    assert!(!key.verify(alg, format!("{input}x").as_bytes(), &signature));
}

#[test]
fn rfc_7515_and_8037_published_vectors() {
    // RFC 7515 appendix A.1 (HS256).
    check_published(
        Algorithm::HS256,
        json!({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}),
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    );
    // RFC 7515 appendix A.2 (RS256).
    check_published(
        Algorithm::RS256,
        json!({"kty":"RSA","e":"AQAB","n":concat!(
            "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPM",
            "EzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-",
            "bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3",
            "qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9g",
            "b54h4FRWyuXpoQ")}),
        concat!(
            "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtc",
            "GxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOi",
            "Zj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_",
            "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwu",
            "sC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywl",
            "VmtVrBp0igcN_IoypGlUPQGe77Rw"
        ),
    );
    // RFC 7515 appendix A.3 (ES256).
    check_published(
        Algorithm::ES256,
        json!({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
        concat!(
            "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtc",
            "GxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djx",
            "La8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
        ),
    );
    // RFC 8037 appendix A.4 (Ed25519).
    check_published(
        Algorithm::EdDSA,
        json!({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
    );
}

#[test]
fn rsa_verification_agrees_with_jsonwebtoken() {
    install_crypto();
    let jwk = jwk("rsa-2048");
    let ours = VerifyingKey::from_jwk(&jwk).unwrap();
    let theirs = jsonwebtoken::DecodingKey::from_rsa_components(jwk.n.as_deref().unwrap(), jwk.e.as_deref().unwrap()).unwrap();
    let signer = encoding_key("rsa-2048");
    for alg in [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512] {
        let jalg: jsonwebtoken::Algorithm = alg.name().parse().unwrap();
        for message in [&b""[..], b"a", &[0xffu8; 1000][..]] {
            let signature = jsonwebtoken::crypto::sign(message, &signer, jalg).unwrap();
            let raw = b64_decode(&signature);
            assert!(jsonwebtoken::crypto::verify(&signature, message, &theirs, jalg).unwrap());
            assert!(ours.verify(alg, message, &raw), "{alg} {}", message.len());
            let mut bad = raw.clone();
            bad[0] ^= 1;
            assert_eq!(ours.verify(alg, message, &bad), jsonwebtoken::crypto::verify(&b64(&bad), message, &theirs, jalg).unwrap());
            assert!(!ours.verify(alg, b"other", &raw));
            // The same key under another hash or padding never accepts it.
            for other in [Algorithm::RS256, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384].into_iter().filter(|&o| o != alg) {
                assert!(!ours.verify(other, message, &raw), "{alg} accepted as {other}");
            }
        }
    }
}

/// A token whose header says `label` but whose signature was made with `signed_as`.
fn relabelled(label: Algorithm, signed_as: Algorithm, kid: &str) -> String {
    let header = b64(format!(r#"{{"alg":"{}","kid":"{kid}"}}"#, label.name()).as_bytes());
    let payload = b64(claims().to_string().as_bytes());
    let input = format!("{header}.{payload}");
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &encoding_key(kid), signed_as.name().parse().unwrap()).unwrap();
    format!("{input}.{signature}")
}

#[test]
fn rsa_padding_confusion_is_refused() {
    let mut auth = Authenticator::new(&everything_policy()).unwrap();
    assert_eq!(code(auth.authenticate_token(&relabelled(Algorithm::PS256, Algorithm::RS256, "rsa-2048"), NOW)), AuthErrorCode::InvalidSignature);
    assert_eq!(code(auth.authenticate_token(&relabelled(Algorithm::RS256, Algorithm::PS256, "rsa-2048"), NOW)), AuthErrorCode::InvalidSignature);
    assert_eq!(code(auth.authenticate_token(&relabelled(Algorithm::RS256, Algorithm::RS384, "rsa-2048"), NOW)), AuthErrorCode::InvalidSignature);
    assert!(auth.authenticate_token(&relabelled(Algorithm::RS256, Algorithm::RS256, "rsa-2048"), NOW).is_ok());
}

/// An HS256 token whose HMAC key is the RSA public key, as a confused verifier would use it.
fn hmac_with_public_key(kid: &str) -> String {
    let public = jwk(kid);
    let secret = serde_json::to_vec(&public).unwrap();
    let header = b64(format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#).as_bytes());
    let input = format!("{header}.{}", b64(claims().to_string().as_bytes()));
    let key = jsonwebtoken::EncodingKey::from_secret(&secret);
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).unwrap();
    format!("{input}.{signature}")
}

#[test]
fn algorithm_confusion_is_refused() {
    // The provider only accepts RS256: HS256 is refused before any key is touched.
    let mut rsa_only = Authenticator::new(&policy(vec![provider(&[Algorithm::RS256], &["rsa-2048"])])).unwrap();
    assert_eq!(code(rsa_only.authenticate_token(&hmac_with_public_key("rsa-2048"), NOW)), AuthErrorCode::AlgorithmNotAllowed);
    // Even with HS256 enabled, an RSA key never verifies an HS token, nor an HMAC key an RS one.
    let mixed = policy(vec![provider(&[Algorithm::RS256, Algorithm::HS256], &["rsa-2048", "hmac"])]);
    let mut mixed = Authenticator::new(&mixed).unwrap();
    assert_eq!(code(mixed.authenticate_token(&hmac_with_public_key("rsa-2048"), NOW)), AuthErrorCode::KeyAlgorithmMismatch);
    let rs_as_hmac = sign_with(Algorithm::RS256, "rsa-2048", Some("hmac"), &claims());
    assert_eq!(code(mixed.authenticate_token(&rs_as_hmac, NOW)), AuthErrorCode::KeyAlgorithmMismatch);
    assert!(mixed.authenticate_token(&sign(Algorithm::HS256, &claims()), NOW).is_ok());
    // A single RSA key and no kid: the HS token still does not fit it.
    let single = policy(vec![provider(&[Algorithm::RS256, Algorithm::HS256], &["rsa-2048"])]);
    let mut single = Authenticator::new(&single).unwrap();
    let no_kid = sign_with(Algorithm::HS256, "hmac", None, &claims());
    assert_eq!(code(single.authenticate_token(&no_kid, NOW)), AuthErrorCode::KeyAlgorithmMismatch);
    // EC keys are curve-bound.
    let mut ec = Authenticator::new(&policy(vec![provider(&[Algorithm::ES256, Algorithm::ES384], &["ec-p256", "ec-p384"])])).unwrap();
    let es384_on_p256 = sign_with(Algorithm::ES384, "ec-p384", Some("ec-p256"), &claims());
    assert_eq!(code(ec.authenticate_token(&es384_on_p256, NOW)), AuthErrorCode::KeyAlgorithmMismatch);
}

#[test]
fn hmac_needs_an_explicit_opt_in() {
    let mut provider = provider(&[Algorithm::HS256], &["hmac"]);
    provider.allow_hmac = false;
    let error = Authenticator::new(&policy(vec![provider])).unwrap_err();
    assert!(error.report.errors.iter().any(|p| p.path == "identity.providers[0].algorithms"), "{error}");
}

#[test]
fn key_ids_select_keys() {
    let two_keys = policy(vec![provider(&[Algorithm::ES256, Algorithm::EdDSA], &["ec-p256", "ed25519"])]);
    let mut auth = Authenticator::new(&two_keys).unwrap();
    let unknown = sign_with(Algorithm::ES256, "ec-p256", Some("rotated-away"), &claims());
    let error = auth.authenticate_token(&unknown, NOW).unwrap_err();
    assert_eq!(error.code, AuthErrorCode::UnknownKey);
    // The filter asks the control plane to refresh this provider's keys.
    let (provider_name, kid) = error.unknown_key().unwrap();
    assert_eq!(kid, "rotated-away");
    assert!(!provider_name.is_empty());
    let no_kid = sign_with(Algorithm::ES256, "ec-p256", None, &claims());
    let error = auth.authenticate_token(&no_kid, NOW).unwrap_err();
    assert_eq!(error.code, AuthErrorCode::UnknownKey);
    assert_eq!(error.unknown_key(), None, "without a kid there is nothing to refresh");
    // With one key, a token without kid uses it.
    let mut single = Authenticator::new(&policy(vec![provider(&[Algorithm::ES256], &["ec-p256"])])).unwrap();
    assert!(single.authenticate_token(&no_kid, NOW).is_ok());
    // A key restricted by its JWK `alg` verifies nothing else.
    let mut restricted = provider(&[Algorithm::RS256, Algorithm::PS256], &["rsa-2048"]);
    restricted.jwks.as_mut().unwrap().keys[0].alg = Some("RS256".into());
    let mut auth = Authenticator::new(&policy(vec![restricted])).unwrap();
    assert!(auth.authenticate_token(&sign(Algorithm::RS256, &claims()), NOW).is_ok());
    assert_eq!(code(auth.authenticate_token(&sign(Algorithm::PS256, &claims()), NOW)), AuthErrorCode::KeyAlgorithmMismatch);
}

#[test]
fn signatures_of_the_wrong_shape_are_refused() {
    let mut auth = Authenticator::new(&everything_policy()).unwrap();
    for alg in Algorithm::ALL {
        let token = sign(alg, &claims());
        let (input, signature) = token.rsplit_once('.').unwrap();
        let signature = b64_decode(signature);
        let mut longer = signature.clone();
        longer.push(0);
        for bad in [&signature[..signature.len() - 1], &longer[..], &vec![0u8; signature.len()][..], &[0u8][..]] {
            let token = format!("{input}.{}", b64(bad));
            assert_eq!(code(auth.authenticate_token(&token, NOW)), AuthErrorCode::InvalidSignature, "{alg} {}", bad.len());
        }
    }
    // ECDSA signatures in DER form (as other protocols use) are not JWS signatures.
    let token = sign(Algorithm::ES256, &claims());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let raw = b64_decode(signature);
    let mut der = vec![0x30, 0x44, 0x02, 0x20];
    der.extend_from_slice(&raw[..32]);
    der.extend_from_slice(&[0x02, 0x20]);
    der.extend_from_slice(&raw[32..]);
    assert_eq!(code(auth.authenticate_token(&format!("{input}.{}", b64(&der)), NOW)), AuthErrorCode::InvalidSignature);
}

#[test]
fn tampered_payloads_are_refused_for_every_algorithm() {
    let mut auth = Authenticator::new(&everything_policy()).unwrap();
    for alg in Algorithm::ALL {
        let token = sign(alg, &claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(claims_with(json!({"sub": "mallory"})).to_string().as_bytes());
        parts[1] = &forged;
        assert_eq!(code(auth.authenticate_token(&parts.join("."), NOW)), AuthErrorCode::InvalidSignature, "{alg}");
    }
}

#[test]
fn unusable_keys_are_skipped_with_warnings() {
    let mut provider = provider(&[Algorithm::RS256, Algorithm::ES256], &["rsa-2048"]);
    let keys = &mut provider.jwks.as_mut().unwrap().keys;
    keys.push(Jwk { kty: "RSA".into(), kid: Some("small".into()), n: Some(b64(&[0xff; 128])), e: Some("AQAB".into()), ..Jwk::default() });
    keys.push(Jwk { kty: "EC".into(), kid: Some("p521".into()), crv: Some("P-521".into()), x: Some("AA".into()), y: Some("AA".into()), ..Jwk::default() });
    keys.push(Jwk { use_: Some("enc".into()), ..jwk("rsa-3072") });
    keys.push(Jwk { kty: "EC".into(), kid: Some("off-curve".into()), crv: Some("P-256".into()), x: Some(b64(&[1; 32])), y: Some(b64(&[2; 32])), ..Jwk::default() });
    keys.push(jwk("ed25519"));
    let auth = Authenticator::new(&policy(vec![provider])).unwrap();
    let warnings = auth.warnings().join("\n");
    assert_eq!(auth.warnings().len(), 5, "{warnings}");
    for needle in ["1024 bits", "P-521", "`enc`", "P-256", "fits none"] {
        assert!(warnings.contains(needle), "{needle} in {warnings}");
    }
}

#[test]
fn debug_output_hides_hmac_secrets() {
    let key = VerifyingKey::from_jwk(&jwk("hmac")).unwrap();
    let shown = format!("{key:?} {:?}", jwk("hmac"));
    assert!(!shown.contains(&b64(HMAC_SECRET)), "{shown}");
    assert!(shown.contains("redacted"));
}
