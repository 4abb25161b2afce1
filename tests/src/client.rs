//! A small blocking HTTP client for scenarios: every status is a response,
//! never an error, so tests can assert on 4xx and 5xx answers.

use std::io::{BufRead as _, BufReader};
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde_json::Value;

/// A complete response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body).with_context(|| format!("body is not JSON: {}", self.body))
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build()
}

fn finish(result: Result<ureq::Response, ureq::Error>) -> Result<ureq::Response> {
    match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => Ok(response),
        Err(e) => Err(e.into()),
    }
}

fn headers_of(response: &ureq::Response) -> Vec<(String, String)> {
    response
        .headers_names()
        .into_iter()
        .filter_map(|name| response.header(&name).map(|v| (name.to_ascii_lowercase(), v.to_owned())))
        .collect()
}

fn complete(response: ureq::Response) -> Result<HttpResponse> {
    let status = response.status();
    let headers = headers_of(&response);
    let body = response.into_string()?;
    Ok(HttpResponse { status, headers, body })
}

/// `GET url` with extra headers.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Result<HttpResponse> {
    let mut request = agent().get(url);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    complete(finish(request.call())?)
}

/// `POST url` with a JSON body and extra headers.
pub fn post_json(url: &str, headers: &[(&str, &str)], body: &Value) -> Result<HttpResponse> {
    let mut request = agent().post(url);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    complete(finish(request.send_json(body.clone()))?)
}

/// `POST url` with a JSON body, reading the answer as server-sent events.
///
/// `on_event` sees each event's `data:` payload as it arrives. Returns the
/// status and headers once the stream ends.
pub fn post_sse(
    url: &str,
    headers: &[(&str, &str)],
    body: &Value,
    mut on_event: impl FnMut(&str),
) -> Result<HttpResponse> {
    let mut request = agent().post(url);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let response = finish(request.send_json(body.clone()))?;
    let status = response.status();
    let response_headers = headers_of(&response);
    let mut raw = String::new();
    let mut data = String::new();
    for line in BufReader::new(response.into_reader()).lines() {
        let line = line?;
        raw.push_str(&line);
        raw.push('\n');
        if let Some(payload) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(payload.strip_prefix(' ').unwrap_or(payload));
        } else if line.is_empty() && !data.is_empty() {
            on_event(&data);
            data.clear();
        }
    }
    if !data.is_empty() {
        on_event(&data);
    }
    Ok(HttpResponse { status, headers: response_headers, body: raw })
}
