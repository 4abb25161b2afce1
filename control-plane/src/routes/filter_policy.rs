//! `GET /v1/filter/policy`: the policy bundle the filters poll.
//!
//! Filters authenticate with the fleet token and send `If-None-Match` with
//! the ETag of the version they hold; an unchanged policy costs a `304`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/filter/policy", get(current_policy))
}

/// Proof that the caller presented the fleet token.
pub(crate) struct FleetCaller;

impl FromRequestParts<AppState> for FleetCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized("send the fleet token as `Authorization: Bearer <token>`"))?;
        if state.is_fleet_token(presented.trim()) {
            Ok(FleetCaller)
        } else {
            Err(ApiError::Unauthorized("the fleet token is not valid"))
        }
    }
}

async fn current_policy(_caller: FleetCaller, State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let bundle = state
        .store
        .current()
        .await?
        .ok_or_else(|| ApiError::NotFound("no policy has been applied yet: start with --policy FILE".into()))?;
    let etag = bundle.etag();
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| ApiError::Internal(e.into()))?;
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|candidate| candidate.trim() == etag));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    Ok(([(header::ETAG, etag_value), (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))], Json(bundle)).into_response())
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
            store.apply(&Policy { name: "p".into(), description: "d".into() }, "test").await.unwrap();
        }
        AppState::new(store, "fleet-secret")
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
        assert_eq!(response.headers()["etag"], "\"1\"");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let bundle: PolicyBundle = serde_json::from_slice(&body).unwrap();
        assert_eq!(bundle.version, 1);

        let response = app.oneshot(get(Some("Bearer fleet-secret"), Some("\"1\""))).await.unwrap();
        assert_eq!(response.status(), 304);
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
