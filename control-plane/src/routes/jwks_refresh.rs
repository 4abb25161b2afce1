//! `POST /v1/filter/jwks-refresh`: a filter met a token signed with a key it lacks.
//!
//! Body: `{"provider": "<provider name>", "kid": "<key id>"}` (`kid` may be left out for
//! tokens without one). Filters authenticate with the fleet token. When the bundle lacks
//! that key and the provider's keys were not fetched within `--jwks-min-refresh-secs`,
//! the control plane fetches them again now; the new keys reach filters through the next
//! policy poll (the bundle's ETag changes). Answers `202` with
//! `{"provider", "kid", "refresh": "started" | "rate_limited" | "known_kid" | "static_keys"}`,
//! or `404` when the policy in force has no provider of that name.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::FleetCaller;
use super::body::JsonBody;
use crate::bundle::KidRefresh;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/filter/jwks-refresh", post(refresh))
}

/// What a filter sends.
#[derive(Debug, Deserialize)]
struct RefreshRequest {
    provider: String,
    #[serde(default)]
    kid: Option<String>,
}

/// What it gets back.
#[derive(Debug, Serialize)]
struct RefreshResponse {
    provider: String,
    kid: Option<String>,
    refresh: KidRefresh,
}

async fn refresh(_caller: FleetCaller, State(state): State<AppState>, JsonBody(request): JsonBody<RefreshRequest>) -> Result<(StatusCode, Json<RefreshResponse>), ApiError> {
    let outcome = state
        .bundles
        .refresh_for_kid(&request.provider, request.kid.as_deref())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("the policy in force has no identity provider named `{}`", request.provider)))?;
    Ok((StatusCode::ACCEPTED, Json(RefreshResponse { provider: request.provider, kid: request.kid, refresh: outcome })))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::StatusCode;
    use serde_json::{json, Value};

    use crate::app;
    use crate::jwks::KeySource;
    use crate::testing::{apply_yaml, bundle, kids, options, request, send, state, FakeIdp, ADMIN, FLEET};

    async fn refresh(app: &axum::Router, body: Value) -> (StatusCode, Value) {
        let (status, _, answer) = send(app, request("POST", "/v1/filter/jwks-refresh", Some(FLEET), Some("application/json"), body.to_string())).await;
        (status, answer)
    }

    fn source(idp: &FakeIdp) -> KeySource {
        KeySource { jwks_url: None, discovery_url: Some(format!("{}/.well-known/openid-configuration", idp.url())) }
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_once_per_interval() {
        let idp = FakeIdp::start(&["k1"], 600).await;
        let state = state(options()).await;
        let app = app(state.clone());
        apply_yaml(&app, &idp.policy()).await;
        let (first_etag, _) = bundle(&app).await;
        assert_eq!(idp.fetches(), 1);

        // The provider rotates its keys; a filter meets a token signed with the new one.
        idp.set_kids(&["k2"]);
        let (status, answer) = refresh(&app, json!({"provider": "corp", "kid": "k2"})).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(answer["refresh"], "rate_limited", "fetched moments ago: {answer}");
        assert_eq!(idp.fetches(), 1);

        tokio::time::sleep(Duration::from_millis(350)).await;
        let (status, answer) = refresh(&app, json!({"provider": "corp", "kid": "k2"})).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(answer, json!({"provider": "corp", "kid": "k2", "refresh": "started"}));
        assert_eq!(state.bundles.jwks().wait_for_attempts(&source(&idp), 1, Duration::from_secs(5)).await, 2);
        let (etag, served) = bundle(&app).await;
        assert_eq!(kids(&served, "corp"), ["k2"]);
        assert_ne!(etag, first_etag);

        // A second unknown kid within the interval does not reach the provider.
        let (_, answer) = refresh(&app, json!({"provider": "corp", "kid": "k3"})).await;
        assert_eq!(answer["refresh"], "rate_limited");
        let (_, answer) = refresh(&app, json!({"provider": "corp"})).await;
        assert_eq!(answer["refresh"], "rate_limited");
        // A kid the bundle has needs no fetch at all.
        let (_, answer) = refresh(&app, json!({"provider": "corp", "kid": "k2"})).await;
        assert_eq!(answer["refresh"], "known_kid");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(idp.fetches(), 2);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_last_good_keys() {
        let idp = FakeIdp::start(&["k1"], 600).await;
        let state = state(options()).await;
        let app = app(state.clone());
        apply_yaml(&app, &idp.policy()).await;
        let (etag, _) = bundle(&app).await;

        idp.set_failing(true);
        tokio::time::sleep(Duration::from_millis(350)).await;
        let (_, answer) = refresh(&app, json!({"provider": "corp", "kid": "k9"})).await;
        assert_eq!(answer["refresh"], "started");
        assert_eq!(state.bundles.jwks().wait_for_attempts(&source(&idp), 1, Duration::from_secs(5)).await, 2);
        let status = state.bundles.jwks().status();
        assert!(status[0].last_error.as_deref().unwrap().contains("503"), "{status:?}");
        assert_eq!(status[0].keys, 1);
        let (same_etag, served) = bundle(&app).await;
        assert_eq!(kids(&served, "corp"), ["k1"]);
        assert_eq!(same_etag, etag);
    }

    #[tokio::test]
    async fn refresh_needs_the_fleet_token_and_a_known_provider() {
        let idp = FakeIdp::start(&["k1"], 600).await;
        let app = app(state(options()).await);
        let body = json!({"provider": "corp", "kid": "x"}).to_string();
        for token in [None, Some(ADMIN), Some("nope")] {
            let (status, _, _) = send(&app, request("POST", "/v1/filter/jwks-refresh", token, Some("application/json"), body.clone())).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (status, answer) = refresh(&app, json!({"provider": "corp", "kid": "x"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no policy yet: {answer}");

        apply_yaml(&app, &idp.policy()).await;
        let (status, answer) = refresh(&app, json!({"provider": "elsewhere", "kid": "x"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(answer["error"]["message"].as_str().unwrap().contains("elsewhere"));
        let (status, answer) = refresh(&app, json!({"kid": "x"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(answer["error"]["problems"][0]["message"].as_str().unwrap().contains("provider"), "{answer}");
    }

    #[tokio::test]
    async fn providers_with_inline_keys_only_have_nothing_to_fetch() {
        let app = app(state(options()).await);
        let yaml = "name: static\ndescription: d\nidentity:\n  providers:\n    - name: fixed\n      issuer: https://fixed.example/\n      audiences: [a]\n      jwks: { keys: [ { kty: RSA, kid: s1, n: AQAB, e: AQAB } ] }\n";
        let (status, body) = apply_yaml(&app, yaml).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, answer) = refresh(&app, json!({"provider": "fixed", "kid": "other"})).await;
        assert_eq!(answer["refresh"], "static_keys");
    }
}
