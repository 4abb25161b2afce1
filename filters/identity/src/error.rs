//! Authentication and authorization failures, and the responses that report them.

use std::fmt;

use portcullis_policy::ErrorBody;

/// Why a request could not be authenticated. Each has a stable code (see [`AuthErrorCode::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorCode {
    /// No token or API key was found where the policy looks for them.
    MissingCredentials,
    /// The token is longer than `max_token_bytes`.
    TokenTooLarge,
    /// Not a compact JWS: wrong segment count, bad base64url, bad JSON, missing fields.
    MalformedToken,
    /// The `alg` header is `none` or not supported.
    UnsupportedAlgorithm,
    /// The `alg` header is not among the provider's `algorithms`.
    AlgorithmNotAllowed,
    /// No key matches the token's `kid` (or there are several keys and no `kid`).
    UnknownKey,
    /// The selected key cannot verify this algorithm (algorithm confusion).
    KeyAlgorithmMismatch,
    /// The provider has no usable verification keys.
    NoKeys,
    /// The signature does not verify.
    InvalidSignature,
    /// `exp` has passed (beyond the clock skew).
    Expired,
    /// `nbf` is still in the future (beyond the clock skew).
    NotYetValid,
    /// `iat` is in the future (beyond the clock skew).
    IssuedInFuture,
    /// `exp` is further from `iat`/`nbf` than `max_lifetime_secs`.
    LifetimeTooLong,
    /// No provider trusts the token's `iss`.
    UntrustedIssuer,
    /// None of the token's `aud` values is accepted.
    InvalidAudience,
    /// A required claim, `exp` or the subject claim is missing.
    MissingClaim,
    /// A required claim has a value that is not accepted.
    ClaimNotAccepted,
    /// The API key is not known.
    InvalidApiKey,
    /// The API key has expired.
    ApiKeyExpired,
}

impl AuthErrorCode {
    /// The stable machine-readable code, such as `portcullis_token_expired`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::MissingCredentials => "portcullis_missing_credentials",
            Self::TokenTooLarge => "portcullis_token_too_large",
            Self::MalformedToken => "portcullis_malformed_token",
            Self::UnsupportedAlgorithm => "portcullis_unsupported_algorithm",
            Self::AlgorithmNotAllowed => "portcullis_algorithm_not_allowed",
            Self::UnknownKey => "portcullis_unknown_key",
            Self::KeyAlgorithmMismatch => "portcullis_key_algorithm_mismatch",
            Self::NoKeys => "portcullis_no_keys",
            Self::InvalidSignature => "portcullis_invalid_signature",
            Self::Expired => "portcullis_token_expired",
            Self::NotYetValid => "portcullis_token_not_yet_valid",
            Self::IssuedInFuture => "portcullis_token_issued_in_future",
            Self::LifetimeTooLong => "portcullis_token_lifetime_too_long",
            Self::UntrustedIssuer => "portcullis_untrusted_issuer",
            Self::InvalidAudience => "portcullis_invalid_audience",
            Self::MissingClaim => "portcullis_missing_claim",
            Self::ClaimNotAccepted => "portcullis_claim_not_accepted",
            Self::InvalidApiKey => "portcullis_invalid_api_key",
            Self::ApiKeyExpired => "portcullis_api_key_expired",
        }
    }

    /// Whether the same token could pass later without any policy change, so that its
    /// rejection must not be remembered (`nbf`/`iat` in the future).
    pub const fn is_transient(self) -> bool {
        matches!(self, Self::NotYetValid | Self::IssuedInFuture)
    }
}

/// A failed authentication: answer it with 401 (see [`AuthError::www_authenticate`] and
/// [`AuthError::body_json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    /// What went wrong.
    pub code: AuthErrorCode,
    /// Human-readable detail; never contains secrets or the token.
    pub message: String,
    /// For [`AuthErrorCode::UnknownKey`]: the provider and the `kid` it does
    /// not know, so the filter can ask the control plane to refresh keys.
    pub unknown_key: Option<(String, String)>,
}

impl AuthError {
    /// Builds an error.
    pub fn new(code: AuthErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), unknown_key: None }
    }

    /// Records which provider lacks which key id.
    pub fn with_unknown_key(mut self, provider: impl Into<String>, kid: impl Into<String>) -> Self {
        self.unknown_key = Some((provider.into(), kid.into()));
        self
    }

    /// The provider and key id of an unknown-key failure.
    pub fn unknown_key(&self) -> Option<(&str, &str)> {
        self.unknown_key.as_ref().map(|(provider, kid)| (provider.as_str(), kid.as_str()))
    }

    /// HTTP status to answer with: always 401.
    pub const fn status(&self) -> u16 {
        401
    }

    /// The `WWW-Authenticate` value (RFC 6750): no `error` when credentials were simply absent.
    pub fn www_authenticate(&self) -> String {
        if self.code == AuthErrorCode::MissingCredentials {
            return String::from("Bearer realm=\"portcullis\"");
        }
        format!(
            "Bearer realm=\"portcullis\", error=\"invalid_token\", error_description=\"{}\"",
            quoted_safe(&self.message)
        )
    }

    /// The OpenAI-style JSON body: `{"error":{"message","type":"authentication_error","code"}}`.
    pub fn body_json(&self) -> String {
        ErrorBody::new("authentication_error", self.code.code(), self.message.clone()).to_json()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.code(), self.message)
    }
}

impl std::error::Error for AuthError {}

/// Keeps only characters RFC 6750 allows in `error_description` (printable ASCII but `"` and `\`).
fn quoted_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\') { c } else { '\'' })
        .take(300)
        .collect()
}

/// A refused authorization: answer it with 403 and [`Denied::body_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The rule that denied, or `None` when no rule matched (default deny).
    pub rule: Option<String>,
    /// Human-readable reason.
    pub reason: String,
}

impl Denied {
    /// The stable code of every denial.
    pub const CODE: &'static str = "portcullis_access_denied";

    /// HTTP status to answer with: always 403.
    pub const fn status(&self) -> u16 {
        403
    }

    /// The OpenAI-style JSON body, of type `permission_error`, naming the rule.
    pub fn body_json(&self) -> String {
        ErrorBody::new("permission_error", Self::CODE, self.reason.clone()).to_json()
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Denied {}

/// A target's upstream credential is configured but its secret was not put in the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialUnavailable {
    /// The target.
    pub target: String,
}

impl CredentialUnavailable {
    /// The stable code.
    pub const CODE: &'static str = "portcullis_credential_unavailable";

    /// HTTP status to answer with: 503, as the gateway, not the caller, is at fault.
    pub const fn status(&self) -> u16 {
        503
    }

    /// The OpenAI-style JSON body, of type `api_error`.
    pub fn body_json(&self) -> String {
        ErrorBody::new("api_error", Self::CODE, self.to_string()).to_json()
    }
}

impl fmt::Display for CredentialUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the upstream credential of target `{}` is not available to the gateway", self.target)
    }
}

impl std::error::Error for CredentialUnavailable {}
