//! Cryptocurrency addresses: Bitcoin Base58Check and Bech32/Bech32m, Ethereum (EIP-55).

use crate::checksum;
use crate::entity::EntityKind;
use crate::scan::{is_alnum, Scan, Sink, Step};

fn is_base58(c: u8) -> bool {
    c.is_ascii_alphanumeric() && !matches!(c, b'0' | b'O' | b'I' | b'l')
}

/// Bitcoin Base58Check address at a token start `s` (`1` or `3`).
pub(crate) fn base58(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::BtcAddress) {
        return Ok(());
    }
    let mut k = s;
    while let Some(c) = sc.at(k, s)? {
        if !is_base58(c) {
            if is_alnum(c) || c == b'_' {
                return Ok(());
            }
            break;
        }
        k += 1;
        if k - s > 35 {
            return Ok(());
        }
    }
    if k - s >= 26 && checksum::base58check(sc.slice(s, k)) {
        sink.push(EntityKind::BtcAddress, s, k);
    }
    Ok(())
}

/// Segwit address at a token start `s` (`bc1`, `tb1`, upper or lower case).
pub(crate) fn bech32(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::BtcAddress) {
        return Ok(());
    }
    let head = [sc.at(s, s)?, sc.at(s + 1, s)?, sc.at(s + 2, s)?];
    let upper = match head {
        [Some(b'b'), Some(b'c'), Some(b'1')] | [Some(b't'), Some(b'b'), Some(b'1')] => false,
        [Some(b'B'), Some(b'C'), Some(b'1')] | [Some(b'T'), Some(b'B'), Some(b'1')] => true,
        _ => return Ok(()),
    };
    let mut k = s + 3;
    while let Some(c) = sc.at(k, s)? {
        let ok = c.is_ascii_digit() || if upper { c.is_ascii_uppercase() } else { c.is_ascii_lowercase() };
        if !ok {
            if is_alnum(c) || c == b'_' {
                return Ok(());
            }
            break;
        }
        k += 1;
        if k - s > 74 {
            return Ok(());
        }
    }
    if k - s >= 14 && checksum::segwit(sc.slice(s, k)) {
        sink.push(EntityKind::BtcAddress, s, k);
    }
    Ok(())
}

/// Ethereum address at a token start `s` (`0`): `0x` and 40 hex digits.
pub(crate) fn eth(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::EthAddress) || sc.at(s + 1, s)? != Some(b'x') {
        return Ok(());
    }
    for k in s + 2..s + 42 {
        if !sc.at(k, s)?.is_some_and(|c| c.is_ascii_hexdigit()) {
            return Ok(());
        }
    }
    if sc.at(s + 42, s)?.is_some_and(|c| is_alnum(c) || c == b'_') {
        return Ok(());
    }
    let hex = sc.slice(s + 2, s + 42);
    let mixed = hex.iter().any(u8::is_ascii_uppercase) && hex.iter().any(u8::is_ascii_lowercase);
    if !mixed || checksum::eip55(hex) {
        sink.push(EntityKind::EthAddress, s, s + 42);
    }
    Ok(())
}
