//! Host-independent identity for the Portcullis filters: who is calling, and may they?
//!
//! [`Authenticator`] is built once per policy version from the policy's
//! [`IdentityPolicy`](portcullis_policy::identity::IdentityPolicy): it parses every
//! verification key up front (RSA keys get their Montgomery parameters), then for each
//! request finds the credential ([`RequestParts`]), checks it cheapest-first (size,
//! shape, algorithm, key id, issuer, audience, times, required claims) and only then
//! verifies the signature. Verified tokens are cached by SHA-256 until they expire, and
//! rejected ones for a while, so a hot token, or a replayed forgery, costs one hash.
//!
//! [`Authenticator::authorize`] applies the access rules, and
//! [`Authenticator::header_plan`] says which headers to strip and set upstream.
//!
//! Nothing here touches a clock, a thread, a file or a random source: callers pass
//! `now` in Unix seconds. The crate builds for `wasm32-wasip1` as well as natively.
//!
//! Supported algorithms: RS256/384/512 and PS256/384/512 (2048 to 4096-bit keys; our own
//! Montgomery-form verification on `crypto-bigint`), ES256, ES384, EdDSA (Ed25519), and
//! HS256/384/512 only for providers that opt in with `allow_hmac`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authenticator;
pub mod authz;
mod cache;
mod error;
mod hash;
mod headers;
mod identity;
mod jwt;
mod keys;
mod provider;
mod request;
pub mod rsa;

pub use authenticator::{AuthStats, Authenticator, ConfigError};
pub use error::{AuthError, AuthErrorCode, CredentialUnavailable, Denied};
pub use hash::{HashAlg, HashOutput};
pub use headers::HeaderPlan;
pub use identity::{AuthMethod, Identity, API_KEY_PROVIDER};
pub use keys::{KeyError, VerifyingKey};
pub use request::{FnHeaders, Headers, RequestParts};
