//! A bounded map from tokens to results, so hot tokens skip signature work.
//!
//! Keys are the tokens themselves, compared in full, under a fast
//! non-cryptographic hash: a hash collision can only cost a lookup, never
//! return another token's result. (A SHA-256 of each token, the obvious key,
//! costs more than everything else on the cached path inside V8.) The map is
//! bounded, so crafted colliding keys can lengthen a probe to at most
//! `capacity` comparisons.
//!
//! Entries carry the time they stop being valid. When the map is full, expired
//! entries go first; if none has expired, the least recently used eighth goes
//! (one sort per `capacity / 8` insertions, so insertion stays cheap).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast multiplicative hash over 8-byte words.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

struct Entry<V> {
    value: V,
    valid_until: u64,
    last_used: u64,
}

/// A bounded cache keyed by token.
pub struct BoundedCache<V> {
    map: HashMap<Box<str>, Entry<V>, BuildHasherDefault<KeyHasher>>,
    capacity: usize,
    tick: u64,
    evictions: u64,
}

impl<V> BoundedCache<V> {
    /// An empty cache holding at most `capacity` entries (0 disables it).
    pub fn new(capacity: usize) -> Self {
        Self { map: HashMap::default(), capacity, tick: 0, evictions: 0 }
    }

    /// The entry for `key` if it is still valid at `now`; an expired entry is dropped.
    pub fn get(&mut self, key: &str, now: u64) -> Option<&V> {
        let expired = self.map.get(key).is_some_and(|entry| entry.valid_until <= now);
        if expired {
            self.map.remove(key);
            return None;
        }
        self.tick += 1;
        let entry = self.map.get_mut(key)?;
        entry.last_used = self.tick;
        Some(&entry.value)
    }

    /// Stores `value` until `valid_until` (exclusive), evicting if the cache is full.
    pub fn insert(&mut self, key: &str, value: V, valid_until: u64, now: u64) {
        if self.capacity == 0 || valid_until <= now {
            return;
        }
        if self.map.len() >= self.capacity && !self.map.contains_key(key) {
            self.evict(now);
        }
        self.tick += 1;
        self.map.insert(key.into(), Entry { value, valid_until, last_used: self.tick });
    }

    fn evict(&mut self, now: u64) {
        let before = self.map.len();
        self.map.retain(|_, entry| entry.valid_until > now);
        if self.map.len() >= self.capacity {
            let mut ages: Vec<u64> = self.map.values().map(|entry| entry.last_used).collect();
            let count = (self.capacity / 8).clamp(1, ages.len().max(1));
            if ages.is_empty() {
                return;
            }
            let (_, cutoff, _) = ages.select_nth_unstable(count - 1);
            let cutoff = *cutoff;
            self.map.retain(|_, entry| entry.last_used > cutoff);
        }
        self.evictions += (before - self.map.len()) as u64;
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Entries removed to make room so far.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> String {
        format!("token-{i}")
    }

    #[test]
    fn entries_expire() {
        let mut cache = BoundedCache::new(4);
        cache.insert(&key(1), "a", 100, 10);
        assert_eq!(cache.get(&key(1), 99), Some(&"a"));
        assert_eq!(cache.get(&key(1), 100), None);
        assert_eq!(cache.len(), 0);
        cache.insert(&key(2), "b", 10, 10);
        assert_eq!(cache.len(), 0, "already-expired entries are not stored");
    }

    #[test]
    fn bound_is_respected_and_recently_used_entries_survive() {
        let mut cache = BoundedCache::new(16);
        for i in 0..16 {
            cache.insert(&key(i), i, 1_000, 0);
        }
        assert!(cache.get(&key(0), 1).is_some());
        for i in 16..200 {
            cache.insert(&key(i), i, 1_000, 1);
            assert!(cache.len() <= 16);
            // Key 0 is kept hot.
            assert!(cache.get(&key(0), 1).is_some(), "hot entry evicted at {i}");
        }
        assert!(cache.evictions() >= 184);
        assert!(cache.get(&key(1), 1).is_none());
    }

    #[test]
    fn expired_entries_are_evicted_first() {
        let mut cache = BoundedCache::new(4);
        cache.insert(&key(1), 1, 50, 0);
        for i in 2..=4 {
            cache.insert(&key(i), i, 1_000, 0);
        }
        cache.insert(&key(5), 5, 1_000, 60);
        assert_eq!(cache.len(), 4);
        for i in 2..=5 {
            assert!(cache.get(&key(i), 60).is_some());
        }
    }

    #[test]
    fn zero_capacity_disables_caching() {
        let mut cache = BoundedCache::new(0);
        cache.insert(&key(1), 1, 1_000, 0);
        assert!(cache.get(&key(1), 0).is_none());
        cache.clear();
    }
}
