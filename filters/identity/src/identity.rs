//! The verified identity of a caller.

use std::collections::BTreeMap;

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// A JWT from the named provider.
    Jwt,
    /// A service-account API key.
    ApiKey {
        /// The key's `id`.
        id: String,
    },
}

/// Who the caller is, as established by [`crate::Authenticator::authenticate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The subject (`sub`, or the provider's `subject_claim`; the API key's `subject`).
    pub subject: String,
    /// Groups (from `groups_claim`; the API key's `groups`).
    pub groups: Vec<String>,
    /// Client id (`client_id`, else `azp`), when the token names one.
    pub client_id: Option<String>,
    /// Provider name, or `api-key`.
    pub provider: String,
    /// How the caller authenticated.
    pub method: AuthMethod,
    /// The claims access rules look at (only those), by the name rules use.
    pub claims: BTreeMap<String, serde_json::Value>,
    /// Unix time after which the credential is no longer valid, if it has one.
    pub expires_at: Option<u64>,
    /// Targets the credential is limited to (API keys); empty for any.
    pub targets: Vec<String>,
    /// Header the credential arrived in, removed before the request goes upstream.
    pub credential_header: Option<String>,
}

/// The provider name reported for API-key identities.
pub const API_KEY_PROVIDER: &str = "api-key";
