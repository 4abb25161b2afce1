//! RSA signature verification (RFC 8017): RSASSA-PKCS1-v1_5 and RSASSA-PSS.
//!
//! Verification only needs the public operation `s^e mod n`. With the usual
//! `e = 65537` that is 16 squarings and one multiplication, done here in
//! Montgomery form on fixed-size integers whose parameters (`R^2 mod n` and
//! friends) are computed once, when the key is loaded. Everything checked is
//! public (key, message, signature), so nothing needs to run in constant time.

use crypto_bigint::modular::{MontyForm, MontyParams};
use crypto_bigint::{Odd, Uint, Word, U2048, U3072, U4096};

use crate::hash::HashAlg;

/// Largest modulus accepted, in bits.
pub const MAX_BITS: u32 = 4096;
/// Smallest modulus accepted, in bits (RFC 7518 section 3.3).
pub const MIN_BITS: u32 = 2048;
const MAX_BYTES: usize = (MAX_BITS as usize) / 8;
const WORD_BYTES: usize = core::mem::size_of::<Word>();

/// Why an RSA public key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaKeyError {
    /// The modulus is shorter than 2048 or longer than 4096 bits.
    UnsupportedSize(u32),
    /// The modulus is even (no RSA modulus is).
    EvenModulus,
    /// The exponent is even, 1, or wider than 64 bits.
    BadExponent,
}

/// The Montgomery parameters of a modulus, in the smallest container that holds it.
#[derive(Clone)]
enum Modulus {
    M2048(Box<MontyParams<{ U2048::LIMBS }>>),
    M3072(Box<MontyParams<{ U3072::LIMBS }>>),
    M4096(Box<MontyParams<{ U4096::LIMBS }>>),
}

/// An RSA public key prepared for fast verification.
#[derive(Clone)]
pub struct RsaPublicKey {
    modulus: Modulus,
    exponent: u64,
    bits: u32,
}

impl core::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RsaPublicKey({} bits, e = {})", self.bits, self.exponent)
    }
}

impl RsaPublicKey {
    /// Prepares a key from its big-endian modulus and exponent (leading zeros allowed).
    pub fn new(n: &[u8], e: &[u8]) -> Result<Self, RsaKeyError> {
        let n = strip_zeros(n);
        let e = strip_zeros(e);
        let bits = bit_length(n);
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(RsaKeyError::UnsupportedSize(bits));
        }
        if e.len() > 8 {
            return Err(RsaKeyError::BadExponent);
        }
        let exponent = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        if exponent < 3 || exponent % 2 == 0 {
            return Err(RsaKeyError::BadExponent);
        }
        let modulus = if bits <= 2048 {
            Modulus::M2048(Box::new(params(n)?))
        } else if bits <= 3072 {
            Modulus::M3072(Box::new(params(n)?))
        } else {
            Modulus::M4096(Box::new(params(n)?))
        };
        Ok(Self { modulus, exponent, bits })
    }

    /// Modulus length in bits.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Modulus length in bytes: every signature must be exactly this long.
    pub fn byte_len(&self) -> usize {
        self.bits.div_ceil(8) as usize
    }

    /// RSASSA-PKCS1-v1_5 verification (RFC 8017 section 8.2.2) of `message` hashed with `hash`.
    pub fn verify_pkcs1v15(&self, hash: HashAlg, message: &[u8], signature: &[u8]) -> bool {
        let mut em = [0u8; MAX_BYTES];
        let Some(em) = self.public_op(signature, &mut em) else { return false };
        let digest = hash.digest(message);
        let prefix = hash.digest_info_prefix();
        let t_len = prefix.len() + digest.len();
        // EM = 0x00 || 0x01 || PS (at least 8 bytes of 0xff) || 0x00 || DigestInfo || H
        if em.len() < t_len + 11 {
            return false;
        }
        let ps_end = em.len() - t_len - 1;
        em[0] == 0x00
            && em[1] == 0x01
            && em[2..ps_end].iter().all(|&b| b == 0xff)
            && em[ps_end] == 0x00
            && &em[ps_end + 1..ps_end + 1 + prefix.len()] == prefix
            && &em[ps_end + 1 + prefix.len()..] == digest.as_slice()
    }

    /// RSASSA-PSS verification (RFC 8017 section 8.1.2) with MGF1 over `hash` and a salt as
    /// long as the hash, as RFC 7518 section 3.5 requires for `PS256`/`PS384`/`PS512`.
    pub fn verify_pss(&self, hash: HashAlg, message: &[u8], signature: &[u8]) -> bool {
        let mut buf = [0u8; MAX_BYTES];
        let Some(m) = self.public_op(signature, &mut buf) else { return false };
        // emBits = modBits - 1; when that is a multiple of 8 the encoded message is one byte
        // shorter than the modulus and the extra leading byte must be zero.
        let em_bits = self.bits - 1;
        let em_len = em_bits.div_ceil(8) as usize;
        let em = match m.len() - em_len {
            0 => m,
            1 if m[0] == 0 => &mut m[1..],
            _ => return false,
        };
        let h_len = hash.output_len();
        let s_len = h_len;
        if em_len < h_len + s_len + 2 || em[em_len - 1] != 0xbc {
            return false;
        }
        let (masked_db, rest) = em.split_at_mut(em_len - h_len - 1);
        let h = &rest[..h_len];
        let unused_bits = 8 * em_len as u32 - em_bits;
        let top_mask = 0xffu8 >> unused_bits;
        if masked_db[0] & !top_mask != 0 {
            return false;
        }
        hash.mgf1_xor(h, masked_db);
        let db = masked_db;
        db[0] &= top_mask;
        let ps_len = em_len - h_len - s_len - 2;
        if db[..ps_len].iter().any(|&b| b != 0) || db[ps_len] != 0x01 {
            return false;
        }
        let salt = &db[ps_len + 1..];
        let m_hash = hash.digest(message);
        let h_prime = hash.digest_parts(&[&[0u8; 8], m_hash.as_slice(), salt]);
        h_prime.as_slice() == h
    }

    /// RSAVP1: `signature^e mod n` as `byte_len()` big-endian bytes written into `out`.
    /// `None` when the signature has the wrong length or is not below the modulus.
    fn public_op<'a>(&self, signature: &[u8], out: &'a mut [u8; MAX_BYTES]) -> Option<&'a mut [u8]> {
        let k = self.byte_len();
        if signature.len() != k {
            return None;
        }
        let out = &mut out[..k];
        match &self.modulus {
            Modulus::M2048(p) => pow_mod(p, signature, self.exponent, out)?,
            Modulus::M3072(p) => pow_mod(p, signature, self.exponent, out)?,
            Modulus::M4096(p) => pow_mod(p, signature, self.exponent, out)?,
        }
        Some(out)
    }
}

fn params<const L: usize>(n: &[u8]) -> Result<MontyParams<L>, RsaKeyError> {
    let n = from_be_bytes::<L>(n).ok_or(RsaKeyError::UnsupportedSize(bit_length(n)))?;
    let odd = Option::<Odd<Uint<L>>>::from(Odd::new(n)).ok_or(RsaKeyError::EvenModulus)?;
    Ok(MontyParams::new_vartime(odd))
}

/// `s^e mod n` by left-to-right square-and-multiply on the public exponent.
fn pow_mod<const L: usize>(params: &MontyParams<L>, signature: &[u8], e: u64, out: &mut [u8]) -> Option<()> {
    let s = from_be_bytes::<L>(signature)?;
    if s >= *params.modulus().as_ref() {
        return None;
    }
    let base = MontyForm::new(&s, *params);
    let mut acc = base;
    let top = 63 - e.leading_zeros();
    for bit in (0..top).rev() {
        acc = acc.square();
        if (e >> bit) & 1 == 1 {
            acc = acc.mul(&base);
        }
    }
    to_be_bytes(&acc.retrieve(), out)
}

/// Big-endian bytes to an integer; `None` when they do not fit.
fn from_be_bytes<const L: usize>(bytes: &[u8]) -> Option<Uint<L>> {
    let bytes = strip_zeros(bytes);
    if bytes.len() > L * WORD_BYTES {
        return None;
    }
    let mut words = [0 as Word; L];
    for (i, &byte) in bytes.iter().rev().enumerate() {
        words[i / WORD_BYTES] |= Word::from(byte) << (8 * (i % WORD_BYTES));
    }
    Some(Uint::from_words(words))
}

/// Writes an integer as exactly `out.len()` big-endian bytes; `None` when it does not fit.
fn to_be_bytes<const L: usize>(value: &Uint<L>, out: &mut [u8]) -> Option<()> {
    let words = value.as_words();
    let len = out.len();
    for i in 0..L * WORD_BYTES {
        let byte = (words[i / WORD_BYTES] >> (8 * (i % WORD_BYTES))) as u8;
        if i < len {
            out[len - 1 - i] = byte;
        } else if byte != 0 {
            return None;
        }
    }
    Some(())
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn bit_length(bytes: &[u8]) -> u32 {
    let bytes = strip_zeros(bytes);
    match bytes.first() {
        None => 0,
        Some(first) => (bytes.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_conversions_round_trip() {
        let bytes: Vec<u8> = (1..=40).collect();
        let value = from_be_bytes::<{ U2048::LIMBS }>(&bytes).unwrap();
        let mut out = [0u8; 40];
        to_be_bytes(&value, &mut out).unwrap();
        assert_eq!(out.as_slice(), bytes.as_slice());
        let mut short = [0u8; 39];
        assert!(to_be_bytes(&value, &mut short).is_none());
        assert!(from_be_bytes::<1>(&[1; 9]).is_none());
        assert!(from_be_bytes::<1>(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).is_some());
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[0, 1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
    }

    #[test]
    fn refuses_unusable_keys() {
        let mut n = vec![0xffu8; 256];
        assert!(RsaPublicKey::new(&n, &[1, 0, 1]).is_ok());
        assert_eq!(RsaPublicKey::new(&n[..128], &[1, 0, 1]).unwrap_err(), RsaKeyError::UnsupportedSize(1024));
        assert_eq!(RsaPublicKey::new(&[0xff; 513], &[3]).unwrap_err(), RsaKeyError::UnsupportedSize(4104));
        assert_eq!(RsaPublicKey::new(&n, &[1]).unwrap_err(), RsaKeyError::BadExponent);
        assert_eq!(RsaPublicKey::new(&n, &[4]).unwrap_err(), RsaKeyError::BadExponent);
        assert_eq!(RsaPublicKey::new(&n, &[1; 9]).unwrap_err(), RsaKeyError::BadExponent);
        n[255] = 0xfe;
        assert_eq!(RsaPublicKey::new(&n, &[3]).unwrap_err(), RsaKeyError::EvenModulus);
    }

    #[test]
    fn signature_must_be_below_modulus_and_exact_length() {
        let key = RsaPublicKey::new(&[0xff; 256], &[1, 0, 1]).unwrap();
        let mut out = [0u8; MAX_BYTES];
        assert!(key.public_op(&[0xff; 256], &mut out).is_none());
        assert!(key.public_op(&[0x01; 255], &mut out).is_none());
        assert!(key.public_op(&[0x01; 257], &mut out).is_none());
        assert!(key.public_op(&[0x01; 256], &mut out).is_some());
    }

    #[test]
    fn small_exponent_matches_schoolbook() {
        // n = 2^2048 - 1 (odd); s = 2: 2^3 mod n = 8, 2^65537 = 2^(65537 mod 2048) = 2^1.
        let key = RsaPublicKey::new(&[0xff; 256], &[3]).unwrap();
        let mut sig = [0u8; 256];
        sig[255] = 2;
        let mut out = [0u8; MAX_BYTES];
        let m = key.public_op(&sig, &mut out).unwrap();
        assert_eq!(m[255], 8);
        assert!(m[..255].iter().all(|&b| b == 0));
        let key = RsaPublicKey::new(&[0xff; 256], &[1, 0, 1]).unwrap();
        let m = key.public_op(&sig, &mut out).unwrap();
        assert_eq!(m[255], 2);
        assert!(m[..255].iter().all(|&b| b == 0));
    }
}
