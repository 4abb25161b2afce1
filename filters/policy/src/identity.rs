//! Identity: who may call through the gateway, how they prove it, and what they may reach.
//!
//! Callers prove who they are with a JWT from a trusted [`IdentityProvider`]
//! or with an [`ApiKey`] (service accounts). Requests go to a [`Target`]
//! (matched by host, path prefix and method), and [`AccessRule`]s decide,
//! first match wins and default deny, whether that identity may reach it.
//!
//! ```yaml
//! identity:
//!   providers:
//!     - name: corp
//!       issuer: https://login.example.com/
//!       audiences: [portcullis]
//!       jwks_url: https://login.example.com/.well-known/jwks.json
//!       algorithms: [RS256, ES256]
//!   api_keys:
//!     - id: ci-bot
//!       hash: "sha256:<64 hex digits>"   # portcullis_policy::identity::hash_api_key
//!       subject: svc:ci-bot
//!       groups: [ci]
//!   targets:
//!     - name: openai
//!       hosts: [api.openai.com]
//!       path_prefix: /v1
//!       credential: { header: authorization, prefix: "Bearer ", secret_ref: openai-key }
//!   rules:
//!     - { name: ml-team-gpt, groups: [ml], targets: [openai], models: ["gpt-4o*"], effect: allow }
//! ```
//!
//! Types that mirror RFC 7517 ([`Jwks`], [`Jwk`]) ignore members they do not
//! know, as that RFC requires; every other type rejects unknown fields.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::validation::ValidationReport;

/// A JWS signature algorithm (RFC 7518 names). `none` has no variant: it can never be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[allow(missing_docs)] // The variants are the RFC 7518 names.
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
    HS256,
    HS384,
    HS512,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 12] = [
        Self::RS256, Self::RS384, Self::RS512, Self::PS256, Self::PS384, Self::PS512,
        Self::ES256, Self::ES384, Self::EdDSA, Self::HS256, Self::HS384, Self::HS512,
    ];

    /// The name used in JWS headers, such as `RS256`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
        }
    }

    /// Parses a JWS `alg` value; `None` for `none` and anything unsupported.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// Whether this is a shared-secret (HMAC) algorithm.
    pub const fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `identity` section of a policy. Its `Default` is the section left out: nothing configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityPolicy {
    /// Trusted token issuers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<IdentityProvider>,
    /// Static API keys for service accounts, stored as hashes only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_keys: Vec<ApiKey>,
    /// Where API keys are looked for (default: `x-api-key`, then `Authorization: Bearer`
    /// for values that are not JWTs).
    #[serde(default = "default_api_key_sources")]
    pub api_key_sources: Vec<TokenSource>,
    /// Upstreams requests may reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// Access rules, checked in order: the first that matches decides; none matching denies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<AccessRule>,
    /// Headers that carry the verified identity to the upstream.
    #[serde(default)]
    pub identity_headers: IdentityHeaders,
    /// Bounds on the caches of verified and rejected tokens.
    #[serde(default)]
    pub cache: TokenCacheSettings,
    /// Longest token accepted, in bytes; longer ones are refused before any work (default 16 KiB).
    #[serde(default = "default_max_token_bytes")]
    pub max_token_bytes: usize,
}

impl Default for IdentityPolicy {
    fn default() -> Self {
        Self {
            providers: Vec::new(),
            api_keys: Vec::new(),
            api_key_sources: default_api_key_sources(),
            targets: Vec::new(),
            rules: Vec::new(),
            identity_headers: IdentityHeaders::default(),
            cache: TokenCacheSettings::default(),
            max_token_bytes: default_max_token_bytes(),
        }
    }
}

/// A trusted issuer of JWTs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityProvider {
    /// Short unique name, reported as the identity's provider.
    pub name: String,
    /// Exact `iss` value of its tokens.
    pub issuer: String,
    /// Accepted `aud` values: a token must name at least one.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// OpenID discovery document the control plane reads the JWKS address from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_url: Option<String>,
    /// JWKS address the control plane fetches keys from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// Accepted signature algorithms (default `[RS256]`).
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// Must be `true` for any `HS*` algorithm: shared secrets are opt-in.
    #[serde(default)]
    pub allow_hmac: bool,
    /// Leeway for `exp`, `nbf` and `iat`, in seconds (default 60).
    #[serde(default = "default_clock_skew")]
    pub clock_skew_secs: u64,
    /// Longest accepted lifetime (`exp` minus `iat`, or `nbf`), in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lifetime_secs: Option<u64>,
    /// Claims a token must carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_claims: Vec<ClaimRequirement>,
    /// Where tokens are looked for (default `Authorization: Bearer`).
    #[serde(default = "default_token_sources")]
    pub token_sources: Vec<TokenSource>,
    /// Claim naming the subject (default `sub`); dotted paths reach nested claims.
    #[serde(default = "default_subject_claim")]
    pub subject_claim: String,
    /// Claim listing groups (default `groups`): an array, or a space-separated string such as `scope`.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Claim naming the client (default `client_id`; `azp` is used when it is absent).
    #[serde(default = "default_client_id_claim")]
    pub client_id_claim: String,
    /// Verification keys: written inline for static keys, or filled in by the control plane
    /// from `jwks_url` when it builds the bundle, so filters never call the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
}

/// One claim a token must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequirement {
    /// Claim name; dotted paths such as `realm_access.roles` reach nested claims.
    pub claim: String,
    /// Accepted values: empty means present and not null; otherwise the claim (or, for an
    /// array claim, one of its elements) must equal one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<serde_json::Value>,
}

/// Where a credential is carried in a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenSource {
    /// A request header, with a scheme prefix such as `Bearer ` (matched case-insensitively).
    Header {
        /// Header name, such as `authorization`.
        name: String,
        /// Text before the credential, such as `Bearer `; empty for none.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        prefix: String,
    },
    /// A query-string parameter.
    Query {
        /// Parameter name.
        name: String,
    },
    /// A cookie.
    Cookie {
        /// Cookie name.
        name: String,
    },
}

/// A JWK set (RFC 7517 section 5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// One JSON Web Key (RFC 7517 section 4, RFC 7518 section 6). Debug output hides `k`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA`, `EC`, `OKP` or `oct`.
    pub kty: String,
    /// Key id, matched against a token's `kid` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The only algorithm this key may verify, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use: keys whose `use` is not `sig` are ignored.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// RSA modulus, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Curve: `P-256`, `P-384` (EC) or `Ed25519` (OKP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Public x coordinate (EC) or public key (OKP), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Public y coordinate (EC), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Shared secret (`oct`), base64url: filled in by the control plane from `secret_ref`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
    /// Portcullis extension: name of the stored secret the control plane puts in `k`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("use", &self.use_)
            .field("n", &self.n)
            .field("e", &self.e)
            .field("crv", &self.crv)
            .field("x", &self.x)
            .field("y", &self.y)
            .field("k", &self.k.as_ref().map(|_| "<redacted>"))
            .field("secret_ref", &self.secret_ref)
            .finish()
    }
}

/// A service-account API key, stored as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// Unique id, for logs and revocation.
    pub id: String,
    /// `sha256:<64 lowercase hex digits>` of the key, as [`hash_api_key`] makes it.
    pub hash: String,
    /// Subject the key authenticates as.
    pub subject: String,
    /// Groups the subject belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Names of the only targets this key may reach; empty for any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Unix time (seconds) after which the key is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

/// An upstream requests may be sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Unique name, used by rules and API keys.
    pub name: String,
    /// Hosts (`:authority` without port) it serves; `*.example.com` matches any subdomain.
    pub hosts: Vec<String>,
    /// Path prefix, matched on whole segments (default `/`).
    #[serde(default = "default_path_prefix")]
    pub path_prefix: String,
    /// Methods served; empty for any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// Credential the gateway adds on the way upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<UpstreamCredential>,
    /// Request headers removed before the request goes upstream.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strip_headers: Vec<String>,
}

/// A credential injected into upstream requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamCredential {
    /// Header that carries it (default `authorization`).
    #[serde(default = "default_credential_header")]
    pub header: String,
    /// Text put before the secret, such as `Bearer `.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// Name of the stored secret.
    pub secret_ref: String,
    /// The secret itself: filled in by the control plane in bundles, never written by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<SecretValue>,
}

/// A secret string whose `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: use it only where it is sent, never where it is logged.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// What a matching rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Let the request through.
    Allow,
    /// Refuse it with 403.
    Deny,
}

/// An access rule. Every non-empty condition must hold; within a list, any entry may match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRule {
    /// Unique name, reported when the rule decides.
    pub name: String,
    /// Subjects (globs with `*` and `?`); empty for any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// Groups, one of which the identity must have; empty for any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Claims that must all have these values (an array claim must contain the value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, String>,
    /// Target names; empty for any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Model names (globs, `*` for any); empty for any, even requests naming no model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Methods; empty for any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// Path prefixes, matched on whole segments; empty for any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Allow or deny.
    pub effect: Effect,
}

/// Names of the headers that carry the verified identity upstream. Incoming copies are removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityHeaders {
    /// Subject header.
    #[serde(default = "default_subject_header")]
    pub subject: String,
    /// Groups header (comma-separated).
    #[serde(default = "default_groups_header")]
    pub groups: String,
    /// Client id header.
    #[serde(default = "default_client_id_header")]
    pub client_id: String,
    /// Provider (or `api-key`) header.
    #[serde(default = "default_provider_header")]
    pub provider: String,
}

impl Default for IdentityHeaders {
    fn default() -> Self {
        Self {
            subject: default_subject_header(),
            groups: default_groups_header(),
            client_id: default_client_id_header(),
            provider: default_provider_header(),
        }
    }
}

/// Bounds on the token caches each filter keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenCacheSettings {
    /// Verified tokens kept (default 4096).
    #[serde(default = "default_cache_entries")]
    pub max_entries: usize,
    /// Rejected tokens kept, so a replayed forgery costs one hash (default 1024).
    #[serde(default = "default_failed_entries")]
    pub max_failed_entries: usize,
    /// How long a rejection is remembered, in seconds (default 300).
    #[serde(default = "default_failed_ttl")]
    pub failed_ttl_secs: u64,
}

impl Default for TokenCacheSettings {
    fn default() -> Self {
        Self {
            max_entries: default_cache_entries(),
            max_failed_entries: default_failed_entries(),
            failed_ttl_secs: default_failed_ttl(),
        }
    }
}

fn bearer() -> TokenSource {
    TokenSource::Header { name: "authorization".into(), prefix: "Bearer ".into() }
}
fn default_api_key_sources() -> Vec<TokenSource> {
    vec![TokenSource::Header { name: "x-api-key".into(), prefix: String::new() }, bearer()]
}
fn default_token_sources() -> Vec<TokenSource> {
    vec![bearer()]
}
fn default_max_token_bytes() -> usize {
    16 * 1024
}
fn default_algorithms() -> Vec<Algorithm> {
    vec![Algorithm::RS256]
}
fn default_clock_skew() -> u64 {
    60
}
fn default_subject_claim() -> String {
    "sub".into()
}
fn default_groups_claim() -> String {
    "groups".into()
}
fn default_client_id_claim() -> String {
    "client_id".into()
}
fn default_path_prefix() -> String {
    "/".into()
}
fn default_credential_header() -> String {
    "authorization".into()
}
fn default_subject_header() -> String {
    "x-portcullis-subject".into()
}
fn default_groups_header() -> String {
    "x-portcullis-groups".into()
}
fn default_client_id_header() -> String {
    "x-portcullis-client-id".into()
}
fn default_provider_header() -> String {
    "x-portcullis-provider".into()
}
fn default_cache_entries() -> usize {
    4096
}
fn default_failed_entries() -> usize {
    1024
}
fn default_failed_ttl() -> u64 {
    300
}

/// Hashes a raw API key into the `sha256:<hex>` form [`ApiKey::hash`] stores.
pub fn hash_api_key(raw: &str) -> String {
    let digest = Sha256::digest(raw.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Parses a `sha256:<64 hex digits>` hash (either case) into its bytes.
pub fn parse_api_key_hash(hash: &str) -> Option<[u8; 32]> {
    let hex = hash.strip_prefix("sha256:")?.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let digit = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// Whether `name` is a valid HTTP header name (an RFC 9110 token).
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn duplicates<'a>(names: impl Iterator<Item = &'a str>) -> Vec<(usize, &'a str)> {
    let mut seen = BTreeSet::new();
    names.enumerate().filter(|(_, name)| !name.is_empty() && !seen.insert(*name)).collect()
}

impl IdentityPolicy {
    /// Checks the section and records every problem in `report`, with paths under `identity.`.
    pub fn validate(&self, report: &mut ValidationReport) {
        let targets: BTreeSet<&str> = self.targets.iter().map(|t| t.name.as_str()).collect();
        for (i, provider) in self.providers.iter().enumerate() {
            provider.validate(&format!("identity.providers[{i}]"), report);
        }
        for (i, name) in duplicates(self.providers.iter().map(|p| p.name.as_str())) {
            report.error(format!("identity.providers[{i}].name"), format!("`{name}` is used by an earlier provider: names must be unique"));
        }
        for (i, issuer) in duplicates(self.providers.iter().map(|p| p.issuer.as_str())) {
            report.error(format!("identity.providers[{i}].issuer"), format!("`{issuer}` is trusted by an earlier provider: merge the two, as tokens are matched to providers by issuer"));
        }
        for (i, key) in self.api_keys.iter().enumerate() {
            key.validate(&format!("identity.api_keys[{i}]"), &targets, report);
        }
        for (i, id) in duplicates(self.api_keys.iter().map(|k| k.id.as_str())) {
            report.error(format!("identity.api_keys[{i}].id"), format!("`{id}` is used by an earlier key: ids must be unique"));
        }
        for (i, _) in duplicates(self.api_keys.iter().map(|k| k.hash.as_str())) {
            report.error(format!("identity.api_keys[{i}].hash"), "the same key is listed twice: give each service account its own key");
        }
        if !self.api_keys.is_empty() && self.api_key_sources.is_empty() {
            report.error("identity.api_key_sources", "is empty while api_keys are configured: name where keys are sent, such as `- header: {name: x-api-key}`");
        }
        validate_sources("identity.api_key_sources", &self.api_key_sources, report);
        for (i, target) in self.targets.iter().enumerate() {
            target.validate(&format!("identity.targets[{i}]"), report);
        }
        for (i, name) in duplicates(self.targets.iter().map(|t| t.name.as_str())) {
            report.error(format!("identity.targets[{i}].name"), format!("`{name}` is used by an earlier target: names must be unique"));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            rule.validate(&format!("identity.rules[{i}]"), &targets, report);
        }
        for (i, name) in duplicates(self.rules.iter().map(|r| r.name.as_str())) {
            report.error(format!("identity.rules[{i}].name"), format!("`{name}` is used by an earlier rule: names must be unique"));
        }
        if self.providers.is_empty() && self.api_keys.is_empty() && !self.rules.is_empty() {
            report.warning("identity", "has rules but no providers or api_keys: no request can be authenticated");
        }
        if (!self.providers.is_empty() || !self.api_keys.is_empty()) && self.rules.is_empty() {
            report.warning("identity.rules", "is empty: every authenticated request is denied; add an `effect: allow` rule");
        }
        self.identity_headers.validate(report);
        if self.cache.max_entries == 0 {
            report.warning("identity.cache.max_entries", "is 0: every request re-verifies its token signature");
        }
        if self.max_token_bytes < 512 || self.max_token_bytes > 64 * 1024 {
            report.error("identity.max_token_bytes", "must be between 512 and 65536: the default 16384 suits most providers");
        }
    }
}

impl IdentityProvider {
    fn validate(&self, path: &str, report: &mut ValidationReport) {
        if self.name.trim().is_empty() {
            report.error(format!("{path}.name"), "must not be empty: give the provider a short name such as `corp-sso`");
        }
        if self.issuer.trim().is_empty() {
            report.error(format!("{path}.issuer"), "must not be empty: use the exact `iss` value of the provider's tokens");
        } else if !self.issuer.starts_with("https://") && !is_local_http(&self.issuer) {
            report.warning(format!("{path}.issuer"), "is not an https:// URL: check that it matches the tokens' `iss` exactly");
        }
        if self.audiences.is_empty() {
            report.error(format!("{path}.audiences"), "must list at least one audience: tokens issued for other applications must not be accepted");
        }
        for (i, audience) in self.audiences.iter().enumerate() {
            if audience.trim().is_empty() {
                report.error(format!("{path}.audiences[{i}]"), "must not be empty");
            }
        }
        if self.discovery_url.is_none() && self.jwks_url.is_none() && self.jwks.is_none() {
            report.error(path, "has no keys: set `jwks_url`, `discovery_url`, or inline `jwks`");
        }
        for (field, url) in [("discovery_url", &self.discovery_url), ("jwks_url", &self.jwks_url)] {
            if let Some(url) = url {
                if !url.starts_with("https://") && !is_local_http(url) {
                    report.error(format!("{path}.{field}"), "must be an https:// URL (http:// only for localhost): keys fetched in clear text can be replaced");
                }
            }
        }
        if self.algorithms.is_empty() {
            report.error(format!("{path}.algorithms"), "must not be empty: list the provider's algorithms, such as `[RS256]`");
        }
        let hmac = self.algorithms.iter().any(|a| a.is_hmac());
        if hmac && !self.allow_hmac {
            report.error(format!("{path}.algorithms"), "lists an HS* algorithm: shared-secret tokens must be enabled explicitly with `allow_hmac: true`");
        }
        if self.allow_hmac && !hmac {
            report.warning(format!("{path}.allow_hmac"), "is true but no HS* algorithm is listed: remove it");
        }
        if self.clock_skew_secs > 300 {
            report.warning(format!("{path}.clock_skew_secs"), "is above 300: expired tokens stay usable that long; fix clocks instead");
        }
        if self.max_lifetime_secs == Some(0) {
            report.error(format!("{path}.max_lifetime_secs"), "must be positive, or left out for no limit");
        }
        for (i, requirement) in self.required_claims.iter().enumerate() {
            if requirement.claim.trim().is_empty() {
                report.error(format!("{path}.required_claims[{i}].claim"), "must name a claim");
            }
        }
        if self.token_sources.is_empty() {
            report.error(format!("{path}.token_sources"), "must not be empty: the default is `- header: {name: authorization, prefix: \"Bearer \"}`");
        }
        validate_sources(&format!("{path}.token_sources"), &self.token_sources, report);
        for (field, value) in [("subject_claim", &self.subject_claim), ("groups_claim", &self.groups_claim), ("client_id_claim", &self.client_id_claim)] {
            if value.trim().is_empty() {
                report.error(format!("{path}.{field}"), "must name a claim");
            }
        }
        if let Some(jwks) = &self.jwks {
            self.validate_jwks(&format!("{path}.jwks"), jwks, report);
        }
    }

    fn validate_jwks(&self, path: &str, jwks: &Jwks, report: &mut ValidationReport) {
        for (i, kid) in duplicates(jwks.keys.iter().filter_map(|k| k.kid.as_deref())) {
            report.error(format!("{path}.keys[{i}].kid"), format!("`{kid}` is used by an earlier key: key ids must be unique"));
        }
        for (i, key) in jwks.keys.iter().enumerate() {
            let at = format!("{path}.keys[{i}]");
            let missing: &[(&str, &Option<String>)] = match key.kty.as_str() {
                "RSA" => &[("n", &key.n), ("e", &key.e)],
                "EC" => &[("crv", &key.crv), ("x", &key.x), ("y", &key.y)],
                "OKP" => &[("crv", &key.crv), ("x", &key.x)],
                "oct" => {
                    if !self.allow_hmac {
                        report.error(format!("{at}.kty"), "`oct` keys are shared secrets: set `allow_hmac: true` and an HS* algorithm, or remove the key");
                    }
                    if key.k.is_none() && key.secret_ref.is_none() {
                        report.error(at.as_str(), "an `oct` key needs `secret_ref` (resolved by the control plane) or `k`");
                    }
                    &[]
                }
                other => {
                    report.error(format!("{at}.kty"), format!("`{other}` is not supported: use RSA, EC, OKP or oct"));
                    &[]
                }
            };
            for (field, value) in missing {
                if value.is_none() {
                    report.error(format!("{at}.{field}"), format!("is required for `{}` keys", key.kty));
                }
            }
            if let Some(alg) = &key.alg {
                match Algorithm::from_name(alg) {
                    None => report.error(format!("{at}.alg"), format!("`{alg}` is not a supported algorithm")),
                    Some(alg) if !self.algorithms.contains(&alg) => report.warning(format!("{at}.alg"), format!("`{alg}` is not in the provider's `algorithms`: this key will never be used")),
                    Some(_) => {}
                }
            }
        }
    }
}

fn is_local_http(url: &str) -> bool {
    ["http://localhost", "http://127.0.0.1", "http://[::1]"].iter().any(|p| {
        url.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
    })
}

fn validate_sources(path: &str, sources: &[TokenSource], report: &mut ValidationReport) {
    for (i, source) in sources.iter().enumerate() {
        match source {
            TokenSource::Header { name, .. } if !is_header_name(name) => {
                report.error(format!("{path}[{i}].header.name"), format!("`{name}` is not a valid header name"));
            }
            TokenSource::Query { name } | TokenSource::Cookie { name } if name.trim().is_empty() => {
                report.error(format!("{path}[{i}]"), "the name must not be empty");
            }
            _ => {}
        }
    }
}

impl ApiKey {
    fn validate(&self, path: &str, targets: &BTreeSet<&str>, report: &mut ValidationReport) {
        if self.id.trim().is_empty() {
            report.error(format!("{path}.id"), "must not be empty: name the service account, such as `ci-bot`");
        }
        if parse_api_key_hash(&self.hash).is_none() {
            report.error(format!("{path}.hash"), "must be `sha256:` and 64 hex digits: hash the key with `portcullis_policy::identity::hash_api_key`, never store it raw");
        }
        if self.subject.trim().is_empty() {
            report.error(format!("{path}.subject"), "must not be empty: it is what rules and upstreams see");
        }
        unknown_targets(path, &self.targets, targets, report);
    }
}

fn unknown_targets(path: &str, named: &[String], targets: &BTreeSet<&str>, report: &mut ValidationReport) {
    for (i, name) in named.iter().enumerate() {
        if !targets.contains(name.as_str()) {
            report.error(format!("{path}.targets[{i}]"), format!("`{name}` is not a target: define it under `identity.targets` or fix the name"));
        }
    }
}

fn is_method(method: &str) -> bool {
    !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase())
}

impl Target {
    fn validate(&self, path: &str, report: &mut ValidationReport) {
        if self.name.trim().is_empty() {
            report.error(format!("{path}.name"), "must not be empty: name the upstream, such as `openai`");
        }
        if self.hosts.is_empty() {
            report.error(format!("{path}.hosts"), "must list at least one host, such as `api.openai.com`");
        }
        for (i, host) in self.hosts.iter().enumerate() {
            if host.is_empty() || host.contains(['/', ' ']) || host.contains("://") {
                report.error(format!("{path}.hosts[{i}]"), format!("`{host}` is not a host name: write it without scheme or path, such as `api.openai.com`"));
            }
        }
        if !self.path_prefix.starts_with('/') {
            report.error(format!("{path}.path_prefix"), "must start with `/`");
        }
        for (i, method) in self.methods.iter().enumerate() {
            if !is_method(method) {
                report.error(format!("{path}.methods[{i}]"), format!("`{method}` is not an HTTP method: write it in upper case, such as `POST`"));
            }
        }
        if let Some(credential) = &self.credential {
            if !is_header_name(&credential.header) {
                report.error(format!("{path}.credential.header"), format!("`{}` is not a valid header name", credential.header));
            }
            if credential.secret_ref.trim().is_empty() {
                report.error(format!("{path}.credential.secret_ref"), "must name the stored secret to send upstream");
            }
        }
        for (i, header) in self.strip_headers.iter().enumerate() {
            if !is_header_name(header) {
                report.error(format!("{path}.strip_headers[{i}]"), format!("`{header}` is not a valid header name"));
            }
        }
    }
}

impl AccessRule {
    fn validate(&self, path: &str, targets: &BTreeSet<&str>, report: &mut ValidationReport) {
        if self.name.trim().is_empty() {
            report.error(format!("{path}.name"), "must not be empty: denials name the rule, so make it telling");
        }
        unknown_targets(path, &self.targets, targets, report);
        for (i, method) in self.methods.iter().enumerate() {
            if !is_method(method) {
                report.error(format!("{path}.methods[{i}]"), format!("`{method}` is not an HTTP method: write it in upper case, such as `POST`"));
            }
        }
        for (i, prefix) in self.paths.iter().enumerate() {
            if !prefix.starts_with('/') {
                report.error(format!("{path}.paths[{i}]"), "must start with `/`");
            }
        }
        for (field, list) in [("subjects", &self.subjects), ("groups", &self.groups), ("models", &self.models)] {
            for (i, value) in list.iter().enumerate() {
                if value.trim().is_empty() {
                    report.error(format!("{path}.{field}[{i}]"), "must not be empty");
                }
            }
        }
        let unconditional = self.subjects.is_empty() && self.groups.is_empty() && self.claims.is_empty()
            && self.targets.is_empty() && self.models.is_empty() && self.methods.is_empty() && self.paths.is_empty();
        if unconditional && self.effect == Effect::Allow {
            report.warning(path, "has no conditions: it allows every authenticated caller everything, and later rules never apply");
        }
    }
}

impl IdentityHeaders {
    fn validate(&self, report: &mut ValidationReport) {
        let fields = [("subject", &self.subject), ("groups", &self.groups), ("client_id", &self.client_id), ("provider", &self.provider)];
        let mut seen = BTreeSet::new();
        for (field, name) in fields {
            let path = format!("identity.identity_headers.{field}");
            if !is_header_name(name) {
                report.error(path, format!("`{name}` is not a valid header name"));
            } else if ["authorization", "cookie", "host"].iter().any(|h| name.eq_ignore_ascii_case(h)) || name.starts_with(':') {
                report.error(path, format!("`{name}` is a standard header: pick a dedicated name such as `x-portcullis-{field}`"));
            } else if !seen.insert(name.to_ascii_lowercase()) {
                report.error(path, format!("`{name}` is already used by another identity header"));
            }
        }
    }
}
