//! Assembling the bundle served to filters from the stored policy.
//!
//! The stored document holds names (`secret_ref`) and addresses (`jwks_url`,
//! `discovery_url`), never secrets or fetched keys. The bundle a filter receives is
//! that document with:
//! - each provider's `jwks`: its inline keys as written (with `oct` keys' `k` filled
//!   from their `secret_ref`), followed by the keys fetched from its address (a fetched
//!   key whose `kid` is already inline is left out); an empty set while no fetch has
//!   succeeded, so filters refuse the provider's tokens;
//! - each target credential's `value`, resolved from its `secret_ref`; left out when the
//!   secret cannot be resolved, so filters refuse to forward to that target;
//! - `masking.hmac_key`, resolved from `masking.hmac_key_ref` (the key of the `hash`
//!   operator); left out when it cannot be resolved (or no ref is named), so a policy
//!   that hashes makes the masking filter refuse requests (fail closed).
//!
//! The assembled bytes and their ETag are cached and rebuilt only when the policy
//! version, a fetched key set, or a resolved secret changes (secrets are re-read at most
//! every [`BundleSettings::secrets_recheck`]). The ETag is
//! `"<version>-<first 16 hex digits of the SHA-256 of the bundle JSON>"`, so it changes
//! whenever the bytes do.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use base64::Engine as _;
use portcullis_policy::identity::{Jwk, Jwks, SecretValue};
use portcullis_policy::{Policy, PolicyBundle, Problem};
use sha2::{Digest, Sha256};

use crate::jwks::{JwksCache, JwksSettings, KeySource, RefreshOutcome};
use crate::secrets::SecretSource;
use crate::store::PolicyStore;

/// How bundles are assembled.
#[derive(Debug, Clone)]
pub struct BundleSettings {
    /// Fetching of provider keys.
    pub jwks: JwksSettings,
    /// Directory of secret files (see [`crate::secrets`]).
    pub secrets_dir: Option<PathBuf>,
    /// Longest time a resolved secret is served before it is read again.
    pub secrets_recheck: Duration,
}

impl Default for BundleSettings {
    fn default() -> Self {
        Self { jwks: JwksSettings::default(), secrets_dir: None, secrets_recheck: Duration::from_secs(10) }
    }
}

/// One assembled bundle, ready to serve.
#[derive(Debug)]
pub struct Assembled {
    /// Policy version it was built from.
    pub version: u64,
    /// Strong ETag, quoted: `"<version>-<16 hex digits>"`.
    pub etag: String,
    /// The `PolicyBundle` as JSON.
    pub body: Bytes,
    jwks_generation: u64,
    /// Every secret the bundle uses, as resolved then (`None`: unresolved).
    secrets: BTreeMap<String, Option<SecretValue>>,
    providers: BTreeMap<String, ProviderKeys>,
}

#[derive(Debug)]
struct ProviderKeys {
    source: Option<KeySource>,
    kids: BTreeSet<String>,
}

/// What an unknown-`kid` refresh request led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KidRefresh {
    /// The keys are being fetched again.
    Started,
    /// The provider's keys were fetched too recently; try again later.
    RateLimited,
    /// The bundle already holds that key: poll the policy again.
    KnownKid,
    /// The provider only has inline keys: nothing to fetch.
    StaticKeys,
}

/// Builds and caches bundles. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BundleService {
    store: PolicyStore,
    jwks: JwksCache,
    secrets: SecretSource,
    secrets_recheck: Duration,
    cache: Arc<tokio::sync::Mutex<Option<Slot>>>,
}

#[derive(Debug)]
struct Slot {
    assembled: Arc<Assembled>,
    secrets_checked_at: Instant,
}

impl BundleService {
    /// A service reading policies from `store`.
    pub fn new(store: PolicyStore, settings: BundleSettings) -> anyhow::Result<Self> {
        Ok(Self {
            store,
            jwks: JwksCache::new(settings.jwks)?,
            secrets: SecretSource::new(settings.secrets_dir),
            secrets_recheck: settings.secrets_recheck,
            cache: Arc::new(tokio::sync::Mutex::new(None)),
        })
    }

    /// The fetched provider keys.
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// The bundle for the version in force, rebuilt only when something changed;
    /// `None` before the first policy is applied.
    pub async fn current(&self) -> anyhow::Result<Option<Arc<Assembled>>> {
        let Some(version) = self.store.current_version().await? else { return Ok(None) };
        let mut slot = self.cache.lock().await;
        if let Some(slot) = slot.as_mut() {
            let fresh = slot.assembled.version == version
                && slot.assembled.jwks_generation == self.jwks.generation()
                && !self.secrets_changed(slot);
            if fresh {
                return Ok(Some(Arc::clone(&slot.assembled)));
            }
        }
        let Some(assembled) = self.assemble().await? else { return Ok(None) };
        let assembled = Arc::new(assembled);
        *slot = Some(Slot { assembled: Arc::clone(&assembled), secrets_checked_at: Instant::now() });
        Ok(Some(assembled))
    }

    /// Readies what `policy` needs before it is stored: starts fetching its providers'
    /// keys and waits briefly for the first fetch. Returns warnings for secrets that
    /// cannot be resolved and providers whose keys could not be fetched: the policy can
    /// still be applied, and filters fail closed on what is missing.
    pub async fn prepare(&self, policy: &Policy) -> Vec<Problem> {
        let mut warnings = Vec::new();
        for (path, name) in secret_refs(policy) {
            if let Err(e) = self.secrets.resolve(&name) {
                warnings.push(Problem { path, message: format!("{e}: it is left out of the bundle until it can be resolved") });
            }
        }
        let sources: BTreeSet<KeySource> = policy.identity.providers.iter().filter_map(KeySource::of).collect();
        let failures: BTreeMap<KeySource, String> = self.jwks.prime(&sources).await.into_iter().collect();
        for (i, provider) in policy.identity.providers.iter().enumerate() {
            if let Some(why) = KeySource::of(provider).and_then(|source| failures.get(&source)) {
                warnings.push(Problem {
                    path: format!("identity.providers[{i}]"),
                    message: format!("keys not fetched yet ({why}): tokens of `{}` are refused until a fetch succeeds; retrying", provider.name),
                });
            }
        }
        warnings
    }

    /// Handles a filter's report of a token signed with a key the bundle lacks.
    /// `Ok(None)` when no provider of the policy in force has that name.
    pub async fn refresh_for_kid(&self, provider: &str, kid: Option<&str>) -> anyhow::Result<Option<KidRefresh>> {
        let Some(assembled) = self.current().await? else { return Ok(None) };
        let Some(keys) = assembled.providers.get(provider) else { return Ok(None) };
        if kid.is_some_and(|kid| keys.kids.contains(kid)) {
            return Ok(Some(KidRefresh::KnownKid));
        }
        let Some(source) = &keys.source else { return Ok(Some(KidRefresh::StaticKeys)) };
        Ok(Some(match self.jwks.request_refresh(source) {
            RefreshOutcome::Started => KidRefresh::Started,
            RefreshOutcome::RateLimited => KidRefresh::RateLimited,
        }))
    }

    /// Re-reads the slot's secrets once per `secrets_recheck`; true when one changed.
    fn secrets_changed(&self, slot: &mut Slot) -> bool {
        if slot.secrets_checked_at.elapsed() < self.secrets_recheck {
            return false;
        }
        slot.secrets_checked_at = Instant::now();
        let changed = slot.assembled.secrets.iter().any(|(name, value)| self.secrets.resolve(name).ok() != *value);
        if changed {
            tracing::info!("a secret changed: reassembling the bundle");
        }
        changed
    }

    async fn assemble(&self) -> anyhow::Result<Option<Assembled>> {
        // Read the generation before the keys: a change in between triggers a rebuild.
        let jwks_generation = self.jwks.generation();
        let Some(PolicyBundle { version, mut policy }) = self.store.current().await? else { return Ok(None) };
        let sources: BTreeSet<KeySource> = policy.identity.providers.iter().filter_map(KeySource::of).collect();
        self.jwks.retain(&sources);

        let mut secrets = BTreeMap::new();
        let mut resolve = |name: &str| -> Option<SecretValue> {
            secrets
                .entry(name.to_owned())
                .or_insert_with(|| match self.secrets.resolve(name) {
                    Ok(value) => Some(value),
                    Err(e) => {
                        tracing::warn!(version, error = %e, "secret left out of the bundle");
                        None
                    }
                })
                .clone()
        };

        let mut providers = BTreeMap::new();
        for provider in &mut policy.identity.providers {
            let mut keys: Vec<Jwk> = provider.jwks.take().map(|jwks| jwks.keys).unwrap_or_default();
            for key in &mut keys {
                if let (Some(name), "oct") = (&key.secret_ref, key.kty.as_str()) {
                    key.k = resolve(name).map(|secret| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.expose()));
                }
            }
            let source = KeySource::of(provider);
            if let Some(fetched) = source.as_ref().and_then(|source| self.jwks.keys(source)) {
                for key in fetched.keys {
                    let duplicate = key.kid.is_some() && keys.iter().any(|k| k.kid == key.kid);
                    if !duplicate {
                        keys.push(key);
                    }
                }
            }
            let kids = keys.iter().filter_map(|k| k.kid.clone()).collect();
            providers.insert(provider.name.clone(), ProviderKeys { source, kids });
            provider.jwks = Some(Jwks { keys });
        }
        for target in &mut policy.identity.targets {
            if let Some(credential) = &mut target.credential {
                credential.value = resolve(&credential.secret_ref);
            }
        }
        // Always overwritten: a key written into the document never reaches filters.
        policy.masking.hmac_key = policy.masking.hmac_key_ref.clone().and_then(|name| resolve(&name));

        let body = serde_json::to_vec(&PolicyBundle { version, policy })?;
        let etag = etag(version, &body);
        tracing::info!(version, "bundle assembled");
        Ok(Some(Assembled { version, etag, body: Bytes::from(body), jwks_generation, secrets, providers }))
    }
}

/// `"<version>-<first 16 hex digits of sha256(body)>"`, quotes included.
pub fn etag(version: u64, body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("\"{version}-{hex}\"")
}

/// Every `secret_ref` of `policy` the bundle resolves (target credentials, `oct`
/// keys and the masking HMAC key), with its path.
pub fn secret_refs(policy: &Policy) -> Vec<(String, String)> {
    let mut refs = Vec::new();
    for (i, provider) in policy.identity.providers.iter().enumerate() {
        for (j, key) in provider.jwks.iter().flat_map(|jwks| jwks.keys.iter()).enumerate() {
            if let (Some(name), "oct") = (&key.secret_ref, key.kty.as_str()) {
                refs.push((format!("identity.providers[{i}].jwks.keys[{j}].secret_ref"), name.clone()));
            }
        }
    }
    for (i, target) in policy.identity.targets.iter().enumerate() {
        if let Some(credential) = &target.credential {
            refs.push((format!("identity.targets[{i}].credential.secret_ref"), credential.secret_ref.clone()));
        }
    }
    if let Some(name) = &policy.masking.hmac_key_ref {
        refs.push(("masking.hmac_key_ref".to_owned(), name.clone()));
    }
    refs
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::StatusCode;
    use base64::Engine as _;
    use serde_json::Value;
    use sqlx::Row;

    use super::*;
    use crate::app;
    use crate::testing::{apply_yaml, bundle, kids, options, request, send, state, FakeIdp, ADMIN};

    #[test]
    fn etag_is_version_and_digest_prefix() {
        // sha256("{}") = 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
        assert_eq!(etag(7, b"{}"), "\"7-44136fa355b3678a\"");
    }

    #[tokio::test]
    async fn bundle_carries_fetched_keys_and_stored_policy_does_not() {
        let idp = FakeIdp::start(&["k1", "k2"], 600).await;
        let state = state(options()).await;
        let app = app(state.clone());
        let (status, body) = apply_yaml(&app, &idp.policy()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["warnings"], serde_json::json!([]), "{body}");
        // Applying waited for the first fetch: the first bundle already has the keys.
        let (etag, served) = bundle(&app).await;
        assert_eq!(kids(&served, "corp"), ["k1", "k2"]);
        assert!(etag.starts_with("\"1-"), "{etag}");
        assert_eq!(idp.fetches(), 1);
        // Served again from the cache: no refetch, same ETag.
        assert_eq!(bundle(&app).await.0, etag);
        assert_eq!(idp.fetches(), 1);

        let (_, _, current) = send(&app, request("GET", "/v1/policy", Some(ADMIN), None, Body::empty())).await;
        assert!(current["policy"]["identity"]["providers"][0].get("jwks").is_none(), "{current}");
        let status = state.bundles.jwks().status();
        assert_eq!((status[0].keys, status[0].attempts, status[0].failures), (2, 1, 0));
    }

    #[tokio::test]
    async fn keys_are_refetched_when_max_age_runs_out_and_the_etag_follows() {
        let idp = FakeIdp::start(&["k1"], 1).await;
        let app = app(state(options()).await);
        apply_yaml(&app, &idp.policy()).await;
        let (first_etag, served) = bundle(&app).await;
        assert_eq!(kids(&served, "corp"), ["k1"]);
        idp.set_kids(&["k2"]);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let (etag, served) = loop {
            let (etag, served) = bundle(&app).await;
            if etag != first_etag || tokio::time::Instant::now() > deadline {
                break (etag, served);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(kids(&served, "corp"), ["k2"]);
        assert!(etag.starts_with("\"1-") && etag != first_etag, "same version, new keys: {etag}");
    }

    #[tokio::test]
    async fn a_provider_that_never_answered_is_served_without_keys_until_it_does() {
        let idp = FakeIdp::start(&["k1"], 600).await;
        idp.set_failing(true);
        let app = app(state(options()).await);
        let (status, body) = apply_yaml(&app, &idp.policy()).await;
        assert_eq!(status, StatusCode::CREATED, "the policy is applied all the same: {body}");
        assert_eq!(body["warnings"][0]["path"], "identity.providers[0]", "{body}");
        assert!(body["warnings"][0]["message"].as_str().unwrap().contains("503"), "{body}");
        let (_, served) = bundle(&app).await;
        assert!(kids(&served, "corp").is_empty(), "fail closed: {served}");

        // Retries (with backoff) pick the keys up once the provider recovers.
        idp.set_failing(false);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let (_, served) = bundle(&app).await;
            if !kids(&served, "corp").is_empty() {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "keys never arrived");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(idp.fetches() >= 2);
    }

    const HS_ENV_SECRET: &str = "hs-secret-from-the-environment";
    const FILE_SECRET: &str = "sk-upstream-secret-from-a-file";

    fn secrets_policy() -> &'static str {
        "name: secrets\ndescription: secrets by name\nidentity:\n  providers:\n    - name: hs\n      issuer: https://hs.example/\n      audiences: [portcullis]\n      algorithms: [HS256]\n      allow_hmac: true\n      jwks: { keys: [ { kty: oct, kid: hs1, secret_ref: cp-bundle-test-hs } ] }\n  targets:\n    - name: model\n      hosts: [model.example]\n      credential: { header: authorization, prefix: 'Bearer ', secret_ref: model-key }\n    - name: other\n      hosts: [other.example]\n      credential: { secret_ref: nowhere-to-be-found }\n  rules:\n    - { name: all, targets: [model, other], effect: allow }\n"
    }

    #[tokio::test]
    async fn secrets_reach_the_bundle_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model-key"), format!("{FILE_SECRET}\n")).unwrap();
        std::env::set_var(crate::secrets::env_var_name("cp-bundle-test-hs"), HS_ENV_SECRET);
        let mut options = options();
        options.bundle.secrets_dir = Some(dir.path().to_owned());
        options.bundle.secrets_recheck = Duration::ZERO;
        let state = state(options).await;
        let app = app(state.clone());

        let (status, body) = apply_yaml(&app, secrets_policy()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let warnings = body["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{body}");
        assert_eq!(warnings[0]["path"], "identity.targets[1].credential.secret_ref");
        assert!(warnings[0]["message"].as_str().unwrap().contains("nowhere-to-be-found"));

        let (etag, served) = bundle(&app).await;
        let targets = &served["policy"]["identity"]["targets"];
        assert_eq!(targets[0]["credential"]["value"], FILE_SECRET);
        assert!(targets[1]["credential"].get("value").is_none(), "unresolved: left out, {served}");
        let key = &served["policy"]["identity"]["providers"][0]["jwks"]["keys"][0];
        assert_eq!(key["k"], base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(HS_ENV_SECRET));

        // Not in the admin API, not in the database.
        for uri in ["/v1/policy", "/v1/policy/versions/1", "/v1/policy/versions"] {
            let (_, _, answer) = send(&app, request("GET", uri, Some(ADMIN), None, Body::empty())).await;
            let text = answer.to_string();
            assert!(!text.contains(FILE_SECRET) && !text.contains(HS_ENV_SECRET), "{uri}: {text}");
        }
        let rows = sqlx::query("SELECT * FROM policy_versions").fetch_all(state.store.pool()).await.unwrap();
        for row in rows {
            let document: String = row.get("document");
            assert!(document.contains("model-key"));
            assert!(!document.contains(FILE_SECRET) && !document.contains(HS_ENV_SECRET) && !document.contains("\"k\""), "{document}");
        }

        // A rotated secret changes the bundle and its ETag, under the same version.
        std::fs::write(dir.path().join("model-key"), "sk-rotated").unwrap();
        let (rotated_etag, served) = bundle(&app).await;
        assert_eq!(served["policy"]["identity"]["targets"][0]["credential"]["value"], "sk-rotated");
        assert_ne!(rotated_etag, etag);
        assert!(rotated_etag.starts_with("\"1-"));
        // Unchanged secrets keep the ETag.
        assert_eq!(bundle(&app).await.0, rotated_etag);
    }

    #[tokio::test]
    async fn the_masking_hmac_key_reaches_the_bundle_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mask-key"), "hmac-key-from-a-file\n").unwrap();
        let mut options = options();
        options.bundle.secrets_dir = Some(dir.path().to_owned());
        let app = app(state(options).await);
        let yaml = "name: m\ndescription: d\nmasking:\n  entities: { email: { operator: { hash: {} } } }\n  hmac_key_ref: mask-key\n";
        let (status, body) = apply_yaml(&app, yaml).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, served) = bundle(&app).await;
        assert_eq!(served["policy"]["masking"]["hmac_key"], "hmac-key-from-a-file");
        let (_, _, current) = send(&app, request("GET", "/v1/policy", Some(ADMIN), None, Body::empty())).await;
        assert!(!current.to_string().contains("hmac-key-from-a-file"), "{current}");

        // An unresolvable key is left out (the filter then fails closed) and warned about.
        let yaml = "name: m\ndescription: d\nmasking:\n  entities: { email: { operator: { hash: {} } } }\n  hmac_key_ref: no-such-mask-key\n";
        let (status, body) = apply_yaml(&app, yaml).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["warnings"][0]["path"], "masking.hmac_key_ref", "{body}");
        let (_, served) = bundle(&app).await;
        assert!(served["policy"]["masking"].get("hmac_key").is_none(), "{served}");
    }

    #[tokio::test]
    async fn inline_keys_are_kept_and_fetched_ones_follow() {
        let idp = FakeIdp::start(&["static", "fetched"], 600).await;
        let app = app(state(options()).await);
        let url = idp.url();
        let yaml = format!(
            "name: both\ndescription: d\nidentity:\n  providers:\n    - name: corp\n      issuer: {url}\n      audiences: [a]\n      jwks_url: {url}/jwks\n      jwks: {{ keys: [ {{ kty: RSA, kid: static, n: inline-n, e: AQAB }} ] }}\n"
        );
        let (status, body) = apply_yaml(&app, &yaml).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, served) = bundle(&app).await;
        assert_eq!(kids(&served, "corp"), ["static", "fetched"]);
        let keys: &Value = &served["policy"]["identity"]["providers"][0]["jwks"]["keys"];
        assert_eq!(keys[0]["n"], "inline-n", "the inline key wins over a fetched one with its kid");
    }
}
