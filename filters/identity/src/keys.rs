//! Verification keys: parsed from JWKs once, then used for every token.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use portcullis_policy::identity::{Algorithm, Jwk};

use crate::hash::HashAlg;
use crate::rsa::{RsaKeyError, RsaPublicKey};

/// Why a JWK could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

/// The key material, by family.
#[derive(Clone)]
enum Material {
    Rsa(Box<RsaPublicKey>),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Hmac(Vec<u8>),
}

/// A public key (or, for HS*, a shared secret) ready to verify JWS signatures.
///
/// `Debug` never shows HMAC secrets.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    material: Material,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let material = match &self.material {
            Material::Rsa(key) => format!("{key:?}"),
            Material::P256(_) => "P-256".into(),
            Material::P384(_) => "P-384".into(),
            Material::Ed25519(_) => "Ed25519".into(),
            Material::Hmac(_) => "HMAC secret (redacted)".into(),
        };
        f.debug_struct("VerifyingKey").field("kid", &self.kid).field("alg", &self.alg).field("key", &material).finish()
    }
}

/// Decodes base64url, tolerating the padding some key publishers add.
pub(crate) fn b64_lenient(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')).ok()
}

fn field<'a>(jwk: &'a Jwk, name: &str, value: &'a Option<String>) -> Result<Vec<u8>, KeyError> {
    let value = value.as_deref().ok_or_else(|| KeyError(format!("`{}` key lacks `{name}`", jwk.kty)))?;
    b64_lenient(value).ok_or_else(|| KeyError(format!("`{name}` is not base64url")))
}

fn fixed<const N: usize>(bytes: Vec<u8>, what: &str) -> Result<[u8; N], KeyError> {
    <[u8; N]>::try_from(bytes).map_err(|b| KeyError(format!("{what} must be {N} bytes, not {}", b.len())))
}

impl VerifyingKey {
    /// Parses a JWK. Keys whose `use` is not `sig`, unknown key types and curves, RSA
    /// moduli outside 2048..=4096 bits and malformed coordinates are refused.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        if let Some(usage) = jwk.use_.as_deref() {
            if usage != "sig" {
                return Err(KeyError(format!("`use` is `{usage}`, not `sig`")));
            }
        }
        let alg = match jwk.alg.as_deref() {
            None => None,
            Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| KeyError(format!("`alg` `{name}` is not supported")))?),
        };
        let crv = jwk.crv.as_deref().unwrap_or("");
        let material = match (jwk.kty.as_str(), crv) {
            ("RSA", _) => {
                let key = RsaPublicKey::new(&field(jwk, "n", &jwk.n)?, &field(jwk, "e", &jwk.e)?).map_err(|e| match e {
                    RsaKeyError::UnsupportedSize(bits) => KeyError(format!("RSA modulus of {bits} bits: only 2048 to 4096 bits are supported")),
                    RsaKeyError::EvenModulus => KeyError("RSA modulus is even".into()),
                    RsaKeyError::BadExponent => KeyError("RSA exponent must be odd, at least 3 and at most 64 bits".into()),
                })?;
                Material::Rsa(Box::new(key))
            }
            ("EC", "P-256") => {
                let point = sec1_point(&field(jwk, "x", &jwk.x)?, &field(jwk, "y", &jwk.y)?, 32)?;
                Material::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| KeyError("not a point on P-256".into()))?)
            }
            ("EC", "P-384") => {
                let point = sec1_point(&field(jwk, "x", &jwk.x)?, &field(jwk, "y", &jwk.y)?, 48)?;
                Material::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| KeyError("not a point on P-384".into()))?)
            }
            ("OKP", "Ed25519") => {
                let x = fixed::<32>(field(jwk, "x", &jwk.x)?, "Ed25519 `x`")?;
                Material::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(&x).map_err(|_| KeyError("not an Ed25519 public key".into()))?)
            }
            ("oct", _) => {
                let k = field(jwk, "k", &jwk.k)?;
                if k.len() < 32 {
                    return Err(KeyError(format!("HMAC secret of {} bytes: at least 32 are required", k.len())));
                }
                Material::Hmac(k)
            }
            ("EC" | "OKP", crv) => return Err(KeyError(format!("curve `{crv}` is not supported"))),
            (kty, _) => return Err(KeyError(format!("key type `{kty}` is not supported"))),
        };
        let key = Self { kid: jwk.kid.clone(), alg, material };
        if let Some(alg) = alg {
            if !key.family_supports(alg) {
                return Err(KeyError(format!("`alg` `{alg}` does not fit a `{}` key", jwk.kty)));
            }
        }
        Ok(key)
    }

    /// The key id, if the JWK had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether this key may verify `alg`: the key family must fit (no RSA key verifies an HS
    /// token, and so on) and, when the JWK named an `alg`, it must be that one.
    pub fn supports(&self, alg: Algorithm) -> bool {
        self.alg.is_none_or(|only| only == alg) && self.family_supports(alg)
    }

    fn family_supports(&self, alg: Algorithm) -> bool {
        use Algorithm::*;
        match &self.material {
            Material::Rsa(_) => matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            Material::P256(_) => alg == ES256,
            Material::P384(_) => alg == ES384,
            Material::Ed25519(_) => alg == EdDSA,
            Material::Hmac(secret) => alg.is_hmac() && secret.len() >= hash_of(alg).output_len(),
        }
    }

    /// Verifies `signature` over `message` (the JWS signing input). False when this key does
    /// not support `alg`, the signature is malformed, or it does not verify.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        if !self.supports(alg) {
            return false;
        }
        let hash = hash_of(alg);
        match &self.material {
            Material::Rsa(key) if matches!(alg, Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512) => {
                key.verify_pss(hash, message, signature)
            }
            Material::Rsa(key) => key.verify_pkcs1v15(hash, message, signature),
            Material::P256(key) => p256::ecdsa::Signature::from_slice(signature).is_ok_and(|sig| key.verify(message, &sig).is_ok()),
            Material::P384(key) => p384::ecdsa::Signature::from_slice(signature).is_ok_and(|sig| key.verify(message, &sig).is_ok()),
            Material::Ed25519(key) => {
                ed25519_dalek::Signature::from_slice(signature).is_ok_and(|sig| key.verify_strict(message, &sig).is_ok())
            }
            Material::Hmac(secret) => hash.verify_hmac(secret, message, signature),
        }
    }
}

/// The hash an algorithm signs with (EdDSA hashes internally; the value is unused there).
pub(crate) fn hash_of(alg: Algorithm) -> HashAlg {
    use Algorithm::*;
    match alg {
        RS256 | PS256 | ES256 | HS256 | EdDSA => HashAlg::Sha256,
        RS384 | PS384 | ES384 | HS384 => HashAlg::Sha384,
        RS512 | PS512 | HS512 => HashAlg::Sha512,
    }
}

/// An uncompressed SEC1 point `04 || x || y`; RFC 7518 requires full-length coordinates.
fn sec1_point(x: &[u8], y: &[u8], size: usize) -> Result<Vec<u8>, KeyError> {
    if x.len() != size || y.len() != size {
        return Err(KeyError(format!("EC coordinates must be {size} bytes each")));
    }
    let mut point = Vec::with_capacity(1 + 2 * size);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    Ok(point)
}
