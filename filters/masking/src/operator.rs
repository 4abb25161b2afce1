//! Applying an [`Operator`] to one detected value.

use hmac::{Hmac, Mac};
use portcullis_policy::masking::Operator;
use sha2::Sha256;

use crate::pseudo::Pseudonymizer;

/// Writes the replacement for `value` (an entity labelled `label`) to `out`.
pub(crate) fn apply(
    op: &Operator,
    label: &str,
    value: &str,
    key: Option<&[u8]>,
    pseudo: &mut Pseudonymizer,
    out: &mut String,
) {
    match op {
        Operator::Redact => redact(label, out),
        Operator::Partial { keep_last, mask_char, keep_separators } => {
            partial(value, *keep_last, *mask_char, *keep_separators, out);
        }
        Operator::Hash { hex_len } => match key.and_then(|k| keyed_hash(k, value, *hex_len)) {
            Some(hex) => {
                out.push('[');
                out.push_str(label);
                out.push(':');
                out.push_str(&hex);
                out.push(']');
            }
            None => redact(label, out),
        },
        Operator::Pseudonymize => out.push_str(pseudo.pseudonym(label, value)),
    }
}

fn redact(label: &str, out: &mut String) {
    out.push('[');
    out.push_str(label);
    out.push(']');
}

/// Masks all but the last `keep_last` maskable characters. With
/// `keep_separators`, only letters and digits are maskable and everything
/// else stays in place.
pub(crate) fn partial(value: &str, keep_last: usize, mask_char: char, keep_separators: bool, out: &mut String) {
    let maskable = |c: char| !keep_separators || c.is_alphanumeric();
    let total = value.chars().filter(|&c| maskable(c)).count();
    let hide = total.saturating_sub(keep_last);
    let mut seen = 0;
    for c in value.chars() {
        if maskable(c) {
            out.push(if seen < hide { mask_char } else { c });
            seen += 1;
        } else {
            out.push(c);
        }
    }
}

/// First `hex_len` hex digits of HMAC-SHA256(`key`, `value`).
pub(crate) fn keyed_hash(key: &[u8], value: &str, hex_len: usize) -> Option<String> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(value.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex.truncate(hex_len.clamp(1, 64));
    Some(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(op: Operator, value: &str) -> String {
        let mut out = String::new();
        apply(&op, "CREDIT_CARD", value, Some(b"k"), &mut Pseudonymizer::new(), &mut out);
        out
    }

    #[test]
    fn partial_keeps_separators_and_the_tail() {
        let op = Operator::Partial { keep_last: 4, mask_char: '*', keep_separators: true };
        assert_eq!(run(op, "4111 1111 1111 1111"), "**** **** **** 1111");
        let op = Operator::Partial { keep_last: 2, mask_char: '#', keep_separators: false };
        assert_eq!(run(op, "ab-cd"), "###cd");
        let op = Operator::Partial { keep_last: 10, mask_char: '*', keep_separators: true };
        assert_eq!(run(op, "ab"), "ab");
    }

    #[test]
    fn hash_is_keyed_and_stable() {
        let a = run(Operator::Hash { hex_len: 8 }, "x");
        assert_eq!(a, run(Operator::Hash { hex_len: 8 }, "x"));
        assert_eq!(a.len(), "[CREDIT_CARD:]".len() + 8);
        assert_ne!(keyed_hash(b"k1", "x", 16), keyed_hash(b"k2", "x", 16));
        // RFC 4231 test case 2.
        assert_eq!(
            keyed_hash(b"Jefe", "what do ya want for nothing?", 64).unwrap(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
