//! Error bodies returned to callers, in the shape OpenAI's API uses.

use serde::{Deserialize, Serialize};

/// `{"error": {...}}`: what the gateway answers when it refuses a request.
///
/// Official OpenAI clients parse this shape and show `message` to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// The inner error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Human-readable explanation: what happened and what to do about it.
    pub message: String,
    /// Broad class, such as `policy_unavailable` or `authentication_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Stable machine-readable code, such as `portcullis_no_policy`.
    pub code: String,
}

impl ErrorBody {
    /// Builds an error body.
    pub fn new(kind: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { error: ErrorDetail { message: message.into(), kind: kind.into(), code: code.into() } }
    }

    /// Serialises to JSON; never fails for this type.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"error\":{}}"))
    }

    /// The same error as a JSON-RPC 2.0 error response to the request with
    /// `id`, for callers that speak JSON-RPC (MCP): `error.code` is
    /// [`JSONRPC_REFUSED`], `error.message` this error's message, and
    /// `error.data` carries `type` and `code` as in the OpenAI shape.
    pub fn to_jsonrpc(&self, id: &serde_json::Value) -> String {
        serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {
                "code": JSONRPC_REFUSED,
                "message": self.error.message,
                "data": { "type": self.error.kind, "code": self.error.code },
            },
        })
        .to_string()
    }
}

/// JSON-RPC error code of a request that Portcullis refused (blocked, denied,
/// expired, or no usable policy). It lies in the range JSON-RPC 2.0 reserves
/// for implementation-defined server errors (-32000 to -32099).
pub const JSONRPC_REFUSED: i64 = -32001;

/// The `id` of a JSON-RPC 2.0 request in `body`, when `body` is one (an
/// object with `"jsonrpc": "2.0"`, a `method` and an `id`). Notifications and
/// batches give `None`.
pub fn jsonrpc_request_id(body: &[u8]) -> Option<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = value.as_object()?;
    if obj.get("jsonrpc")?.as_str()? != "2.0" || !obj.get("method")?.is_string() {
        return None;
    }
    obj.get("id").filter(|id| id.is_string() || id.is_number()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rpc_shape_keeps_the_request_id_and_the_codes() {
        let body = ErrorBody::new("permission_error", "portcullis_blocked", "blocked (rule x)");
        let value: serde_json::Value = serde_json::from_str(&body.to_jsonrpc(&serde_json::json!(7))).unwrap();
        assert_eq!(value["jsonrpc"], "2.0");
        assert_eq!(value["id"], 7);
        assert_eq!(value["error"]["code"], JSONRPC_REFUSED);
        assert_eq!(value["error"]["message"], "blocked (rule x)");
        assert_eq!(value["error"]["data"]["code"], "portcullis_blocked");
    }

    #[test]
    fn only_json_rpc_requests_have_an_id() {
        let call = br#"{"jsonrpc":"2.0","id":"a1","method":"tools/call","params":{}}"#;
        assert_eq!(jsonrpc_request_id(call), Some(serde_json::json!("a1")));
        assert_eq!(jsonrpc_request_id(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#), None);
        assert_eq!(jsonrpc_request_id(br#"{"model":"m","messages":[]}"#), None);
        assert_eq!(jsonrpc_request_id(br#"[{"jsonrpc":"2.0","id":1,"method":"x"}]"#), None);
        assert_eq!(jsonrpc_request_id(b"not json"), None);
    }

    #[test]
    fn serialises_in_openai_shape() {
        let body = ErrorBody::new("policy_unavailable", "portcullis_no_policy", "no policy yet");
        let value: serde_json::Value = serde_json::from_str(&body.to_json()).unwrap();
        assert_eq!(value["error"]["type"], "policy_unavailable");
        assert_eq!(value["error"]["code"], "portcullis_no_policy");
        assert_eq!(value["error"]["message"], "no policy yet");
    }
}
