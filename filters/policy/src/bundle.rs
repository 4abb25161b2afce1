//! What the control plane sends to filters.

use serde::{Deserialize, Serialize};

use crate::Policy;

/// Response header in which filters report the policy version they applied.
pub const POLICY_VERSION_HEADER: &str = "x-portcullis-policy-version";

/// A validated policy together with the version the control plane gave it.
///
/// The control plane serves it with `ETag: "<version>"`; filters send that
/// back in `If-None-Match` and get `304 Not Modified` while nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyBundle {
    /// Version number, starting at 1 and increasing with every apply.
    pub version: u64,
    /// The policy itself.
    pub policy: Policy,
}

impl PolicyBundle {
    /// The strong ETag for this bundle.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_is_quoted_version() {
        let bundle = PolicyBundle { version: 7, policy: Policy { name: "p".into(), description: String::new() } };
        assert_eq!(bundle.etag(), "\"7\"");
    }

    #[test]
    fn round_trips_through_json() {
        let bundle = PolicyBundle { version: 3, policy: Policy { name: "p".into(), description: "d".into() } };
        let json = serde_json::to_string(&bundle).unwrap();
        assert_eq!(serde_json::from_str::<PolicyBundle>(&json).unwrap(), bundle);
    }
}
