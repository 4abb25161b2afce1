//! One trusted issuer, prepared: its keys parsed and its claim rules ready to apply.

use std::collections::BTreeMap;

use portcullis_policy::identity::{Algorithm, ClaimRequirement, IdentityProvider, TokenSource};
use serde_json::{Map, Value};

use crate::error::{AuthError, AuthErrorCode};
use crate::identity::{AuthMethod, Identity};
use crate::jwt::{lookup, numeric_date, printable, value_matches};
use crate::keys::VerifyingKey;

/// Most groups kept from a token, so one token cannot make headers unbounded.
const MAX_GROUPS: usize = 256;

pub(crate) struct Provider {
    pub name: String,
    pub issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    allow_hmac: bool,
    pub clock_skew: u64,
    max_lifetime: Option<u64>,
    required_claims: Vec<ClaimRequirement>,
    subject_claim: String,
    groups_claim: String,
    client_id_claim: String,
    keys: Vec<VerifyingKey>,
    pub sources: Vec<TokenSource>,
}

impl Provider {
    /// Prepares a provider; unusable keys are skipped with a warning each.
    pub fn new(config: &IdentityProvider, warnings: &mut Vec<String>) -> Self {
        let mut keys = Vec::new();
        for (i, jwk) in config.jwks.iter().flat_map(|jwks| jwks.keys.iter()).enumerate() {
            match VerifyingKey::from_jwk(jwk) {
                Ok(key) if key_useful(&key, config) => keys.push(key),
                Ok(_) => warnings.push(format!("provider `{}`: key {i} fits none of the allowed algorithms; skipped", config.name)),
                Err(error) => warnings.push(format!("provider `{}`: key {i} ({}) skipped: {error}", config.name, jwk.kid.as_deref().unwrap_or("no kid"))),
            }
        }
        if keys.is_empty() {
            warnings.push(format!("provider `{}` has no usable keys: its tokens will all be refused", config.name));
        }
        Self {
            name: config.name.clone(),
            issuer: config.issuer.clone(),
            audiences: config.audiences.clone(),
            algorithms: config.algorithms.clone(),
            allow_hmac: config.allow_hmac,
            clock_skew: config.clock_skew_secs,
            max_lifetime: config.max_lifetime_secs,
            required_claims: config.required_claims.clone(),
            subject_claim: config.subject_claim.clone(),
            groups_claim: config.groups_claim.clone(),
            client_id_claim: config.client_id_claim.clone(),
            keys,
            sources: config.token_sources.clone(),
        }
    }

    /// Checks `alg` against the provider's list and picks the key that must verify the token:
    /// the one named by `kid`, or the only key when the token names none.
    pub fn select_key(&self, alg: Algorithm, kid: Option<&str>) -> Result<&VerifyingKey, AuthError> {
        if !self.algorithms.contains(&alg) || (alg.is_hmac() && !self.allow_hmac) {
            return Err(AuthError::new(AuthErrorCode::AlgorithmNotAllowed, format!("algorithm `{alg}` is not accepted for issuer `{}`", self.issuer)));
        }
        if self.keys.is_empty() {
            return Err(AuthError::new(AuthErrorCode::NoKeys, format!("no verification keys are available for issuer `{}`", self.issuer)));
        }
        let key = match kid {
            Some(kid) => self.keys.iter().find(|key| key.kid() == Some(kid)).or_else(|| match self.keys.as_slice() {
                [only] if only.kid().is_none() => Some(only),
                _ => None,
            }),
            None => match self.keys.as_slice() {
                [only] => Some(only),
                _ => None,
            },
        };
        let key = key.ok_or_else(|| {
            match kid {
                Some(kid) => AuthError::new(
                    AuthErrorCode::UnknownKey,
                    format!("no key with id `{}` is known for issuer `{}`", printable(kid), self.issuer),
                )
                .with_unknown_key(self.name.clone(), printable(kid)),
                None => AuthError::new(AuthErrorCode::UnknownKey, "the token has no `kid` and the issuer has several keys"),
            }
        })?;
        if !key.supports(alg) {
            return Err(AuthError::new(AuthErrorCode::KeyAlgorithmMismatch, format!("the selected key cannot verify `{alg}` tokens")));
        }
        Ok(key)
    }

    /// Checks `aud`, `exp`, `nbf`, `iat`, the lifetime and required claims at `now`.
    /// Returns `exp`.
    pub fn check_claims(&self, claims: &Map<String, Value>, now: u64) -> Result<u64, AuthError> {
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => self.audiences.contains(aud),
            Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str().is_some_and(|aud| self.audiences.iter().any(|a| a == aud))),
            _ => false,
        };
        if !audience_ok {
            return Err(AuthError::new(AuthErrorCode::InvalidAudience, "the token is not issued for this gateway (`aud`)"));
        }
        let skew = self.clock_skew;
        let exp = numeric_date(claims, "exp")?.ok_or_else(|| AuthError::new(AuthErrorCode::MissingClaim, "the token has no `exp`"))?;
        if now >= exp.saturating_add(skew) {
            return Err(AuthError::new(AuthErrorCode::Expired, format!("the token expired at {exp} (now {now})")));
        }
        let nbf = numeric_date(claims, "nbf")?;
        if let Some(nbf) = nbf {
            if nbf > now.saturating_add(skew) {
                return Err(AuthError::new(AuthErrorCode::NotYetValid, format!("the token is not valid before {nbf} (now {now})")));
            }
        }
        let iat = numeric_date(claims, "iat")?;
        if let Some(iat) = iat {
            if iat > now.saturating_add(skew) {
                return Err(AuthError::new(AuthErrorCode::IssuedInFuture, format!("the token claims to be issued at {iat}, in the future (now {now})")));
            }
        }
        if let Some(max) = self.max_lifetime {
            let start = iat.or(nbf).unwrap_or(now);
            let lifetime = exp.saturating_sub(start);
            if lifetime > max {
                return Err(AuthError::new(AuthErrorCode::LifetimeTooLong, format!("the token lives {lifetime} s; at most {max} s are accepted")));
            }
        }
        for requirement in &self.required_claims {
            let value = lookup(claims, &requirement.claim).filter(|value| !value.is_null());
            let Some(value) = value else {
                return Err(AuthError::new(AuthErrorCode::MissingClaim, format!("the token lacks the required claim `{}`", requirement.claim)));
            };
            if !requirement.values.is_empty() && !requirement.values.iter().any(|wanted| value_matches(value, wanted)) {
                return Err(AuthError::new(AuthErrorCode::ClaimNotAccepted, format!("the value of claim `{}` is not accepted", requirement.claim)));
            }
        }
        Ok(exp)
    }

    /// Builds the identity of verified `claims`, keeping the claims named in `rule_claims`.
    pub fn identity(&self, claims: &Map<String, Value>, exp: u64, rule_claims: &[String], credential_header: Option<&str>) -> Result<Identity, AuthError> {
        let subject = match lookup(claims, &self.subject_claim) {
            Some(Value::String(subject)) if !subject.is_empty() => subject.clone(),
            Some(Value::Number(subject)) => subject.to_string(),
            _ => return Err(AuthError::new(AuthErrorCode::MissingClaim, format!("the token has no subject claim `{}`", self.subject_claim))),
        };
        let groups = match lookup(claims, &self.groups_claim) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).take(MAX_GROUPS).map(str::to_owned).collect(),
            Some(Value::String(list)) => list.split_whitespace().take(MAX_GROUPS).map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        let client_id = [self.client_id_claim.as_str(), "azp"]
            .iter()
            .find_map(|name| lookup(claims, name).and_then(Value::as_str))
            .map(str::to_owned);
        let claims: BTreeMap<String, Value> =
            rule_claims.iter().filter_map(|name| Some((name.clone(), lookup(claims, name)?.clone()))).collect();
        Ok(Identity {
            subject,
            groups,
            client_id,
            provider: self.name.clone(),
            method: AuthMethod::Jwt,
            claims,
            expires_at: Some(exp),
            targets: Vec::new(),
            credential_header: credential_header.map(str::to_owned),
        })
    }
}

fn key_useful(key: &VerifyingKey, config: &IdentityProvider) -> bool {
    config.algorithms.iter().any(|&alg| key.supports(alg) && (!alg.is_hmac() || config.allow_hmac))
}
