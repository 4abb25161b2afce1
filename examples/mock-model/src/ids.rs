//! Deterministic response ids and timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

/// `prefix` followed by 24 hex digits derived from a hash of `body`, so the
/// same request body always gets the same id.
pub fn from_body(prefix: &str, body: &[u8]) -> String {
    let high = fnv1a(0xcbf2_9ce4_8422_2325, body);
    let low = fnv1a(high ^ 0x9e37_79b9_7f4a_7c15, body);
    format!("{prefix}{high:016x}{:08x}", low >> 32)
}

/// 64-bit FNV-1a of `bytes`, starting from `seed`.
fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(seed, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The current time in whole seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = from_body("chatcmpl-", b"{\"a\":1}");
        assert_eq!(a, from_body("chatcmpl-", b"{\"a\":1}"));
        assert_ne!(a, from_body("chatcmpl-", b"{\"a\":2}"));
        let hex = a.strip_prefix("chatcmpl-").unwrap();
        assert_eq!(hex.len(), 24);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
