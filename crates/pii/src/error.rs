//! The one error type of this crate.

use std::borrow::Cow;

use crate::Algorithm;

/// Why an envelope, a keyset, a key operation or a blind index was refused.
///
/// No variant ever carries key material, plaintext or ciphertext: messages are safe to log.
/// Every authentication failure of an envelope (wrong key, wrong [`Context`](crate::Context),
/// any modified byte) is the single variant [`PiiError::Decryption`], so an error never says
/// which part was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PiiError {
    /// The envelope cannot be parsed: wrong text prefix, invalid or non-canonical base64url,
    /// shorter than the fixed overhead, or a key id of 0.
    #[error("malformed envelope: {reason}")]
    MalformedEnvelope {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The envelope's version byte is not one this crate reads (only `1` today).
    #[error("unsupported envelope version {version}")]
    UnsupportedVersion {
        /// The version byte found.
        version: u8,
    },
    /// The envelope's (or keyset's) algorithm id is not known.
    #[error("unknown algorithm id {id}")]
    UnknownAlgorithm {
        /// The algorithm id found.
        id: u8,
    },
    /// The envelope names a key id that the keyring does not hold (removed, or from another
    /// keyring).
    #[error("unknown key id {key_id}")]
    UnknownKey {
        /// The key id named by the envelope or the call.
        key_id: u32,
    },
    /// The envelope names a retired key: the keyring refuses to decrypt with it.
    #[error("key {key_id} is retired")]
    RetiredKey {
        /// The retired key's id.
        key_id: u32,
    },
    /// The envelope's algorithm is not the algorithm of the key it names.
    #[error("envelope uses {found} but key {key_id} is an {expected} key")]
    AlgorithmMismatch {
        /// The key id.
        key_id: u32,
        /// The key's algorithm.
        expected: Algorithm,
        /// The envelope's algorithm.
        found: Algorithm,
    },
    /// Authentication failed: wrong key, wrong context (tenant, table, column or row), or a
    /// modified header, nonce, ciphertext or tag. No plaintext is released.
    #[error("decryption failed: wrong key, wrong context or modified ciphertext")]
    Decryption,
    /// This keyring instance has encrypted as many messages under the primary key as
    /// NIST SP 800-38D §8.3 allows with random nonces (2^32): rotate the key.
    #[error("key {key_id} reached the per-key message limit of {limit}: rotate the key")]
    KeyUsageLimit {
        /// The primary key's id.
        key_id: u32,
        /// The limit, in messages.
        limit: u64,
    },
    /// The plaintext was asked for as text but is not valid UTF-8.
    #[error("plaintext is not UTF-8")]
    NotUtf8,
    /// A context string (`tenant/table/column/row`) cannot be parsed.
    #[error("invalid context: {reason}")]
    InvalidContext {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A keyset document is not a valid keyset (JSON shape, format or version, duplicate or
    /// zero key ids, not exactly one primary, bad key material encoding, …).
    #[error("invalid keyset: {reason}")]
    InvalidKeyset {
        /// What is wrong with it.
        reason: Cow<'static, str>,
    },
    /// A protected keyset's MAC or a wrapped key did not authenticate: the key-encryption key
    /// is not the one it was saved under, or the document was modified.
    #[error("keyset authentication failed: wrong key-encryption key or modified keyset")]
    KeysetAuthentication,
    /// A keyset is protected differently from what the caller asked for: an unprotected
    /// (development) keyset given to [`Keyring::from_json`](crate::Keyring::from_json), or a
    /// KEK-protected one given to
    /// [`Keyring::from_json_unprotected`](crate::Keyring::from_json_unprotected).
    #[error("keyset protection is `{found}`, expected `{expected}`")]
    ProtectionMismatch {
        /// What the caller asked for (`kek` or `none`).
        expected: &'static str,
        /// What the document says.
        found: &'static str,
    },
    /// A [`KeyProvider`](crate::KeyProvider) could not supply the key-encryption key
    /// (environment variable unset, file unreadable, KMS unavailable, …).
    #[error("key-encryption key unavailable: {reason}")]
    KeyProvider {
        /// What went wrong; never contains key material.
        reason: String,
    },
    /// Key-encryption key material has the wrong length or encoding.
    #[error("invalid key-encryption key: {reason}")]
    InvalidKek {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A rotation step was refused (retiring the primary, removing a key that is not retired,
    /// promoting a retired key, …).
    #[error("rotation refused: {reason}")]
    Rotation {
        /// Why.
        reason: &'static str,
    },
    /// A value cannot be normalized for a blind index (a phone number that is not E.164, an
    /// email without `@`, too few digits, …).
    #[error("cannot normalize value as {normalizer}: {reason}")]
    Normalization {
        /// The normalizer's name (`phone`, `email`, …).
        normalizer: &'static str,
        /// What is wrong with the value (never the value itself).
        reason: &'static str,
    },
    /// A blind index definition or call is invalid (bit length outside 1–256, wrong number
    /// of values for a compound index, …).
    #[error("invalid blind index: {reason}")]
    InvalidBlindIndex {
        /// What is wrong.
        reason: &'static str,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// HKDF refused to expand a key (cannot happen for the 32-byte outputs used here).
    #[error("key derivation failed")]
    KeyDerivation,
}

impl PiiError {
    pub(crate) fn keyset(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidKeyset {
            reason: reason.into(),
        }
    }

    pub(crate) const fn malformed(reason: &'static str) -> Self {
        Self::MalformedEnvelope { reason }
    }
}
