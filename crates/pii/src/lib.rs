//! Field-level encryption of personal data: envelopes bound to their row, a keyring with
//! rotation, per-field keys, blind indexes for lookups, and masking.
//!
//! ```
//! use palisade_pii::{BlindIndex, Context, Kek, Keyring, Masked, Normalizer, PiiError};
//! use secrecy::ExposeSecret;
//!
//! // Once: a keyring, saved as JSON with its keys wrapped under a key-encryption key (from
//! // `PALISADE_KEK`, a file, or a KMS through the `KeyProvider` trait).
//! let kek = Kek::generate()?;
//! let keyring = Keyring::from_json(&Keyring::generate()?.to_json(&kek)?, &kek)?;
//!
//! // Encrypt a lead's phone number for its row: one line of text for a VARCHAR column.
//! let ctx = Context::new("tenant-42", "leads", "phone", "lead-17");
//! let stored = keyring.encrypt_to_text(&ctx, b"+14389007409")?;
//! assert!(stored.starts_with("pii1.") && stored.len() == 67); // 5 + ⌈4·(12 + 34)/3⌉
//! assert_eq!(keyring.decrypt_text(&ctx, &stored)?.expose_secret(), b"+14389007409");
//!
//! // The same ciphertext pasted into another row, tenant or column is refused.
//! let other_row = Context::new("tenant-42", "leads", "phone", "lead-18");
//! assert_eq!(keyring.decrypt_text(&other_row, &stored).err(), Some(PiiError::Decryption));
//!
//! // Find "the lead whose phone is +1 438 900 7409" without decrypting the table: store a
//! // blind index next to the ciphertext, and query by it.
//! let phone_idx = BlindIndex::new("leads", "phone", Normalizer::Phone);
//! let stored_idx = keyring.blind_index(&phone_idx, "tenant-42", "+14389007409")?;
//! let query_idx = keyring.blind_index(&phone_idx, "tenant-42", "+1 (438) 900-7409")?;
//! assert_eq!(stored_idx.to_hex(), query_idx.to_hex()); // WHERE phone_idx = $1
//!
//! // Logs and screens get a mask.
//! assert_eq!(Masked::phone("+14389007409").to_string(), "+1******7409");
//! # Ok::<(), PiiError>(())
//! ```
//!
//! # Pieces
//!
//! - [`Keyring`]: root keys with [`KeyId`]s, one [`KeyStatus::Primary`] that encrypts,
//!   [`KeyStatus::Active`] ones that only decrypt, [`KeyStatus::Retired`] ones refused; a
//!   second, independent list of blind-index keys ([`KeyPurpose`]). Serialized as a JSON
//!   keyset whose key material is wrapped under a key-encryption key ([`Kek`]) from a
//!   [`KeyProvider`] ([`EnvKeyProvider`], [`FileKeyProvider`], or yours), with a MAC over
//!   the whole document.
//! - [`Envelope`]: AES-256-GCM (NIST SP 800-38D) or AES-256-GCM-SIV (RFC 8452)
//!   ([`Algorithm`]) with a random 96-bit nonce, a versioned header carrying the key id, as
//!   bytes or as `pii1.<base64url>` text, bound by its associated data to a [`Context`]
//!   (tenant, table, column, row). The byte layout and the associated data are on
//!   [`Envelope`].
//! - **Per-field keys**: each (table, column) gets its own AEAD key, derived with
//!   HKDF-SHA256 (RFC 5869) from the root key, so one field's key never decrypts another
//!   field.
//! - [`BlindIndex`]: keyed HMAC-SHA256 of the [`Normalizer`]-canonicalized value (phone
//!   numbers as E.164, emails, free text, digits, last digits), truncated to a chosen number
//!   of bits, compound indexes over several values. Leakage and false-positive rates are on
//!   [`BlindIndex`].
//! - [`Masked`] and [`mask`]: phone `+1******7409`, email `j***@example.com`, cards,
//!   addresses, names, API keys.
//! - [`Encrypted<T>`](Encrypted): a serde field type that stays ciphertext, over
//!   [`SecretString`] and [`SecretBox<[u8]>`](secrecy::SecretBox) plaintexts ([`Plaintext`]).
//!
//! # Formats
//!
//! Every byte this crate stores (envelopes in both forms, associated data, HKDF info
//! strings, blind indexes, keysets) is specified in `docs/formats.md` of the repository,
//! with worked examples that `tests/known_answers.rs` checks byte for byte.
//!
//! # Key derivation
//!
//! All derivations are HKDF-SHA256 with no salt, the root key (or KEK) as input keying
//! material, 32 bytes of output, and an info string of length-prefixed parts (`lp(x)` is the
//! length of `x` as a big-endian `u64`, then `x`):
//!
//! | key | info |
//! |---|---|
//! | AEAD key of a field | `lp("palisade-pii/v1/field-key") ‖ algorithm id (1 byte) ‖ lp(table) ‖ lp(column)` |
//! | HMAC key of a blind index | `lp("palisade-pii/v1/blind-index") ‖ lp(table) ‖ lp(column or index name)` |
//! | keyset wrapping key (from the KEK) | `lp("palisade-pii/v1/keyset-wrap")` |
//! | keyset MAC key (from the KEK) | `lp("palisade-pii/v1/keyset-mac")` |
//!
//! # Rotating encryption keys
//!
//! Keys are rotated without downtime in four steps; only the last one makes old ciphertext
//! unreadable, and it can be undone until the key is removed.
//!
//! 1. **Add** a key ([`Keyring::add_key`]): it decrypts but does not encrypt yet. Save the
//!    keyset and deploy it to every instance, so that all can read what the new key will
//!    write.
//! 2. **Promote** it ([`Keyring::promote`]): new writes use it; the old primary becomes
//!    decrypt-only. Deploy again. ([`Keyring::rotate`] does steps 1 and 2 at once, for a
//!    single process or the CLI.)
//! 3. **Re-encrypt**: walk the table; for each value where [`Keyring::needs_reencrypt`] is
//!    true, write back [`Keyring::reencrypt`]'s result (same row, same context). Use
//!    optimistic concurrency (`UPDATE … WHERE id = $1 AND phone = $old`) so a concurrent
//!    update is not overwritten. Blind indexes do not change: index keys are separate.
//! 4. **Retire** the old key ([`Keyring::retire`]) once no value needs re-encryption: it is
//!    refused from then on ([`PiiError::RetiredKey`] tells you if a row was missed;
//!    [`Keyring::reactivate`] undoes it). Later, [`Keyring::remove`] destroys it for good
//!    (crypto-shredding of anything still under it, including backups).
//!
//! Rotate when [`Keyring::needs_rotation`] says so (NIST SP 800-38D's 2^32-message limit per
//! key with random nonces; see [`Keyring`] for counting across instances), on a schedule, and
//! whenever a key may have been exposed.
//!
//! # Rotating index keys
//!
//! An index cannot be re-keyed without the plaintext, so rotating an index key is a
//! re-indexing job: [`Keyring::add_index_key`]; look rows up with
//! [`Keyring::blind_index_candidates`] (every usable index key) while a job decrypts each row
//! and writes its index under the new key ([`Keyring::blind_index_with`]); then
//! [`Keyring::promote`] the new index key and retire the old one.
//!
//! # Secrets
//!
//! Root keys, KEKs and plaintexts live in [`secrecy`] boxes that are zeroized on drop;
//! `Debug` of a [`Keyring`], [`Kek`], [`Envelope`] or [`Encrypted`] never shows key
//! material, plaintext or ciphertext; errors ([`PiiError`]) never contain any. The MACs of
//! keysets and blind-index comparisons are checked in constant time.
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
pub use secrecy::{SecretBox, SecretString};
