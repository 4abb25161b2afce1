//! The SHA-2 hashes JWS algorithms use, behind one small enum.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A SHA-2 hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// A digest of up to 64 bytes, kept on the stack.
#[derive(Clone, Copy)]
pub struct HashOutput {
    bytes: [u8; 64],
    len: usize,
}

impl HashOutput {
    /// The digest bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Digest length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: digests are never empty (present for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn from_slice(digest: &[u8]) -> Self {
        let mut bytes = [0u8; 64];
        let len = digest.len().min(64);
        bytes[..len].copy_from_slice(&digest[..len]);
        Self { bytes, len }
    }
}

impl HashAlg {
    /// Output length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> HashOutput {
        self.digest_parts(&[data])
    }

    /// Hashes the concatenation of `parts`.
    pub fn digest_parts(self, parts: &[&[u8]]) -> HashOutput {
        fn run<D: Digest>(parts: &[&[u8]]) -> HashOutput {
            let mut hasher = D::new();
            for part in parts {
                hasher.update(part);
            }
            HashOutput::from_slice(&hasher.finalize())
        }
        match self {
            Self::Sha256 => run::<Sha256>(parts),
            Self::Sha384 => run::<Sha384>(parts),
            Self::Sha512 => run::<Sha512>(parts),
        }
    }

    /// The DER `DigestInfo` header that precedes the digest in EMSA-PKCS1-v1_5
    /// (RFC 8017 section 9.2, note 1).
    pub const fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Self::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            Self::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            Self::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }

    /// XORs MGF1(`seed`, `out.len()`) over this hash into `out` (RFC 8017 appendix B.2.1).
    pub fn mgf1_xor(self, seed: &[u8], out: &mut [u8]) {
        for (counter, chunk) in out.chunks_mut(self.output_len()).enumerate() {
            let counter = (counter as u32).to_be_bytes();
            let block = self.digest_parts(&[seed, &counter]);
            for (byte, mask) in chunk.iter_mut().zip(block.as_slice()) {
                *byte ^= mask;
            }
        }
    }

    /// Checks an HMAC tag in constant time. Keys shorter than the hash output are refused
    /// (RFC 7518 section 3.2).
    pub fn verify_hmac(self, key: &[u8], message: &[u8], tag: &[u8]) -> bool {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
            match <M as Mac>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(message);
                    mac.verify_slice(tag).is_ok()
                }
                Err(_) => false,
            }
        }
        if key.len() < self.output_len() {
            return false;
        }
        match self {
            Self::Sha256 => run::<Hmac<Sha256>>(key, message, tag),
            Self::Sha384 => run::<Hmac<Sha384>>(key, message, tag),
            Self::Sha512 => run::<Hmac<Sha512>>(key, message, tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_have_their_lengths() {
        for alg in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            assert_eq!(alg.digest(b"abc").len(), alg.output_len());
            assert_eq!(alg.digest_info_prefix().len(), 19);
            assert_eq!(usize::from(alg.digest_info_prefix()[18]), alg.output_len());
        }
        // FIPS 180-2 "abc" vector.
        assert_eq!(
            HashAlg::Sha256.digest(b"abc").as_slice()[..4],
            [0xba, 0x78, 0x16, 0xbf]
        );
        assert_eq!(HashAlg::Sha256.digest_parts(&[b"a", b"bc"]).as_slice(), HashAlg::Sha256.digest(b"abc").as_slice());
    }

    #[test]
    fn mgf1_covers_partial_blocks() {
        let mut a = [0u8; 70];
        HashAlg::Sha256.mgf1_xor(b"seed", &mut a);
        let first = HashAlg::Sha256.digest_parts(&[b"seed", &[0, 0, 0, 0]]);
        let third = HashAlg::Sha256.digest_parts(&[b"seed", &[0, 0, 0, 2]]);
        assert_eq!(&a[..32], first.as_slice());
        assert_eq!(&a[64..], &third.as_slice()[..6]);
    }

    #[test]
    fn hmac_refuses_short_keys() {
        assert!(!HashAlg::Sha256.verify_hmac(&[1; 31], b"m", &[0; 32]));
    }
}
