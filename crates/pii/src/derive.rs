//! Per-field keys derived from root keys with HKDF-SHA256 (RFC 5869).
//!
//! Every derivation is `HKDF-SHA256(salt = none, IKM = root key, info, L = 32)` with an info
//! string made of length-prefixed parts (`lp(x)` = big-endian `u64` length, then `x`):
//!
//! | key | info |
//! |---|---|
//! | envelope (AEAD) key of a field | `lp("palisade-pii/v1/field-key") \|\| algorithm id (1 byte) \|\| lp(table) \|\| lp(column)` |
//! | blind-index (HMAC) key of a field | `lp("palisade-pii/v1/blind-index") \|\| lp(table) \|\| lp(column)` |
//! | keyset wrapping key (from the KEK) | `lp("palisade-pii/v1/keyset-wrap")` |
//! | keyset MAC key (from the KEK) | `lp("palisade-pii/v1/keyset-mac")` |

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::aead::KEY_LEN;
use crate::buf::put_lp;
use crate::{Algorithm, PiiError};

pub(crate) const FIELD_KEY_LABEL: &[u8] = b"palisade-pii/v1/field-key";
pub(crate) const BLIND_INDEX_LABEL: &[u8] = b"palisade-pii/v1/blind-index";
pub(crate) const KEYSET_WRAP_LABEL: &[u8] = b"palisade-pii/v1/keyset-wrap";
pub(crate) const KEYSET_MAC_LABEL: &[u8] = b"palisade-pii/v1/keyset-mac";

/// HKDF-SHA256 of `root` with the info `lp(label) || middle || lp(parts[0]) || …`.
pub(crate) fn derive(
    root: &[u8; KEY_LEN],
    label: &[u8],
    middle: &[u8],
    parts: &[&str],
) -> Result<Zeroizing<[u8; KEY_LEN]>, PiiError> {
    let mut info = Vec::with_capacity(64);
    put_lp(&mut info, label);
    info.extend_from_slice(middle);
    for part in parts {
        put_lp(&mut info, part.as_bytes());
    }
    let mut okm = Zeroizing::new([0u8; KEY_LEN]);
    Hkdf::<Sha256>::new(None, root)
        .expand(&info, okm.as_mut())
        .map_err(|_| PiiError::KeyDerivation)?;
    Ok(okm)
}

/// The AEAD key of `table`.`column` under an encryption root key.
pub(crate) fn field_key(
    root: &[u8; KEY_LEN],
    algorithm: Algorithm,
    table: &str,
    column: &str,
) -> Result<Zeroizing<[u8; KEY_LEN]>, PiiError> {
    derive(root, FIELD_KEY_LABEL, &[algorithm.id()], &[table, column])
}

/// The HMAC key of the blind index `table`.`column` under an index root key.
pub(crate) fn index_key(
    root: &[u8; KEY_LEN],
    table: &str,
    column: &str,
) -> Result<Zeroizing<[u8; KEY_LEN]>, PiiError> {
    derive(root, BLIND_INDEX_LABEL, &[], &[table, column])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_get_distinct_keys() {
        let root = [7u8; KEY_LEN];
        let a = field_key(&root, Algorithm::Aes256Gcm, "leads", "phone").unwrap();
        let b = field_key(&root, Algorithm::Aes256Gcm, "leads", "email").unwrap();
        let c = field_key(&root, Algorithm::Aes256GcmSiv, "leads", "phone").unwrap();
        let d = field_key(&root, Algorithm::Aes256Gcm, "leadsp", "hone").unwrap();
        let i = index_key(&root, "leads", "phone").unwrap();
        let all = [*a, *b, *c, *d, *i];
        for (n, x) in all.iter().enumerate() {
            for y in all.iter().skip(n + 1) {
                assert_ne!(x, y);
            }
        }
    }
}
