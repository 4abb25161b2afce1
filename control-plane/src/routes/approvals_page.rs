//! `/approvals/`: the approvers' page, static HTML, CSS and JavaScript compiled into
//! the binary (no build step, nothing loaded from elsewhere).
//!
//! The page asks for an OIDC access token (kept in `sessionStorage`, so it is gone
//! when the tab closes) and calls the approvals API with it; live updates come from
//! `GET /v1/holds/events`, read with `fetch` so the token stays in a header. The
//! answers forbid framing and any script, style or connection from elsewhere.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

const INDEX_HTML: &str = include_str!("../../approvals/index.html");
const APP_JS: &str = include_str!("../../approvals/app.js");
const APP_CSS: &str = include_str!("../../approvals/app.css");

/// Allows the page's own files and calls to its own origin only.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/approvals", get(|| async { Redirect::permanent("/approvals/") }))
        .route("/approvals/", get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }))
        .route("/approvals/app.js", get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }))
        .route("/approvals/app.css", get(|| async { asset("text/css; charset=utf-8", APP_CSS) }))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    ];
    (headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use crate::testing::{options, request, state};

    #[tokio::test]
    async fn the_page_and_its_files_are_served_with_a_strict_policy() {
        let app = crate::app(state(options()).await);
        let response = app.clone().oneshot(request("GET", "/approvals", None, None, Body::empty())).await.unwrap();
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(response.headers()["location"], "/approvals/");
        for (uri, content_type) in [("/approvals/", "text/html"), ("/approvals/app.js", "text/javascript"), ("/approvals/app.css", "text/css")] {
            let response = app.clone().oneshot(request("GET", uri, None, None, Body::empty())).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
            assert!(response.headers()["content-type"].to_str().unwrap().starts_with(content_type), "{uri}");
            assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
            let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
            assert!(!body.contains("http://") && !body.contains("https://"), "{uri} refers to another site");
        }
    }

    #[test]
    fn the_page_has_the_test_ids_the_browser_tests_use() {
        let page = format!("{}{}", super::INDEX_HTML, super::APP_JS);
        for id in ["token-input", "hold-row", "hold-detail", "decision-reason", "approve-button", "deny-button", "grant-minutes", "status-badge"] {
            assert!(page.contains(&format!("\"{id}\"")), "data-testid {id} missing");
        }
        assert!(!super::INDEX_HTML.contains("<script>") && !super::INDEX_HTML.contains("style="), "no inline code: the CSP forbids it");
    }
}
