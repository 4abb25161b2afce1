//! E-mail addresses, IPv6 (parsed by `std`) and MAC addresses.

use std::net::Ipv6Addr;

use crate::entity::EntityKind;
use crate::scan::{is_alnum, Hold, Scan, Sink, Step};

const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;
const MAX_IPV6: usize = 45;

/// Bytes of an e-mail's local part (`LOCAL`) and of its domain (`DOMAIN`).
const LOCAL: u8 = 1;
const DOMAIN: u8 = 2;

const EMAIL_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        if c.is_ascii_alphanumeric() || c == b'-' || c == b'.' {
            t[i] = LOCAL | DOMAIN;
        } else if matches!(c, b'_' | b'%' | b'+') {
            t[i] = LOCAL;
        }
        i += 1;
    }
    t
};

#[inline]
fn is_local(c: u8) -> bool {
    EMAIL_BYTES[usize::from(c)] & LOCAL != 0
}

/// Top-level "domains" that are really file names such as `logo@2x.png`.
fn is_file_tld(tld: &[u8]) -> bool {
    if !(3..=4).contains(&tld.len()) {
        return false;
    }
    let mut lower = [0u8; 4];
    for (l, c) in lower.iter_mut().zip(tld) {
        *l = c.to_ascii_lowercase();
    }
    matches!(&lower, b"png\0" | b"jpg\0" | b"jpeg" | b"gif\0" | b"svg\0" | b"webp" | b"bmp\0" | b"ico\0")
}

/// E-mail address around the `@` at `a`; the local part is read backwards.
pub(crate) fn email(sc: &Scan<'_>, a: usize, from: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::Email) {
        return Ok(());
    }
    let mut j = a;
    while let Some(c) = sc.prev(j) {
        if !is_local(c) {
            break;
        }
        j -= 1;
        if a - j > MAX_LOCAL {
            return Ok(());
        }
    }
    while j < a && sc.b.get(j) == Some(&b'.') {
        j += 1;
    }
    if j >= a || j < from || sc.prev(a) == Some(b'.') {
        return Ok(());
    }
    // The domain: letters, digits, `-` and `.`; more than `MAX_DOMAIN` of
    // them is no domain.
    let rest = sc.slice(a + 1, a + 2 + MAX_DOMAIN);
    let k = match rest.iter().position(|&c| EMAIL_BYTES[usize::from(c)] & DOMAIN == 0) {
        Some(p) => a + 1 + p,
        None if rest.len() > MAX_DOMAIN => return Ok(()),
        None if !sc.fin => return Err(Hold(j)),
        None => a + 1 + rest.len(),
    };
    let mut end = k;
    while end > a + 1 && matches!(sc.b.get(end - 1), Some(b'.' | b'-')) {
        end -= 1;
    }
    let domain = sc.slice(a + 1, end);
    let labels = domain.split(|&c| c == b'.');
    let mut count = 0;
    let mut tld: &[u8] = &[];
    for label in labels {
        if label.is_empty() || label.len() > 63 || label.first() == Some(&b'-') || label.last() == Some(&b'-') {
            return Ok(());
        }
        count += 1;
        tld = label;
    }
    if count < 2 || tld.len() < 2 || !tld.iter().all(u8::is_ascii_alphabetic) {
        return Ok(());
    }
    if is_file_tld(tld) {
        return Ok(());
    }
    sink.push(EntityKind::Email, j, end);
    Ok(())
}

/// While streaming, a run of local-part characters at the very end may still
/// be followed by `@`: returns where that e-mail would start.
pub(crate) fn email_tail(sc: &Scan<'_>, from: usize) -> Option<usize> {
    let len = sc.b.len();
    let mut j = len;
    while let Some(c) = sc.prev(j) {
        if !is_local(c) || len - j >= MAX_LOCAL {
            break;
        }
        j -= 1;
    }
    if j == len || (len - j >= MAX_LOCAL && sc.prev(j).is_some_and(is_local)) {
        return None;
    }
    Some(j.max(from))
}

/// MAC or IPv6 address at a token start `s` (a hex digit).
pub(crate) fn hex_token(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if matches!(sc.prev(s), Some(b':' | b'.')) {
        return Ok(());
    }
    // Cheap rejection for ordinary words: an address has `:`, `-` or `.`
    // within its first five characters.
    let mut k = s;
    let sep = loop {
        match sc.at(k, s)? {
            Some(c) if c.is_ascii_hexdigit() && k - s < 4 => k += 1,
            Some(c @ (b':' | b'-' | b'.')) if k > s => break c,
            _ => return Ok(()),
        }
    };
    if sink.wants(EntityKind::MacAddress) {
        mac(sc, s, k - s, sep, sink)?;
    }
    if sep == b':' && sink.wants(EntityKind::Ipv6) {
        ipv6_at(sc, s, sink)?;
    }
    Ok(())
}

fn mac(sc: &Scan<'_>, s: usize, first: usize, sep: u8, sink: &mut Sink<'_>) -> Step {
    let hex = |i: usize| -> Result<bool, crate::scan::Hold> { Ok(sc.at(i, s)?.is_some_and(|c| c.is_ascii_hexdigit())) };
    let (groups, width, len) = match (first, sep) {
        (2, b':' | b'-') => (6, 2, 17),
        (4, b'.') => (3, 4, 14),
        _ => return Ok(()),
    };
    for g in 0..groups {
        let at = s + g * (width + 1);
        for w in 0..width {
            if !hex(at + w)? {
                return Ok(());
            }
        }
        if g + 1 < groups && sc.at(at + width, s)? != Some(sep) {
            return Ok(());
        }
    }
    let end = s + len;
    match sc.at(end, s)? {
        Some(c) if is_alnum(c) => return Ok(()),
        Some(c) if c == sep && hex(end + 1)? => return Ok(()),
        _ => {}
    }
    sink.push(EntityKind::MacAddress, s, end);
    Ok(())
}

/// IPv6 starting with `::` at a `:` that starts a token.
pub(crate) fn ipv6_colon(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::Ipv6) || sc.prev(s).is_some_and(|p| is_alnum(p) || p == b':' || p == b'.') {
        return Ok(());
    }
    if sc.at(s + 1, s)? != Some(b':') {
        return Ok(());
    }
    ipv6_at(sc, s, sink)
}

fn ipv6_at(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    let mut k = s;
    while let Some(c) = sc.at(k, s)? {
        if !(c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            if is_alnum(c) || c == b'_' {
                return Ok(());
            }
            break;
        }
        k += 1;
        if k - s > MAX_IPV6 + 1 {
            return Ok(());
        }
    }
    let mut end = k;
    while end > s && sc.b.get(end - 1) == Some(&b'.') {
        end -= 1;
    }
    if end > s + 1 && sc.b.get(end - 1) == Some(&b':') && sc.b.get(end - 2) != Some(&b':') {
        end -= 1;
    }
    let text = sc.slice(s, end);
    let colons = text.iter().filter(|&&c| c == b':').count();
    if colons < 2 || !text.iter().any(u8::is_ascii_digit) {
        return Ok(());
    }
    let parsed = std::str::from_utf8(text).ok().and_then(|t| t.parse::<Ipv6Addr>().ok());
    if parsed.is_some_and(|ip| !ip.is_unspecified()) {
        sink.push(EntityKind::Ipv6, s, end);
    }
    Ok(())
}
