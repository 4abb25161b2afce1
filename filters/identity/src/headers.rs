//! Which request headers to remove and set before a request goes upstream.

use std::fmt;

use portcullis_policy::identity::{IdentityHeaders, Target};

use crate::error::CredentialUnavailable;
use crate::identity::Identity;

/// Header changes for one upstream request: apply every `remove`, then every `set`.
///
/// `Debug` shows the upstream credential's header but never its value.
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderPlan {
    /// Header names (lower case) to delete: the client's `authorization` and the header the
    /// credential came in, the target's `strip_headers`, and any client-sent identity headers.
    pub remove: Vec<String>,
    /// Headers (lower-case names) to set, replacing any value: the verified identity, then the
    /// upstream credential.
    pub set: Vec<(String, String)>,
    secret_header: Option<String>,
}

impl fmt::Debug for HeaderPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<(&str, &str)> = self
            .set
            .iter()
            .map(|(name, value)| {
                let shown = if Some(name) == self.secret_header.as_ref() { "<redacted>" } else { value.as_str() };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("HeaderPlan").field("remove", &self.remove).field("set", &set).finish()
    }
}

impl HeaderPlan {
    /// The value the plan sets for `name`, if any.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.set.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Builds the plan for `identity` going to `target`.
pub fn header_plan(names: &IdentityHeaders, identity: &Identity, target: &Target) -> Result<HeaderPlan, CredentialUnavailable> {
    let mut remove: Vec<String> = Vec::new();
    let mut push = |name: &str| {
        let name = name.to_ascii_lowercase();
        if !remove.contains(&name) {
            remove.push(name);
        }
    };
    push("authorization");
    if let Some(header) = &identity.credential_header {
        push(header);
    }
    for header in &target.strip_headers {
        push(header);
    }
    for header in [&names.subject, &names.groups, &names.client_id, &names.provider] {
        push(header);
    }
    let mut set = vec![(names.subject.to_ascii_lowercase(), header_safe(&identity.subject))];
    if !identity.groups.is_empty() {
        let groups: Vec<String> = identity.groups.iter().map(|g| header_safe(g).replace(',', "%2C")).collect();
        set.push((names.groups.to_ascii_lowercase(), groups.join(",")));
    }
    if let Some(client_id) = &identity.client_id {
        set.push((names.client_id.to_ascii_lowercase(), header_safe(client_id)));
    }
    set.push((names.provider.to_ascii_lowercase(), header_safe(&identity.provider)));
    let mut secret_header = None;
    if let Some(credential) = &target.credential {
        let secret = credential.value.as_ref().ok_or_else(|| CredentialUnavailable { target: target.name.clone() })?;
        let name = credential.header.to_ascii_lowercase();
        set.push((name.clone(), format!("{}{}", credential.prefix, secret.expose())));
        secret_header = Some(name);
    }
    Ok(HeaderPlan { remove, set, secret_header })
}

/// Replaces control characters so that a claim can never split or end a header.
fn header_safe(value: &str) -> String {
    value.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}
