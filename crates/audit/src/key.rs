//! Chain keys (HMAC-SHA256 keys with an epoch) and the MACs they make.

use std::collections::BTreeMap;
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::AuditError;

/// The length of a chain key and of a MAC, in bytes.
pub const KEY_LEN: usize = 32;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// One HMAC-SHA256 chain key (32 bytes) and its epoch (1, 2, …). `Debug` prints the epoch
/// only; the key is zeroized on drop.
pub struct ChainKey {
    epoch: u32,
    mac: HmacSha256,
    _key: SecretBox<[u8; KEY_LEN]>,
}

impl ChainKey {
    /// The key of `epoch` (at least 1).
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidKey`] for epoch 0.
    pub fn new(epoch: u32, key: SecretBox<[u8; KEY_LEN]>) -> Result<Self, AuditError> {
        if epoch == 0 {
            return Err(AuditError::InvalidKey {
                reason: "epochs start at 1",
            });
        }
        let mac = <HmacSha256 as KeyInit>::new_from_slice(key.expose_secret())
            .map_err(|_| AuditError::InvalidKey { reason: "HMAC key" })?;
        Ok(Self {
            epoch,
            mac,
            _key: key,
        })
    }

    /// The key of `epoch` from 64 hex digits (the CLI's `--key-hex`).
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidKey`] for anything but 32 bytes of hex, or epoch 0.
    pub fn from_hex(epoch: u32, hex_key: &str) -> Result<Self, AuditError> {
        let mut key = SecretBox::new(Box::new([0u8; KEY_LEN]));
        hex::decode_to_slice(hex_key.trim(), key.expose_secret_mut()).map_err(|_| {
            AuditError::InvalidKey {
                reason: "expected 64 hex digits (32 bytes)",
            }
        })?;
        Self::new(epoch, key)
    }

    /// The epoch.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// HMAC-SHA256 of `message` under this key.
    pub(crate) fn mac(&self, message: &[u8]) -> ChainMac {
        let mut mac = self.mac.clone();
        mac.update(message);
        ChainMac(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainKey")
            .field("epoch", &self.epoch)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// The chain keys a sink or a verifier holds: every epoch it may meet, and the current one
/// (new events are MACed under it).
#[derive(Debug)]
pub struct ChainKeys {
    keys: BTreeMap<u32, ChainKey>,
    current: u32,
}

impl ChainKeys {
    /// One key, current.
    pub fn new(key: ChainKey) -> Self {
        let current = key.epoch;
        Self {
            keys: BTreeMap::from([(current, key)]),
            current,
        }
    }

    /// Adds an older key (kept to verify, and to chain the key-epoch event under the epoch
    /// the chain is in).
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidKey`] when a key of that epoch is already held.
    pub fn with_key(mut self, key: ChainKey) -> Result<Self, AuditError> {
        if self.keys.contains_key(&key.epoch) {
            return Err(AuditError::InvalidKey {
                reason: "two keys of one epoch",
            });
        }
        self.keys.insert(key.epoch, key);
        Ok(self)
    }

    /// Adds `key` and makes it the current one: the next event of each tenant is preceded
    /// by a key-epoch event ([`Action::KEY_EPOCH`](crate::action::Action::KEY_EPOCH)).
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidKey`] when its epoch is not later than the current one.
    pub fn rotate(mut self, key: ChainKey) -> Result<Self, AuditError> {
        if key.epoch <= self.current {
            return Err(AuditError::InvalidKey {
                reason: "a new epoch must be later than the current one",
            });
        }
        self.current = key.epoch;
        self.keys.insert(key.epoch, key);
        Ok(self)
    }

    /// The current epoch.
    pub fn current_epoch(&self) -> u32 {
        self.current
    }

    /// The current key.
    pub(crate) fn current(&self) -> Result<&ChainKey, AuditError> {
        self.get(self.current)
    }

    /// The key of `epoch`.
    pub(crate) fn get(&self, epoch: u32) -> Result<&ChainKey, AuditError> {
        self.keys
            .get(&epoch)
            .ok_or(AuditError::UnknownEpoch { epoch })
    }
}

/// A chain MAC: 32 bytes of HMAC-SHA256, written as 64 lowercase hex digits. Equality is
/// constant-time. [`ChainMac::ZERO`] is the `prev` of a chain's first event.
#[derive(Clone, Copy, Eq)]
pub struct ChainMac(pub(crate) [u8; KEY_LEN]);

impl ChainMac {
    /// 32 zero bytes: the previous MAC of sequence number 1.
    pub const ZERO: Self = Self([0; KEY_LEN]);

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// From 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// From 64 hex digits.
    ///
    /// # Errors
    ///
    /// [`AuditError::InvalidField`] (`mac`).
    pub fn from_hex(text: &str) -> Result<Self, AuditError> {
        let mut out = [0u8; KEY_LEN];
        hex::decode_to_slice(text, &mut out)
            .map_err(|_| AuditError::field("mac", "expected 64 hex digits"))?;
        Ok(Self(out))
    }

    /// 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl PartialEq for ChainMac {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::hash::Hash for ChainMac {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Display for ChainMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ChainMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainMac({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_redacted() {
        assert!(ChainKey::from_hex(1, "00").is_err());
        assert!(ChainKey::from_hex(0, &"11".repeat(32)).is_err());
        let k = ChainKey::from_hex(1, &"11".repeat(32)).unwrap();
        assert!(!format!("{k:?}").contains("11, 11"));
        assert_eq!(
            format!("{k:?}"),
            r#"ChainKey { epoch: 1, key: "[REDACTED]" }"#
        );
        let keys = ChainKeys::new(k)
            .rotate(ChainKey::from_hex(2, &"22".repeat(32)).unwrap())
            .unwrap();
        assert_eq!(keys.current_epoch(), 2);
        assert!(keys.get(1).is_ok());
        assert_eq!(
            keys.get(3).err(),
            Some(AuditError::UnknownEpoch { epoch: 3 })
        );
        let again = ChainKey::from_hex(2, &"33".repeat(32)).unwrap();
        assert!(keys.with_key(again).is_err());
    }

    #[test]
    fn macs_show_as_hex_and_hash_by_value() {
        use std::hash::{BuildHasher, RandomState};
        let a = ChainMac::from_bytes([0xab; KEY_LEN]);
        let b = ChainMac::from_bytes([0xcd; KEY_LEN]);
        assert_eq!(a.to_string(), "ab".repeat(KEY_LEN));
        assert_eq!(
            format!("{a:?}"),
            format!("ChainMac({})", "ab".repeat(KEY_LEN))
        );
        let hasher = RandomState::new();
        assert_eq!(
            hasher.hash_one(a),
            hasher.hash_one(ChainMac::from_bytes([0xab; KEY_LEN]))
        );
        assert_ne!(hasher.hash_one(a), hasher.hash_one(b));
    }
}
