//! Verification keys derived from configured secrets.

use std::fmt;
use std::sync::OnceLock;

use hmac::{EagerHash, Hmac, KeyInit};
use secrecy::{ExposeSecret, SecretBox};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

/// A key a scheme verifies (and signs) with, derived from one configured secret.
///
/// For HMAC schemes it holds the key bytes in a zeroize-on-drop [`SecretBox`]; for the
/// Standard Webhooks `v1a` scheme (feature `ed25519`) an Ed25519 public or secret key.
/// `Debug` never shows the material.
pub struct Key(pub(crate) KeyRepr);

pub(crate) enum KeyRepr {
    Hmac(Box<HmacKey>),
    #[cfg(feature = "ed25519")]
    Ed25519Public(ed25519_dalek::VerifyingKey),
    #[cfg(feature = "ed25519")]
    Ed25519Secret(Box<ed25519_dalek::SigningKey>),
}

/// HMAC key bytes, and the keyed HMAC states computed from them on first use (one per hash
/// function), so that each verification clones a ready state instead of hashing the padded
/// key again (RFC 2104 §4's precomputation). Bytes and states are zeroized on drop.
pub(crate) struct HmacKey {
    bytes: SecretBox<[u8]>,
    sha1: OnceLock<Option<Hmac<Sha1>>>,
    sha256: OnceLock<Option<Hmac<Sha256>>>,
    sha512: OnceLock<Option<Hmac<Sha512>>>,
}

fn keyed<'k, D: EagerHash>(cell: &'k OnceLock<Option<Hmac<D>>>, bytes: &[u8]) -> Option<&'k Hmac<D>>
where
    Hmac<D>: KeyInit,
{
    cell.get_or_init(|| <Hmac<D> as KeyInit>::new_from_slice(bytes).ok())
        .as_ref()
}

impl HmacKey {
    pub(crate) fn sha1(&self) -> Option<&Hmac<Sha1>> {
        keyed(&self.sha1, self.bytes.expose_secret())
    }

    pub(crate) fn sha256(&self) -> Option<&Hmac<Sha256>> {
        keyed(&self.sha256, self.bytes.expose_secret())
    }

    pub(crate) fn sha512(&self) -> Option<&Hmac<Sha512>> {
        keyed(&self.sha512, self.bytes.expose_secret())
    }
}

impl Key {
    /// An HMAC key made of exactly these bytes (copied; the copy is zeroized on drop).
    pub fn hmac(bytes: &[u8]) -> Self {
        Self(KeyRepr::Hmac(Box::new(HmacKey {
            bytes: SecretBox::new(Box::from(bytes)),
            sha1: OnceLock::new(),
            sha256: OnceLock::new(),
            sha512: OnceLock::new(),
        })))
    }

    /// The HMAC key, or `None` for an Ed25519 key.
    pub(crate) fn as_hmac(&self) -> Option<&HmacKey> {
        match &self.0 {
            KeyRepr::Hmac(k) => Some(k),
            #[cfg(feature = "ed25519")]
            _ => None,
        }
    }

    /// The HMAC key bytes, or `None` for an Ed25519 key.
    pub(crate) fn hmac_bytes(&self) -> Option<&[u8]> {
        self.as_hmac().map(|k| k.bytes.expose_secret())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.0 {
            KeyRepr::Hmac(_) => "hmac",
            #[cfg(feature = "ed25519")]
            KeyRepr::Ed25519Public(_) => "ed25519-public",
            #[cfg(feature = "ed25519")]
            KeyRepr::Ed25519Secret(_) => "ed25519-secret",
        };
        write!(f, "Key({kind}, [REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let k = Key::hmac(b"super-secret");
        let shown = format!("{k:?}");
        assert!(!shown.contains("super"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }
}
