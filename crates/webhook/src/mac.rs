//! HMAC computation, tags, and constant-time comparison.

use hmac::{EagerHash, Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::key::Key;
use palisade_core::HmacAlgorithm;

/// Anything the signed message can be fed into: a MAC or a plain hash.
pub(crate) trait Sink {
    fn put(&mut self, data: &[u8]);
}

impl Sink for Sha256 {
    fn put(&mut self, data: &[u8]) {
        self.update(data);
    }
}

/// Counts the bytes fed, to choose a hash before hashing.
pub(crate) struct Counter(pub(crate) usize);

impl Sink for Counter {
    fn put(&mut self, data: &[u8]) {
        self.0 = self.0.saturating_add(data.len());
    }
}

impl Sink for blake3::Hasher {
    fn put(&mut self, data: &[u8]) {
        self.update(data);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, data: &[u8]) {
        self.extend_from_slice(data);
    }
}

/// A computed MAC tag (at most 64 bytes), kept on the stack.
pub(crate) struct Tag {
    bytes: [u8; 64],
    len: usize,
}

impl Tag {
    fn set(&mut self, out: &[u8]) {
        let n = out.len().min(self.bytes.len());
        if let (Some(dst), Some(src)) = (self.bytes.get_mut(..n), out.get(..n)) {
            dst.copy_from_slice(src);
            self.len = n;
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    /// Constant-time equality with `candidate`, after a (public) length check.
    pub(crate) fn matches(&self, candidate: &[u8]) -> bool {
        ct_eq(self.as_bytes(), candidate)
    }
}

/// Constant-time equality of two byte strings; only their lengths (public here: tag sizes)
/// may shortcut. The bytes are folded with XOR/OR, which has no data-dependent branch, and the
/// single folded byte is compared with `subtle`, whose optimization barrier keeps the compiler
/// from turning the fold into an early exit.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    bool::from(diff.ct_eq(&0u8))
}

/// Clones the keyed state in place, feeds the message, and finalizes into a [`Tag`].
#[inline]
fn tag_of<M: Mac + Clone + Sink>(keyed: &M, feed: &dyn Fn(&mut dyn Sink)) -> Tag {
    let mut mac = keyed.clone();
    feed(&mut mac);
    let mut tag = Tag {
        bytes: [0; 64],
        len: 0,
    };
    tag.set(&mac.finalize().into_bytes());
    tag
}

impl<D: EagerHash> Sink for Hmac<D>
where
    Hmac<D>: Mac,
{
    fn put(&mut self, data: &[u8]) {
        Mac::update(self, data);
    }
}

/// Computes the HMAC of the message that `feed` writes, from `key`'s precomputed keyed state.
/// `None` when `key` is not an HMAC key.
pub(crate) fn hmac(
    algorithm: HmacAlgorithm,
    key: &Key,
    feed: &dyn Fn(&mut dyn Sink),
) -> Option<Tag> {
    let key = key.as_hmac()?;
    Some(match algorithm {
        HmacAlgorithm::Sha1 => tag_of(key.sha1()?, feed),
        HmacAlgorithm::Sha256 => tag_of(key.sha256()?, feed),
        HmacAlgorithm::Sha512 => tag_of(key.sha512()?, feed),
    })
}

/// SHA-256 of the message that `feed` writes.
pub(crate) fn sha256(feed: &dyn Fn(&mut dyn Sink)) -> [u8; 32] {
    let mut h = Sha256::new();
    feed(&mut h);
    h.finalize().into()
}

/// BLAKE3 (default hash mode, 32-byte output) of the message that `feed` writes.
pub(crate) fn blake3(feed: &dyn Fn(&mut dyn Sink)) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    feed(&mut h);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231 test case 2 ("Jefe" / "what do ya want for nothing?").
    #[test]
    fn rfc4231_case_2() {
        let tag = hmac(HmacAlgorithm::Sha256, &Key::hmac(b"Jefe"), &|s| {
            s.put(b"what do ya want ");
            s.put(b"for nothing?");
        })
        .unwrap();
        assert_eq!(
            hex::encode(tag.as_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let tag = hmac(HmacAlgorithm::Sha512, &Key::hmac(b"Jefe"), &|s| {
            s.put(b"what do ya want for nothing?")
        })
        .unwrap();
        assert_eq!(
            hex::encode(tag.as_bytes()),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    // RFC 2202 test case 2 for HMAC-SHA1.
    #[test]
    fn rfc2202_case_2() {
        let tag = hmac(HmacAlgorithm::Sha1, &Key::hmac(b"Jefe"), &|s| {
            s.put(b"what do ya want for nothing?")
        })
        .unwrap();
        assert_eq!(
            hex::encode(tag.as_bytes()),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert!(tag.matches(&hex::decode("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79").unwrap()));
        assert!(!tag.matches(&[0u8; 20]));
        assert!(!tag.matches(&[]));
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(
            "SHA256".parse::<HmacAlgorithm>().unwrap(),
            HmacAlgorithm::Sha256
        );
        assert_eq!(
            "hmac_sha1".parse::<HmacAlgorithm>().unwrap(),
            HmacAlgorithm::Sha1
        );
        assert!("md5".parse::<HmacAlgorithm>().is_err());
    }
}
