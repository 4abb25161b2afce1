//! Compact JWS parsing (RFC 7515) and the claim helpers (RFC 7519) that need no key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use portcullis_policy::identity::Algorithm;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{AuthError, AuthErrorCode};

/// A token split and decoded, not yet verified.
pub(crate) struct Token<'a> {
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub claims: Map<String, Value>,
    pub signature: Vec<u8>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

fn malformed(message: impl Into<String>) -> AuthError {
    AuthError::new(AuthErrorCode::MalformedToken, message)
}

fn decode(segment: &str, what: &str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD.decode(segment).map_err(|_| malformed(format!("the token {what} is not base64url")))
}

/// Splits and decodes a compact JWS: three non-empty base64url segments, a JSON header with
/// a supported `alg` and no `crit`, and a JSON object payload.
pub(crate) fn parse(token: &str) -> Result<Token<'_>, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("a JWT has three dot-separated segments"));
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(malformed("a JWT segment is empty (unsigned tokens are refused)"));
    }
    let signing_input = token.get(..header.len() + 1 + payload.len()).unwrap_or_default();
    let header: Header = serde_json::from_slice(&decode(header, "header")?)
        .map_err(|_| malformed("the token header is not a JSON object with a string `alg`"))?;
    if header.crit.is_some() {
        return Err(malformed("the token header has `crit` extensions, which are not supported"));
    }
    let alg = Algorithm::from_name(&header.alg).ok_or_else(|| {
        AuthError::new(AuthErrorCode::UnsupportedAlgorithm, format!("algorithm `{}` is not supported", printable(&header.alg)))
    })?;
    let claims = match serde_json::from_slice(&decode(payload, "payload")?) {
        Ok(Value::Object(claims)) => claims,
        _ => return Err(malformed("the token payload is not a JSON object")),
    };
    let signature = decode(signature, "signature")?;
    Ok(Token { signing_input, alg, kid: header.kid, claims, signature })
}

/// Up to 64 printable ASCII characters of `text`, for error messages.
pub(crate) fn printable(text: &str) -> String {
    text.chars().take(64).map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect()
}

/// A claim by name, or by dotted path into nested objects (`realm_access.roles`).
pub(crate) fn lookup<'v>(claims: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// A NumericDate claim (seconds, possibly fractional) as whole seconds.
pub(crate) fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, AuthError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => {
            if let Some(seconds) = number.as_u64() {
                return Ok(Some(seconds));
            }
            match number.as_f64() {
                Some(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(Some(seconds.min(u64::MAX as f64) as u64)),
                _ => Err(malformed(format!("`{name}` must be a non-negative number of seconds"))),
            }
        }
        Some(_) => Err(malformed(format!("`{name}` must be a number of seconds"))),
    }
}

/// Whether `value` equals `wanted`, or is an array containing it.
pub(crate) fn value_matches(value: &Value, wanted: &Value) -> bool {
    value == wanted || value.as_array().is_some_and(|items| items.contains(wanted))
}

/// Whether `value` is the string `wanted` (numbers and booleans compared as text), or an
/// array containing such a value.
pub(crate) fn value_matches_text(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted,
        Value::Number(n) => n.to_string() == wanted,
        Value::Bool(b) => (if *b { "true" } else { "false" }) == wanted,
        Value::Array(items) => items.iter().any(|item| !item.is_array() && value_matches_text(item, wanted)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(data: &str) -> String {
        URL_SAFE_NO_PAD.encode(data)
    }

    #[test]
    fn parses_a_well_formed_token() {
        let token = format!("{}.{}.{}", b64(r#"{"alg":"ES256","kid":"k1"}"#), b64(r#"{"sub":"a"}"#), b64("sig"));
        let parsed = parse(&token).unwrap();
        assert_eq!(parsed.alg, Algorithm::ES256);
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        assert_eq!(parsed.claims["sub"], "a");
        assert_eq!(parsed.signature, b"sig");
        assert_eq!(format!("{}.{}", parsed.signing_input, b64("sig")), token);
    }

    #[test]
    fn refuses_malformed_tokens() {
        let h = b64(r#"{"alg":"RS256"}"#);
        let p = b64(r#"{"sub":"a"}"#);
        let cases = [
            ("".to_string(), AuthErrorCode::MalformedToken),
            ("a.b".to_string(), AuthErrorCode::MalformedToken),
            (format!("{h}.{p}.c.d"), AuthErrorCode::MalformedToken),
            (format!("{h}.{p}."), AuthErrorCode::MalformedToken),
            (format!("{h}.{p}.a+b/"), AuthErrorCode::MalformedToken),
            (format!("{h}.{p}.YQ=="), AuthErrorCode::MalformedToken),
            (format!("!!.{p}.YQ"), AuthErrorCode::MalformedToken),
            (format!("{}.{p}.YQ", b64("[1]")), AuthErrorCode::MalformedToken),
            (format!("{}.{p}.YQ", b64(r#"{"alg":"RS256","crit":["b64"]}"#)), AuthErrorCode::MalformedToken),
            (format!("{}.{p}.YQ", b64(r#"{"alg":"none"}"#)), AuthErrorCode::UnsupportedAlgorithm),
            (format!("{}.{p}.YQ", b64(r#"{"alg":"ES512"}"#)), AuthErrorCode::UnsupportedAlgorithm),
            (format!("{h}.{}.YQ", b64("[]")), AuthErrorCode::MalformedToken),
            (format!("{h}.{}.YQ", b64("not json")), AuthErrorCode::MalformedToken),
        ];
        for (token, code) in cases {
            assert_eq!(parse(&token).err().map(|e| e.code), Some(code), "{token}");
        }
    }

    #[test]
    fn claim_helpers() {
        let claims = json!({"exp": 10.7, "neg": -1, "s": "x", "a": {"b": ["r1", 2]}, "a.b": 1});
        let claims = claims.as_object().unwrap();
        assert_eq!(numeric_date(claims, "exp").unwrap(), Some(10));
        assert_eq!(numeric_date(claims, "missing").unwrap(), None);
        assert!(numeric_date(claims, "neg").is_err());
        assert!(numeric_date(claims, "s").is_err());
        assert_eq!(lookup(claims, "a.b"), Some(&json!(1)));
        assert_eq!(lookup(claims, "a").and_then(|a| a.get("b")), Some(&json!(["r1", 2])));
        let nested = json!({"realm": {"roles": ["r1", 2]}});
        let nested = nested.as_object().unwrap();
        assert!(value_matches_text(lookup(nested, "realm.roles").unwrap(), "r1"));
        assert!(value_matches_text(lookup(nested, "realm.roles").unwrap(), "2"));
        assert!(!value_matches_text(lookup(nested, "realm.roles").unwrap(), "r2"));
        assert!(value_matches(&json!(["x", true]), &json!(true)));
        assert!(lookup(nested, "realm.missing").is_none());
    }
}
