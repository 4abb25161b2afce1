//! Request bodies: content type checked first, size limited exactly, errors in the
//! API's format (415, 413, 400, or 422 with the path of every problem).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use portcullis_policy::ValidationReport;

/// Largest policy document accepted: 1 MiB.
pub(crate) const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// Largest small JSON request body (rollbacks, key refreshes, holds, decisions): 16 KiB.
pub(crate) const MAX_JSON_BYTES: usize = 16 * 1024;

/// How a policy document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `application/yaml`, `application/x-yaml` or `text/yaml`.
    Yaml,
    /// `application/json`.
    Json,
}

/// A policy document as sent, up to [`MAX_POLICY_BYTES`], not yet parsed.
pub(crate) struct PolicyDocument {
    pub format: Format,
    pub text: String,
}

impl<S: Send + Sync> FromRequest<S> for PolicyDocument {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let format = match media_type(request.headers()).as_deref() {
            Some("application/yaml" | "application/x-yaml" | "text/yaml") => Format::Yaml,
            Some("application/json") => Format::Json,
            other => {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "send the policy with Content-Type application/yaml (or application/x-yaml, text/yaml) or application/json, not {}",
                    other.map_or_else(|| "none".to_owned(), |t| format!("`{t}`"))
                )))
            }
        };
        let bytes = read_limited(request, MAX_POLICY_BYTES).await?;
        let text = String::from_utf8(bytes.into()).map_err(|_| ApiError::BadRequest("the body is not UTF-8 text".into()))?;
        Ok(Self { format, text })
    }
}

/// A small JSON body (up to [`MAX_JSON_BYTES`]), deserialized with the path of any error.
/// A missing Content-Type is taken as JSON; any other than `application/json` is refused.
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json(request).await?;
        Ok(Self(parse_json(&bytes)?))
    }
}

/// Like [`JsonBody`], but an empty body stands for `T::default()` (as `{}` would).
pub(crate) struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json(request).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        Ok(Self(parse_json(&bytes)?))
    }
}

/// Query parameters, refused in the API's error format (400) when they do not parse.
pub(crate) struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::try_from_uri(&parts.uri).map_err(|e| ApiError::BadRequest(format!("invalid query string: {}", e.body_text())))?;
        Ok(Self(value))
    }
}

async fn read_json(request: Request) -> Result<Bytes, ApiError> {
    match media_type(request.headers()).as_deref() {
        None | Some("application/json") => {}
        Some(other) => return Err(ApiError::UnsupportedMediaType(format!("send JSON with Content-Type application/json, not `{other}`"))),
    }
    read_limited(request, MAX_JSON_BYTES).await
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        invalid(if path == "." { "(body)".to_owned() } else { path }, e.into_inner().to_string())
    })?;
    deserializer.end().map_err(|e| invalid("(body)".to_owned(), e.to_string()))?;
    Ok(value)
}

fn invalid(path: String, message: String) -> ApiError {
    let mut report = ValidationReport::default();
    report.error(path, message);
    ApiError::Invalid(report)
}

/// The media type of the body, lower-cased, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media_type = value.split(';').next()?.trim().to_ascii_lowercase();
    (!media_type.is_empty()).then_some(media_type)
}

async fn read_limited(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::PayloadTooLarge(format!("the body is larger than {limit} bytes, the most this route accepts"));
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(too_large()),
        Err(e) => Err(ApiError::BadRequest(format!("could not read the body: {e}"))),
    }
}
