//! The admin policy API: apply, inspect and roll back policy versions.
//!
//! Every route needs the admin token (`Authorization: Bearer <token>`); without
//! `--admin-token` they answer 503. Documents are returned as written: secrets appear
//! by name (`secret_ref`) only, never resolved.
//!
//! - `GET /v1/policy`: the version in force, `{version, digest, source, applied_at, policy}`.
//! - `GET /v1/policy/versions`: `{versions: [{version, digest, source, applied_at}]}`, newest first.
//! - `GET /v1/policy/versions/{version}`: one version, shaped like `GET /v1/policy`.
//! - `POST /v1/policy`: a YAML or JSON document (at most 1 MiB); `201` (new version) or
//!   `200` (same as the version in force) with `{version, created, warnings}`, or `422`
//!   listing every problem with its path.
//! - `POST /v1/policy/rollback` with `{"version": N}`: applies version N's document again
//!   as a new version, so the history stays complete; `{version, created, rolled_back_to, warnings}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use portcullis_policy::Problem;

use super::auth::AdminCaller;
use super::body::{Format, JsonBody, PolicyDocument};
use crate::admin_api::{ApplyResponse, RollbackRequest, VersionList};
use crate::error::ApiError;
use crate::policy_file::{self, Checked};
use crate::state::AppState;
use crate::store::StoredPolicy;

/// `source` recorded for documents applied through this API.
const API_SOURCE: &str = "api";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/policy", get(current).post(apply))
        .route("/v1/policy/versions", get(versions))
        .route("/v1/policy/versions/{version}", get(one_version))
        .route("/v1/policy/rollback", post(rollback))
}

async fn current(_admin: AdminCaller, State(state): State<AppState>) -> Result<Json<StoredPolicy>, ApiError> {
    let stored = state.store.latest().await?.ok_or_else(|| {
        ApiError::NotFound("no policy has been applied yet: POST one to /v1/policy, or start the control plane with --policy FILE".into())
    })?;
    Ok(Json(stored))
}

async fn versions(_admin: AdminCaller, State(state): State<AppState>) -> Result<Json<VersionList>, ApiError> {
    Ok(Json(VersionList { versions: state.store.versions().await? }))
}

async fn one_version(_admin: AdminCaller, State(state): State<AppState>, Path(version): Path<String>) -> Result<Json<StoredPolicy>, ApiError> {
    let number: u64 = version.parse().map_err(|_| ApiError::BadRequest(format!("`{version}` is not a version number")))?;
    Ok(Json(state.store.get(number).await?.ok_or_else(|| unknown_version(number))?))
}

async fn apply(_admin: AdminCaller, State(state): State<AppState>, document: PolicyDocument) -> Result<(StatusCode, Json<ApplyResponse>), ApiError> {
    let checked = match document.format {
        Format::Yaml => policy_file::parse(&document.text),
        Format::Json => policy_file::parse_json(&document.text),
    }
    .map_err(ApiError::Invalid)?;
    store(&state, checked, API_SOURCE, None).await
}

async fn rollback(_admin: AdminCaller, State(state): State<AppState>, JsonBody(request): JsonBody<RollbackRequest>) -> Result<(StatusCode, Json<ApplyResponse>), ApiError> {
    let old = state.store.get(request.version).await?.ok_or_else(|| unknown_version(request.version))?;
    // Validate again: rules may have tightened since that version was stored.
    let checked = policy_file::check(old.policy).map_err(ApiError::Invalid)?;
    let source = format!("{API_SOURCE}:rollback:{}", request.version);
    store(&state, checked, &source, Some(request.version)).await
}

/// Readies keys and secrets, then stores the document.
async fn store(state: &AppState, checked: Checked, source: &str, rolled_back_to: Option<u64>) -> Result<(StatusCode, Json<ApplyResponse>), ApiError> {
    let Checked { policy, mut warnings } = checked;
    warnings.extend(state.bundles.prepare(&policy).await);
    let outcome = state.store.apply(&policy, source).await?;
    tracing::info!(version = outcome.version, created = outcome.created, source, warnings = warnings.len(), "policy applied through the admin API");
    log_warnings(outcome.version, &warnings);
    let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ApplyResponse { version: outcome.version, created: outcome.created, rolled_back_to, warnings })))
}

fn log_warnings(version: u64, warnings: &[Problem]) {
    for warning in warnings {
        tracing::warn!(version, path = %warning.path, "{}", warning.message);
    }
}

fn unknown_version(version: u64) -> ApiError {
    ApiError::NotFound(format!("policy version {version} does not exist: GET /v1/policy/versions lists them"))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use serde_json::{json, Value};

    use crate::app;
    use crate::state::StateOptions;
    use crate::testing::{apply_yaml, options, request, send, state, ADMIN, FLEET};

    const YAML: &str = "name: first\ndescription: the first policy\n";

    async fn admin_app() -> axum::Router {
        app(state(options()).await)
    }

    fn get(uri: &str) -> axum::http::Request<Body> {
        request("GET", uri, Some(ADMIN), None, Body::empty())
    }

    #[tokio::test]
    async fn admin_routes_are_off_without_an_admin_token() {
        let app = app(state(StateOptions::default()).await);
        for token in [None, Some(ADMIN), Some(FLEET)] {
            let (status, _, body) = send(&app, request("GET", "/v1/policy", token, None, Body::empty())).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(body["error"]["code"], "admin_disabled");
            assert!(body["error"]["message"].as_str().unwrap().contains("--admin-token"), "{body}");
        }
    }

    #[tokio::test]
    async fn admin_routes_need_the_admin_token() {
        let app = admin_app().await;
        let routes = [
            ("GET", "/v1/policy"),
            ("GET", "/v1/policy/versions"),
            ("GET", "/v1/policy/versions/1"),
            ("POST", "/v1/policy"),
            ("POST", "/v1/policy/rollback"),
        ];
        for (method, uri) in routes {
            for token in [None, Some("wrong"), Some(FLEET)] {
                let (status, headers, body) = send(&app, request(method, uri, token, Some("application/yaml"), YAML)).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri} {token:?}");
                assert!(headers.contains_key("www-authenticate"));
                assert_eq!(body["error"]["code"], "unauthorized");
            }
        }
        // Nothing was applied by the refused requests.
        let (status, _, _) = send(&app, get("/v1/policy")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn applies_yaml_and_json_and_reports_unchanged_documents() {
        let app = admin_app().await;
        let (status, body) = apply_yaml(&app, YAML).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body, json!({"version": 1, "created": true, "warnings": []}));

        let (status, body) = apply_yaml(&app, YAML).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"version": 1, "created": false, "warnings": []}));

        let document = json!({"name": "second"}).to_string();
        let (status, _, body) = send(&app, request("POST", "/v1/policy", Some(ADMIN), Some("application/json; charset=utf-8"), document)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["version"], 2);
        assert_eq!(body["warnings"], json!([{"path": "description", "message": "is empty: say what this policy is for"}]));

        for content_type in ["application/x-yaml", "text/yaml"] {
            let yaml = format!("name: {}\ndescription: as {content_type}\n", content_type.replace('/', "-"));
            let (status, _, body) = send(&app, request("POST", "/v1/policy", Some(ADMIN), Some(content_type), yaml)).await;
            assert_eq!(status, StatusCode::CREATED, "{content_type}: {body}");
        }
        let (_, _, current) = send(&app, get("/v1/policy")).await;
        assert_eq!(current["version"], 4);
        assert_eq!(current["source"], "api");
        assert_eq!(current["policy"]["name"], "text-yaml");
        assert_eq!(current["digest"].as_str().unwrap().len(), 64);
        assert!(current["applied_at"].as_str().unwrap().ends_with('Z'), "{current}");
    }

    #[tokio::test]
    async fn invalid_documents_list_every_problem_with_its_path() {
        let app = admin_app().await;
        let yaml = "name: ''\nidentity:\n  providers:\n    - name: corp\n      issuer: https://login.example.com/\n      audiences: []\n  targets:\n    - name: t\n      hosts: ['https://x/']\n";
        let (status, body) = apply_yaml(&app, yaml).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "invalid_document");
        let paths: Vec<&str> = body["error"]["problems"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
        for expected in ["name", "identity.providers[0].audiences", "identity.providers[0]", "identity.targets[0].hosts[0]"] {
            assert!(paths.contains(&expected), "{expected} missing from {paths:?}");
        }
        assert!(body["error"]["warnings"].is_array());

        let (status, body) = apply_yaml(&app, "name: x\ndescripton: typo\n").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["error"]["problems"][0]["message"].as_str().unwrap().contains("descripton"));

        let (status, _, body) = send(&app, request("POST", "/v1/policy", Some(ADMIN), Some("application/json"), r#"{"name": 5}"#)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["problems"][0]["path"], "name");

        let (status, _, _) = send(&app, get("/v1/policy/versions")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, _, list) = send(&app, get("/v1/policy/versions")).await;
        assert_eq!(list, json!({"versions": []}));
    }

    #[tokio::test]
    async fn lists_versions_and_serves_each_document() {
        let app = admin_app().await;
        apply_yaml(&app, YAML).await;
        apply_yaml(&app, "name: second\ndescription: two\n").await;
        let (status, _, list) = send(&app, get("/v1/policy/versions")).await;
        assert_eq!(status, StatusCode::OK);
        let versions: Vec<u64> = list["versions"].as_array().unwrap().iter().map(|v| v["version"].as_u64().unwrap()).collect();
        assert_eq!(versions, [2, 1]);
        assert_eq!(list["versions"][0]["source"], "api");
        assert!(list["versions"][0].get("policy").is_none());

        let (status, _, one) = send(&app, get("/v1/policy/versions/1")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one["version"], 1);
        assert_eq!(one["policy"]["name"], "first");
        assert_eq!(one["digest"], list["versions"][1]["digest"]);

        let (status, _, body) = send(&app, get("/v1/policy/versions/9")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found");
        let (status, _, body) = send(&app, get("/v1/policy/versions/latest")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "bad_request");
    }

    #[tokio::test]
    async fn rollback_applies_an_old_document_as_a_new_version() {
        let app = admin_app().await;
        apply_yaml(&app, YAML).await;
        apply_yaml(&app, "name: second\ndescription: two\n").await;
        let rollback = |version: Value| request("POST", "/v1/policy/rollback", Some(ADMIN), Some("application/json"), json!({"version": version}).to_string());

        let (status, _, body) = send(&app, rollback(json!(1))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body, json!({"version": 3, "created": true, "rolled_back_to": 1, "warnings": []}));
        let (_, _, current) = send(&app, get("/v1/policy")).await;
        let (_, _, first) = send(&app, get("/v1/policy/versions/1")).await;
        assert_eq!(current["policy"], first["policy"]);
        assert_eq!(current["digest"], first["digest"]);
        assert_eq!(current["source"], "api:rollback:1");
        let (_, _, list) = send(&app, get("/v1/policy/versions")).await;
        assert_eq!(list["versions"].as_array().unwrap().len(), 3);

        // Rolling back to what is in force changes nothing.
        let (status, _, body) = send(&app, rollback(json!(3))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["created"], false);

        let (status, _, body) = send(&app, rollback(json!(42))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body["error"]["message"].as_str().unwrap().contains("42"));

        let (status, _, body) = send(&app, rollback(json!("one"))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["problems"][0]["path"], "version");
    }

    #[tokio::test]
    async fn oversized_bodies_are_413_in_our_format() {
        let app = admin_app().await;
        let big = format!("name: big\ndescription: {}\n", "x".repeat(super::super::body::MAX_POLICY_BYTES));
        let (status, _, body) = send(&app, request("POST", "/v1/policy", Some(ADMIN), Some("application/yaml"), big.clone())).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["error"]["code"], "payload_too_large");

        // A declared Content-Length over the limit is refused before the body is read.
        let mut declared = request("POST", "/v1/policy", Some(ADMIN), Some("application/yaml"), YAML);
        declared.headers_mut().insert("content-length", (2 * super::super::body::MAX_POLICY_BYTES).into());
        let (status, _, body) = send(&app, declared).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body["error"]["message"].as_str().unwrap().contains("1048576"), "{body}");

        // Exactly at the limit is fine (and then judged on its content).
        let at_limit = format!("name: big\ndescription: {}\n", "x".repeat(super::super::body::MAX_POLICY_BYTES - 30));
        assert!(at_limit.len() <= super::super::body::MAX_POLICY_BYTES);
        let (status, body) = apply_yaml(&app, &at_limit).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    #[tokio::test]
    async fn other_content_types_are_415() {
        let app = admin_app().await;
        for content_type in [Some("text/plain"), Some("application/xml"), None] {
            let (status, _, body) = send(&app, request("POST", "/v1/policy", Some(ADMIN), content_type, YAML)).await;
            assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
            assert_eq!(body["error"]["code"], "unsupported_media_type");
            assert!(body["error"]["message"].as_str().unwrap().contains("application/yaml"));
        }
    }
}
