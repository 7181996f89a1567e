//! Key ids, statuses, and the ordered list of keys of one purpose.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Serialize};

use crate::aead::KEY_LEN;
use crate::{Algorithm, PiiError};

/// A key's identifier inside a keyring: a non-zero `u32`, written big-endian in envelopes
/// and as a JSON number in keysets. A new key gets one more than the highest id in its list,
/// and the key holding the highest id cannot be removed, so an id is never handed out twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(u32);

impl KeyId {
    /// The id of the first key of a new keyring.
    pub const FIRST: Self = Self(1);

    /// The id `id`, or `None` for 0.
    pub const fn new(id: u32) -> Option<Self> {
        if id == 0 { None } else { Some(Self(id)) }
    }

    /// The numeric id.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a key may be used for.
///
/// - exactly one [`Primary`](Self::Primary) key encrypts (or computes blind indexes);
/// - [`Active`](Self::Active) keys only decrypt (a new key before promotion, an old one
///   until re-encryption is done);
/// - [`Retired`](Self::Retired) keys are kept in the keyset but refused
///   ([`PiiError::RetiredKey`]), until [`Keyring::remove`](crate::Keyring::remove) destroys
///   them.
///
/// In JSON: `"primary"`, `"active"`, `"retired"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum KeyStatus {
    /// Encrypts, and decrypts.
    Primary,
    /// Decrypts only.
    Active,
    /// Refused.
    Retired,
}

impl KeyStatus {
    pub(crate) const fn code(self) -> u8 {
        match self {
            Self::Primary => 1,
            Self::Active => 2,
            Self::Retired => 3,
        }
    }
}

/// The two independent key lists of a keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyPurpose {
    /// Root keys of envelope encryption (per-field AEAD keys are derived from them).
    Encryption,
    /// Root keys of blind indexes (per-field HMAC keys are derived from them). Separate from
    /// the encryption keys, so rotating those leaves every index unchanged.
    Index,
}

impl KeyPurpose {
    pub(crate) const fn code(self) -> u8 {
        match self {
            Self::Encryption => 1,
            Self::Index => 2,
        }
    }
}

/// A public description of one key (never its material).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// The key's id.
    pub id: KeyId,
    /// Its status.
    pub status: KeyStatus,
    /// Its AEAD, for an encryption key; `None` for an index key (HMAC-SHA256).
    pub algorithm: Option<Algorithm>,
    /// Messages encrypted (or indexes computed) with it by this keyring instance since it
    /// was loaded.
    pub uses: u64,
}

/// A root key: 32 random bytes in a zeroize-on-drop box.
pub(crate) struct Entry {
    pub(crate) id: KeyId,
    pub(crate) status: KeyStatus,
    pub(crate) algorithm: Option<Algorithm>,
    pub(crate) material: SecretBox<[u8; KEY_LEN]>,
    pub(crate) uses: AtomicU64,
}

impl Entry {
    pub(crate) fn new(
        id: KeyId,
        status: KeyStatus,
        algorithm: Option<Algorithm>,
        material: SecretBox<[u8; KEY_LEN]>,
    ) -> Self {
        Self {
            id,
            status,
            algorithm,
            material,
            uses: AtomicU64::new(0),
        }
    }

    pub(crate) fn info(&self) -> KeyInfo {
        KeyInfo {
            id: self.id,
            status: self.status,
            algorithm: self.algorithm,
            uses: self.uses.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn key(&self) -> &[u8; KEY_LEN] {
        self.material.expose_secret()
    }
}

/// 32 bytes from the operating system's CSPRNG, boxed and zeroized on drop.
pub(crate) fn random_key() -> Result<SecretBox<[u8; KEY_LEN]>, PiiError> {
    let mut result = Ok(());
    let key = SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
        result = getrandom::fill(k).map_err(|_| PiiError::Random);
    });
    result.map(|()| key)
}

/// The keys of one purpose, sorted by id, with exactly one primary.
pub(crate) struct KeyList {
    pub(crate) entries: Vec<Entry>,
}

impl KeyList {
    /// A list of one primary key.
    pub(crate) fn generate(algorithm: Option<Algorithm>) -> Result<Self, PiiError> {
        Ok(Self {
            entries: vec![Entry::new(
                KeyId::FIRST,
                KeyStatus::Primary,
                algorithm,
                random_key()?,
            )],
        })
    }

    /// Checks the invariants of a list read from a keyset and sorts it.
    pub(crate) fn from_entries(
        purpose: KeyPurpose,
        mut entries: Vec<Entry>,
    ) -> Result<Self, PiiError> {
        entries.sort_by_key(|e| e.id);
        if entries
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.id == b.id))
        {
            return Err(PiiError::keyset("duplicate key id"));
        }
        let primaries = entries
            .iter()
            .filter(|e| e.status == KeyStatus::Primary)
            .count();
        if primaries != 1 {
            return Err(PiiError::keyset(match purpose {
                KeyPurpose::Encryption => "exactly one primary encryption key is required",
                KeyPurpose::Index => "exactly one primary index key is required",
            }));
        }
        Ok(Self { entries })
    }

    pub(crate) fn primary(&self) -> Option<&Entry> {
        self.entries.iter().find(|e| e.status == KeyStatus::Primary)
    }

    pub(crate) fn get(&self, id: KeyId) -> Option<&Entry> {
        self.entries
            .binary_search_by_key(&id, |e| e.id)
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    fn get_mut(&mut self, id: KeyId) -> Result<&mut Entry, PiiError> {
        let found = self.entries.binary_search_by_key(&id, |e| e.id).ok();
        found
            .and_then(|i| self.entries.get_mut(i))
            .ok_or(PiiError::UnknownKey { key_id: id.get() })
    }

    /// A key usable for decryption: present and not retired.
    pub(crate) fn usable(&self, id: KeyId) -> Result<&Entry, PiiError> {
        let entry = self
            .get(id)
            .ok_or(PiiError::UnknownKey { key_id: id.get() })?;
        if entry.status == KeyStatus::Retired {
            return Err(PiiError::RetiredKey { key_id: id.get() });
        }
        Ok(entry)
    }

    /// Adds a new random decrypt-only key and returns its id.
    pub(crate) fn add(&mut self, algorithm: Option<Algorithm>) -> Result<KeyId, PiiError> {
        let last = self.entries.last().map_or(0, |e| e.id.get());
        let id = last
            .checked_add(1)
            .and_then(KeyId::new)
            .ok_or(PiiError::Rotation {
                reason: "key ids exhausted",
            })?;
        self.entries
            .push(Entry::new(id, KeyStatus::Active, algorithm, random_key()?));
        Ok(id)
    }

    /// Makes `id` the primary; the previous primary becomes active (decrypt-only).
    pub(crate) fn promote(&mut self, id: KeyId) -> Result<(), PiiError> {
        if self.get_mut(id)?.status == KeyStatus::Retired {
            return Err(PiiError::Rotation {
                reason: "a retired key cannot be promoted; reactivate it first",
            });
        }
        for e in &mut self.entries {
            if e.status == KeyStatus::Primary {
                e.status = KeyStatus::Active;
            }
        }
        self.get_mut(id)?.status = KeyStatus::Primary;
        Ok(())
    }

    /// Retires `id` (not the primary).
    pub(crate) fn retire(&mut self, id: KeyId) -> Result<(), PiiError> {
        let e = self.get_mut(id)?;
        if e.status == KeyStatus::Primary {
            return Err(PiiError::Rotation {
                reason: "the primary key cannot be retired; promote another key first",
            });
        }
        e.status = KeyStatus::Retired;
        Ok(())
    }

    /// Makes a retired key decrypt-only again.
    pub(crate) fn reactivate(&mut self, id: KeyId) -> Result<(), PiiError> {
        let e = self.get_mut(id)?;
        if e.status == KeyStatus::Retired {
            e.status = KeyStatus::Active;
        }
        Ok(())
    }

    /// Destroys a retired key's material.
    pub(crate) fn remove(&mut self, id: KeyId) -> Result<(), PiiError> {
        if self.get_mut(id)?.status != KeyStatus::Retired {
            return Err(PiiError::Rotation {
                reason: "only a retired key can be removed",
            });
        }
        // New ids are the highest id + 1, so removing the highest would let its id be handed
        // out again and old envelopes would name the wrong key. Keep the newest entry.
        if self.entries.iter().all(|e| e.id <= id) {
            return Err(PiiError::Rotation {
                reason: "the key with the highest id cannot be removed (ids are never reused); add a newer key first",
            });
        }
        self.entries.retain(|e| e.id != id);
        Ok(())
    }
}
