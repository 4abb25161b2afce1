//! Built-in detectors: one pass over the bytes that skips what cannot matter
//! (see [`MARK`]; long quiet stretches eight bytes at a time) and dispatches
//! on cheap anchors (token starts, `@`, `+`, `(`, `-----`, `:` and `=`), so
//! clean prose costs little more than a table lookup per byte. Detectors that
//! look at the same bytes share what they learnt through [`Scan::memo`]
//! (context words, the last digit run), and the dispatcher skips calls that
//! provably do nothing (a group inside a digit run, a hex token that cannot
//! be an address). Once a digit run has been read, the loop steps over its
//! middle groups in one go ([`run_groups`]) instead of stopping at each.

mod crypto;
pub(crate) mod generic;
mod iban;
mod net;
pub(crate) mod numeric;
mod phone;
pub(crate) mod secrets;

use crate::checksum::card_may_start;
use crate::scan::{is_alnum, Hold, Scan, Sink, Step};

/// Byte classes for the scanner (bit flags).
const ALNUM: u8 = 1;
/// A digit or an upper-case letter: a token that contains one matters.
const LOUD: u8 = 2;
/// Not a letter or digit, but may matter: the anchors of the other detectors
/// (`@ + ( = :` and `-----`) and the separators that follow token prefixes
/// (`_ - . :`). A run of lower-case letters matters only when it contains a
/// digit or upper-case letter or is followed by one of these: every token
/// detector needs a digit, an upper-case letter or one of `_ - . :` within
/// its first few bytes.
const MARK: u8 = 4;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = match c {
            b'0'..=b'9' | b'A'..=b'Z' => ALNUM | LOUD,
            b'a'..=b'z' => ALNUM,
            b'@' | b':' | b'=' | b'+' | b'(' | b'-' | b'_' | b'.' => MARK,
            _ => 0,
        };
        i += 1;
    }
    t
};

#[inline]
fn class(c: u8) -> u8 {
    CLASS[usize::from(c)]
}

#[inline]
fn alnum_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(|&c| class(c) & ALNUM != 0)
}

#[inline]
fn note(r: Step, hold: &mut usize) {
    if let Err(Hold(h)) = r {
        *hold = (*hold).min(h);
    }
}

/// Runs every enabled built-in detector at each position `>= from`.
///
/// Returns the hold position: the smallest offset at which an entity might
/// still start once more text arrives (`sc.b.len()` when nothing is pending).
pub(crate) fn detect(sc: &Scan<'_>, from: usize, sink: &mut Sink<'_>) -> usize {
    let b = sc.b;
    let len = b.len();
    let mut hold = len;
    // A generic secret's value starts a few bytes after its `:` or `=`: look
    // at those just before `from` again, so that a cut between a key and its
    // value loses nothing (candidates before `from` are dropped by the caller).
    let mut j = from.saturating_sub(generic::REACH);
    while let Some(k) = b.get(j..from).and_then(|back| memchr::memchr2(b':', b'=', back)) {
        note(generic::assignment(sc, j + k, sink), &mut hold);
        j += k + 1;
    }
    // Everything in `lo..i` is known to be uninteresting.
    let mut lo = from;
    let mut i = from;
    loop {
        // Quiet bytes (lower-case letters, blanks, most punctuation) cannot
        // start anything; a lower-case word matters only if a MARK follows it.
        i = skip_quiet(b, i);
        let Some(&c) = b.get(i) else { break };
        let k = class(c);
        // The alphanumeric run that contains `i`, or ends just before it.
        let mut t = i;
        while t > lo && alnum_at(b, t - 1) {
            t -= 1;
        }
        if k & ALNUM != 0 {
            let mut e = alnum_end(b, i + 1);
            if t > lo || sc.prev(t).is_none_or(|p| !is_alnum(p)) {
                let c = b.get(t).copied().unwrap_or(0);
                token(sc, t, e, c, sink, &mut hold);
                if c.is_ascii_digit() {
                    e = run_groups(sc, t, e, sink, &mut hold);
                }
            }
            i = e;
            lo = e;
            continue;
        }
        if t < i && (t > lo || sc.prev(t).is_none_or(|p| !is_alnum(p))) {
            token(sc, t, i, b.get(t).copied().unwrap_or(0), sink, &mut hold);
        }
        match c {
            b'+' => note(phone::e164(sc, i, sink), &mut hold),
            b'(' => note(phone::national(sc, i, sink), &mut hold),
            b'@' => note(net::email(sc, i, from, sink), &mut hold),
            b'-' => note(secrets::pem(sc, i, sink), &mut hold),
            b':' => {
                note(generic::assignment(sc, i, sink), &mut hold);
                note(net::ipv6_colon(sc, i, sink), &mut hold);
            }
            b'=' => note(generic::assignment(sc, i, sink), &mut hold),
            _ => {}
        }
        i += 1;
        lo = i;
    }
    if !sc.fin {
        // A trailing lower-case run may still grow into a token that matters.
        let mut t = len;
        while t > lo && alnum_at(b, t - 1) {
            t -= 1;
        }
        if t < len && sc.prev(t).is_none_or(|p| !is_alnum(p)) {
            token(sc, t, len, b.get(t).copied().unwrap_or(0), sink, &mut hold);
        }
        if let Some(h) = net::email_tail(sc, from) {
            hold = hold.min(h);
        }
    }
    hold
}

const HIGH: u64 = 0x8080_8080_8080_8080;

/// Eight bytes at a time (SWAR): the top bit of each byte is set when it is
/// below `(` (blanks, control bytes, `! " # $ % & '`), a comma, or `` ` ``
/// and above (lower-case letters and every non-ASCII byte). None of those is
/// LOUD or a MARK, which all lie in `(..=_`; two range tests and one
/// comparison are cheaper than matching the quiet punctuation byte by byte.
#[inline]
fn quiet8(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let y = x & LOW7;
    // Top bit set in a lane of `y` that is at least `(`, resp. at least `` ` ``.
    let from_paren = y + (0x80 - 0x28) * ONES;
    let from_backtick = y + (0x80 - 0x60) * ONES;
    let comma = y ^ (u64::from(b',') * ONES);
    let is_comma = !((comma + LOW7) | comma);
    (!from_paren | from_backtick | is_comma | x) & HIGH
}

/// SWAR: the top bit of each byte is set when it is an ASCII letter or digit.
#[inline]
fn alnum8(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let ascii = !x & HIGH;
    let y = x & LOW7;
    let digit = ((y + (0x80 - 0x30) * ONES) & !(y + (0x80 - 0x3a) * ONES)) & HIGH;
    let z = (x | (0x20 * ONES)) & LOW7;
    let letter = ((z + (0x80 - 0x61) * ONES) & !(z + (0x80 - 0x7b) * ONES)) & HIGH;
    (digit | letter) & ascii
}

/// The end of the alphanumeric run that goes on at `e`: the first position
/// `>= e` that is not an ASCII letter or digit (or the length).
#[inline]
fn alnum_end(b: &[u8], mut e: usize) -> usize {
    while let Some(chunk) = b.get(e..e + 8) {
        let x = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
        let other = !alnum8(x) & HIGH;
        if other != 0 {
            return e + (other.trailing_zeros() / 8) as usize;
        }
        e += 8;
    }
    while alnum_at(b, e) {
        e += 1;
    }
    e
}

/// The first position `>= i` whose byte is LOUD or a MARK (or the length).
#[inline(always)]
fn skip_quiet(b: &[u8], mut i: usize) -> usize {
    // In dense text the next one is usually close: byte by byte first.
    for _ in 0..4 {
        match b.get(i) {
            Some(&c) if class(c) & (LOUD | MARK) == 0 => i += 1,
            Some(_) => return i,
            None => return b.len(),
        }
    }
    skip_quiet_far(b, i)
}

#[inline(never)]
fn skip_quiet_far(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
        let loud = !quiet8(x) & HIGH;
        if loud == 0 {
            i += 8;
            continue;
        }
        // The bytes before the first one flagged are quiet; look at that one.
        i += (loud.trailing_zeros() / 8) as usize;
        if b.get(i).is_some_and(|&c| class(c) & (LOUD | MARK) != 0) {
            return i;
        }
        i += 1;
    }
    while let Some(&c) = b.get(i) {
        if class(c) & (LOUD | MARK) != 0 {
            return i;
        }
        i += 1;
    }
    b.len()
}

/// Steps over the middle groups of the digit run that the digit token
/// `t..e` starts, doing only what the scan loop would do there, and returns
/// where the loop goes on: the start of the run's last group (or `e` when
/// there is no remembered run at `t` with three groups or more).
///
/// Dense text is full of grouped numbers (cards, IBANs, phone numbers,
/// addresses), and the loop would otherwise stop at every group and every
/// `-` or `.` between them only to find that nothing starts there. Inside
/// a run read completely (see [`Run`](numeric::Run)) every group
/// is digits followed by a separator and a digit, so of [`token`] only these
/// can act: a hardware address at a group of two digits before `-` or four
/// before `.`, a payment card at a group after a space that starts with an
/// issuer's prefix, and a Base58
/// address at a long group starting `1` or `3`. [`secrets::pem`] at a `-`
/// separator does nothing (a digit follows), so it is not called, and the
/// separator before the last group needs no stop either. The last group is
/// left to the loop: the token there may go on past the digits.
#[inline]
fn run_groups(sc: &Scan<'_>, t: usize, e: usize, sink: &mut Sink<'_>, hold: &mut usize) -> usize {
    // Copied out: reading a card below replaces the remembered run.
    let (ng, n, ends, digits_at, seps) = match sc.memo.run.try_borrow() {
        Ok(m) if m.start == t && m.ng >= 3 => (m.ng, m.n, m.end, m.digits_at, m.sep),
        _ => return e,
    };
    let b = sc.b;
    let group_end = |k: usize| t + ends.get(k).map_or(0, |&x| usize::from(x));
    if group_end(0) != e {
        return e;
    }
    let last = ng - 1;
    for k in 1..last {
        let gs = group_end(k - 1) + 1;
        let ge = group_end(k);
        let (Some(&c), Some(&before), Some(&after)) = (b.get(gs), seps.get(k - 1), seps.get(k)) else {
            return e;
        };
        let size = ge.saturating_sub(gs);
        // `token`'s address check: `after` is a space, `-` or `.`. A
        // hardware address goes on with a group of the same width and the
        // same separator, so a wider next group (`123-45-6789`) is none.
        let next = group_end(k + 1).saturating_sub(ge + 1);
        let address = match after {
            b'-' => size == 2 && next <= 2,
            b'.' => size == 4 && next <= 4,
            _ => false,
        };
        if address {
            note(net::hex_token(sc, gs, sink), hold);
        }
        // What `numeric::too_short_for_a_card` answers here: fewer than 13
        // digits from this group to the end of the run.
        let left = n.saturating_sub(usize::from(digits_at.get(k - 1).copied().unwrap_or(0)));
        debug_assert_eq!(left < 13, numeric::too_short_for_a_card(sc, gs));
        if before == b' ' && (b'2'..=b'6').contains(&c) && left >= 13 && card_may_start(sc.slice(gs, ge)) {
            note(numeric::run(sc, gs, sink), hold);
        }
        if matches!(c, b'1' | b'3') && (26..=35).contains(&size) {
            note(crypto::base58(sc, gs, sink), hold);
        }
    }
    group_end(last - 1) + 1
}

/// Whether the byte after `i` is one of `next` (or has not arrived yet, so
/// the detector must run to say "hold").
#[inline]
fn next_in(sc: &Scan<'_>, i: usize, next: &[u8]) -> bool {
    sc.b.get(i + 1).is_none_or(|c| next.contains(c))
}

/// Cheap pre-check for [`net::hex_token`]: an address has `:`, `-` or `.`
/// after one to four hex digits. (The scanner decides the same from the
/// token's extent; this is kept as the reference for debug builds.)
fn maybe_hex_address(sc: &Scan<'_>, i: usize) -> bool {
    for j in i + 1..i + 5 {
        match sc.b.get(j) {
            None => return true,
            Some(b':' | b'-' | b'.') => return true,
            Some(c) if c.is_ascii_hexdigit() => {}
            Some(_) => return false,
        }
    }
    false
}

/// Detectors anchored at the start `i` of an alphanumeric token; `i..e` is
/// the alphanumeric run that starts there (it may grow if `e` is the end
/// of the bytes so far and the text goes on).
#[inline(always)]
fn token(sc: &Scan<'_>, i: usize, e: usize, c: u8, sink: &mut Sink<'_>, hold: &mut usize) {
    // What `maybe_hex_address` finds, from the run: one to four hex digits,
    // then `:`, `-`, `.` or the end of the bytes so far.
    if e - i <= 4
        && sc.b.get(e).is_none_or(|x| matches!(x, b':' | b'-' | b'.'))
        && sc.slice(i, e).iter().all(u8::is_ascii_hexdigit)
    {
        debug_assert!(maybe_hex_address(sc, i));
        // `hex_token` only acts on `xx:` and `xx-` (MAC), `xxxx.` (Cisco MAC),
        // any `:` (IPv6), or waits at the end of the bytes so far.
        let acts = match sc.b.get(e) {
            None | Some(b':') => true,
            Some(b'-') => e - i == 2,
            _ => e - i == 4,
        };
        if acts {
            note(net::hex_token(sc, i, sink), hold);
        }
    } else {
        debug_assert!(!(c.is_ascii_hexdigit() && maybe_hex_address(sc, i)));
    }
    match c {
        b'0'..=b'9' => {
            // Inside a run of digit groups neither a run nor a national phone
            // number starts (both detectors check this first), only a card
            // after a space, and only where an issuer's prefix starts
            // (most groups of an IBAN are not one).
            let after_digit = i.checked_sub(2).and_then(|j| sc.b.get(j)).is_some_and(u8::is_ascii_digit);
            match sc.prev(i) {
                Some(b'-' | b'.') if after_digit => {}
                Some(b' ') if after_digit => {
                    if (b'2'..=b'6').contains(&c)
                        && !numeric::too_short_for_a_card(sc, i)
                        && card_may_start(sc.slice(i, e))
                    {
                        note(numeric::run(sc, i, sink), hold);
                    }
                }
                _ => {
                    note(numeric::run(sc, i, sink), hold);
                    note(phone::national(sc, i, sink), hold);
                }
            }
            match c {
                b'0' if next_in(sc, i, b"x") => note(crypto::eth(sc, i, sink), hold),
                // A Base58Check address is a whole token of 26 to 35 characters.
                b'1' | b'3' if e - i <= 35 && (e - i >= 26 || e == sc.b.len()) => {
                    note(crypto::base58(sc, i, sink), hold);
                }
                _ => {}
            }
        }
        b'A'..=b'Z' => {
            // An IBAN starts with two capitals and two digits (`SSN`, `IBAN`
            // and other capitalised words are none).
            if sc.b.get(i + 1).is_none_or(u8::is_ascii_uppercase) && sc.b.get(i + 2).is_none_or(u8::is_ascii_digit) {
                note(iban::iban(sc, i, sink), hold);
            }
            match c {
                b'A' if next_in(sc, i, b"KSI") => note(secrets::prefixed(sc, i, sink), hold),
                b'B' if next_in(sc, i, b"C") => note(crypto::bech32(sc, i, sink), hold),
                b'T' if next_in(sc, i, b"B") => note(crypto::bech32(sc, i, sink), hold),
                b'X' | b'Y' | b'Z' => note(numeric::nie(sc, i, sink), hold),
                _ => {}
            }
        }
        _ => match c {
            b'b' if next_in(sc, i, b"c") => note(crypto::bech32(sc, i, sink), hold),
            b't' if next_in(sc, i, b"b") => note(crypto::bech32(sc, i, sink), hold),
            b'e' if next_in(sc, i, b"y") => note(secrets::jwt(sc, i, sink), hold),
            b'g' if next_in(sc, i, b"hil") => note(secrets::prefixed(sc, i, sink), hold),
            b'x' if next_in(sc, i, b"o") => note(secrets::prefixed(sc, i, sink), hold),
            b's' | b'r' if next_in(sc, i, b"k") => note(secrets::prefixed(sc, i, sink), hold),
            _ => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight-byte classifiers agree with the byte tables for every byte
    /// value in every lane, next to any neighbour (carries must not leak).
    #[test]
    fn swar_classes_match_the_tables() {
        for c in 0..=255u8 {
            for other in [0u8, b' ', b'a', b'Z', b'0', 0x7f, 0x80, 0xff] {
                for lane in 0..8 {
                    let mut bytes = [other; 8];
                    bytes[lane] = c;
                    let x = u64::from_le_bytes(bytes);
                    let bit = 0x80u64 << (8 * lane);
                    assert_eq!(alnum8(x) & bit != 0, class(c) & ALNUM != 0, "alnum {c:#x} lane {lane}");
                    let quiet = !(b'('..b'`').contains(&c) || c == b',';
                    assert_eq!(quiet8(x) & bit != 0, quiet, "quiet {c:#x} lane {lane}");
                    if quiet {
                        assert_eq!(class(c) & (LOUD | MARK), 0, "{c:#x} is quiet");
                    }
                }
            }
        }
        let text = b"  ab12 __x.yZ9 :q";
        for i in 0..=text.len() {
            let mut e = i;
            while alnum_at(text, e) {
                e += 1;
            }
            assert_eq!(alnum_end(text, i), e);
            let mut q = i;
            while text.get(q).is_some_and(|&c| class(c) & (LOUD | MARK) == 0) {
                q += 1;
            }
            assert_eq!(skip_quiet(text, i), q.min(text.len()));
        }
    }
}
