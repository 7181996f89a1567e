//! Blind indexes: keyed, truncated HMACs of normalized values, for equality lookups on
//! encrypted columns.

use std::fmt;
use std::sync::atomic::Ordering;

use hmac::{Hmac, KeyInit, Mac};
use palisade_sanitize::phone::PhoneNumber;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::buf::put_lp;
use crate::key::{Entry, KeyStatus};
use crate::normalize::phone_e164;
use crate::{KeyId, Keyring, Normalizer, PiiError, derive};

/// Default length of a blind index, in bits.
pub const DEFAULT_BITS: u16 = 32;
/// Longest blind index, in bits (the whole HMAC-SHA256 output).
pub const MAX_BITS: u16 = 256;

/// The definition of one blind index: where it lives (`table`, `column` or index name), how
/// each part of the value is normalized, and how many bits are kept.
///
/// # Construction
///
/// ```text
/// key   = HKDF-SHA256(index root key, info = lp("palisade-pii/v1/blind-index") || lp(table) || lp(column))
/// index = first `bits` bits of HMAC-SHA256(key, lp(tenant) || lp(normalized part 1) || … )
/// ```
///
/// (`lp(x)`: big-endian `u64` length, then `x`.) The index keys are separate from the
/// encryption keys, so rotating those leaves every index unchanged. The tenant is part of the
/// input: the same phone number in two tenants gets unrelated indexes, so the column does not
/// reveal that two tenants share a customer. Pass `""` for a global index.
///
/// # Choosing the length, and what an index leaks
///
/// An index is deterministic: anyone who can read the column sees which rows have equal
/// values (frequencies, duplicates, and when a value changes), but not the values. Keeping
/// `b` bits makes unrelated values collide: a lookup among `N` rows returns about
/// `N / 2^b` false positives (rows whose index matches by chance), which the application
/// filters by decrypting the candidates. Fewer bits leak less equality (every index value
/// covers more possible values) and cost more false positives:
///
/// | rows `N` | 16 bits | 24 bits | 32 bits (default) | 64 bits |
/// |---|---|---|---|---|
/// | 10 000 | 0.15 | 0.0006 | 2·10⁻⁶ | ≈ 0 |
/// | 1 000 000 | 15 | 0.06 | 0.0002 | ≈ 0 |
/// | 100 000 000 | 1 526 | 6 | 0.02 | ≈ 0 |
///
/// ([`BlindIndex::expected_false_positives`] computes it.) Low-entropy values stay
/// guessable by whoever holds the index key: there are about 10¹⁰ North American phone
/// numbers, so the holder of a field's index key can tabulate them all; without the key,
/// the index reveals nothing but equality. See `docs/threat-model/pii.md`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlindIndex {
    table: String,
    column: String,
    parts: Vec<Normalizer>,
    bits: u16,
}

impl BlindIndex {
    /// A blind index of `table`.`column`, normalizing values with `normalizer`, of
    /// [`DEFAULT_BITS`] bits.
    pub fn new(
        table: impl Into<String>,
        column: impl Into<String>,
        normalizer: Normalizer,
    ) -> Self {
        Self {
            table: table.into(),
            column: column.into(),
            parts: vec![normalizer],
            bits: DEFAULT_BITS,
        }
    }

    /// A compound index named `name` in `table` over several values, each with its own
    /// normalizer, in order: for example `[Normalizer::Text, Normalizer::LastDigits(4)]` for
    /// "country + last four digits of the phone number". Its key is derived with `name` as
    /// the column, so it must not be the name of a single-column index of the same table.
    ///
    /// # Errors
    ///
    /// [`PiiError::InvalidBlindIndex`] for an empty list.
    pub fn compound(
        table: impl Into<String>,
        name: impl Into<String>,
        parts: impl IntoIterator<Item = Normalizer>,
    ) -> Result<Self, PiiError> {
        let parts: Vec<Normalizer> = parts.into_iter().collect();
        if parts.is_empty() {
            return Err(PiiError::InvalidBlindIndex {
                reason: "a compound index has at least one part",
            });
        }
        Ok(Self {
            table: table.into(),
            column: name.into(),
            parts,
            bits: DEFAULT_BITS,
        })
    }

    /// Keeps `bits` bits of the HMAC (1 to 256).
    ///
    /// # Errors
    ///
    /// [`PiiError::InvalidBlindIndex`] outside 1–256.
    pub fn with_bits(mut self, bits: u16) -> Result<Self, PiiError> {
        if !(1..=MAX_BITS).contains(&bits) {
            return Err(PiiError::InvalidBlindIndex {
                reason: "bits must be between 1 and 256",
            });
        }
        self.bits = bits;
        Ok(self)
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The column (or compound index name).
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The normalizer of each part.
    pub fn parts(&self) -> &[Normalizer] {
        &self.parts
    }

    /// Bits kept.
    pub fn bits(&self) -> u16 {
        self.bits
    }

    /// Expected number of false positives of one lookup among `rows` rows: `rows / 2^bits`.
    pub fn expected_false_positives(&self, rows: u64) -> f64 {
        // Precision loss is irrelevant for an estimate.
        let rows = rows as f64;
        rows / 2f64.powi(i32::from(self.bits))
    }
}

/// A blind index value: the first `bits` bits of an HMAC-SHA256, in `⌈bits/8⌉` bytes with
/// the unused low bits of the last byte zero.
///
/// Store it as bytes (`BYTEA`/`BINARY`), as lowercase hex ([`IndexValue::to_hex`], also its
/// `Display`), or, up to 64 bits, as an integer ([`IndexValue::as_u64`], e.g. `BIGINT`
/// after a cast to `i64`). Equality is constant-time.
#[derive(Clone, Copy)]
pub struct IndexValue {
    bytes: [u8; 32],
    bits: u16,
}

impl IndexValue {
    fn new(mac: &[u8], bits: u16) -> Self {
        let mut bytes = [0u8; 32];
        let len = usize::from(bits).div_ceil(8);
        for (dst, src) in bytes.iter_mut().zip(mac).take(len) {
            *dst = *src;
        }
        let spare = (8 - bits % 8) % 8;
        if let Some(last) = len.checked_sub(1).and_then(|i| bytes.get_mut(i)) {
            *last &= 0xff_u8 << spare;
        }
        Self { bytes, bits }
    }

    /// The value's bytes: `⌈bits/8⌉` of them.
    pub fn as_bytes(&self) -> &[u8] {
        let len = usize::from(self.bits).div_ceil(8);
        self.bytes.get(..len).unwrap_or(&self.bytes)
    }

    /// Its length in bits.
    pub fn bits(&self) -> u16 {
        self.bits
    }

    /// Lowercase hex of [`IndexValue::as_bytes`].
    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }

    /// For indexes of at most 64 bits: the bits as an unsigned integer (the HMAC's first
    /// `bits` bits, big-endian, right-aligned). `None` for longer indexes.
    pub fn as_u64(&self) -> Option<u64> {
        if self.bits > 64 {
            return None;
        }
        let first: [u8; 8] = *self.bytes.first_chunk::<8>()?;
        Some(u64::from_be_bytes(first) >> (64 - self.bits))
    }
}

impl PartialEq for IndexValue {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits && bool::from(self.bytes.ct_eq(&other.bytes))
    }
}

impl Eq for IndexValue {}

impl std::hash::Hash for IndexValue {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
        self.bits.hash(state);
    }
}

impl fmt::Display for IndexValue {
    /// Lowercase hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 2 * MAX_BITS as usize / 8];
        let out = buf.get_mut(..2 * self.as_bytes().len()).ok_or(fmt::Error)?;
        hex::encode_to_slice(self.as_bytes(), out).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for IndexValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IndexValue({}, {} bits)", self, self.bits)
    }
}

impl Keyring {
    /// The blind index of `value` in `tenant` under the primary index key.
    ///
    /// ```
    /// use palisade_pii::{BlindIndex, Keyring, Normalizer};
    /// let keyring = Keyring::generate()?;
    /// let phone = BlindIndex::new("leads", "phone", Normalizer::Phone);
    /// let a = keyring.blind_index(&phone, "tenant-42", "+1 (438) 900-7409")?;
    /// let b = keyring.blind_index(&phone, "tenant-42", "+14389007409")?;
    /// assert_eq!(a, b); // store `a.to_hex()` next to the ciphertext; look up with `b`
    /// assert_ne!(a, keyring.blind_index(&phone, "tenant-7", "+14389007409")?);
    /// # Ok::<(), palisade_pii::PiiError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`PiiError::Normalization`]; [`PiiError::InvalidBlindIndex`] for a compound index
    /// (use [`Keyring::compound_index`]).
    pub fn blind_index(
        &self,
        index: &BlindIndex,
        tenant: &str,
        value: &str,
    ) -> Result<IndexValue, PiiError> {
        self.compound_index(index, tenant, &[value])
    }

    /// The blind index of several values (one per part of a [`BlindIndex::compound`]) under
    /// the primary index key.
    ///
    /// # Errors
    ///
    /// [`PiiError::InvalidBlindIndex`] when the number of values is not the number of parts;
    /// [`PiiError::Normalization`].
    pub fn compound_index(
        &self,
        index: &BlindIndex,
        tenant: &str,
        values: &[&str],
    ) -> Result<IndexValue, PiiError> {
        let key = self.primary_index_key()?;
        self.index_with(key, index, tenant, values)
    }

    /// The blind index under a given index key (primary or active), for re-indexing after a
    /// new index key was added.
    ///
    /// # Errors
    ///
    /// [`PiiError::UnknownKey`], [`PiiError::RetiredKey`], then as
    /// [`Keyring::compound_index`].
    pub fn blind_index_with(
        &self,
        key_id: KeyId,
        index: &BlindIndex,
        tenant: &str,
        values: &[&str],
    ) -> Result<IndexValue, PiiError> {
        let key = self.index.usable(key_id)?;
        self.index_with(key, index, tenant, values)
    }

    /// The blind index under every usable index key, primary first: during an index-key
    /// rotation, look rows up with `WHERE idx IN (…)` over these until every row is
    /// re-indexed.
    ///
    /// # Errors
    ///
    /// As [`Keyring::compound_index`].
    pub fn blind_index_candidates(
        &self,
        index: &BlindIndex,
        tenant: &str,
        values: &[&str],
    ) -> Result<Vec<IndexValue>, PiiError> {
        let mut keys: Vec<&Entry> = self
            .index
            .entries
            .iter()
            .filter(|e| e.status != KeyStatus::Retired)
            .collect();
        keys.sort_by_key(|e| e.status != KeyStatus::Primary);
        keys.into_iter()
            .map(|k| self.index_with(k, index, tenant, values))
            .collect()
    }

    /// The blind index of a phone number already parsed and validated by
    /// [`PhoneNumber::parse`], under the primary index key: the same value as
    /// [`Keyring::blind_index`] gives for the text it was parsed from, without parsing it a
    /// second time (libphonenumber's parse is most of a phone's blind-index cost). For a
    /// service that validates the number anyway, before storing or looking it up.
    ///
    /// ```
    /// use palisade_pii::{BlindIndex, Keyring, Normalizer};
    /// use palisade_sanitize::phone::{PhoneNumber, Region};
    /// let keyring = Keyring::generate()?;
    /// let index = BlindIndex::new("leads", "phone", Normalizer::Phone);
    /// let typed = "(438) 900-7409";
    /// let number = PhoneNumber::parse(typed, Some(Region::new("CA")?))?;
    /// assert_eq!(
    ///     keyring.blind_index_phone(&index, "tenant-42", &number)?,
    ///     keyring.blind_index(&index, "tenant-42", "+1 438 900 7409")?,
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`PiiError::InvalidBlindIndex`] when `index` is not one part normalized by
    /// [`Normalizer::Phone`] or [`Normalizer::PhoneIn`]; [`PiiError::Normalization`] when the
    /// number has an extension (as the normalizer refuses one); [`PiiError::InvalidKeyset`] when
    /// the keyring has no primary index key.
    pub fn blind_index_phone(
        &self,
        index: &BlindIndex,
        tenant: &str,
        phone: &PhoneNumber,
    ) -> Result<IndexValue, PiiError> {
        if !matches!(
            index.parts.as_slice(),
            [Normalizer::Phone | Normalizer::PhoneIn(_)]
        ) {
            return Err(PiiError::InvalidBlindIndex {
                reason: "an index of one phone part is required for a parsed phone number",
            });
        }
        let e164 = phone_e164(phone)?;
        let key = self.primary_index_key()?;
        self.index_canonical(key, index, tenant, |input| {
            put_lp(input, e164.as_bytes());
            Ok(())
        })
    }

    /// The key new blind indexes are computed under.
    fn primary_index_key(&self) -> Result<&Entry, PiiError> {
        self.index
            .primary()
            .ok_or_else(|| PiiError::keyset("no primary index key"))
    }

    fn index_with(
        &self,
        key: &Entry,
        index: &BlindIndex,
        tenant: &str,
        values: &[&str],
    ) -> Result<IndexValue, PiiError> {
        if values.len() != index.parts.len() {
            return Err(PiiError::InvalidBlindIndex {
                reason: "one value per part of the index is required",
            });
        }
        self.index_canonical(key, index, tenant, |input| {
            for (normalizer, value) in index.parts.iter().zip(values) {
                put_lp(input, normalizer.normalize(value)?.as_bytes());
            }
            Ok(())
        })
    }

    /// The index of the canonical forms that `put` writes (each length-prefixed), after the
    /// tenant's, under `key`.
    fn index_canonical(
        &self,
        key: &Entry,
        index: &BlindIndex,
        tenant: &str,
        put: impl FnOnce(&mut Vec<u8>) -> Result<(), PiiError>,
    ) -> Result<IndexValue, PiiError> {
        let mut input = Zeroizing::new(Vec::with_capacity(64));
        put_lp(&mut *input, tenant.as_bytes());
        put(&mut input)?;
        key.uses.fetch_add(1, Ordering::Relaxed);
        let mac = self.macs.with(
            key.id,
            0,
            &index.table,
            &index.column,
            || {
                let k = derive::index_key(key.key(), &index.table, &index.column)?;
                <Hmac<Sha256> as KeyInit>::new_from_slice(k.as_ref())
                    .map_err(|_| PiiError::KeyDerivation)
            },
            |mac| {
                let mut mac = mac.clone();
                mac.update(&input);
                mac.finalize().into_bytes()
            },
        )?;
        Ok(IndexValue::new(&mac, index.bits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_masks_spare_bits() {
        let v = IndexValue::new(&[0xff; 32], 12);
        assert_eq!(v.as_bytes(), &[0xff, 0xf0]);
        assert_eq!(v.as_u64(), Some(0xfff));
        assert_eq!(v.to_hex(), "fff0");
        let w = IndexValue::new(&[0xab; 32], 256);
        assert_eq!(w.as_bytes().len(), 32);
        assert_eq!(w.as_u64(), None);
        assert_eq!(IndexValue::new(&[0x80; 32], 1).as_u64(), Some(1));
    }
}
