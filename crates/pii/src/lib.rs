//! Field-level encryption of personal data: envelopes bound to their row, a keyring with
//! rotation, per-field keys, blind indexes for lookups, and masking.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod aead;
mod blind;
mod buf;
mod cache;
mod context;
mod derive;
mod encrypted;
mod envelope;
mod error;
mod key;
mod keyring;
mod keyset;
mod mask;
mod nonce;
mod normalize;
mod provider;

#[doc(hidden)]
pub use aead::primitive;
pub use aead::{Algorithm, KEY_LEN, NONCE_LEN, TAG_LEN};
pub use blind::{BlindIndex, DEFAULT_BITS, IndexValue, MAX_BITS};
pub use context::Context;
pub use encrypted::{Encrypted, Plaintext};
pub use envelope::{Envelope, HEADER_LEN, OVERHEAD, TEXT_PREFIX, VERSION};
pub use error::PiiError;
pub use key::{KeyId, KeyInfo, KeyPurpose, KeyStatus};
pub use keyring::{DEFAULT_ROTATION_THRESHOLD, GCM_RANDOM_NONCE_LIMIT, Keyring};
pub use keyset::{KEYSET_FORMAT, KEYSET_VERSION, MAX_KEYS};
pub use mask::{Mask, Masked, mask};
pub use normalize::Normalizer;
pub use provider::{DEFAULT_KEK_VAR, EnvKeyProvider, FileKeyProvider, Kek, KeyProvider};
// `secrecy`'s types and trait that plaintexts and keys come in: `ExposeSecret` reads a
// decrypted value (`keyring.decrypt_text(..)?.expose_secret()`).
pub use secrecy::{ExposeSecret, SecretBox, SecretString};
