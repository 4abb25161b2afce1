//! Kubernetes API requests: verb, resource, namespace and name from method and path.
//!
//! Follows the API server's own reading of paths (`RequestInfo`): `/api/v1/namespaces/prod`
//! is the namespace `prod` (resource `namespaces`, name and namespace `prod`);
//! `/apis/apps/v1/namespaces/x/deployments/y/scale` is the `scale` subresource of deployment
//! `y` in namespace `x`. Path segments are percent-decoded.

use std::fmt;

use serde::Serialize;

/// A Kubernetes verb, as RBAC names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum K8sVerb {
    /// `GET` of one object.
    Get,
    /// `GET` of a collection.
    List,
    /// `GET` with `?watch=true` or under `/watch/`.
    Watch,
    /// `POST`.
    Create,
    /// `PUT`.
    Update,
    /// `PATCH`.
    Patch,
    /// `DELETE` of one object.
    Delete,
    /// `DELETE` of a collection.
    Deletecollection,
    /// Any other method.
    Other,
}

impl K8sVerb {
    /// The RBAC name, such as `deletecollection`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Watch => "watch",
            Self::Create => "create",
            Self::Update => "update",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::Deletecollection => "deletecollection",
            Self::Other => "other",
        }
    }
}

/// The structured view of a Kubernetes API request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct K8sRequest {
    /// What is done.
    pub verb: K8sVerb,
    /// API group; empty for the core group (`/api/v1`).
    pub group: String,
    /// API version, such as `v1`.
    pub version: String,
    /// Namespace, when the request is namespaced (for a namespace itself: its own name).
    pub namespace: Option<String>,
    /// Plural resource, such as `deployments`.
    pub resource: String,
    /// Object name, when one object is named.
    pub name: Option<String>,
    /// Subresource, such as `scale` or `status`.
    pub subresource: Option<String>,
    /// The request asks for a dry run (`?dryRun=All`): nothing is persisted.
    pub dry_run: bool,
}

impl fmt::Display for K8sRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb.as_str(), self.resource)?;
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        if let Some(name) = &self.name {
            write!(f, "/{name}")?;
        }
        if let Some(sub) = &self.subresource {
            write!(f, "/{sub}")?;
        }
        match &self.namespace {
            Some(ns) if self.resource != "namespaces" => write!(f, " in namespace {ns}")?,
            _ => {}
        }
        if self.dry_run {
            f.write_str(" (dry run)")?;
        }
        Ok(())
    }
}

/// Reads a Kubernetes resource request from `method` and `path` (query string allowed).
///
/// With `anywhere` false the path must start with `/api/` or `/apis/`; with `anywhere` true
/// (the target's format is `kubernetes`) the API part may follow a prefix, such as
/// `/k8s/prod/api/v1/pods`. `None` for discovery and non-resource paths.
pub fn parse_k8s_path(method: &str, path: &str, anywhere: bool) -> Option<K8sRequest> {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let segments: Vec<String> = route.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
    let start = if anywhere {
        segments.iter().position(|s| s == "api" || s == "apis")?
    } else if matches!(segments.first().map(String::as_str), Some("api" | "apis")) {
        0
    } else {
        return None;
    };
    let mut rest = segments.get(start..)?;
    let (group, version) = match rest.first().map(String::as_str) {
        Some("api") => {
            let version = rest.get(1)?.clone();
            rest = rest.get(2..)?;
            (String::new(), version)
        }
        _ => {
            let (group, version) = (rest.get(1)?.clone(), rest.get(2)?.clone());
            rest = rest.get(3..)?;
            (group, version)
        }
    };
    if !is_version(&version) {
        return None;
    }
    let mut watch = false;
    if rest.first().map(String::as_str) == Some("watch") {
        watch = true;
        rest = rest.get(1..)?;
    }
    let mut namespace = None;
    if rest.first().map(String::as_str) == Some("namespaces") && rest.len() >= 2 {
        namespace = rest.get(1).cloned();
        let namespace_subresource = matches!(rest.get(2).map(String::as_str), Some("status" | "finalize"));
        if rest.len() > 2 && !namespace_subresource {
            rest = rest.get(2..)?;
        }
    }
    let resource = rest.first()?.clone();
    let name = rest.get(1).cloned();
    let subresource = rest.get(2..).filter(|s| !s.is_empty()).map(|s| s.join("/"));
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "watch" && matches!(value, "true" | "1") {
            watch = true;
        }
    }
    let dry_run = query.split('&').any(|p| p.split_once('=').is_some_and(|(k, v)| k == "dryRun" && !v.is_empty()));
    let verb = match method.to_ascii_uppercase().as_str() {
        "GET" | "HEAD" if watch => K8sVerb::Watch,
        "GET" | "HEAD" if name.is_some() => K8sVerb::Get,
        "GET" | "HEAD" => K8sVerb::List,
        "POST" => K8sVerb::Create,
        "PUT" => K8sVerb::Update,
        "PATCH" => K8sVerb::Patch,
        "DELETE" if name.is_some() => K8sVerb::Delete,
        "DELETE" => K8sVerb::Deletecollection,
        _ => K8sVerb::Other,
    };
    Some(K8sRequest { verb, group, version, namespace, resource, name, subresource, dry_run })
}

/// `v1`, `v1beta1`, `v2alpha3`...
fn is_version(version: &str) -> bool {
    let mut bytes = version.bytes();
    bytes.next() == Some(b'v') && bytes.next().is_some_and(|b| b.is_ascii_digit())
}

/// Decodes `%XX` escapes; invalid escapes are kept as they are, invalid UTF-8 replaced.
fn percent_decode(segment: &str) -> String {
    if !segment.contains('%') {
        return segment.to_owned();
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| char::from(*c).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
