//! Generic secrets: a value assigned to a secret-looking key
//! (`password = "..."`, `api_key: ...`, `"client_secret": "..."`,
//! `Authorization: Bearer ...`), kept only when its Shannon entropy is high
//! enough and it is not a placeholder. Only the value is masked.

use crate::entity::EntityKind;
use crate::scan::{entropy_below, is_placeholder, Scan, Sink, Step};

const KEYWORDS: &[&[u8]] = &[
    b"password",
    b"passwd",
    b"pwd",
    b"passphrase",
    b"secret",
    b"token",
    b"apikey",
    b"api_key",
    b"api-key",
    b"accesskey",
    b"access_key",
    b"privatekey",
    b"private_key",
    b"credential",
    b"authkey",
    b"auth_key",
    b"authorization",
    b"session_key",
    b"signing_key",
    b"encryption_key",
    b"connection_string",
    b"conn_str",
];
const PASSWORDISH: &[&[u8]] = &[b"password", b"passwd", b"pwd", b"passphrase"];
/// Keys that name a property of a secret rather than hold one.
const EXCLUDED: &[&[u8]] = &[
    b"type",
    b"count",
    b"length",
    b"_len",
    b"size",
    b"max",
    b"min",
    b"limit",
    b"expir",
    b"url",
    b"uri",
    b"path",
    b"file",
    b"name",
    b"hint",
    b"policy",
    b"format",
    b"usage",
    b"reset",
    b"prompt",
    b"label",
    b"field",
    b"_id",
    b"required",
    b"enabled",
    b"endpoint",
];
const SCHEMES: &[&[u8]] = &[b"bearer", b"basic", b"token", b"digest"];

const MAX_KEY: usize = 64;
/// Furthest a value may start after its `:` or `=` (`=>`, three spaces, a
/// quote and a scheme word such as `Digest `).
pub(crate) const REACH: usize = 16;
const MAX_VALUE: usize = 512;
/// Minimum entropy (bits per byte) for values of keys other than passwords.
pub const GENERIC_MIN_ENTROPY: f64 = 3.0;
/// Minimum entropy for password values, which are short and human-made.
pub const PASSWORD_MIN_ENTROPY: f64 = 2.0;

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Bit `k` of entry `c`: byte `at` of needle `k` is `c` (at most 32 needles,
/// each at least two bytes long).
const fn needle_bytes(needles: &[&[u8]], at: usize) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut k = 0;
    while k < needles.len() && k < 32 {
        assert!(needles[k].len() >= 2);
        t[needles[k][at] as usize] |= 1 << k;
        k += 1;
    }
    t
}

/// The needles that start with a given pair of bytes: `(first, second)[x] & [y]`.
type Pairs = ([u32; 256], [u32; 256]);

const KEYWORD_PAIRS: Pairs = (needle_bytes(KEYWORDS, 0), needle_bytes(KEYWORDS, 1));
const EXCLUDED_PAIRS: Pairs = (needle_bytes(EXCLUDED, 0), needle_bytes(EXCLUDED, 1));
const PASSWORDISH_PAIRS: Pairs = (needle_bytes(PASSWORDISH, 0), needle_bytes(PASSWORDISH, 1));

/// Whether one of `needles` (lower case, indexed by `pairs`) occurs in `hay` (lower case).
fn contains(hay: &[u8], needles: &[&[u8]], pairs: &Pairs) -> bool {
    hay.windows(2).enumerate().any(|(i, w)| {
        let (&[x, y], Some(rest)) = (w, hay.get(i..)) else { return false };
        let mut bits = pairs.0[usize::from(x)] & pairs.1[usize::from(y)];
        while bits != 0 {
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if needles.get(k).is_some_and(|n| rest.starts_with(n)) {
                return true;
            }
        }
        false
    })
}

/// [`is_value_end`] as a table.
const VALUE_END: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = is_value_end(i as u8);
        i += 1;
    }
    t
};

const fn is_value_end(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(c, b',' | b';' | b'&' | b')' | b'}' | b']' | b'"' | b'\'' | b'`' | b'<' | b'>' | b'(')
}

/// `${VAR}`, `$(cmd)`, `$VAR`, `%VAR%`, `{{ var }}`: a reference, not a secret.
fn is_reference(v: &[u8]) -> bool {
    match v {
        [b'$', b'{' | b'(', ..] | [b'{', ..] | [b'%', b'(', ..] => true,
        [b'%', rest @ .., b'%'] => rest.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_'),
        [b'$', rest @ ..] => rest.iter().all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_'),
        _ => false,
    }
}

/// Whether `name=` follows at `i` (the next parameter of a URL query string).
fn url_parameter_follows(sc: &Scan<'_>, i: usize, hold: usize) -> Result<bool, crate::scan::Hold> {
    let mut k = i;
    while sc.at(k, hold)?.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
        k += 1;
        if k - i > 32 {
            return Ok(false);
        }
    }
    Ok(k > i && sc.at(k, hold)? == Some(b'='))
}

/// Looks for `key <op> value` around the `:` or `=` at `s`.
pub(crate) fn assignment(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::GenericSecret) {
        return Ok(());
    }
    let hold = s + 1;
    let op = sc.b.get(s).copied();
    let prev = sc.prev(s);
    let next = sc.at(s + 1, hold)?;
    let mut i = s + 1;
    match op {
        Some(b'=') => {
            if matches!(prev, Some(b'=' | b'!' | b'<' | b'>')) || next == Some(b'=') {
                return Ok(());
            }
            if next == Some(b'>') {
                i += 1;
            }
        }
        Some(b':') => {
            if prev == Some(b':') || matches!(next, Some(b':' | b'/')) {
                return Ok(());
            }
            if next == Some(b'=') {
                i += 1;
            }
        }
        _ => return Ok(()),
    }
    // Key, read backwards: spaces, an optional closing quote, identifier characters.
    let mut j = s;
    for _ in 0..3 {
        if matches!(sc.prev(j), Some(b' ' | b'\t')) {
            j -= 1;
        }
    }
    if matches!(sc.prev(j), Some(b'"' | b'\'')) {
        j -= 1;
    }
    let key_end = j;
    while sc.prev(j).is_some_and(is_ident) && key_end - j < MAX_KEY {
        j -= 1;
    }
    let mut key = [0u8; MAX_KEY];
    let raw_key = sc.slice(j, key_end);
    if raw_key.is_empty() {
        return Ok(());
    }
    for (d, c) in key.iter_mut().zip(raw_key) {
        *d = c.to_ascii_lowercase();
    }
    let key = key.get(..raw_key.len()).unwrap_or(&[]);
    if !contains(key, KEYWORDS, &KEYWORD_PAIRS) || contains(key, EXCLUDED, &EXCLUDED_PAIRS) {
        return Ok(());
    }
    let password = contains(key, PASSWORDISH, &PASSWORDISH_PAIRS);
    // Value.
    for _ in 0..3 {
        if matches!(sc.at(i, hold)?, Some(b' ' | b'\t')) {
            i += 1;
        }
    }
    let quote = match sc.at(i, hold)? {
        Some(q @ (b'"' | b'\'' | b'`')) => {
            i += 1;
            Some(q)
        }
        _ => None,
    };
    let (mut v0, mut v1) = (i, i);
    let mut terminator = None;
    let b = sc.b;
    loop {
        // Skip the bytes that need no decision; the loop below would only
        // step over them (and give up once the value is too long).
        let limit = v0 + MAX_VALUE + 1;
        let plain = b.get(v1..limit.min(b.len())).unwrap_or(&[]);
        let skip = match quote {
            Some(q) => plain.iter().position(|&c| c == q || c == b'\n' || c == b'\\'),
            None => plain.iter().position(|&c| VALUE_END[usize::from(c)]),
        };
        v1 += skip.unwrap_or(plain.len());
        if v1 >= limit {
            return Ok(());
        }
        match sc.at(v1, hold)? {
            None => {
                if quote.is_some() {
                    return Ok(());
                }
                break;
            }
            Some(c) => match quote {
                Some(q) if c == q => {
                    terminator = Some(c);
                    break;
                }
                Some(_) if c == b'\n' => return Ok(()),
                Some(_) if c == b'\\' => v1 += 1,
                Some(_) => {}
                None if c == b'&' && !url_parameter_follows(sc, v1 + 1, hold)? => {}
                None if is_value_end(c) => {
                    terminator = Some(c);
                    break;
                }
                None => {}
            },
        }
        v1 += 1;
        if v1 - v0 > MAX_VALUE {
            return Ok(());
        }
    }
    // `Authorization: Bearer <token>`: the secret is the word after the scheme.
    let first_word_end =
        if quote.is_some() { sc.slice(v0, v1).iter().position(|&c| c == b' ').map_or(v1, |p| v0 + p) } else { v1 };
    let first = sc.slice(v0, first_word_end);
    if SCHEMES.iter().any(|scheme| first.eq_ignore_ascii_case(scheme)) {
        if quote.is_some() {
            v0 = first_word_end + 1;
        } else if terminator == Some(b' ') {
            v0 = v1 + 1;
            v1 = v0;
            loop {
                match sc.at(v1, hold)? {
                    Some(c) if !is_value_end(c) => v1 += 1,
                    Some(c) => {
                        terminator = Some(c);
                        break;
                    }
                    None => break,
                }
                if v1 - v0 > MAX_VALUE {
                    return Ok(());
                }
            }
        }
    }
    if quote.is_none() {
        if terminator == Some(b'(') {
            return Ok(());
        }
        while v1 > v0 && sc.b.get(v1 - 1) == Some(&b'.') {
            v1 -= 1;
        }
    }
    if v0 >= v1 {
        return Ok(());
    }
    let v = sc.slice(v0, v1);
    let (min_len, min_entropy) = if password { (6, PASSWORD_MIN_ENTROPY) } else { (8, GENERIC_MIN_ENTROPY) };
    let reference = v.iter().all(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b'.') && v.contains(&b'.');
    if v.len() < min_len || is_reference(v) || reference || is_placeholder(v) || entropy_below(v, min_entropy) {
        return Ok(());
    }
    sink.push(EntityKind::GenericSecret, v0, v1);
    Ok(())
}
