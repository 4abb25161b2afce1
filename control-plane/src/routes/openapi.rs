//! `GET /openapi.yaml`: the OpenAPI 3.1 description of the whole API, kept in the
//! repository as `control-plane/openapi.yaml` and compiled into the binary.

use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// The document.
pub(crate) const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        "/openapi.yaml",
        get(|| async { ([(header::CONTENT_TYPE, HeaderValue::from_static("application/yaml")), (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))], OPENAPI_YAML) }),
    )
}
