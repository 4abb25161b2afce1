//! What the identity logic needs to know about a request, whatever host runs it.

use std::borrow::Cow;

use portcullis_policy::identity::TokenSource;

/// Read access to request headers. Names are compared case-insensitively.
pub trait Headers {
    /// The value of header `name`, if present.
    fn get(&self, name: &str) -> Option<Cow<'_, str>>;
}

impl Headers for [(String, String)] {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| Cow::Borrowed(v.as_str()))
    }
}

impl Headers for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        Headers::get(self.as_slice(), name)
    }
}

impl Headers for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| Cow::Borrowed(*v))
    }
}

impl Headers for Vec<(&str, &str)> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        Headers::get(self.as_slice(), name)
    }
}

impl<const N: usize> Headers for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        Headers::get(self.as_slice(), name)
    }
}

/// Adapts a lookup function, such as a proxy-wasm `get_http_request_header` call.
pub struct FnHeaders<F>(pub F);

impl<F: Fn(&str) -> Option<String>> Headers for FnHeaders<F> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        (self.0)(name).map(Cow::Owned)
    }
}

/// The parts of a request that authentication and authorization look at.
#[derive(Clone, Copy)]
pub struct RequestParts<'a> {
    /// Method, such as `POST`.
    pub method: &'a str,
    /// `:authority` (or `Host`), possibly with a port.
    pub authority: &'a str,
    /// `:path`, possibly with a query string.
    pub path: &'a str,
    /// Request headers (`cookie` is read from here).
    pub headers: &'a dyn Headers,
}

impl<'a> RequestParts<'a> {
    /// Bundles the parts.
    pub fn new(method: &'a str, authority: &'a str, path: &'a str, headers: &'a dyn Headers) -> Self {
        Self { method, authority, path, headers }
    }

    /// The query string, without `?` and fragment.
    pub fn query(&self) -> Option<&'a str> {
        let (_, rest) = self.path.split_once('?')?;
        Some(rest.split('#').next().unwrap_or(rest))
    }

    /// Finds the credential carried by `source`, if present and not empty.
    pub fn credential(&self, source: &TokenSource) -> Option<String> {
        let value = match source {
            TokenSource::Header { name, prefix } => {
                let value = self.headers.get(name)?;
                // "Bearer " matches "bearer   x" but not "Bearerx".
                let scheme = prefix.trim_end();
                let rest = strip_prefix_ignore_case(value.trim(), scheme)?;
                if scheme.len() < prefix.len() && !rest.starts_with([' ', '\t']) {
                    return None;
                }
                rest.trim().to_owned()
            }
            TokenSource::Query { name } => {
                let query = self.query()?;
                let raw = query.split('&').find_map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (key == name).then_some(value)
                })?;
                percent_decode(raw)
            }
            TokenSource::Cookie { name } => {
                let header = self.headers.get("cookie")?;
                let value = header.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    (key.trim() == name).then(|| value.trim().trim_matches('"').to_owned())
                })?;
                value
            }
        };
        (!value.is_empty()).then_some(value)
    }
}

fn strip_prefix_ignore_case<'v>(value: &'v str, prefix: &str) -> Option<&'v str> {
    let head = value.as_bytes().get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix.as_bytes()) {
        value.get(prefix.len()..)
    } else {
        None
    }
}

/// Decodes `%XX` escapes and `+`; anything malformed is kept as it is.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
        match bytes[i] {
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(hi), Some(lo)) => {
                    out.push(((hi << 4) | lo) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, prefix: &str) -> TokenSource {
        TokenSource::Header { name: name.into(), prefix: prefix.into() }
    }

    #[test]
    fn finds_credentials_in_each_kind_of_source() {
        let headers = vec![
            ("Authorization".to_string(), "bearer  abc.def.ghi ".to_string()),
            ("x-api-key".to_string(), "key-1".to_string()),
            ("cookie".to_string(), "a=1; session=\"tok\"; b=2".to_string()),
        ];
        let request = RequestParts::new("GET", "h", "/p?x=1&access_token=a%2Eb+c&y", &headers);
        assert_eq!(request.credential(&header("authorization", "Bearer ")).as_deref(), Some("abc.def.ghi"));
        assert_eq!(request.credential(&header("x-api-key", "")).as_deref(), Some("key-1"));
        assert_eq!(request.credential(&header("x-other", "")), None);
        assert_eq!(request.credential(&header("authorization", "Basic ")), None);
        assert_eq!(request.credential(&TokenSource::Query { name: "access_token".into() }).as_deref(), Some("a.b c"));
        assert_eq!(request.credential(&TokenSource::Query { name: "y".into() }), None);
        assert_eq!(request.credential(&TokenSource::Cookie { name: "session".into() }).as_deref(), Some("tok"));
        assert_eq!(request.credential(&TokenSource::Cookie { name: "none".into() }), None);
    }

    #[test]
    fn bearer_prefix_needs_a_separator() {
        let headers = [("authorization", "Bearerabc")];
        let request = RequestParts::new("GET", "h", "/", &headers);
        assert_eq!(request.credential(&header("authorization", "Bearer ")), None);
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
        assert_eq!(percent_decode("%e2%82%ac"), "€");
        assert_eq!(percent_decode("%ff"), "%ff");
    }

    #[test]
    fn function_headers_adapt_host_lookups() {
        let lookup = FnHeaders(|name: &str| (name == "authorization").then(|| "Bearer t".to_string()));
        let request = RequestParts::new("GET", "h", "/", &lookup);
        assert_eq!(request.credential(&header("authorization", "Bearer ")).as_deref(), Some("t"));
        assert_eq!(request.query(), None);
    }
}
