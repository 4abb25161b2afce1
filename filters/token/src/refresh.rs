//! Rate limit for asking the control plane to refresh a provider's keys.

use std::collections::BTreeMap;

/// Shortest interval between two refresh requests for the same key id.
pub const MIN_INTERVAL_SECS: u64 = 10;
/// Most key ids remembered; older entries are dropped past this.
const MAX_ENTRIES: usize = 256;

/// Remembers when each `(provider, kid)` was last reported.
#[derive(Debug, Default)]
pub struct RefreshLimiter {
    last: BTreeMap<(String, String), u64>,
}

impl RefreshLimiter {
    /// Whether to report `kid` of `provider` now; records the report if so.
    pub fn allow(&mut self, provider: &str, kid: &str, now_unix: u64) -> bool {
        let key = (provider.to_owned(), kid.to_owned());
        if let Some(last) = self.last.get(&key) {
            if now_unix.saturating_sub(*last) < MIN_INTERVAL_SECS {
                return false;
            }
        }
        if self.last.len() >= MAX_ENTRIES {
            self.last.retain(|_, at| now_unix.saturating_sub(*at) < MIN_INTERVAL_SECS);
            if self.last.len() >= MAX_ENTRIES {
                return false;
            }
        }
        self.last.insert(key, now_unix);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_report_per_kid_per_interval() {
        let mut limiter = RefreshLimiter::default();
        assert!(limiter.allow("idp", "k1", 100));
        assert!(!limiter.allow("idp", "k1", 105));
        assert!(limiter.allow("idp", "k2", 105));
        assert!(limiter.allow("idp", "k1", 100 + MIN_INTERVAL_SECS));
    }

    #[test]
    fn a_flood_of_kids_is_bounded() {
        let mut limiter = RefreshLimiter::default();
        let allowed = (0..10_000).filter(|i| limiter.allow("idp", &i.to_string(), 1)).count();
        assert_eq!(allowed, MAX_ENTRIES);
        assert!(limiter.allow("idp", "later", 1 + MIN_INTERVAL_SECS));
    }
}
