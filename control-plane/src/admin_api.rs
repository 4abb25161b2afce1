//! Bodies of the admin policy API (`/v1/policy...`), shared by its routes and by the
//! client behind `portcullis policy apply|versions|show|rollback`.

use portcullis_policy::Problem;
use serde::{Deserialize, Serialize};

use crate::store::VersionInfo;

/// Answer to `POST /v1/policy` and `POST /v1/policy/rollback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyResponse {
    /// The version in force afterwards.
    pub version: u64,
    /// Whether a new version was stored (false when the document equals the one in force).
    pub created: bool,
    /// For a rollback: the version whose document was applied again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_to: Option<u64>,
    /// Problems that did not block the document, such as secrets not resolvable yet.
    #[serde(default)]
    pub warnings: Vec<Problem>,
}

/// Answer to `GET /v1/policy/versions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionList {
    /// Every version, newest (the one in force) first.
    pub versions: Vec<VersionInfo>,
}

/// Body of `POST /v1/policy/rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The version whose document is applied again.
    pub version: u64,
}

/// Every error answer: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, machine-readable code such as `invalid_document`.
    pub code: String,
    /// What happened and what to do.
    pub message: String,
    /// For `invalid_document`: every error found, with its path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// For `invalid_document`: warnings found alongside.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Problem>,
}
