//! Shared state of the HTTP handlers.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::store::PolicyStore;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Versioned policy.
    pub store: PolicyStore,
    fleet_token_digest: Arc<[u8; 32]>,
}

impl AppState {
    /// Builds the state; only a digest of the fleet token is kept.
    pub fn new(store: PolicyStore, fleet_token: &str) -> Self {
        Self { store, fleet_token_digest: Arc::new(Sha256::digest(fleet_token.as_bytes()).into()) }
    }

    /// Whether `presented` is the fleet token, compared in constant time.
    pub fn is_fleet_token(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(digest.ct_eq(&*self.fleet_token_digest))
    }
}
