//! Phone numbers: the E.164 `+` form anywhere, national forms such as
//! `(415) 555-0123` or `020 7946 0958` only after a context word.

use crate::context::PHONE_CTX;
use crate::entity::EntityKind;
use crate::scan::{is_alnum, Hold, Scan, Sink, Step};

const MAX_BYTES: usize = 32;
const MAX_GROUPS: usize = 8;

/// Farthest a context word may stand before a national number written as
/// one group of digits (`Tel: 0612345678`, `call me on 0612345678`), in bytes.
const LONE_GROUP_CONTEXT: usize = 24;

struct Shape {
    end: usize,
    digits: usize,
    sizes: [u8; MAX_GROUPS],
    ng: usize,
    dashes_or_dots: bool,
}

fn digit_group(sc: &Scan<'_>, s: usize, i: &mut usize) -> Result<u8, Hold> {
    let mut g = 0u8;
    while sc.at(*i, s)?.is_some_and(|c| c.is_ascii_digit()) && g < 16 {
        g += 1;
        *i += 1;
    }
    Ok(g)
}

/// Reads digit groups separated by single spaces, dashes or dots, with at
/// most one parenthesised group, from `i`. `None` when the shape is not a phone.
fn shape(sc: &Scan<'_>, s: usize, mut i: usize) -> Result<Option<Shape>, Hold> {
    let mut sh = Shape { end: i, digits: 0, sizes: [0; MAX_GROUPS], ng: 0, dashes_or_dots: false };
    let mut parens = false;
    loop {
        if i - s > MAX_BYTES || sh.ng >= MAX_GROUPS {
            return Ok(None);
        }
        let g = match sc.at(i, s)? {
            Some(b'(') if !parens => {
                parens = true;
                i += 1;
                let g = digit_group(sc, s, &mut i)?;
                if !(1..=5).contains(&g) || sc.at(i, s)? != Some(b')') {
                    return Ok(None);
                }
                i += 1;
                g
            }
            Some(c) if c.is_ascii_digit() => digit_group(sc, s, &mut i)?,
            _ => return Ok(None),
        };
        if let Some(slot) = sh.sizes.get_mut(sh.ng) {
            *slot = g;
        }
        sh.ng += 1;
        sh.digits += usize::from(g);
        sh.end = i;
        match sc.at(i, s)? {
            Some(sep @ (b' ' | b'-' | b'.')) => match sc.at(i + 1, s)? {
                Some(c) if c.is_ascii_digit() || (c == b'(' && !parens) => {
                    sh.dashes_or_dots |= sep != b' ';
                    i += 1;
                }
                _ => break,
            },
            Some(b'(') if !parens => {}
            Some(c) if c.is_ascii_digit() => {} // after `)`: "(0)20"
            _ => break,
        }
        if sc.at(i, s)?.is_none() {
            break;
        }
    }
    if i - s > MAX_BYTES || sh.digits > 15 {
        return Ok(None);
    }
    if sc.at(sh.end, s)?.is_some_and(is_alnum) {
        return Ok(None);
    }
    Ok(Some(sh))
}

/// E.164 form at a `+`: country code and 8 to 15 digits in all.
pub(crate) fn e164(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::Phone) || sc.prev(s).is_some_and(|p| is_alnum(p) || p == b'+') {
        return Ok(());
    }
    if !sc.at(s + 1, s)?.is_some_and(|c| (b'1'..=b'9').contains(&c)) {
        return Ok(());
    }
    if let Some(sh) = shape(sc, s, s + 1)? {
        if (8..=15).contains(&sh.digits) {
            sink.push(EntityKind::Phone, s, sh.end);
        }
    }
    Ok(())
}

/// National form at `(` or at a digit that starts a token: 7 to 12 digits,
/// not shaped like a date, and a context word such as "phone" or "call" before it.
pub(crate) fn national(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::Phone) {
        return Ok(());
    }
    match sc.prev(s) {
        Some(p) if is_alnum(p) || p == b'+' || p == b'(' || p == b')' => return Ok(()),
        // Only where a run of digits starts, not inside one.
        Some(b'-' | b'.' | b' ') if s.checked_sub(2).and_then(|j| sc.b.get(j)).is_some_and(u8::is_ascii_digit) => {
            return Ok(());
        }
        _ => {}
    }
    let sh = match shape_of_run(sc, s, sink) {
        Some(known) => known,
        None if lone_short_group(sc, s)? => return Ok(()),
        None => shape(sc, s, s)?,
    };
    let Some(sh) = sh else { return Ok(()) };
    if !(7..=12).contains(&sh.digits) {
        return Ok(());
    }
    let sizes = sh.sizes.get(..sh.ng).unwrap_or(&[]);
    let date_like = sh.dashes_or_dots && matches!(sizes, [4, 2, 2] | [2, 2, 4] | [2, 2, 2]);
    // The context-word search is the costly part: skip it when a national
    // ID or an address with the same span is already there (it would win).
    if date_like || sink.outranked(EntityKind::Phone, s, sh.end) {
        return Ok(());
    }
    // One unseparated group of digits is weak evidence (order numbers, ids):
    // its label must stand right before it, not a few words back where it
    // may belong to another number ("called from +1 415 555 0100 about
    // order 12345678").
    let found = if sh.ng == 1 {
        sc.context_within(s, &PHONE_CTX, LONE_GROUP_CONTEXT)
    } else {
        sc.context_distance(s, &PHONE_CTX)
    };
    if found.is_none() {
        return Ok(());
    }
    sink.push(EntityKind::Phone, s, sh.end);
    Ok(())
}

/// Whether [`shape`] at the digit `s` would read one group of fewer than
/// seven digits and stop (`123 `, `42.`): too short for a national number.
/// `Err` when [`shape`] would wait for more bytes.
#[inline]
fn lone_short_group(sc: &Scan<'_>, s: usize) -> Result<bool, Hold> {
    let b = sc.b;
    let g = b.get(s..).unwrap_or(&[]).iter().take(7).take_while(|c| c.is_ascii_digit()).count();
    if g == 0 || g >= 7 {
        return Ok(false);
    }
    let i = s + g;
    match b.get(i) {
        None if !sc.fin => Err(Hold(s)),
        None => Ok(true),
        Some(b' ' | b'-' | b'.') => match b.get(i + 1) {
            None if !sc.fin => Err(Hold(s)),
            None => Ok(true),
            Some(&c) => Ok(!(c.is_ascii_digit() || c == b'(')),
        },
        Some(b'(') => Ok(false),
        Some(_) => Ok(true),
    }
}

/// What [`shape`] at the digit `s` returns, as far as [`national`] cares,
/// worked out from the digit run that the digit-run detector read from `s`
/// (see [`Run`](crate::detect::numeric::Run)); `None` when there is no such run or it does not
/// settle the question (a `(` right after the run). A run read completely
/// means [`shape`] would not wait for more bytes either: both stop at the
/// same bytes, and read the same digits.
///
/// A run of fewer than 7 or more than 12 digits gives `Some(None)` without
/// looking at its groups: [`shape`] would find the same number of digits
/// (or no shape at all), which [`national`] rejects. That also settles the
/// lone short numbers [`lone_short_group`] is for. So does a span that a
/// candidate of higher priority already has (an SSN, an IPv4 address):
/// [`national`] would not record it.
fn shape_of_run(sc: &Scan<'_>, s: usize, sink: &Sink<'_>) -> Option<Option<Shape>> {
    let m = sc.memo.run.try_borrow().ok()?;
    if m.start != s || m.ng == 0 {
        return None;
    }
    let ng = m.ng;
    let groups = m.end.get(..ng)?;
    let digits_at = m.digits_at.get(..ng)?;
    let end = usize::from(*groups.last()?);
    let b = sc.b;
    match b.get(s + end) {
        Some(b'(') => return None,
        Some(b' ' | b'-' | b'.') if b.get(s + end + 1) == Some(&b'(') => return None,
        _ => {}
    }
    if !(7..=12).contains(&m.n) || sink.outranked(EntityKind::Phone, s, s + end) {
        return Some(None);
    }
    let mut sh = Shape { end: s + end, digits: m.n, sizes: [0; MAX_GROUPS], ng, dashes_or_dots: false };
    let mut before = 0u8;
    for (k, &da) in digits_at.iter().enumerate() {
        let size = da - before;
        before = da;
        if size > 16 {
            return None;
        }
        // Where `shape` starts reading group `k`.
        let start = if k == 0 { 0 } else { groups.get(k - 1).map_or(0, |&e| usize::from(e) + 1) };
        if start > MAX_BYTES || k >= MAX_GROUPS {
            return Some(None);
        }
        if let Some(slot) = sh.sizes.get_mut(k) {
            *slot = size;
        }
        if k > 0 {
            sh.dashes_or_dots |= m.sep.get(k - 1).is_some_and(|&c| c != b' ');
        }
    }
    if end > MAX_BYTES || sh.digits > 15 || b.get(s + end).is_some_and(|&c| is_alnum(c)) {
        return Some(None);
    }
    Some(Some(sh))
}
