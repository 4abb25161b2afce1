//! Verification keys of the identity providers, fetched by the control plane so that
//! filters never call a provider themselves.
//!
//! Every key source (a `jwks_url`, or a `discovery_url` whose `jwks_uri` is read) gets
//! one background task that fetches it, keeps the last good key set, and fetches again
//! when the answer's `Cache-Control: max-age` runs out (clamped between
//! [`JwksSettings::min_refresh`] and [`JwksSettings::max_age`]; five minutes when the
//! answer gives none). A failed fetch keeps the last good keys and retries with
//! exponential backoff; when there never were keys, the provider is served without any,
//! so filters refuse its tokens (fail closed) until a fetch succeeds.
//!
//! Filters that meet a token with an unknown `kid` ask for an early refetch
//! ([`JwksCache::request_refresh`]), granted at most once per
//! [`JwksSettings::min_refresh`] per source, so a key rotation at the provider is picked
//! up within seconds without letting callers hammer it.
//!
//! Every change of any key set bumps [`JwksCache::generation`]: the bundle cache
//! compares it to know when to reassemble.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use portcullis_policy::identity::{IdentityProvider, Jwks};
use reqwest::header::{HeaderMap, ACCEPT, CACHE_CONTROL};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};

/// Refresh interval when an answer carries no `max-age` (still clamped to the bounds).
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// Longest wait between two retries of a failing source.
const MAX_RETRY: Duration = Duration::from_secs(60);
/// Largest discovery document or key set accepted.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most keys kept from one key set.
const MAX_KEYS: usize = 100;

/// How keys are fetched and refreshed.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    /// Shortest time between two fetches of one source: the floor for `max-age`, and the
    /// rate limit of unknown-`kid` refreshes.
    pub min_refresh: Duration,
    /// Longest time keys are kept without a refetch: the ceiling for `max-age`.
    pub max_age: Duration,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// First wait before retrying a failed fetch; it doubles with each failure, up to a
    /// minute (or `max_age`, when shorter).
    pub first_retry: Duration,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            min_refresh: Duration::from_secs(30),
            max_age: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(1),
        }
    }
}

/// Where one provider's keys come from. `jwks_url` wins when both are set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct KeySource {
    /// The key set's address, read directly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// An OpenID discovery document naming the key set's address in `jwks_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery_url: Option<String>,
}

impl KeySource {
    /// The source of `provider`'s remote keys; `None` when it only has inline keys.
    pub fn of(provider: &IdentityProvider) -> Option<Self> {
        match (&provider.jwks_url, &provider.discovery_url) {
            (Some(url), _) => Some(Self { jwks_url: Some(url.clone()), discovery_url: None }),
            (None, Some(url)) => Some(Self { jwks_url: None, discovery_url: Some(url.clone()) }),
            (None, None) => None,
        }
    }

    fn describe(&self) -> &str {
        self.jwks_url.as_deref().or(self.discovery_url.as_deref()).unwrap_or("(no address)")
    }
}

/// What [`JwksCache::request_refresh`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshOutcome {
    /// A fetch was started.
    Started,
    /// The source was fetched (or a fetch was requested) too recently.
    RateLimited,
}

/// The state of one source, for operators and tests.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    /// The source.
    #[serde(flatten)]
    pub source: KeySource,
    /// Number of keys held (the last good set).
    pub keys: usize,
    /// Fetches finished, successful or not.
    pub attempts: u64,
    /// Failures since the last success.
    pub failures: u32,
    /// Why the last fetch failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Fetched key sets, one background task per source. Cheap to clone.
#[derive(Debug, Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    settings: JwksSettings,
    entries: Mutex<HashMap<KeySource, Entry>>,
    generation: AtomicU64,
    next_id: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    /// Tells the task that owns this entry apart from an earlier, replaced one.
    id: u64,
    keys: Option<Jwks>,
    last_attempt: Option<Instant>,
    last_refresh_request: Option<Instant>,
    last_used: Instant,
    failures: u32,
    last_error: Option<String>,
    wake: Arc<Notify>,
    attempts: watch::Sender<u64>,
}

impl JwksCache {
    /// An empty cache; fetches start when sources are first asked for.
    pub fn new(mut settings: JwksSettings) -> anyhow::Result<Self> {
        settings.max_age = settings.max_age.max(settings.min_refresh);
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("portcullis-control-plane/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("could not build the HTTP client for JWKS fetches")?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                settings,
                entries: Mutex::new(HashMap::new()),
                generation: AtomicU64::new(0),
                next_id: AtomicU64::new(0),
            }),
        })
    }

    /// Bumped whenever any key set changes.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// The last good keys of `source`, starting its fetch task on first use.
    /// `None` while no fetch has succeeded.
    pub fn keys(&self, source: &KeySource) -> Option<Jwks> {
        let mut entries = self.inner.lock();
        let entry = self.inner.entry(&mut entries, source);
        entry.last_used = Instant::now();
        entry.keys.clone()
    }

    /// Starts fetching every source not fetched yet and waits (bounded by twice the
    /// request timeout) for each to have been tried once. Returns, per source still
    /// without keys, why.
    pub async fn prime(&self, sources: &BTreeSet<KeySource>) -> Vec<(KeySource, String)> {
        let receivers: Vec<_> = {
            let mut entries = self.inner.lock();
            sources
                .iter()
                .map(|source| {
                    let entry = self.inner.entry(&mut entries, source);
                    entry.last_used = Instant::now();
                    entry.attempts.subscribe()
                })
                .collect()
        };
        let deadline = tokio::time::Instant::now() + self.inner.settings.timeout * 2 + Duration::from_secs(1);
        for mut receiver in receivers {
            let _ = tokio::time::timeout_at(deadline, receiver.wait_for(|attempts| *attempts > 0)).await;
        }
        let entries = self.inner.lock();
        sources
            .iter()
            .filter_map(|source| {
                let entry = entries.get(source)?;
                if entry.keys.is_some() {
                    return None;
                }
                let why = entry.last_error.clone().unwrap_or_else(|| "the first fetch has not finished yet".to_owned());
                Some((source.clone(), why))
            })
            .collect()
    }

    /// Stops fetching sources outside `keep` that were not used for a while (a grace
    /// period, so sources primed for a policy about to be stored are not dropped).
    pub fn retain(&self, keep: &BTreeSet<KeySource>) {
        let grace = self.inner.settings.max_age.min(Duration::from_secs(60));
        let mut entries = self.inner.lock();
        entries.retain(|source, entry| {
            let kept = keep.contains(source) || entry.last_used.elapsed() < grace;
            if !kept {
                tracing::info!(source = source.describe(), "no provider uses these keys any more: stopped fetching them");
                entry.wake.notify_one();
            }
            kept
        });
    }

    /// Asks for an early fetch of `source`, as when a filter met an unknown `kid`.
    /// Granted at most once per [`JwksSettings::min_refresh`].
    pub fn request_refresh(&self, source: &KeySource) -> RefreshOutcome {
        let min_refresh = self.inner.settings.min_refresh;
        let mut entries = self.inner.lock();
        let entry = self.inner.entry(&mut entries, source);
        let recent = [entry.last_attempt, entry.last_refresh_request].into_iter().flatten().any(|at| at.elapsed() < min_refresh);
        if recent {
            return RefreshOutcome::RateLimited;
        }
        entry.last_refresh_request = Some(Instant::now());
        entry.wake.notify_one();
        tracing::info!(source = source.describe(), "refetching keys early: a filter met an unknown key id");
        RefreshOutcome::Started
    }

    /// Every source's state.
    pub fn status(&self) -> Vec<SourceStatus> {
        let entries = self.inner.lock();
        let mut status: Vec<_> = entries
            .iter()
            .map(|(source, entry)| SourceStatus {
                source: source.clone(),
                keys: entry.keys.as_ref().map_or(0, |k| k.keys.len()),
                attempts: *entry.attempts.borrow(),
                failures: entry.failures,
                last_error: entry.last_error.clone(),
            })
            .collect();
        status.sort_by(|a, b| a.source.cmp(&b.source));
        status
    }

    /// Waits until `source` has finished more than `after` fetches, or `within` passed.
    /// Returns the number of fetches finished.
    pub async fn wait_for_attempts(&self, source: &KeySource, after: u64, within: Duration) -> u64 {
        let mut receiver = {
            let mut entries = self.inner.lock();
            self.inner.entry(&mut entries, source).attempts.subscribe()
        };
        let _ = tokio::time::timeout(within, receiver.wait_for(|n| *n > after)).await;
        let attempts = *receiver.borrow();
        attempts
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, HashMap<KeySource, Entry>> {
        // A panic while holding the lock leaves the map consistent: keep going.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The entry of `source`, created with its fetch task when missing.
    fn entry<'a>(self: &Arc<Self>, entries: &'a mut HashMap<KeySource, Entry>, source: &KeySource) -> &'a mut Entry {
        entries.entry(source.clone()).or_insert_with(|| {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let wake = Arc::new(Notify::new());
            let (attempts, _) = watch::channel(0);
            tokio::spawn(run(Arc::downgrade(self), source.clone(), id, Arc::clone(&wake)));
            Entry {
                id,
                keys: None,
                last_attempt: None,
                last_refresh_request: None,
                last_used: Instant::now(),
                failures: 0,
                last_error: None,
                wake,
                attempts,
            }
        })
    }

    /// Records the outcome of a fetch; returns when to fetch next, or `None` when the
    /// entry is gone and its task must stop.
    fn record(&self, source: &KeySource, id: u64, result: anyhow::Result<Fetched>) -> Option<Duration> {
        let settings = &self.settings;
        let mut entries = self.lock();
        let entry = entries.get_mut(source).filter(|entry| entry.id == id)?;
        entry.last_attempt = Some(Instant::now());
        let next = match result {
            Ok(fetched) => {
                if entry.keys.as_ref() != Some(&fetched.keys) {
                    tracing::info!(source = source.describe(), keys = fetched.keys.keys.len(), "provider keys updated");
                    entry.keys = Some(fetched.keys);
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
                entry.failures = 0;
                entry.last_error = None;
                fetched.max_age.unwrap_or(DEFAULT_MAX_AGE).clamp(settings.min_refresh, settings.max_age)
            }
            Err(e) => {
                let error = format!("{e:#}");
                entry.failures = entry.failures.saturating_add(1);
                let retry = backoff(settings, entry.failures);
                if entry.keys.is_some() {
                    tracing::warn!(source = source.describe(), %error, retry_secs = retry.as_secs_f32(), "could not refresh provider keys: keeping the last good keys");
                } else {
                    tracing::warn!(source = source.describe(), %error, retry_secs = retry.as_secs_f32(), "could not fetch provider keys: its tokens are refused until a fetch succeeds");
                }
                entry.last_error = Some(error);
                retry
            }
        };
        entry.attempts.send_modify(|n| *n += 1);
        Some(next)
    }

    fn is_current(&self, source: &KeySource, id: u64) -> bool {
        self.lock().get(source).is_some_and(|entry| entry.id == id)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for entry in self.lock().values() {
            entry.wake.notify_one();
        }
    }
}

fn backoff(settings: &JwksSettings, failures: u32) -> Duration {
    let cap = MAX_RETRY.min(settings.max_age).max(settings.first_retry);
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    settings.first_retry.saturating_mul(factor).min(cap)
}

/// The fetch task of one source: fetch, record, sleep until stale or woken; stops when
/// its entry is removed or the cache dropped.
async fn run(cache: Weak<Inner>, source: KeySource, id: u64, wake: Arc<Notify>) {
    loop {
        let client = match cache.upgrade() {
            Some(inner) if inner.is_current(&source, id) => inner.client.clone(),
            _ => return,
        };
        let result = fetch(&client, &source).await;
        let next = match cache.upgrade() {
            Some(inner) => inner.record(&source, id, result),
            None => None,
        };
        let Some(next) = next else { return };
        tokio::select! {
            () = tokio::time::sleep(next) => {}
            () = wake.notified() => {}
        }
    }
}

struct Fetched {
    keys: Jwks,
    max_age: Option<Duration>,
}

#[derive(Deserialize)]
struct Discovery {
    jwks_uri: String,
}

async fn fetch(client: &reqwest::Client, source: &KeySource) -> anyhow::Result<Fetched> {
    let jwks_url = match (&source.jwks_url, &source.discovery_url) {
        (Some(url), _) => url.clone(),
        (None, Some(discovery_url)) => {
            let (body, _) = get(client, discovery_url).await?;
            let discovery: Discovery = serde_json::from_slice(&body)
                .with_context(|| format!("{discovery_url} is not an OpenID discovery document with `jwks_uri`"))?;
            if !is_allowed_url(&discovery.jwks_uri) {
                bail!("{discovery_url} names `jwks_uri` {}: only https:// (or http:// on localhost) is accepted", discovery.jwks_uri);
            }
            discovery.jwks_uri
        }
        (None, None) => bail!("the provider names no key address"),
    };
    let (body, max_age) = get(client, &jwks_url).await?;
    let jwks: Jwks = serde_json::from_slice(&body).with_context(|| format!("{jwks_url} is not a JWK set"))?;
    Ok(Fetched { keys: public_keys(jwks), max_age })
}

/// Keeps the public signature keys of a fetched set: a provider's JWKS never supplies
/// shared secrets, and `secret_ref` (a Portcullis extension) is only honoured in
/// documents the operator wrote.
fn public_keys(jwks: Jwks) -> Jwks {
    let keys = jwks
        .keys
        .into_iter()
        .filter(|key| matches!(key.kty.as_str(), "RSA" | "EC" | "OKP"))
        .map(|mut key| {
            key.k = None;
            key.secret_ref = None;
            key
        })
        .take(MAX_KEYS)
        .collect();
    Jwks { keys }
}

async fn get(client: &reqwest::Client, url: &str) -> anyhow::Result<(Vec<u8>, Option<Duration>)> {
    let mut response = client
        .get(url)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .with_context(|| format!("GET {url} failed"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("GET {url} answered {status}");
    }
    let max_age = max_age(response.headers());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.with_context(|| format!("reading {url} failed"))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            bail!("{url} answered more than {MAX_BODY_BYTES} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, max_age))
}

/// `max-age` of a `Cache-Control` header; `no-cache` and `no-store` count as zero.
fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(CACHE_CONTROL)?.to_str().ok()?;
    let mut found = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            found = seconds.trim_matches('"').parse().ok().map(Duration::from_secs);
        }
    }
    found
}

/// https://, or http:// to this machine only.
fn is_allowed_url(url: &str) -> bool {
    url.starts_with("https://")
        || ["http://localhost", "http://127.0.0.1", "http://[::1]"]
            .iter()
            .any(|p| url.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/'])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(cache_control: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_str(cache_control).unwrap());
        headers
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age(&headers("public, max-age=600")), Some(Duration::from_secs(600)));
        assert_eq!(max_age(&headers("Max-Age=5, must-revalidate")), Some(Duration::from_secs(5)));
        assert_eq!(max_age(&headers("no-store")), Some(Duration::ZERO));
        assert_eq!(max_age(&headers("public")), None);
        assert_eq!(max_age(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let settings = JwksSettings::default();
        let waits: Vec<u64> = (1..=8).map(|n| backoff(&settings, n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn fetched_sets_keep_public_keys_only() {
        let jwks: Jwks = serde_json::from_str(
            r#"{"keys":[{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB","secret_ref":"x"},{"kty":"oct","kid":"s","k":"c2VjcmV0"}]}"#,
        )
        .unwrap();
        let kept = public_keys(jwks);
        assert_eq!(kept.keys.len(), 1);
        assert_eq!(kept.keys[0].secret_ref, None);
    }

    #[test]
    fn only_https_or_local_http_urls_are_followed() {
        assert!(is_allowed_url("https://login.example.com/jwks"));
        assert!(is_allowed_url("http://127.0.0.1:8080/jwks"));
        assert!(!is_allowed_url("http://login.example.com/jwks"));
        assert!(!is_allowed_url("http://localhost.evil.com/jwks"));
    }
}
