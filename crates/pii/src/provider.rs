//! Key-encryption keys and where they come from.

use std::fmt;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretBox};
use zeroize::Zeroizing;

use crate::PiiError;
use crate::aead::KEY_LEN;

/// The environment variable [`EnvKeyProvider::default`] (and the CLI) reads.
pub const DEFAULT_KEK_VAR: &str = "PALISADE_KEK";

/// A key-encryption key (KEK): 32 bytes that protect a keyset's key material at rest.
///
/// The KEK itself is not used as an AEAD key: HKDF-SHA256 derives from it a wrapping key
/// (AES-256-GCM over each root key) and a MAC key (HMAC-SHA256 over the whole keyset).
/// Held in a zeroize-on-drop box; `Debug` prints `Kek([REDACTED])`.
///
/// # Text encodings
///
/// [`Kek::parse`] accepts 64 hexadecimal digits, or base64 of exactly 32 bytes (standard or
/// URL-safe alphabet, padding optional), surrounding whitespace ignored. Make one with
/// `openssl rand -base64 32` or [`Kek::generate`] and [`Kek::to_base64`].
pub struct Kek(SecretBox<[u8; KEY_LEN]>);

impl Kek {
    /// A random KEK from the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// [`PiiError::Random`].
    pub fn generate() -> Result<Self, PiiError> {
        crate::key::random_key().map(Self)
    }

    /// A KEK made of exactly these 32 bytes (copied).
    ///
    /// # Errors
    ///
    /// [`PiiError::InvalidKek`] for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PiiError> {
        let array: &[u8; KEY_LEN] = bytes.try_into().map_err(|_| PiiError::InvalidKek {
            reason: "a KEK is exactly 32 bytes",
        })?;
        Ok(Self(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            k.copy_from_slice(array);
        })))
    }

    /// Parses 64 hex digits or base64 of 32 bytes (see the type's docs).
    ///
    /// # Errors
    ///
    /// [`PiiError::InvalidKek`] when it is neither, or not 32 bytes.
    pub fn parse(text: &str) -> Result<Self, PiiError> {
        let text = text.trim();
        // 64 characters can only be hex: base64 of 32 bytes is 43 or 44 characters. Deciding
        // by length alone keeps a pass over the secret's digits out of the choice; const-hex
        // then decodes with table lookups (SIMD where the CPU has it), stopping only at an
        // invalid digit.
        let decoded = if text.len() == 2 * KEY_LEN {
            let mut out = Zeroizing::new(vec![0u8; KEY_LEN]);
            hex::decode_to_slice(text, &mut out).map_err(|_| PiiError::InvalidKek {
                reason: "64 characters but not 64 hex digits",
            })?;
            out
        } else {
            let unpadded = text.trim_end_matches('=');
            let decoded = STANDARD_NO_PAD
                .decode(unpadded)
                .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
                .map_err(|_| PiiError::InvalidKek {
                    reason: "expected 64 hex digits or base64 of 32 bytes",
                })?;
            Zeroizing::new(decoded)
        };
        Self::from_bytes(&decoded)
    }

    /// The KEK as unpadded base64url, for storing it in a secret manager or an environment
    /// variable. The string is a secret: zeroized on drop.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0.expose_secret()))
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        self.0.expose_secret()
    }
}

impl Clone for Kek {
    fn clone(&self) -> Self {
        let src = self.0.expose_secret();
        Self(SecretBox::init_with_mut(|k: &mut [u8; KEY_LEN]| {
            k.copy_from_slice(src);
        }))
    }
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek([REDACTED])")
    }
}

/// Where a keyset's key-encryption key comes from.
///
/// Implemented here by [`Kek`] itself (a key already in memory), [`EnvKeyProvider`] (an
/// environment variable) and [`FileKeyProvider`] (a file, such as a mounted Kubernetes or
/// Docker secret). A KMS or secrets manager plugs in the same way: fetch or decrypt the KEK
/// (for example `kms:Decrypt` of a stored, KMS-encrypted KEK) and return it. The call is
/// synchronous and made once per keyset load or save; run any network call before, or block.
pub trait KeyProvider {
    /// Returns the key-encryption key.
    ///
    /// # Errors
    ///
    /// [`PiiError::KeyProvider`] when it cannot be obtained, [`PiiError::InvalidKek`] when
    /// it is malformed.
    fn key_encryption_key(&self) -> Result<Kek, PiiError>;
}

impl KeyProvider for Kek {
    fn key_encryption_key(&self) -> Result<Kek, PiiError> {
        Ok(self.clone())
    }
}

impl<P: KeyProvider + ?Sized> KeyProvider for &P {
    fn key_encryption_key(&self) -> Result<Kek, PiiError> {
        (**self).key_encryption_key()
    }
}

/// Reads the KEK from an environment variable, in a [`Kek::parse`] encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvKeyProvider {
    var: String,
}

impl EnvKeyProvider {
    /// Reads the variable `var`.
    pub fn new(var: impl Into<String>) -> Self {
        Self { var: var.into() }
    }

    /// The variable's name.
    pub fn var(&self) -> &str {
        &self.var
    }
}

impl Default for EnvKeyProvider {
    /// Reads [`DEFAULT_KEK_VAR`] (`PALISADE_KEK`).
    fn default() -> Self {
        Self::new(DEFAULT_KEK_VAR)
    }
}

impl KeyProvider for EnvKeyProvider {
    fn key_encryption_key(&self) -> Result<Kek, PiiError> {
        let value =
            Zeroizing::new(std::env::var(&self.var).map_err(|_| PiiError::KeyProvider {
                reason: format!(
                    "environment variable `{}` is not set or not UTF-8",
                    self.var
                ),
            })?);
        Kek::parse(&value)
    }
}

/// Reads the KEK from a file: exactly 32 raw bytes, or text in a [`Kek::parse`] encoding
/// (a trailing newline is fine). Keep the file readable by the service's user only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileKeyProvider {
    path: PathBuf,
}

impl FileKeyProvider {
    /// Reads `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl KeyProvider for FileKeyProvider {
    fn key_encryption_key(&self) -> Result<Kek, PiiError> {
        let bytes =
            Zeroizing::new(
                std::fs::read(&self.path).map_err(|e| PiiError::KeyProvider {
                    reason: format!("cannot read {}: {}", self.path.display(), e.kind()),
                })?,
            );
        if bytes.len() == KEY_LEN {
            return Kek::from_bytes(&bytes);
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| PiiError::InvalidKek {
            reason: "a KEK file holds 32 raw bytes, 64 hex digits or base64",
        })?;
        Kek::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_and_both_base64_alphabets() {
        let k = Kek::generate().unwrap();
        let b64 = k.to_base64();
        let hex = hex::encode(k.bytes());
        let std = b64.replace('-', "+").replace('_', "/");
        for text in [
            b64.as_str(),
            &hex,
            &hex.to_uppercase(),
            &std,
            &format!("{std}=\n"),
        ] {
            assert_eq!(Kek::parse(text).unwrap().bytes(), k.bytes(), "{text}");
        }
        let not_hex = format!("{}zz", &hex[2..]);
        let prefixed = format!("0x{}", &hex[2..]);
        for bad in [
            "",
            "abcd",
            &hex[1..],
            &format!("{hex}00"),
            &not_hex,
            &prefixed,
        ] {
            assert!(Kek::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(format!("{k:?}"), "Kek([REDACTED])");
    }
}
