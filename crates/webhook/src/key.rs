//! Verification keys derived from configured secrets.

use std::fmt;

use secrecy::{ExposeSecret, SecretBox};

/// A key a scheme verifies (and signs) with, derived from one configured secret.
///
/// For HMAC schemes it holds the key bytes in a zeroize-on-drop [`SecretBox`]; for the
/// Standard Webhooks `v1a` scheme (feature `ed25519`) an Ed25519 public or secret key.
/// `Debug` never shows the material.
pub struct Key(pub(crate) KeyRepr);

pub(crate) enum KeyRepr {
    Hmac(SecretBox<[u8]>),
    #[cfg(feature = "ed25519")]
    Ed25519Public(ed25519_dalek::VerifyingKey),
    #[cfg(feature = "ed25519")]
    Ed25519Secret(Box<ed25519_dalek::SigningKey>),
}

impl Key {
    /// An HMAC key made of exactly these bytes (copied; the copy is zeroized on drop).
    pub fn hmac(bytes: &[u8]) -> Self {
        Self(KeyRepr::Hmac(SecretBox::new(Box::from(bytes))))
    }

    /// The HMAC key bytes, or `None` for an Ed25519 key.
    pub(crate) fn hmac_bytes(&self) -> Option<&[u8]> {
        match &self.0 {
            KeyRepr::Hmac(b) => Some(b.expose_secret()),
            #[cfg(feature = "ed25519")]
            _ => None,
        }
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
