//! `GET /v1/filter/policy`: the policy bundle the filters poll.
//!
//! Filters authenticate with the fleet token and send `If-None-Match` with the ETag
//! they hold; an unchanged bundle costs a `304`. The body is a `PolicyBundle` in JSON,
//! with fetched provider keys and resolved secrets filled in (see [`crate::bundle`]).
//! The ETag is `"<version>-<16 hex digits>"`: it changes with the policy version and
//! also when keys or secrets change under the same version.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::auth::FleetCaller;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/filter/policy", get(current_policy))
}

async fn current_policy(_caller: FleetCaller, State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let bundle = state
        .bundles
        .current()
        .await?
        .ok_or_else(|| ApiError::NotFound("no policy has been applied yet: start with --policy FILE or POST one to /v1/policy".into()))?;
    let etag_value = HeaderValue::from_str(&bundle.etag).map_err(|e| ApiError::Internal(e.into()))?;
    if if_none_match(&headers, &bundle.etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    let headers = [
        (header::ETAG, etag_value),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
    ];
    Ok((headers, bundle.body.clone()).into_response())
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks) or is `*`.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use portcullis_policy::{Policy, PolicyBundle};
    use tower::ServiceExt;

    use crate::store::PolicyStore;
    use crate::{app, AppState};

    async fn state_with_policy(apply: bool) -> AppState {
        let store = PolicyStore::new(crate::db::in_memory().await.unwrap());
        if apply {
            store.apply(&Policy { description: "d".into(), ..Policy::named("p") }, "test").await.unwrap();
        }
        AppState::new(store, "fleet-secret", Default::default()).unwrap()
    }

    fn get(auth: Option<&str>, etag: Option<&str>) -> Request<Body> {
        let mut builder = Request::get("/v1/filter/policy");
        if let Some(auth) = auth {
            builder = builder.header("authorization", auth);
        }
        if let Some(etag) = etag {
            builder = builder.header("if-none-match", etag);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn serves_bundle_with_etag_then_304() {
        let app = app(state_with_policy(true).await);
        let response = app.clone().oneshot(get(Some("Bearer fleet-secret"), None)).await.unwrap();
        assert_eq!(response.status(), 200);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with("\"1-") && etag.len() == "\"1-\"".len() + 16, "{etag}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(etag, crate::bundle::etag(1, &body));
        let bundle: PolicyBundle = serde_json::from_slice(&body).unwrap();
        assert_eq!(bundle.version, 1);

        let response = app.clone().oneshot(get(Some("Bearer fleet-secret"), Some(&etag))).await.unwrap();
        assert_eq!(response.status(), 304);
        assert_eq!(response.headers()["etag"], etag.as_str());
        let response = app.clone().oneshot(get(Some("Bearer fleet-secret"), Some(&format!("\"0-0\", W/{etag}")))).await.unwrap();
        assert_eq!(response.status(), 304);
        // The old, version-only ETag no longer matches.
        let response = app.oneshot(get(Some("Bearer fleet-secret"), Some("\"1\""))).await.unwrap();
        assert_eq!(response.status(), 200);
    }

    #[tokio::test]
    async fn stale_etag_gets_the_bundle() {
        let response = app(state_with_policy(true).await).oneshot(get(Some("Bearer fleet-secret"), Some("\"0\""))).await.unwrap();
        assert_eq!(response.status(), 200);
    }

    #[tokio::test]
    async fn refuses_missing_and_wrong_fleet_token() {
        let app = app(state_with_policy(true).await);
        for auth in [None, Some("Bearer nope"), Some("Basic fleet-secret")] {
            let response = app.clone().oneshot(get(auth, None)).await.unwrap();
            assert_eq!(response.status(), 401, "{auth:?}");
            assert!(response.headers().contains_key("www-authenticate"));
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(value["error"]["code"], "unauthorized");
        }
    }

    #[tokio::test]
    async fn no_policy_is_404_with_advice() {
        let response = app(state_with_policy(false).await).oneshot(get(Some("Bearer fleet-secret"), None)).await.unwrap();
        assert_eq!(response.status(), 404);
    }
}
