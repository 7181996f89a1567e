//! The AEAD algorithms and the one primitive wrapper every envelope goes through.

use std::fmt;

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use aes_gcm_siv::Aes256GcmSiv;
use serde::{Deserialize, Serialize};

use crate::PiiError;

/// Key length of both algorithms, in bytes (AES-256).
pub const KEY_LEN: usize = 32;
/// Nonce length of both algorithms, in bytes (96 bits).
pub const NONCE_LEN: usize = 12;
/// Authentication tag length of both algorithms, in bytes (128 bits).
pub const TAG_LEN: usize = 16;

/// The AEAD an encryption key uses. Each key has exactly one algorithm, and the envelope's
/// algorithm id must match it.
///
/// | algorithm | id | standard | nonce misuse |
/// |---|---|---|---|
/// | [`Aes256Gcm`](Self::Aes256Gcm) | `0x01` | NIST SP 800-38D | a repeated nonce reveals the XOR of two plaintexts and lets the GHASH key be recovered (forgeries) |
/// | [`Aes256GcmSiv`](Self::Aes256GcmSiv) | `0x02` | RFC 8452 | a repeated nonce only reveals whether two plaintexts (under the same context) are equal |
///
/// Both take a 256-bit key, a random 96-bit nonce per message and produce a 128-bit tag.
/// In JSON (keysets) they are written `"aes-256-gcm"` and `"aes-256-gcm-siv"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Algorithm {
    /// AES-256-GCM (NIST SP 800-38D), the default.
    #[serde(rename = "aes-256-gcm")]
    Aes256Gcm,
    /// AES-256-GCM-SIV (RFC 8452): nonce-misuse resistant, encryption about half as fast
    /// (two passes).
    #[serde(rename = "aes-256-gcm-siv")]
    Aes256GcmSiv,
}

impl Algorithm {
    /// The one-byte id written in envelopes: `0x01` for AES-256-GCM, `0x02` for
    /// AES-256-GCM-SIV.
    pub const fn id(self) -> u8 {
        match self {
            Self::Aes256Gcm => 0x01,
            Self::Aes256GcmSiv => 0x02,
        }
    }

    /// The algorithm with this envelope id, or `None`.
    pub const fn from_id(id: u8) -> Option<Self> {
        match id {
            0x01 => Some(Self::Aes256Gcm),
            0x02 => Some(Self::Aes256GcmSiv),
            _ => None,
        }
    }

    /// The name used in keysets and on the command line: `aes-256-gcm`, `aes-256-gcm-siv`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "aes-256-gcm",
            Self::Aes256GcmSiv => "aes-256-gcm-siv",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = PiiError;

    /// Accepts `aes-256-gcm` or `aes-256-gcm-siv` (any case); any other name is
    /// [`PiiError::UnknownAlgorithm`] with id 0.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "aes-256-gcm" => Ok(Self::Aes256Gcm),
            "aes-256-gcm-siv" => Ok(Self::Aes256GcmSiv),
            _ => Err(PiiError::UnknownAlgorithm { id: 0 }),
        }
    }
}

/// An initialized AEAD (key schedule done). Its round keys are zeroized on drop (the
/// `zeroize` features of `aes-gcm` and `aes`).
pub(crate) enum Cipher {
    Gcm(Box<Aes256Gcm>),
    Siv(Box<Aes256GcmSiv>),
}

impl Cipher {
    pub(crate) fn new(algorithm: Algorithm, key: &[u8; KEY_LEN]) -> Self {
        match algorithm {
            Algorithm::Aes256Gcm => Self::Gcm(Box::new(Aes256Gcm::new(key.into()))),
            Algorithm::Aes256GcmSiv => Self::Siv(Box::new(Aes256GcmSiv::new(key.into()))),
        }
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], PiiError> {
        let nonce = Nonce::from(*nonce);
        let tag: Tag = match self {
            Self::Gcm(c) => c.encrypt_inout_detached(&nonce, aad, buf.into()),
            Self::Siv(c) => c.encrypt_inout_detached(&nonce, aad, buf.into()),
        }
        // Only too-long inputs (over 2^36 bytes) are refused.
        .map_err(|_| PiiError::malformed("message too long for the AEAD"))?;
        Ok(tag.into())
    }

    /// Decrypts `ciphertext` into `out` (same length) after checking `tag`. On failure
    /// `out` holds no plaintext the caller may use (it is dropped by the callers).
    pub(crate) fn open_into(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8; TAG_LEN],
        out: &mut [u8],
    ) -> Result<(), PiiError> {
        let nonce = Nonce::from(*nonce);
        let tag = Tag::from(*tag);
        let buf = InOutBuf::new(ciphertext, out).map_err(|_| PiiError::Decryption)?;
        match self {
            Self::Gcm(c) => c.decrypt_inout_detached(&nonce, aad, buf, &tag),
            Self::Siv(c) => c.decrypt_inout_detached(&nonce, aad, buf, &tag),
        }
        .map_err(|_| PiiError::Decryption)
    }
}

/// The raw AEAD primitive exactly as envelopes use it, exposed for the test-vector suites
/// (NIST CAVS, RFC 8452, Project Wycheproof). Not part of the API: it takes raw keys and
/// nonces, and a caller that reuses a nonce with AES-GCM loses confidentiality and integrity.
#[doc(hidden)]
pub mod primitive {
    use super::{Algorithm, Cipher, KEY_LEN, NONCE_LEN, TAG_LEN};
    use crate::PiiError;

    /// `ciphertext || tag` of `plaintext` under `key`, `nonce` and `aad`.
    pub fn seal(
        algorithm: Algorithm,
        key: &[u8; KEY_LEN],
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, PiiError> {
        let mut out = plaintext.to_vec();
        let tag = Cipher::new(algorithm, key).seal_in_place(nonce, aad, &mut out)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// The plaintext of `ciphertext || tag`, or [`PiiError::Decryption`].
    pub fn open(
        algorithm: Algorithm,
        key: &[u8; KEY_LEN],
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, PiiError> {
        let split = sealed
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(PiiError::Decryption)?;
        let (ciphertext, tag) = sealed.split_at(split);
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| PiiError::Decryption)?;
        let mut out = vec![0; ciphertext.len()];
        Cipher::new(algorithm, key).open_into(nonce, aad, ciphertext, tag, &mut out)?;
        Ok(out)
    }
}
