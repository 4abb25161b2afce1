//! Server-sent-event framing and the streaming response body.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use http_body::Frame;
use tokio::time::Sleep;

use crate::ordered::J;

/// The terminator OpenAI sends after the last chunk.
pub const DONE: &str = "data: [DONE]\n\n";

/// An unnamed event: `data: <json>\n\n` (OpenAI style).
pub fn data(json: &J) -> Bytes {
    Bytes::from(format!("data: {json}\n\n"))
}

/// A named event: `event: <name>\ndata: <json>\n\n` (Anthropic style).
pub fn event(name: &str, json: &J) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {json}\n\n"))
}

/// How a stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Every event was sent; the body ends normally.
    Complete,
    /// The body fails after the events, so the server drops the connection
    /// mid-stream (no terminating chunk).
    Abort,
}

/// A response body that yields pre-built SSE events one at a time, sleeping
/// `delay` before each, and optionally breaks off at the end.
pub struct EventBody {
    events: VecDeque<Bytes>,
    delay: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    end: End,
}

impl EventBody {
    /// A body that sends `events` in order.
    pub fn new(events: Vec<Bytes>, delay: Duration, end: End) -> Self {
        Self {
            events: events.into(),
            delay,
            sleep: None,
            end,
        }
    }
}

impl http_body::Body for EventBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        if this.events.is_empty() {
            return Poll::Ready(match std::mem::replace(&mut this.end, End::Complete) {
                End::Complete => None,
                End::Abort => Some(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "mock stream aborted (abort_after)",
                ))),
            });
        }
        if !this.delay.is_zero() {
            let delay = this.delay;
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            ready!(sleep.as_mut().poll(cx));
            this.sleep = None;
        }
        Poll::Ready(this.events.pop_front().map(|e| Ok(Frame::data(e))))
    }

    fn is_end_stream(&self) -> bool {
        self.events.is_empty() && self.end == End::Complete
    }
}

/// A `200 text/event-stream` response streaming `events`.
pub fn response(events: Vec<Bytes>, delay: Duration, end: End) -> Response {
    let mut response = Response::new(Body::new(EventBody::new(events, delay, end)));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        assert_eq!(
            data(&crate::obj! {"b": 1u64, "a": 2u64}),
            "data: {\"b\":1,\"a\":2}\n\n"
        );
        assert_eq!(
            event("ping", &crate::obj! {"type": "ping"}),
            "event: ping\ndata: {\"type\":\"ping\"}\n\n"
        );
    }

    #[tokio::test]
    async fn body_yields_events_then_ends_or_aborts() {
        let events = vec![Bytes::from("a"), Bytes::from("b")];
        let ok = axum::body::to_bytes(
            Body::new(EventBody::new(
                events.clone(),
                Duration::ZERO,
                End::Complete,
            )),
            usize::MAX,
        )
        .await
        .unwrap();
        assert_eq!(ok, "ab");
        let aborted = axum::body::to_bytes(
            Body::new(EventBody::new(events, Duration::from_millis(1), End::Abort)),
            usize::MAX,
        )
        .await;
        assert!(aborted.is_err());
    }
}
