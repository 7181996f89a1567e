//! `Encrypted<T>`: a typed ciphertext that serializes as its text envelope.

use std::fmt;
use std::marker::PhantomData;

use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Context, Envelope, Keyring, PiiError};

/// A plaintext type that [`Encrypted`] can hold: implemented for [`SecretString`] (UTF-8
/// text) and [`SecretBox<[u8]>`](SecretBox) (bytes). Implement it for a type of your own
/// (a phone-number newtype, a serialized struct) to encrypt it as a field.
pub trait Plaintext: Sized {
    /// Calls `f` with the value's bytes.
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R;

    /// Rebuilds the value from decrypted bytes (held in a zeroize-on-drop box).
    ///
    /// # Errors
    ///
    /// When the bytes are not a valid value (for text: [`PiiError::NotUtf8`]).
    fn from_bytes(bytes: SecretBox<[u8]>) -> Result<Self, PiiError>;
}

impl Plaintext for SecretString {
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(self.expose_secret().as_bytes())
    }

    fn from_bytes(bytes: SecretBox<[u8]>) -> Result<Self, PiiError> {
        std::str::from_utf8(bytes.expose_secret())
            .map(SecretString::from)
            .map_err(|_| PiiError::NotUtf8)
    }
}

impl Plaintext for SecretBox<[u8]> {
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(self.expose_secret())
    }

    fn from_bytes(bytes: SecretBox<[u8]>) -> Result<Self, PiiError> {
        Ok(bytes)
    }
}

/// A `T` encrypted in an [`Envelope`]: put it in a struct where the plaintext would be, and
/// the field is stored, serialized and logged as ciphertext only.
///
/// With serde it is a string, the envelope's text form (`pii1.…`); deserialization parses it
/// strictly, so a malformed value fails at load time rather than at decryption. `Debug` shows
/// the algorithm, key id and length, never the ciphertext.
///
/// ```
/// use palisade_pii::{Context, Encrypted, Keyring};
/// use secrecy::{ExposeSecret, SecretString};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Lead {
///     id: String,
///     phone: Encrypted<SecretString>,
/// }
///
/// let keyring = Keyring::generate()?;
/// let ctx = Context::new("tenant-42", "leads", "phone", "lead-17");
/// let lead = Lead {
///     id: "lead-17".into(),
///     phone: Encrypted::encrypt(&keyring, &ctx, &SecretString::from("+14389007409"))?,
/// };
/// let json = serde_json::to_string(&lead).unwrap();
/// assert!(!json.contains("4389007409"));
///
/// let back: Lead = serde_json::from_str(&json).unwrap();
/// assert_eq!(back.phone.decrypt(&keyring, &ctx)?.expose_secret(), "+14389007409");
/// # Ok::<(), palisade_pii::PiiError>(())
/// ```
pub struct Encrypted<T> {
    envelope: Envelope,
    _plaintext: PhantomData<fn() -> T>,
}

impl<T: Plaintext> Encrypted<T> {
    /// Encrypts `value` for `ctx` under the keyring's primary key.
    ///
    /// # Errors
    ///
    /// As [`Keyring::encrypt`].
    pub fn encrypt(keyring: &Keyring, ctx: &Context<'_>, value: &T) -> Result<Self, PiiError> {
        value
            .with_bytes(|bytes| keyring.encrypt(ctx, bytes))
            .map(Self::from_envelope)
    }

    /// Decrypts the value for `ctx`.
    ///
    /// # Errors
    ///
    /// As [`Keyring::decrypt`], then [`Plaintext::from_bytes`]'s errors.
    pub fn decrypt(&self, keyring: &Keyring, ctx: &Context<'_>) -> Result<T, PiiError> {
        T::from_bytes(keyring.decrypt(ctx, &self.envelope)?)
    }

    /// The same value re-encrypted under the keyring's current primary key.
    ///
    /// # Errors
    ///
    /// As [`Keyring::reencrypt`].
    pub fn reencrypt(&self, keyring: &Keyring, ctx: &Context<'_>) -> Result<Self, PiiError> {
        keyring
            .reencrypt(ctx, &self.envelope)
            .map(Self::from_envelope)
    }

    /// Whether it is under a key other than the keyring's primary.
    pub fn needs_reencrypt(&self, keyring: &Keyring) -> bool {
        keyring.needs_reencrypt(&self.envelope)
    }
}

impl<T> Encrypted<T> {
    /// Wraps a parsed envelope.
    pub fn from_envelope(envelope: Envelope) -> Self {
        Self {
            envelope,
            _plaintext: PhantomData,
        }
    }

    /// Parses the text form.
    ///
    /// # Errors
    ///
    /// As [`Envelope::parse`].
    pub fn parse(text: &str) -> Result<Self, PiiError> {
        Envelope::parse(text).map(Self::from_envelope)
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The envelope, by value.
    pub fn into_envelope(self) -> Envelope {
        self.envelope
    }
}

impl<T> Clone for Encrypted<T> {
    fn clone(&self) -> Self {
        Self::from_envelope(self.envelope.clone())
    }
}

impl<T> PartialEq for Encrypted<T> {
    fn eq(&self, other: &Self) -> bool {
        self.envelope == other.envelope
    }
}

impl<T> Eq for Encrypted<T> {}

impl<T> fmt::Debug for Encrypted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Encrypted").field(&self.envelope).finish()
    }
}

impl<T> fmt::Display for Encrypted<T> {
    /// The envelope's text form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.envelope, f)
    }
}

impl<T> Serialize for Encrypted<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.envelope.to_text())
    }
}

impl<'de, T> Deserialize<'de> for Encrypted<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<T>(PhantomData<fn() -> T>);
        impl<T> serde::de::Visitor<'_> for Visitor<T> {
            type Value = Encrypted<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a `pii1.` envelope string")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Encrypted::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor(PhantomData))
    }
}
