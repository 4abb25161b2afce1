//! Shared state of the HTTP handlers.

use std::sync::Arc;

use anyhow::bail;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::approval::ApprovalSettings;
use crate::approvers::ApproverAuth;
use crate::bundle::{BundleService, BundleSettings};
use crate::holds::HoldService;
use crate::store::PolicyStore;
use crate::webhook::WebhookSettings;

/// Settings of [`AppState`] beyond the store and the fleet token.
#[derive(Debug, Clone, Default)]
pub struct StateOptions {
    /// Token of the admin API; `None` turns the admin API off (it answers 503).
    pub admin_token: Option<String>,
    /// How bundles are assembled: key fetching and secrets.
    pub bundle: BundleSettings,
    /// Who approves holds, how many must, and how long holds wait.
    pub approval: ApprovalSettings,
    /// Where hold news is posted, if anywhere.
    pub webhook: Option<WebhookSettings>,
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Versioned policy.
    pub store: PolicyStore,
    /// Bundles served to filters, with fetched keys and resolved secrets.
    pub bundles: BundleService,
    /// Held requests and their approvals.
    pub holds: HoldService,
    /// Verifies approvers' tokens with the policy's identity providers.
    pub approvers: ApproverAuth,
    fleet_token_digest: Arc<[u8; 32]>,
    admin_token_digest: Option<Arc<[u8; 32]>>,
}

impl AppState {
    /// Builds the state; only digests of the tokens are kept. Within a Tokio runtime,
    /// this starts the task that expires holds.
    ///
    /// Fails when a token is empty, or when the admin token equals the fleet token
    /// (every filter holds the fleet token: it must not grant admin rights), or when the
    /// webhook URL is not usable.
    pub fn new(store: PolicyStore, fleet_token: &str, options: StateOptions) -> anyhow::Result<Self> {
        if fleet_token.trim().is_empty() {
            bail!("the fleet token is empty: set --fleet-token (or PORTCULLIS_FLEET_TOKEN) to a long random value");
        }
        if let Some(admin) = &options.admin_token {
            if admin.trim().is_empty() {
                bail!("the admin token is empty: set --admin-token (or PORTCULLIS_ADMIN_TOKEN) to a long random value, or leave it unset to disable the policy API");
            }
            if admin == fleet_token {
                bail!("the admin token equals the fleet token: every filter holds the fleet token, so choose a different admin token");
            }
        }
        Ok(Self {
            bundles: BundleService::new(store.clone(), options.bundle)?,
            holds: HoldService::new(store.pool().clone(), options.approval, options.webhook)?,
            approvers: ApproverAuth::default(),
            store,
            fleet_token_digest: Arc::new(digest(fleet_token)),
            admin_token_digest: options.admin_token.as_deref().map(|token| Arc::new(digest(token))),
        })
    }

    /// Whether `presented` is the fleet token, compared in constant time.
    pub fn is_fleet_token(&self, presented: &str) -> bool {
        bool::from(digest(presented).ct_eq(&*self.fleet_token_digest))
    }

    /// Whether an admin token is configured (the admin API is on).
    pub fn admin_enabled(&self) -> bool {
        self.admin_token_digest.is_some()
    }

    /// Whether `presented` is the admin token, compared in constant time; always false
    /// when none is configured.
    pub fn is_admin_token(&self, presented: &str) -> bool {
        self.admin_token_digest.as_ref().is_some_and(|expected| bool::from(digest(presented).ct_eq(&**expected)))
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
