//! JSON whose object keys keep the order they were written in.
//!
//! The workspace's `serde_json` sorts object keys; the real APIs do not
//! (`{"id":..,"object":..}`, `{"type":"message_start",..}`). Responses are
//! built with [`obj!`](crate::obj) so they come out in the real APIs' order.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// A JSON value whose objects serialize their keys in insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    /// An object, keys in order.
    Obj(Vec<(&'static str, J)>),
    /// An array.
    Arr(Vec<J>),
    /// Any other value (objects in it serialize sorted).
    Val(Value),
}

impl J {
    /// JSON `null`.
    pub const NULL: J = J::Val(Value::Null);

    /// Appends `key` (or replaces its value if present) and returns `self`.
    /// Does nothing to a non-object.
    pub fn with(mut self, key: &'static str, value: impl Into<J>) -> J {
        if let J::Obj(fields) = &mut self {
            let value = value.into();
            match fields.iter_mut().find(|(k, _)| *k == key) {
                Some((_, slot)) => *slot = value,
                None => fields.push((key, value)),
            }
        }
        self
    }

    /// Compact JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl std::fmt::Display for J {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            J::Obj(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            J::Arr(items) => items.serialize(serializer),
            J::Val(value) => value.serialize(serializer),
        }
    }
}

macro_rules! from_via_value {
    ($($t:ty),*) => {
        $(impl From<$t> for J {
            fn from(v: $t) -> J {
                J::Val(Value::from(v))
            }
        })*
    };
}

from_via_value!(Value, &str, String, u64, bool);

impl From<&String> for J {
    fn from(v: &String) -> J {
        J::from(v.as_str())
    }
}

impl From<Vec<J>> for J {
    fn from(items: Vec<J>) -> J {
        J::Arr(items)
    }
}

impl From<Option<&str>> for J {
    fn from(v: Option<&str>) -> J {
        v.map_or(J::NULL, J::from)
    }
}

/// Builds a [`J::Obj`]: `obj! { "id": id, "choices": vec![...] }`.
#[macro_export]
macro_rules! obj {
    ($($key:literal : $value:expr),* $(,)?) => {
        $crate::ordered::J::Obj(vec![$(($key, $crate::ordered::J::from($value))),*])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_order() {
        let j = obj! {
            "type": "message",
            "id": "msg_1",
            "content": vec![obj! {"type": "text", "text": "hi"}],
            "stop_sequence": J::NULL,
            "param": Option::<&str>::None,
            "n": 3u64,
        };
        assert_eq!(
            j.to_json(),
            r#"{"type":"message","id":"msg_1","content":[{"type":"text","text":"hi"}],"stop_sequence":null,"param":null,"n":3}"#
        );
        let j = j.with("n", 4u64).with("z", true);
        assert!(j.to_json().ends_with(r#""n":4,"z":true}"#));
    }
}
