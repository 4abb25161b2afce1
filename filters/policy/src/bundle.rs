//! What the control plane sends to filters.

use serde::{Deserialize, Serialize};

use crate::Policy;

/// Response header in which filters report the policy version they applied.
pub const POLICY_VERSION_HEADER: &str = "x-portcullis-policy-version";

/// A validated policy together with the version the control plane gave it.
///
/// The control plane fills in what filters need but operators never write
/// (verification keys fetched from identity providers, resolved secrets),
/// and serves it with an opaque `ETag` that changes whenever any of that
/// changes. Filters send it back in `If-None-Match` and get
/// `304 Not Modified` while nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyBundle {
    /// Version number, starting at 1 and increasing with every apply.
    pub version: u64,
    /// The policy itself.
    pub policy: Policy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let bundle = PolicyBundle { version: 3, policy: Policy::named("p") };
        let json = serde_json::to_string(&bundle).unwrap();
        assert_eq!(serde_json::from_str::<PolicyBundle>(&json).unwrap(), bundle);
    }
}
