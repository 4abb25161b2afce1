//! `destructive_k8s`: deleting Kubernetes namespaces, workloads, storage and cluster objects.
//!
//! | Detector | Matches |
//! | --- | --- |
//! | `api_delete` | a Kubernetes API request (structured view) with verb `delete` or `deletecollection` on one of [`DESTRUCTIVE_RESOURCES`], not a dry run (`?dryRun=All`) |
//! | `kubectl_delete` | `kubectl [flags] delete …` or `oc delete …` in command position, unless `--dry-run` (other than `=none`) is on the line |
//! | `helm_uninstall` | `helm uninstall|delete <release>` in command position |
//!
//! **Precision.** The API detector needs no context: a `DELETE` request *is* the command. It
//! matches single pods too (a pod delete is also how people restart one: exempt operators
//! with `except_for`, or use `log`); events, leases, endpoints and other controller-managed
//! objects are not listed. In text, `kubectl get`, `kubectl describe`, `kubectl delete
//! --dry-run=client`, and questions ("what does kubectl delete ns do?") do not match;
//! `kubectl delete` in a code block, after `$`, or after "run" does.

use std::fmt::Write as _;

use super::{Spec, StructHit};
use crate::context::Context;
use crate::extract::{Extracted, K8sVerb};

/// Resources whose deletion the API detector reports.
pub const DESTRUCTIVE_RESOURCES: &[&str] = &[
    "namespaces", "deployments", "statefulsets", "daemonsets", "replicasets", "replicationcontrollers", "pods",
    "services", "persistentvolumeclaims", "persistentvolumes", "jobs", "cronjobs", "configmaps", "secrets",
    "ingresses", "nodes", "customresourcedefinitions", "storageclasses", "clusterroles", "clusterrolebindings",
    "roles", "rolebindings", "serviceaccounts", "networkpolicies", "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations", "apiservices", "horizontalpodautoscalers", "poddisruptionbudgets",
];

pub(super) const SPECS: &[Spec] = &[
    Spec {
        name: "kubectl_delete",
        pattern: r"\b(?:kubectl|oc)(?:\s+-{1,2}[A-Za-z][\w-]*(?:[= ][^\s-]\S*)?)*\s+delete\s+\S+",
        context: Context::Command,
        check: Some(not_dry_run),
        exact_case: false,
    },
    Spec {
        name: "helm_uninstall",
        pattern: r"\bhelm(?:\s+-{1,2}[A-Za-z][\w-]*(?:[= ][^\s-]\S*)?)*\s+(?:uninstall|delete|del|un)\s+[A-Za-z0-9]",
        context: Context::Command,
        check: Some(not_dry_run),
        exact_case: false,
    },
];

fn not_dry_run(text: &str, start: usize, _end: usize) -> bool {
    let rest = text.get(start..).unwrap_or("");
    let mut cut = rest.len().min(1024);
    while !rest.is_char_boundary(cut) {
        cut -= 1;
    }
    let line = rest.get(..cut).unwrap_or("").split('\n').next().unwrap_or("");
    !line.split_whitespace().any(|w| w.starts_with("--dry-run") && w != "--dry-run=none")
}

pub(super) fn structural(request: &Extracted) -> Option<StructHit> {
    let k8s = request.k8s.as_ref()?;
    let deleting = matches!(k8s.verb, K8sVerb::Delete | K8sVerb::Deletecollection);
    if !deleting || k8s.dry_run || k8s.subresource.is_some() || !DESTRUCTIVE_RESOURCES.contains(&k8s.resource.as_str()) {
        return None;
    }
    let mut excerpt = String::new();
    let _ = write!(excerpt, "{k8s}");
    Some(StructHit { detector: "api_delete", field: "path", excerpt })
}
