//! Every string of a JSON value as a segment, with its path.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Role, Segment};

/// Pushes every string in `value` (taken, not copied) as a segment whose field is its path below
/// `path`. An array of two or more strings and nothing else (an argv) is one segment, joined
/// with spaces. Depth is bounded by the parser's nesting limit (128).
pub(crate) fn leaves(value: Value, path: &mut String, role: Role, latest: bool, out: &mut Vec<Segment>) {
    match value {
        Value::String(text) => out.push(segment(path, role, latest, text)),
        Value::Array(items) if items.len() >= 2 && items.iter().all(Value::is_string) => {
            let mut text = String::new();
            for item in items.iter().filter_map(Value::as_str) {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(item);
            }
            out.push(segment(path, role, latest, text));
        }
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                leaves(item, path, role, latest, out);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key);
                leaves(item, path, role, latest, out);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn segment(path: &str, role: Role, latest: bool, text: String) -> Segment {
    let field = if path.is_empty() { "body".to_owned() } else { path.to_owned() };
    Segment { field, role, latest, text }
}
