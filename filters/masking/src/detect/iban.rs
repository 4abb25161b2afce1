//! IBAN: country code, per-country length, mod-97; compact or in groups of four.

use crate::checksum;
use crate::entity::EntityKind;
use crate::scan::{is_alnum, Scan, Sink, Step};

/// IBAN lengths by country (SWIFT IBAN registry).
const LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// [`LENGTHS`] indexed by `(first letter - 'A') * 26 + (second letter - 'A')`; 0 for unknown codes.
const LENGTH_BY_CODE: [u8; 26 * 26] = {
    let mut t = [0u8; 26 * 26];
    let mut k = 0;
    while k < LENGTHS.len() {
        let (cc, len) = LENGTHS[k];
        t[(cc[0] - b'A') as usize * 26 + (cc[1] - b'A') as usize] = len as u8;
        k += 1;
    }
    t
};

/// Longest IBAN in the table, in characters without spaces.
const MAX_LEN: usize = 34;

/// IBAN at a token start `s` (an upper-case letter).
pub(crate) fn iban(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::Iban) {
        return Ok(());
    }
    let head = [sc.at(s, s)?, sc.at(s + 1, s)?, sc.at(s + 2, s)?, sc.at(s + 3, s)?];
    let [Some(c0), Some(c1), Some(d0), Some(d1)] = head else { return Ok(()) };
    if !(c1.is_ascii_uppercase() && d0.is_ascii_digit() && d1.is_ascii_digit()) {
        return Ok(());
    }
    let len = LENGTH_BY_CODE
        .get(usize::from(c0.wrapping_sub(b'A')) * 26 + usize::from(c1.wrapping_sub(b'A')))
        .copied()
        .unwrap_or(0);
    let len = usize::from(len);
    if len == 0 || !c0.is_ascii_uppercase() {
        return Ok(());
    }
    let mut chars = [0u8; MAX_LEN];
    let mut n = 0;
    let mut i = s;
    let mut spaced: Option<bool> = None;
    while n < len {
        if n > 0 && n % 4 == 0 {
            let space = sc.at(i, s)? == Some(b' ');
            match spaced {
                None => spaced = Some(space),
                Some(expected) if expected != space => return Ok(()),
                Some(_) => {}
            }
            if space {
                i += 1;
            }
        }
        match sc.at(i, s)? {
            Some(c) if c.is_ascii_uppercase() || c.is_ascii_digit() => {
                if let Some(slot) = chars.get_mut(n) {
                    *slot = c;
                }
            }
            _ => return Ok(()),
        }
        n += 1;
        i += 1;
    }
    if sc.at(i, s)?.is_some_and(is_alnum) {
        return Ok(());
    }
    if checksum::iban_mod97(chars.get(..len).unwrap_or(&[])) {
        sink.push(EntityKind::Iban, s, i);
    }
    Ok(())
}
