//! The per-policy-version state: prepared keys, caches, and the request entry points.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasherDefault;

use portcullis_policy::identity::{AccessRule, IdentityHeaders, IdentityPolicy, Target, TokenSource};
use portcullis_policy::ValidationReport;
use serde_json::Value;

use crate::cache::{BoundedCache, KeyHasher};

/// SHA-256 of an API key: how API keys are stored in the policy.
type Digest = [u8; 32];
use crate::error::{AuthError, AuthErrorCode, CredentialUnavailable, Denied};
use crate::headers::HeaderPlan;
use crate::identity::{AuthMethod, Identity, API_KEY_PROVIDER};
use crate::jwt::printable;
use crate::provider::Provider;
use crate::request::RequestParts;

/// Longest API key accepted, in bytes; longer values are refused without hashing.
const MAX_API_KEY_BYTES: usize = 1024;

/// The identity section could not be loaded: it has validation errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Every problem found (errors block; warnings are kept for context).
    pub report: ValidationReport,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid identity policy:\n{}", self.report)
    }
}

impl std::error::Error for ConfigError {}

/// Counters, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthStats {
    /// Signature verifications performed (cache misses that reached the signature check).
    pub signature_verifications: u64,
    /// Requests answered from the cache of verified tokens.
    pub cache_hits: u64,
    /// Requests refused from the cache of rejected tokens.
    pub failure_cache_hits: u64,
    /// Entries evicted from either cache to make room.
    pub cache_evictions: u64,
    /// Verified tokens currently cached.
    pub cached_tokens: usize,
}

struct ApiKeyEntry {
    id: String,
    subject: String,
    groups: Vec<String>,
    targets: Vec<String>,
    expires_at: Option<u64>,
}

/// A place credentials are looked for, and what may be found there.
struct Source {
    source: TokenSource,
    /// Providers (indices) whose tokens may arrive here.
    providers: Vec<usize>,
    /// Whether API keys may arrive here.
    api_key: bool,
}

struct Verified {
    identity: Identity,
    provider: usize,
}

/// Authenticates and authorizes requests under one policy version.
///
/// Build it once per policy version ([`Authenticator::new`] parses every key); keep it for
/// the life of that version, so its caches make repeated tokens cost one SHA-256.
pub struct Authenticator {
    providers: Vec<Provider>,
    api_keys: HashMap<Digest, ApiKeyEntry, BuildHasherDefault<KeyHasher>>,
    sources: Vec<Source>,
    targets: Vec<Target>,
    rules: Vec<AccessRule>,
    identity_headers: IdentityHeaders,
    rule_claims: Vec<String>,
    max_token_bytes: usize,
    verified: BoundedCache<Verified>,
    failed: BoundedCache<(AuthError, usize)>,
    failed_ttl: u64,
    stats: AuthStats,
    warnings: Vec<String>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("providers", &self.providers.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
            .field("api_keys", &self.api_keys.len())
            .field("targets", &self.targets.len())
            .field("rules", &self.rules.len())
            .field("stats", &self.stats())
            .finish()
    }
}

impl Authenticator {
    /// Validates `policy` and prepares it: keys parsed (RSA Montgomery parameters computed),
    /// API-key hashes indexed, credential sources merged. Unusable keys are skipped and
    /// reported in [`Authenticator::warnings`].
    pub fn new(policy: &IdentityPolicy) -> Result<Self, ConfigError> {
        let mut report = ValidationReport::default();
        policy.validate(&mut report);
        if !report.errors.is_empty() {
            return Err(ConfigError { report });
        }
        let mut warnings = Vec::new();
        let providers: Vec<Provider> = policy.providers.iter().map(|p| Provider::new(p, &mut warnings)).collect();
        let mut sources: Vec<Source> = Vec::new();
        for (index, provider) in providers.iter().enumerate() {
            for source in &provider.sources {
                match sources.iter_mut().find(|s| &s.source == source) {
                    Some(existing) => existing.providers.push(index),
                    None => sources.push(Source { source: source.clone(), providers: vec![index], api_key: false }),
                }
            }
        }
        let mut api_keys = HashMap::default();
        if !policy.api_keys.is_empty() {
            for source in &policy.api_key_sources {
                match sources.iter_mut().find(|s| &s.source == source) {
                    Some(existing) => existing.api_key = true,
                    None => sources.push(Source { source: source.clone(), providers: Vec::new(), api_key: true }),
                }
            }
            for key in &policy.api_keys {
                if let Some(digest) = portcullis_policy::identity::parse_api_key_hash(&key.hash) {
                    let entry = ApiKeyEntry {
                        id: key.id.clone(),
                        subject: key.subject.clone(),
                        groups: key.groups.clone(),
                        targets: key.targets.clone(),
                        expires_at: key.expires_at,
                    };
                    api_keys.insert(digest, entry);
                }
            }
        }
        let mut rule_claims: Vec<String> = policy.rules.iter().flat_map(|rule| rule.claims.keys().cloned()).collect();
        rule_claims.sort();
        rule_claims.dedup();
        Ok(Self {
            providers,
            api_keys,
            sources,
            targets: policy.targets.clone(),
            rules: policy.rules.clone(),
            identity_headers: policy.identity_headers.clone(),
            rule_claims,
            max_token_bytes: policy.max_token_bytes,
            verified: BoundedCache::new(policy.cache.max_entries),
            failed: BoundedCache::new(policy.cache.max_failed_entries),
            failed_ttl: policy.cache.failed_ttl_secs,
            stats: AuthStats::default(),
            warnings,
        })
    }

    /// Problems found while preparing keys (skipped keys, providers left without keys).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Current counters.
    pub fn stats(&self) -> AuthStats {
        AuthStats {
            cache_evictions: self.verified.evictions() + self.failed.evictions(),
            cached_tokens: self.verified.len(),
            ..self.stats
        }
    }

    /// Forgets every cached result.
    pub fn clear_caches(&mut self) {
        self.verified.clear();
        self.failed.clear();
    }

    /// Establishes who sent `request` at `now_unix` (seconds). Credentials are looked for in
    /// the providers' token sources, then the API-key sources; the first found is used. A
    /// value with two dots is treated as a JWT, anything else as an API key where API keys
    /// may be sent.
    pub fn authenticate(&mut self, request: &RequestParts<'_>, now_unix: u64) -> Result<Identity, AuthError> {
        let found = self.sources.iter().enumerate().find_map(|(index, source)| {
            let value = request.credential(&source.source)?;
            let jwt_shaped = value.bytes().filter(|&b| b == b'.').count() == 2;
            let as_jwt = !source.providers.is_empty() && (jwt_shaped || !source.api_key);
            let header = match &source.source {
                TokenSource::Header { name, .. } => Some(name.clone()),
                _ => None,
            };
            Some((index, value, as_jwt, header))
        });
        let Some((index, value, as_jwt, header)) = found else {
            return Err(AuthError::new(AuthErrorCode::MissingCredentials, "no credentials were sent: pass a bearer token"));
        };
        if as_jwt {
            self.authenticate_jwt(&value, Some(index), header.as_deref(), now_unix)
        } else {
            self.authenticate_api_key(&value, header.as_deref(), now_unix)
        }
    }

    /// Authenticates a bare JWT against every provider, as if it came from a header the
    /// providers all read. Mostly for tests and benchmarks.
    pub fn authenticate_token(&mut self, token: &str, now_unix: u64) -> Result<Identity, AuthError> {
        self.authenticate_jwt(token, None, None, now_unix)
    }

    fn authenticate_jwt(&mut self, token: &str, source: Option<usize>, header: Option<&str>, now: u64) -> Result<Identity, AuthError> {
        if token.len() > self.max_token_bytes {
            return Err(AuthError::new(AuthErrorCode::TokenTooLarge, format!("the token is longer than {} bytes", self.max_token_bytes)));
        }
        let source_index = source.unwrap_or(usize::MAX);
        let allowed = |provider: usize| source.is_none_or(|s| self.sources.get(s).is_some_and(|s| s.providers.contains(&provider)));
        if let Some(hit) = self.verified.get(token, now) {
            if allowed(hit.provider) {
                let mut identity = hit.identity.clone();
                identity.credential_header = header.map(str::to_owned);
                self.stats.cache_hits += 1;
                return Ok(identity);
            }
        }
        if let Some((error, failed_source)) = self.failed.get(token, now) {
            if *failed_source == source_index {
                let error = error.clone();
                self.stats.failure_cache_hits += 1;
                return Err(error);
            }
        }
        match self.verify_jwt(token, source, header, now) {
            Ok((identity, provider, valid_until)) => {
                self.verified.insert(token, Verified { identity: identity.clone(), provider }, valid_until, now);
                Ok(identity)
            }
            Err(error) => {
                if !error.code.is_transient() {
                    self.failed.insert(token, (error.clone(), source_index), now.saturating_add(self.failed_ttl), now);
                }
                Err(error)
            }
        }
    }

    /// Every check, cheapest first, then the signature. Returns the identity, the provider
    /// index and the time until which the result may be cached.
    fn verify_jwt(&mut self, token: &str, source: Option<usize>, header: Option<&str>, now: u64) -> Result<(Identity, usize, u64), AuthError> {
        let parsed = crate::jwt::parse(token)?;
        let Some(Value::String(issuer)) = parsed.claims.get("iss") else {
            return Err(AuthError::new(AuthErrorCode::UntrustedIssuer, "the token has no `iss`"));
        };
        let allowed = source.and_then(|s| self.sources.get(s)).map(|s| s.providers.as_slice());
        let (index, provider) = self
            .providers
            .iter()
            .enumerate()
            .find(|(i, p)| &p.issuer == issuer && allowed.is_none_or(|a| a.contains(i)))
            .ok_or_else(|| AuthError::new(AuthErrorCode::UntrustedIssuer, format!("issuer `{}` is not trusted", printable(issuer))))?;
        let key = provider.select_key(parsed.alg, parsed.kid.as_deref())?;
        let exp = provider.check_claims(&parsed.claims, now)?;
        self.stats.signature_verifications += 1;
        if !key.verify(parsed.alg, parsed.signing_input.as_bytes(), &parsed.signature) {
            return Err(AuthError::new(AuthErrorCode::InvalidSignature, "the token signature is not valid"));
        }
        let identity = provider.identity(&parsed.claims, exp, &self.rule_claims, header)?;
        Ok((identity, index, exp.saturating_add(provider.clock_skew)))
    }

    fn authenticate_api_key(&mut self, key: &str, header: Option<&str>, now: u64) -> Result<Identity, AuthError> {
        let invalid = || AuthError::new(AuthErrorCode::InvalidApiKey, "the API key is not valid");
        if key.len() > MAX_API_KEY_BYTES {
            return Err(invalid());
        }
        let entry = self.api_keys.get(&sha256(key)).ok_or_else(invalid)?;
        if let Some(expires_at) = entry.expires_at {
            if now >= expires_at {
                return Err(AuthError::new(AuthErrorCode::ApiKeyExpired, format!("API key `{}` expired at {expires_at}", entry.id)));
            }
        }
        Ok(Identity {
            subject: entry.subject.clone(),
            groups: entry.groups.clone(),
            client_id: None,
            provider: API_KEY_PROVIDER.to_owned(),
            method: AuthMethod::ApiKey { id: entry.id.clone() },
            claims: Default::default(),
            expires_at: entry.expires_at,
            targets: entry.targets.clone(),
            credential_header: header.map(str::to_owned),
        })
    }

    /// The target serving this request (see [`crate::authz::match_target`]).
    pub fn match_target(&self, authority: &str, path: &str, method: &str) -> Option<&Target> {
        crate::authz::match_target(&self.targets, authority, path, method)
    }

    /// Whether an access rule that could apply to `target` looks at the
    /// request's model, so the body must be read before deciding.
    pub fn needs_model(&self, target: &Target) -> bool {
        self.rules.iter().any(|rule| !rule.models.is_empty() && (rule.targets.is_empty() || rule.targets.contains(&target.name)))
    }

    /// A target by name.
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// Whether `identity` may make this request: `Ok` with the allowing rule's name, or the
    /// denial (see [`crate::authz::authorize`]).
    pub fn authorize(&self, identity: &Identity, target: Option<&Target>, method: &str, path: &str, model: Option<&str>) -> Result<&str, Denied> {
        crate::authz::authorize(&self.rules, identity, target, method, path, model)
    }

    /// Header changes for sending `identity`'s request to `target`.
    pub fn header_plan(&self, identity: &Identity, target: &Target) -> Result<HeaderPlan, CredentialUnavailable> {
        crate::headers::header_plan(&self.identity_headers, identity, target)
    }
}

fn sha256(data: &str) -> Digest {
    use sha2::Digest as _;
    sha2::Sha256::digest(data.as_bytes()).into()
}
