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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_in_openai_shape() {
        let body = ErrorBody::new("policy_unavailable", "portcullis_no_policy", "no policy yet");
        let value: serde_json::Value = serde_json::from_str(&body.to_json()).unwrap();
        assert_eq!(value["error"]["type"], "policy_unavailable");
        assert_eq!(value["error"]["code"], "portcullis_no_policy");
        assert_eq!(value["error"]["message"], "no policy yet");
    }
}
