//! Which bodies the filter masks, and how, from their headers.

/// How a body is masked, decided from its `content-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json`, `*/*+json`: buffered, string values masked, output
    /// stays valid JSON.
    Json,
    /// `text/event-stream`: streamed event by event through the SSE rewriter.
    EventStream,
    /// `text/*` and textual application types (NDJSON, XML, YAML): buffered
    /// and masked as text.
    Text,
    /// No `content-type` at all: masked as text when it is UTF-8, passed (and
    /// noted) otherwise.
    Unknown,
    /// Anything else (images, audio, `multipart/form-data`, octet streams...):
    /// passed through unmasked, noted in the exchange's report.
    Other,
}

impl BodyKind {
    /// Classifies a `content-type` header value.
    pub fn of(content_type: Option<&str>) -> BodyKind {
        let Some(value) = content_type else { return BodyKind::Unknown };
        let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence.is_empty() {
            return BodyKind::Unknown;
        }
        match essence.as_str() {
            "application/json" => BodyKind::Json,
            "text/event-stream" => BodyKind::EventStream,
            "application/x-ndjson" | "application/jsonl" | "application/ndjson" | "application/xml" | "application/yaml"
            | "application/x-yaml" | "application/javascript" => BodyKind::Text,
            e if e.ends_with("+json") => BodyKind::Json,
            e if e.ends_with("+xml") || e.starts_with("text/") => BodyKind::Text,
            _ => BodyKind::Other,
        }
    }

    /// Whether the filter reads and may rewrite bodies of this kind.
    pub fn is_masked(self) -> bool {
        !matches!(self, BodyKind::Other)
    }
}

/// Whether a `content-encoding` value leaves the body readable: absent,
/// empty, or only `identity`.
pub fn is_identity(content_encoding: Option<&str>) -> bool {
    content_encoding.is_none_or(|value| {
        value.split(',').map(str::trim).all(|coding| coding.is_empty() || coding.eq_ignore_ascii_case("identity"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let cases = [
            (Some("application/json"), BodyKind::Json),
            (Some("Application/JSON; charset=utf-8"), BodyKind::Json),
            (Some("application/problem+json"), BodyKind::Json),
            (Some("text/event-stream"), BodyKind::EventStream),
            (Some("text/event-stream; charset=utf-8"), BodyKind::EventStream),
            (Some("text/plain"), BodyKind::Text),
            (Some("text/html; charset=utf-8"), BodyKind::Text),
            (Some("application/x-ndjson"), BodyKind::Text),
            (Some("application/atom+xml"), BodyKind::Text),
            (Some("image/png"), BodyKind::Other),
            (Some("multipart/form-data; boundary=x"), BodyKind::Other),
            (Some("application/octet-stream"), BodyKind::Other),
            (Some(""), BodyKind::Unknown),
            (None, BodyKind::Unknown),
        ];
        for (ct, kind) in cases {
            assert_eq!(BodyKind::of(ct), kind, "{ct:?}");
        }
    }

    #[test]
    fn encodings() {
        assert!(is_identity(None));
        assert!(is_identity(Some("")));
        assert!(is_identity(Some("identity")));
        assert!(is_identity(Some(" Identity ")));
        assert!(!is_identity(Some("gzip")));
        assert!(!is_identity(Some("br")));
        assert!(!is_identity(Some("identity, gzip")));
    }
}
