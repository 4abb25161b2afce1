//! Local replies: answering the caller from the filter.

use proxy_wasm::hostcalls;

/// Sends `status` with a JSON `body` to the caller, ending the request.
///
/// The filter must return `Action::Pause` after calling this.
pub fn json(status: u32, body: &str) {
    json_with(status, body, &[]);
}

/// Like [`json`], with extra response headers.
pub fn json_with(status: u32, body: &str, extra: &[(&str, &str)]) {
    let mut headers = vec![("content-type", "application/json"), ("cache-control", "no-store")];
    headers.extend_from_slice(extra);
    if let Err(status_err) = hostcalls::send_http_response(status, headers, Some(body.as_bytes())) {
        log::error!("could not send the local reply (HTTP {status}): host status {status_err:?}");
    }
}
