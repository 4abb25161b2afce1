//! The HTTP API, one module per area, assembled by [`app`].
//!
//! - `/healthz`: liveness and readiness.
//! - `/v1/filter/...`: what filters call, with the fleet token (policy, key refreshes,
//!   holds).
//! - `/v1/policy...`: the admin policy API, with the admin token.
//! - `/v1/holds...` and `/v1/grants...`: the approvals API, with OIDC access tokens.
//! - `/approvals/`: the approvers' page; `/openapi.yaml`: the API's description.
//!
//! [`ROUTES`] lists every route; a test checks it against the route modules and
//! against `openapi.yaml`.

mod admin_policy;
mod approvals_page;
mod auth;
mod body;
mod filter_holds;
mod filter_policy;
mod grants;
mod health;
mod hold_events;
mod holds;
mod jwks_refresh;
mod openapi;

use axum::Router;

use crate::state::AppState;

/// Every route served, as `(method, path)` with OpenAPI-style `{parameters}`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/v1/filter/policy"),
    ("POST", "/v1/filter/jwks-refresh"),
    ("POST", "/v1/filter/holds"),
    ("GET", "/v1/filter/holds/{id}"),
    ("GET", "/v1/policy"),
    ("POST", "/v1/policy"),
    ("GET", "/v1/policy/versions"),
    ("GET", "/v1/policy/versions/{version}"),
    ("POST", "/v1/policy/rollback"),
    ("GET", "/v1/holds"),
    ("GET", "/v1/holds/mine"),
    ("GET", "/v1/holds/events"),
    ("GET", "/v1/holds/{id}"),
    ("POST", "/v1/holds/{id}/approve"),
    ("POST", "/v1/holds/{id}/deny"),
    ("GET", "/v1/grants"),
    ("POST", "/v1/grants/{id}/revoke"),
    ("GET", "/approvals"),
    ("GET", "/approvals/"),
    ("GET", "/approvals/app.js"),
    ("GET", "/approvals/app.css"),
    ("GET", "/openapi.yaml"),
];

/// The whole router. Tests drive it with `tower::ServiceExt::oneshot`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(filter_policy::router())
        .merge(jwks_refresh::router())
        .merge(filter_holds::router())
        .merge(admin_policy::router())
        .merge(holds::router())
        .merge(grants::router())
        .merge(hold_events::router())
        .merge(approvals_page::router())
        .merge(openapi::router())
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use axum::body::Body;
    use axum::http::StatusCode;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::ROUTES;
    use crate::testing::{options, request, state};

    /// The route modules' source, to find every `.route(...)` they register.
    const SOURCES: &[&str] = &[
        include_str!("routes/admin_policy.rs"),
        include_str!("routes/approvals_page.rs"),
        include_str!("routes/filter_holds.rs"),
        include_str!("routes/filter_policy.rs"),
        include_str!("routes/grants.rs"),
        include_str!("routes/health.rs"),
        include_str!("routes/hold_events.rs"),
        include_str!("routes/holds.rs"),
        include_str!("routes/jwks_refresh.rs"),
        include_str!("routes/openapi.rs"),
    ];

    fn listed_paths() -> BTreeSet<&'static str> {
        ROUTES.iter().map(|(_, path)| *path).collect()
    }

    #[test]
    fn every_registered_path_is_listed() {
        let mut registered = BTreeSet::new();
        for source in SOURCES {
            // The code, not its tests.
            let source = source.split("#[cfg(test)]").next().unwrap();
            for (i, _) in source.match_indices(".route(") {
                let rest = source[i + ".route(".len()..].trim_start().strip_prefix('"').expect("a route path written as a literal");
                registered.insert(&rest[..rest.find('"').unwrap()]);
            }
        }
        assert!(registered.len() >= 15, "{registered:?}");
        assert_eq!(registered, listed_paths(), "ROUTES and the route modules disagree");
    }

    #[test]
    fn every_route_is_in_the_openapi_document_and_nothing_else() {
        let document: serde_yaml_ng::Value = serde_yaml_ng::from_str(super::openapi::OPENAPI_YAML).unwrap();
        assert!(document["openapi"].as_str().unwrap().starts_with("3.1"), "OpenAPI 3.1");
        let paths = document["paths"].as_mapping().unwrap();
        let mut documented = BTreeSet::new();
        for (path, item) in paths {
            let path = path.as_str().unwrap();
            for (method, _) in item.as_mapping().unwrap() {
                let method = method.as_str().unwrap();
                if ["get", "post", "put", "delete", "patch"].contains(&method) {
                    documented.insert((method.to_ascii_uppercase(), path.to_owned()));
                }
            }
        }
        let listed: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
        assert_eq!(listed.difference(&documented).collect::<Vec<_>>(), Vec::<&(String, String)>::new(), "routes missing from openapi.yaml");
        assert_eq!(documented.difference(&listed).collect::<Vec<_>>(), Vec::<&(String, String)>::new(), "openapi.yaml documents routes that do not exist");
        // Every `$ref` points at something the document defines.
        let text = super::openapi::OPENAPI_YAML;
        for (i, _) in text.match_indices("$ref: '#/") {
            let pointer = &text[i + "$ref: '#/".len()..];
            let pointer = &pointer[..pointer.find('\'').unwrap()];
            let mut node = &document;
            for part in pointer.split('/') {
                node = &node[part];
            }
            assert!(!node.is_null(), "dangling $ref #/{pointer}");
        }
    }

    #[tokio::test]
    async fn every_listed_route_is_served() {
        let app = crate::app(state(options()).await);
        for (method, path) in ROUTES {
            let uri = path.replace("{id}", "hold_x").replace("{version}", "1");
            let response = app.clone().oneshot(request(method, &uri, None, None, Body::empty())).await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            // The router's own 404 and 405 have empty bodies; ours never do.
            assert!(!(matches!(status, StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED) && body.is_empty()), "{method} {uri}: {status}");
        }
        let response = app.oneshot(request("GET", "/openapi.yaml", None, None, Body::empty())).await.unwrap();
        assert_eq!(response.headers()["content-type"], "application/yaml");
    }
}
