//! Check-digit and checksum algorithms. All take decimal digit values (0..=9)
//! or ASCII bytes, never panic, and return `false` on malformed input.

use sha2::{Digest, Sha256};

/// Luhn (mod 10) over digit values.
pub(crate) fn luhn(d: &[u8]) -> bool {
    /// A doubled digit with its two digits added (`7` → 14 → 5), by table:
    /// branches on random digits are mispredicted half the time.
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    let mut sum = 0u32;
    let mut pairs = d.rchunks_exact(2);
    for pair in &mut pairs {
        if let [doubled, kept] = *pair {
            sum += u32::from(kept) + DOUBLED.get(usize::from(doubled)).copied().unwrap_or(0);
        }
    }
    if let [first] = *pairs.remainder() {
        sum += u32::from(first);
    }
    !d.is_empty() && sum % 10 == 0
}

/// Number made of the first `k` digits.
pub(crate) fn prefix(d: &[u8], k: usize) -> u32 {
    d.iter().take(k).fold(0u32, |acc, &x| acc * 10 + u32::from(x))
}

/// Issuer prefix and length check for payment cards.
pub(crate) fn card_issuer(d: &[u8]) -> bool {
    let n = d.len();
    (13..=19).contains(&n) && card_lengths(prefix(d, 4)) & (1 << n) != 0
}

/// The lengths (bit `n` for `n` digits) that a card number whose first four
/// digits are `p4` may have; 0 when no issuer uses that prefix.
pub(crate) const fn card_lengths(p4: u32) -> u32 {
    /// Bits `lo..=hi`.
    const fn lengths(lo: u32, hi: u32) -> u32 {
        (u32::MAX >> (31 - hi)) & !((1 << lo) - 1)
    }
    let (p2, p3) = (p4 / 100, p4 / 10);
    match p4 / 1000 {
        4 => 1 << 13 | 1 << 16 | 1 << 19,
        5 if p2 >= 51 && p2 <= 55 => 1 << 16,
        2 if p4 >= 2221 && p4 <= 2720 => 1 << 16,
        3 if p2 == 34 || p2 == 37 => 1 << 15,
        // JCB is 3528-3589; the rest of 35xx is unassigned, and test data
        // generators (Faker) use it, so accept the whole range.
        3 if p2 == 35 => lengths(16, 19),
        3 if (p3 >= 300 && p3 <= 305) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39 => lengths(14, 19),
        6 if p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 || p2 == 62 => lengths(16, 19),
        _ => 0,
    }
}

/// Whether a payment card may start with the digits at the start of `b`:
/// `false` only when `b` starts with four digits that no issuer uses.
pub(crate) fn card_may_start(b: &[u8]) -> bool {
    /// Bit `p` set when some issuer uses the four-digit prefix `p`.
    static ISSUED: [u64; 157] = {
        let mut t = [0u64; 157];
        let mut p = 0;
        while p < 10_000 {
            if card_lengths(p as u32) != 0 {
                t[p / 64] |= 1 << (p % 64);
            }
            p += 1;
        }
        t
    };
    let Some(&[a, b, c, d]) = b.first_chunk::<4>() else { return true };
    let v = [a, b, c, d].map(|x| x.wrapping_sub(b'0'));
    if v.iter().any(|&x| x > 9) {
        return true;
    }
    let p = prefix(&v, 4) as usize;
    ISSUED.get(p / 64).is_none_or(|w| w & (1 << (p % 64)) != 0)
}

/// ISO 13616 mod-97 over an IBAN of ASCII upper-case letters and digits.
pub(crate) fn iban_mod97(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    // The same remainder as reducing after every digit: reduce only when the
    // next two digits could overflow (`r < 10^16` keeps `r * 100 + 99` in range).
    let mut r: u64 = 0;
    for &c in tail.iter().chain(head.iter()) {
        match c {
            b'0'..=b'9' => r = r * 10 + u64::from(c - b'0'),
            b'A'..=b'Z' => r = r * 100 + u64::from(c - b'A') + 10,
            _ => return false,
        }
        if r >= 10_000_000_000_000_000 {
            r %= 97;
        }
    }
    r % 97 == 1
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Verhoeff check (Aadhaar).
pub(crate) fn verhoeff(d: &[u8]) -> bool {
    let mut c = 0usize;
    for (i, &x) in d.iter().rev().enumerate() {
        let p = VERHOEFF_P.get(i % 8).and_then(|row| row.get(usize::from(x))).copied().unwrap_or(0);
        c = VERHOEFF_D.get(c).and_then(|row| row.get(usize::from(p))).copied().map_or(1, usize::from);
    }
    !d.is_empty() && c == 0
}

/// ABA routing number: prefix ranges and the 3-7-1 checksum.
pub(crate) fn aba(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let p2 = prefix(d, 2);
    if !(p2 <= 12 || (21..=32).contains(&p2) || (61..=72).contains(&p2) || p2 == 80) {
        return false;
    }
    let w = [3u32, 7, 1];
    let sum: u32 = d.iter().enumerate().map(|(i, &x)| w[i % 3] * u32::from(x)).sum();
    sum % 10 == 0 && d.iter().any(|&x| x != 0)
}

/// UK NHS number, mod 11.
pub(crate) fn nhs(d: &[u8]) -> bool {
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d.iter().take(9).enumerate().map(|(i, &x)| u32::from(x) * (10 - i as u32)).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    d.get(9).is_some_and(|&x| u32::from(x) == check)
}

/// Dutch BSN, 11-proof.
pub(crate) fn bsn(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let mut sum: i64 = 0;
    for (i, &x) in d.iter().enumerate() {
        let w: i64 = if i == 8 { -1 } else { 9 - i as i64 };
        sum += w * i64::from(x);
    }
    sum != 0 && sum % 11 == 0 && d.iter().any(|&x| x != 0)
}

/// Polish PESEL: weighted checksum and a real birth date.
pub(crate) fn pesel(d: &[u8]) -> bool {
    if d.len() != 11 {
        return false;
    }
    let w = [1u32, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    let sum: u32 = d.iter().zip(w.iter()).map(|(&x, &w)| u32::from(x) * w).sum();
    if d.get(10).map(|&x| u32::from(x)) != Some((10 - sum % 10) % 10) {
        return false;
    }
    let yy = prefix(d, 2);
    let mm = prefix(d.get(2..).unwrap_or(&[]), 2);
    let dd = prefix(d.get(4..).unwrap_or(&[]), 2);
    let (century, month) = match mm {
        1..=12 => (1900, mm),
        21..=32 => (2000, mm - 20),
        41..=52 => (2100, mm - 40),
        61..=72 => (2200, mm - 60),
        81..=92 => (1800, mm - 80),
        _ => return false,
    };
    let year = century + yy;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1..=days).contains(&dd)
}

/// Spanish DNI/NIF/NIE control letter for the number `n`.
pub(crate) fn nif_letter(n: u32) -> u8 {
    b"TRWAGMYFPDXBNJZSQVHLCKE".get((n % 23) as usize).copied().unwrap_or(0)
}

/// US SSN ranges: area not 000, 666 or 9xx; group not 00; serial not 0000.
pub(crate) fn ssn(d: &[u8]) -> bool {
    let (area, group, serial) = ssn_parts(d);
    d.len() == 9 && area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// US ITIN: 9xx area with the issued group ranges.
pub(crate) fn itin(d: &[u8]) -> bool {
    let (area, group, serial) = ssn_parts(d);
    d.len() == 9 && (900..=999).contains(&area) && matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99) && serial != 0
}

fn ssn_parts(d: &[u8]) -> (u32, u32, u32) {
    (prefix(d, 3), prefix(d.get(3..).unwrap_or(&[]), 2), prefix(d.get(5..).unwrap_or(&[]), 4))
}

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Bitcoin Base58Check address (P2PKH `1...` or P2SH `3...`).
pub(crate) fn base58check(s: &[u8]) -> bool {
    let mut num = [0u8; 25];
    for &c in s {
        let Some(v) = BASE58.iter().position(|&a| a == c) else { return false };
        let mut carry = v as u32;
        for byte in num.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        if carry != 0 {
            return false;
        }
    }
    let zeros = s.iter().take_while(|&&c| c == b'1').count();
    let significant = num.iter().skip_while(|&&b| b == 0).count();
    if zeros + significant != 25 {
        return false;
    }
    let (payload, check) = num.split_at(21);
    if !matches!(payload.first(), Some(0x00 | 0x05)) {
        return false;
    }
    let hash = Sha256::digest(Sha256::digest(payload));
    hash.get(..4) == Some(check)
}

const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// Segwit address (`bc1...`/`tb1...`), Bech32 for version 0 and Bech32m above.
pub(crate) fn segwit(addr: &[u8]) -> bool {
    let low: Vec<u8> = addr.iter().map(u8::to_ascii_lowercase).collect();
    let Some(sep) = low.iter().rposition(|&c| c == b'1') else { return false };
    let (hrp, rest) = low.split_at(sep);
    let data_chars = rest.get(1..).unwrap_or(&[]);
    if data_chars.len() < 7 {
        return false;
    }
    let mut data = Vec::with_capacity(data_chars.len());
    for c in data_chars {
        match BECH32_CHARSET.iter().position(|a| a == c) {
            Some(v) => data.push(v as u8),
            None => return false,
        }
    }
    let expanded = hrp.iter().map(|c| c >> 5).chain(std::iter::once(0)).chain(hrp.iter().map(|c| c & 31));
    let chk = bech32_polymod(expanded.chain(data.iter().copied()));
    match data.first() {
        Some(0) => chk == 1,
        Some(1..=16) => chk == 0x2bc8_30a3,
        _ => false,
    }
}

/// EIP-55 mixed-case checksum over 40 hex characters.
pub(crate) fn eip55(hex: &[u8]) -> bool {
    use sha3::Keccak256;
    let lower: Vec<u8> = hex.iter().map(u8::to_ascii_lowercase).collect();
    let hash = Keccak256::digest(&lower);
    hex.iter().enumerate().all(|(i, &c)| {
        if !c.is_ascii_alphabetic() {
            return true;
        }
        let byte = hash.get(i / 2).copied().unwrap_or(0);
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0xf };
        (nibble >= 8) == c.is_ascii_uppercase()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.bytes().filter(u8::is_ascii_digit).map(|c| c - b'0').collect()
    }

    /// The issuer rules as first written, one branch per network.
    fn card_issuer_reference(d: &[u8]) -> bool {
        let n = d.len();
        let (p2, p3, p4) = (prefix(d, 2), prefix(d, 3), prefix(d, 4));
        match d.first() {
            Some(4) => n == 13 || n == 16 || n == 19,
            Some(5) => (51..=55).contains(&p2) && n == 16,
            Some(2) => (2221..=2720).contains(&p4) && n == 16,
            Some(3) if p2 == 34 || p2 == 37 => n == 15,
            Some(3) if p2 == 35 => (16..=19).contains(&n),
            Some(3) if (300..=305).contains(&p3) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39 => {
                (14..=19).contains(&n)
            }
            Some(6) => (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || p2 == 62) && (16..=19).contains(&n),
            _ => false,
        }
    }

    #[test]
    fn luhn_agrees_with_its_definition() {
        let reference = |d: &[u8]| {
            let mut sum = 0u32;
            for (i, &x) in d.iter().rev().enumerate() {
                let mut v = u32::from(x);
                if i % 2 == 1 {
                    v *= 2;
                    if v > 9 {
                        v -= 9;
                    }
                }
                sum += v;
            }
            !d.is_empty() && sum % 10 == 0
        };
        let mut seed = 5u64;
        for _ in 0..100_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let len = ((seed >> 59) % 24) as usize;
            let d: Vec<u8> = (0..len).map(|k| ((seed >> (k * 2 % 50)) % 10) as u8).collect();
            assert_eq!(luhn(&d), reference(&d), "{d:?}");
        }
    }

    #[test]
    fn card_issuer_and_its_prefix_check_agree_with_the_rules() {
        for p4 in 0..10_000u32 {
            let head: Vec<u8> = format!("{p4:04}").bytes().map(|c| c - b'0').collect();
            let mut any = false;
            for n in 4..=22 {
                let mut d = head.clone();
                d.resize(n, 7);
                assert_eq!(card_issuer(&d), card_issuer_reference(&d), "{p4:04} with {n} digits");
                any |= card_issuer(&d);
            }
            let text = format!("{p4:04}1");
            assert_eq!(card_may_start(text.as_bytes()), any, "{text}");
        }
        assert!(card_may_start(b"400"), "three digits do not settle it");
        assert!(card_may_start(b"12 345"));
    }

    #[test]
    fn known_values() {
        assert!(luhn(&digits("4111111111111111")));
        assert!(!luhn(&digits("4111111111111112")));
        assert!(iban_mod97(b"DE89370400440532013000"));
        assert!(!iban_mod97(b"DE88370400440532013000"));
        assert!(verhoeff(&digits("234123412346")));
        assert!(!verhoeff(&digits("234123412347")));
        assert!(aba(&digits("021000021")));
        assert!(!aba(&digits("021000022")));
        assert!(nhs(&digits("9434765919")));
        assert!(!nhs(&digits("9434765918")));
        assert!(bsn(&digits("111222333")));
        assert!(!bsn(&digits("111222334")));
        assert!(pesel(&digits("44051401359")));
        assert!(!pesel(&digits("44051401358")));
        assert_eq!(nif_letter(12_345_678), b'Z');
        assert!(ssn(&digits("078051120")));
        assert!(!ssn(&digits("666123456")));
        assert!(itin(&digits("912701234")));
        assert!(!itin(&digits("912401234")));
        assert!(base58check(b"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"));
        assert!(base58check(b"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(!base58check(b"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"));
        assert!(segwit(b"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(segwit(b"bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"));
        assert!(!segwit(b"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"));
        assert!(eip55(b"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"));
        assert!(!eip55(b"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"));
    }
}
