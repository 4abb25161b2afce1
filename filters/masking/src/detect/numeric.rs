//! Digit runs: payment cards, SSN/ITIN, ABA, NHS, SIN, Aadhaar, BSN, PESEL,
//! NIF/NIE and IPv4.
//!
//! A run is digits with single separators (space, `-` or `.`) between them,
//! read from a token start. Kinds are decided from the run's digits and group
//! shape; ambiguous bare numbers additionally need a context word shortly
//! before them (see [`crate::context::CONTEXT_WINDOW`]).

use crate::checksum;
use crate::context::{AADHAAR_CTX, ABA_CTX, BSN_CTX, ITIN_CTX, NHS_CTX, PESEL_CTX, SIN_CTX, SSN_CTX};
use crate::entity::EntityKind;
use crate::scan::{is_alnum, Hold, Scan, Sink, Step, Words};

const MAX_DIGITS: usize = 32;
const MAX_GROUPS: usize = 16;

/// A run of digit groups read from a token start. The last one read lives in
/// [`Memo::run`](crate::scan::Memo), where it is read in place: when it was
/// read completely (no overflow, nothing pending) and `ng > 0`, later
/// detectors at the same bytes need not read it again, and the scan loop can
/// step over its groups.
#[derive(Clone, Copy, Default)]
pub(crate) struct Run {
    /// Where the run starts.
    pub start: usize,
    /// Digit values.
    d: [u8; MAX_DIGITS],
    /// Number of digits.
    pub n: usize,
    size: [u8; MAX_GROUPS],
    /// Byte offset (from the run start) just past each group.
    pub end: [u16; MAX_GROUPS],
    /// Digits up to and including each group.
    pub digits_at: [u8; MAX_GROUPS],
    /// The separator after each group but the last.
    pub sep: [u8; MAX_GROUPS],
    /// Number of groups (0: nothing remembered).
    pub ng: usize,
    overflow: bool,
    /// What [`Run::uniform_sep`] returns, worked out by [`read`].
    usep: Option<u8>,
}

impl Run {
    fn end_at(&self, k: usize, s: usize) -> usize {
        s + self.end.get(k).map_or(0, |&e| usize::from(e))
    }
    fn digits(&self) -> &[u8] {
        self.d.get(..self.n).unwrap_or(&[])
    }
    fn sizes(&self) -> &[u8] {
        self.size.get(..self.ng).unwrap_or(&[])
    }
    /// The separator shared by all the groups: `Some(0)` for one group,
    /// `None` when separators differ.
    fn uniform_sep(&self) -> Option<u8> {
        self.usep
    }
    /// [`Run::uniform_sep`] from the separators, for [`read`].
    fn compute_uniform_sep(&self) -> Option<u8> {
        let seps = self.sep.get(..self.ng.saturating_sub(1)).unwrap_or(&[]);
        match seps.first() {
            None => Some(0),
            Some(&f) if seps.iter().all(|&x| x == f) => Some(f),
            Some(_) => None,
        }
    }
    fn shaped(&self, shape: &[u8], seps: &[u8]) -> bool {
        self.ng == 1 || (self.sizes() == shape && self.uniform_sep().is_some_and(|s| seps.contains(&s)))
    }
}

/// Where a digit at `s` stands: `None` when it cannot start a run (glued to a
/// letter or digit, or after `-`/`.` that follows a digit), `Some(true)` at
/// the start of a maximal run, `Some(false)` after a space inside a longer
/// run, where only a payment card may start (`ref 12 4111 1111 1111 1111`).
fn run_start(sc: &Scan<'_>, s: usize) -> Option<bool> {
    let after_digit = || s.checked_sub(2).and_then(|j| sc.b.get(j)).is_some_and(u8::is_ascii_digit);
    match sc.prev(s) {
        None => Some(true),
        Some(p) if is_alnum(p) => None,
        Some(b'-' | b'.') if after_digit() => None,
        Some(b' ') if after_digit() => Some(false),
        Some(_) => Some(true),
    }
}

/// Reads the run of digit groups at `s` into `r`; returns its end.
fn read(sc: &Scan<'_>, s: usize, r: &mut Run) -> Result<usize, Hold> {
    let b = sc.b;
    let len = b.len();
    let mut i = s;
    let mut n = 0usize;
    let mut ng = 0usize;
    loop {
        // One group: at most `room` digits are kept, one more is an overflow.
        let room = MAX_DIGITS - n;
        let g0 = i;
        let limit = (g0 + room + 1).min(len);
        while i < limit {
            let v = b.get(i).map_or(10, |c| c.wrapping_sub(b'0'));
            if v > 9 {
                break;
            }
            if let Some(slot) = r.d.get_mut(n + (i - g0)) {
                *slot = v;
            }
            i += 1;
        }
        let g = i - g0;
        if g > room {
            r.overflow = true;
            break;
        }
        if i >= len && !sc.fin {
            return Err(Hold(s));
        }
        n += g;
        if let (Some(sz), Some(e), Some(da)) = (r.size.get_mut(ng), r.end.get_mut(ng), r.digits_at.get_mut(ng)) {
            *sz = g as u8;
            *e = u16::try_from(i - s).unwrap_or(u16::MAX);
            *da = n as u8;
        }
        ng += 1;
        let sep = match b.get(i) {
            Some(&c @ (b' ' | b'-' | b'.')) => c,
            _ => break,
        };
        match b.get(i + 1) {
            Some(c) if c.is_ascii_digit() => {}
            None if !sc.fin => return Err(Hold(s)),
            _ => break,
        }
        if ng >= MAX_GROUPS {
            r.overflow = true;
            break;
        }
        if let Some(slot) = r.sep.get_mut(ng - 1) {
            *slot = sep;
        }
        i += 1;
    }
    r.n = n;
    r.ng = ng;
    r.usep = r.compute_uniform_sep();
    Ok(r.end_at(ng.saturating_sub(1), s))
}

/// Whether the run at `s` is a lone group of fewer than eight digits that
/// ends the token (`123 `, `42.`, `7,`): no digit-run kind applies to it
/// (cards need 13 digits, national IDs 9, a NIF 8, an IPv4 four groups).
/// `Err` when that depends on bytes that have not arrived, as in [`read`].
#[inline]
fn short_lone_group(sc: &Scan<'_>, s: usize) -> Result<bool, Hold> {
    let b = sc.b;
    let mut i = s;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
        if i - s >= 8 {
            return Ok(false);
        }
    }
    match b.get(i) {
        None if !sc.fin => Err(Hold(s)),
        Some(b' ' | b'-' | b'.') => match b.get(i + 1) {
            None if !sc.fin => Err(Hold(s)),
            Some(c) => Ok(!c.is_ascii_digit()),
            None => Ok(true),
        },
        _ => Ok(true),
    }
}

/// Digit-run detectors at token start `s` (a digit).
pub(crate) fn run(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    let Some(maximal) = run_start(sc, s) else { return Ok(()) };
    if !maximal {
        if !sc.b.get(s).is_some_and(|c| (b'2'..=b'6').contains(c)) || too_short_for_a_card(sc, s) {
            return Ok(());
        }
    } else if short_lone_group(sc, s)? {
        return Ok(());
    }
    // The run is read into the memo in place. What is read there counts
    // only once it turns out complete (`ng > 0` then).
    match sc.memo.run.try_borrow_mut() {
        Ok(mut memo) => run_into(sc, s, maximal, &mut memo, sink),
        Err(_) => run_into(sc, s, maximal, &mut Run::default(), sink),
    }
}

/// [`run`], reading the run into `r`; leaves `r.ng == 0` unless the run was
/// read completely.
fn run_into(sc: &Scan<'_>, s: usize, maximal: bool, r: &mut Run, sink: &mut Sink<'_>) -> Step {
    r.start = s;
    r.overflow = false;
    let end = match read(sc, s, r) {
        Ok(end) => end,
        Err(hold) => {
            r.ng = 0;
            return Err(hold);
        }
    };
    if r.ng == 0 {
        return Ok(());
    }
    card_prefixes(r, s, sink);
    if r.overflow {
        r.ng = 0;
        return Ok(());
    }
    let r = &*r;
    // `read` saw this byte (or the true end) before it ended the run.
    let after = sc.at(end, s)?;
    if !maximal {
        if !after.is_some_and(is_alnum) {
            whole_card(r, s, end, sink);
        }
        return Ok(());
    }
    if let Some(a) = after.filter(|&a| is_alnum(a)) {
        return nif(sc, r, s, end, a, sink);
    }
    if matches!(after, Some(b'-' | b' ')) && r.n == 8 {
        if let Some(a) = sc.at(end + 1, s)?.filter(u8::is_ascii_uppercase) {
            return nif(sc, r, s, end + 1, a, sink);
        }
    }
    whole_run(sc, r, s, end, sink);
    Ok(())
}

/// Whether `s`, a group start after a space inside the last run read
/// completely, leaves fewer than 13 digits to its end. Reading from `s`
/// would then find the same groups (it cannot overflow where the whole run
/// did not, nor wait for bytes the whole run did not wait for) and no card.
pub(crate) fn too_short_for_a_card(sc: &Scan<'_>, s: usize) -> bool {
    let Ok(m) = sc.memo.run.try_borrow() else { return false };
    if m.ng < 2 || s <= m.start {
        return false;
    }
    let ng = m.ng;
    for k in 0..ng - 1 {
        let (Some(&e), Some(&da)) = (m.end.get(k), m.digits_at.get(k)) else { return false };
        let group_start = m.start + usize::from(e) + 1;
        if group_start == s {
            return m.n - usize::from(da) < 13;
        }
        if group_start > s {
            return false;
        }
    }
    false
}

fn whole_run(sc: &Scan<'_>, r: &Run, s: usize, end: usize, sink: &mut Sink<'_>) {
    let d = r.digits();
    let sep = r.uniform_sep();
    whole_card(r, s, end, sink);
    if r.ng == 4 && sep == Some(b'.') && sink.wants(EntityKind::Ipv4) && ipv4_octets(r) {
        sink.push(EntityKind::Ipv4, s, end);
    }
    match r.n {
        9 => {
            let ssn_format = r.sizes() == [3, 2, 4] && matches!(sep, Some(b'-' | b' '));
            let bare = r.ng == 1;
            if ssn_format {
                if checksum::ssn(d) {
                    sink.push(EntityKind::UsSsn, s, end);
                }
                if checksum::itin(d) {
                    sink.push(EntityKind::UsItin, s, end);
                }
            }
            // Bare nine-digit numbers need a context word; when several
            // kinds fit, the one named closest to the number wins.
            let ctx = |valid: bool, words: &Words| if valid { sc.context_distance(s, words) } else { None };
            let itin = bare && checksum::itin(d);
            let options = [
                (EntityKind::UsSsn, ctx(bare && checksum::ssn(d), &SSN_CTX)),
                (EntityKind::UsItin, min_some(ctx(itin, &ITIN_CTX), ctx(itin, &SSN_CTX))),
                (EntityKind::AbaRouting, ctx(bare && checksum::aba(d), &ABA_CTX)),
                (
                    EntityKind::CaSin,
                    ctx(r.shaped(&[3, 3, 3], b" -") && d.first() != Some(&8) && checksum::luhn(d), &SIN_CTX),
                ),
                (EntityKind::NlBsn, ctx(r.shaped(&[4, 2, 3], b". ") && checksum::bsn(d), &BSN_CTX)),
            ];
            let closest = options.iter().filter_map(|o| o.1).min();
            for (kind, dist) in options {
                if dist.is_some() && dist == closest {
                    sink.push(kind, s, end);
                }
            }
        }
        10 if r.shaped(&[3, 3, 4], b" -") && checksum::nhs(d) && sc.has_context(s, &NHS_CTX) => {
            sink.push(EntityKind::UkNhs, s, end);
        }
        11 if r.ng == 1 && checksum::pesel(d) && sc.has_context(s, &PESEL_CTX) => {
            sink.push(EntityKind::PlPesel, s, end);
        }
        12 if r.shaped(&[4, 4, 4], b" -")
            && d.first().is_some_and(|&x| x >= 2)
            && checksum::verhoeff(d)
            && sc.has_context(s, &AADHAAR_CTX) =>
        {
            sink.push(EntityKind::InAadhaar, s, end);
        }
        _ => {}
    }
}

fn min_some(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// A payment card spanning the whole run `s..end`. Most runs have the wrong
/// number of digits: that is checked here, inline, before the call.
#[inline]
fn whole_card(r: &Run, s: usize, end: usize, sink: &mut Sink<'_>) {
    if (13..=19).contains(&r.n) {
        whole_card_checked(r, s, end, sink);
    }
}

/// [`whole_card`] for a run of 13 to 19 digits.
#[inline(never)]
fn whole_card_checked(r: &Run, s: usize, end: usize, sink: &mut Sink<'_>) {
    let d = r.digits();
    if matches!(r.uniform_sep(), Some(0 | b' ' | b'-'))
        && (r.ng == 1 || r.sizes().iter().all(|g| (3..=6).contains(g)))
        && checksum::card_issuer(d)
        && checksum::luhn(d)
    {
        sink.push(EntityKind::CreditCard, s, end);
    }
}

/// Card numbers that end at a group boundary inside a longer run
/// (`4111 1111 1111 1111 2025`): one compact group, or groups of 3 to 6 with
/// the same separator throughout.
fn card_prefixes(r: &Run, s: usize, sink: &mut Sink<'_>) {
    if !sink.wants(EntityKind::CreditCard) || r.ng < 2 {
        return;
    }
    // A compact number followed by more digits: `4111111111111111 5555...`.
    let first = usize::from(r.size.first().copied().unwrap_or(0));
    if (13..=19).contains(&first) {
        let d = r.d.get(..first).unwrap_or(&[]);
        if checksum::card_issuer(d) && checksum::luhn(d) {
            sink.push(EntityKind::CreditCard, s, r.end_at(0, s));
        }
    }
    let Some(&first_sep) = r.sep.first() else { return };
    if !matches!(first_sep, b' ' | b'-') {
        return;
    }
    for k in 2..r.ng {
        // Groups 0..k form the candidate; separator k-1 follows it.
        if r.sep.get(..k - 1).is_none_or(|seps| seps.iter().any(|&x| x != first_sep)) {
            break;
        }
        if r.size.get(k - 1).is_none_or(|g| !(3..=6).contains(g)) {
            break;
        }
        let n = usize::from(r.digits_at.get(k - 1).copied().unwrap_or(0));
        if n > 19 {
            break;
        }
        if n < 13 || r.size.first().is_none_or(|g| !(3..=6).contains(g)) {
            continue;
        }
        let d = r.d.get(..n).unwrap_or(&[]);
        if checksum::card_issuer(d) && checksum::luhn(d) {
            sink.push(EntityKind::CreditCard, s, r.end_at(k - 1, s));
        }
    }
}

/// The groups of `r` (four, separated by dots) as octets: at most three
/// digits, no leading zero, at most 255.
fn ipv4_octets(r: &Run) -> bool {
    let mut at = 0;
    r.sizes().iter().all(|&g| {
        let g = usize::from(g);
        let oct = r.d.get(at..at + g).unwrap_or(&[]);
        at += g;
        !oct.is_empty()
            && oct.len() <= 3
            && !(oct.len() > 1 && oct.first() == Some(&0))
            && oct.iter().fold(0u32, |a, &c| a * 10 + u32::from(c)) <= 255
    })
}

/// Spanish NIF: eight digits (optionally `12.345.678`) and the control letter at `letter_at`.
fn nif(sc: &Scan<'_>, r: &Run, s: usize, letter_at: usize, letter: u8, sink: &mut Sink<'_>) -> Step {
    if r.n != 8 || !(r.ng == 1 || (r.sizes() == [2, 3, 3] && r.uniform_sep() == Some(b'.'))) {
        return Ok(());
    }
    if sc.at(letter_at + 1, s)?.is_some_and(is_alnum) {
        return Ok(());
    }
    let num = checksum::prefix(r.digits(), 8);
    if checksum::nif_letter(num) == letter {
        sink.push(EntityKind::EsNif, s, letter_at + 1);
    }
    Ok(())
}

/// Spanish NIE at a token start `s` (`X`, `Y` or `Z`): `X1234567L`, dashes allowed.
pub(crate) fn nie(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::EsNie) {
        return Ok(());
    }
    let lead = match sc.at(s, s)? {
        Some(b'X') => 0,
        Some(b'Y') => 1,
        Some(b'Z') => 2,
        _ => return Ok(()),
    };
    let mut i = s + 1;
    if sc.at(i, s)? == Some(b'-') {
        i += 1;
    }
    let mut num: u32 = lead;
    for _ in 0..7 {
        match sc.at(i, s)? {
            Some(c) if c.is_ascii_digit() => num = num * 10 + u32::from(c - b'0'),
            _ => return Ok(()),
        }
        i += 1;
    }
    if sc.at(i, s)? == Some(b'-') {
        i += 1;
    }
    let Some(letter) = sc.at(i, s)?.filter(u8::is_ascii_uppercase) else { return Ok(()) };
    if sc.at(i + 1, s)?.is_some_and(is_alnum) {
        return Ok(());
    }
    if checksum::nif_letter(num) == letter {
        sink.push(EntityKind::EsNie, s, i + 1);
    }
    Ok(())
}
