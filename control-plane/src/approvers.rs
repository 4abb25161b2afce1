//! Who is calling the approvals API: OIDC access tokens checked against the identity
//! providers of the policy in force.
//!
//! The verifier is `portcullis-identity`'s [`Authenticator`], the one the filters run,
//! built from the bundle the filters get (with the keys the control plane fetched and
//! the `oct` secrets it resolved), so a token is accepted here exactly when the
//! gateway would accept it. It is rebuilt when the bundle's ETag changes and keeps its
//! cache of verified tokens in between. API keys are not accepted: approvers are people.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use portcullis_identity::{Authenticator, Identity};
use portcullis_policy::PolicyBundle;

use crate::bundle::BundleService;
use crate::error::ApiError;

/// Verifies approvers' tokens. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ApproverAuth {
    cache: Arc<Mutex<Option<Cached>>>,
}

#[derive(Debug)]
struct Cached {
    etag: String,
    authenticator: Authenticator,
}

impl ApproverAuth {
    /// The identity `token` proves under the policy in force.
    ///
    /// When the bundle changed, the approval settings of its guard section
    /// are handed to `holds` as well, so approvals follow the policy.
    pub async fn authenticate(&self, bundles: &BundleService, holds: &crate::holds::HoldService, token: &str) -> Result<Identity, ApiError> {
        if !self.follow_policy(bundles, holds).await? {
            return Err(ApiError::Unavailable("no policy has been applied yet: approvers sign in with the policy's identity providers".into()));
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut cache = self.lock();
        let cached = cache.as_mut().ok_or_else(|| anyhow::anyhow!("the approvers' verifier vanished"))?;
        cached.authenticator.authenticate_token(token, now).map_err(|e| ApiError::InvalidToken(e.message))
    }

    /// Brings the verifier and `holds`' approval settings up to the bundle
    /// being served, when it changed; `false` while no policy was applied.
    pub async fn follow_policy(&self, bundles: &BundleService, holds: &crate::holds::HoldService) -> Result<bool, ApiError> {
        let Some(bundle) = bundles.current().await? else { return Ok(false) };
        let mut cache = self.lock();
        if cache.as_ref().is_some_and(|cached| cached.etag == bundle.etag) {
            return Ok(true);
        }
        let parsed: PolicyBundle = serde_json::from_slice(&bundle.body).context("the bundle being served does not parse")?;
        let authenticator = Authenticator::new(&parsed.policy.identity).map_err(|e| anyhow::anyhow!("{e}"))?;
        holds.adopt_policy(&parsed.policy.guard);
        *cache = Some(Cached { etag: bundle.etag.clone(), authenticator });
        Ok(true)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Cached>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
