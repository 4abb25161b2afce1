//! A deterministic, prompt-steered test double for paid model APIs.
//!
//! It speaks the OpenAI wire format (`/v1/chat/completions`,
//! `/v1/completions`, `/v1/responses`, `/v1/models`) and the Anthropic Messages format
//! (`/v1/messages`), streaming and not. The answer is `echo: <prompt>` unless
//! the prompt carries a `[[mock {...}]]` directive (see [`directive`]) that
//! asks for an exact reply, exact stream chunks, an error status, delays, a
//! broken stream, or an echo of the request headers.

pub mod answer;
pub mod anthropic;
pub mod directive;
pub mod ids;
pub mod legacy;
pub mod openai;
pub mod ordered;
pub mod prompt;
pub mod responses;
pub mod sse;

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

/// The largest request body accepted (large prompts are a legitimate test).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The mock's routes.
pub fn app() -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/models", get(openai::list_models))
        .route("/v1/models/{id}", get(openai::get_model))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/completions", post(legacy::completions))
        .route("/v1/messages", post(anthropic::messages))
        .route("/v1/responses", post(responses::responses))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Unknown paths answer like OpenAI does.
async fn not_found(method: Method, uri: Uri) -> Response {
    openai::error(
        StatusCode::NOT_FOUND,
        format!("Invalid URL ({method} {})", uri.path()),
        None,
        None,
    )
}
