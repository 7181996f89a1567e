//! The keyring: root keys with ids and statuses, encryption and decryption of envelopes,
//! rotation, and per-key usage counting.

use std::fmt;
use std::sync::atomic::Ordering;

use hmac::Hmac;
use secrecy::{ExposeSecretMut as _, SecretBox};
use sha2::Sha256;

use crate::aead::Cipher;
use crate::buf::{Sink, SmallBuf};
use crate::cache::FieldCache;
use crate::envelope::{self, associated_data, decode_text, encode_text, parse_parts};
use crate::key::{Entry, KeyList};
use crate::nonce::NonceSource;
use crate::{
    Algorithm, Context, Envelope, KeyId, KeyInfo, KeyPurpose, OVERHEAD, PiiError, TEXT_PREFIX,
    derive,
};

/// Envelopes up to this many bytes are built and parsed on the stack.
const STACK_ENVELOPE: usize = 256;

/// NIST SP 800-38D §8.3: with random 96-bit nonces, "the total number of invocations of the
/// authenticated encryption function shall not exceed 2^32" for a given key. A keyring
/// refuses to encrypt past it ([`PiiError::KeyUsageLimit`]). The same cap is applied to
/// AES-256-GCM-SIV keys, where it is conservative.
pub const GCM_RANDOM_NONCE_LIMIT: u64 = 1 << 32;

/// Default of [`Keyring::with_rotation_threshold`]: [`Keyring::needs_rotation`] turns true
/// after 2^31 encryptions under the primary key, half of [`GCM_RANDOM_NONCE_LIMIT`].
pub const DEFAULT_ROTATION_THRESHOLD: u64 = 1 << 31;

/// Root keys with ids: one primary that encrypts, others that only decrypt, retired ones
/// refused; and a separate list of blind-index keys.
///
/// A keyring is `Send + Sync`: share one behind an `Arc` for the whole process. Rotation
/// steps take `&mut self`; a service that reloads its keyset builds a new `Keyring` and swaps
/// the `Arc`.
///
/// # Keys
///
/// Root keys are 32 random bytes from the operating system ([`getrandom`]), held in
/// zeroize-on-drop [`SecretBox`]es and never shown by `Debug`. Each field gets its own keys,
/// derived with HKDF-SHA256 (see the crate docs for the info strings): an AEAD key per
/// (encryption key, algorithm, table, column) and an HMAC key per (index key, table, column).
/// Derived state is cached per keyring (at most 4096 fields), so derivation runs once per
/// field, not per message.
///
/// # Message limits (NIST SP 800-38D)
///
/// Random 96-bit nonces collide with probability about `q²/2^97` after `q` messages under one
/// key; SP 800-38D caps `q` at 2^32. Every encryption counts against the primary key of this
/// instance (a conservative count: the per-field keys each see fewer messages). Past
/// [`Keyring::with_rotation_threshold`] (default 2^31) [`Keyring::needs_rotation`] is true;
/// at 2^32 encryption is refused with [`PiiError::KeyUsageLimit`].
///
/// The counter is per process and starts at 0 when a keyring is loaded. With several
/// instances, or restarts, counting across them is the operator's job: rotate on a schedule
/// that keeps the fleet-wide total under 2^31 (for example, at 10 000 encryptions per second
/// across the fleet, 2^31 is reached after about 2.5 days of continuous load; at 100 per
/// second, after 8 months), or use AES-256-GCM-SIV, whose security degrades gracefully if
/// nonces repeat.
pub struct Keyring {
    pub(crate) encryption: KeyList,
    pub(crate) index: KeyList,
    rotation_threshold: u64,
    ciphers: FieldCache<Cipher>,
    pub(crate) macs: FieldCache<Hmac<Sha256>>,
    pub(crate) nonces: NonceSource,
}

impl Keyring {
    /// A new keyring: one primary AES-256-GCM encryption key (id 1) and one primary index
    /// key (id 1), from the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// [`PiiError::Random`] when the random number generator fails.
    pub fn generate() -> Result<Self, PiiError> {
        Self::generate_with(Algorithm::Aes256Gcm)
    }

    /// As [`Keyring::generate`], with a primary key of this algorithm.
    ///
    /// # Errors
    ///
    /// [`PiiError::Random`] when the random number generator fails.
    pub fn generate_with(algorithm: Algorithm) -> Result<Self, PiiError> {
        Ok(Self::from_lists(
            KeyList::generate(Some(algorithm))?,
            KeyList::generate(None)?,
        ))
    }

    pub(crate) fn from_lists(encryption: KeyList, index: KeyList) -> Self {
        Self {
            encryption,
            index,
            rotation_threshold: DEFAULT_ROTATION_THRESHOLD,
            ciphers: FieldCache::default(),
            macs: FieldCache::default(),
            nonces: NonceSource::Os,
        }
    }

    /// **Known-answer tests only** (cargo feature `testing`, which a production build must
    /// never enable): the nonces of this keyring's next encryptions ([`Keyring::encrypt`]
    /// and the other `encrypt` methods) and key wrappings ([`Keyring::to_json`]) are taken
    /// from `nonces`, each once, in order, instead of from the operating system's random
    /// number generator. Once they are used up, every encryption fails with
    /// [`PiiError::Random`]: a keyring never falls back to, or repeats, a nonce of the list.
    ///
    /// This is how `tests/known_answers.rs` pins the envelope and keyset formats to
    /// committed bytes. A nonce must never be used twice under one key (with AES-GCM a
    /// repeat reveals the XOR of the plaintexts and allows forgeries), so:
    ///
    /// - the method exists only with the `testing` feature, and is not part of the API
    ///   otherwise; keyrings made any other way always use the operating system;
    /// - a list holding the same nonce twice is refused;
    /// - `Debug` of such a keyring says `test_nonces: true`.
    ///
    /// # Errors
    ///
    /// [`PiiError::Random`] when `nonces` holds a duplicate.
    #[cfg(feature = "testing")]
    pub fn with_test_nonces(
        mut self,
        nonces: impl IntoIterator<Item = [u8; crate::aead::NONCE_LEN]>,
    ) -> Result<Self, PiiError> {
        let queue: std::collections::VecDeque<[u8; crate::aead::NONCE_LEN]> =
            nonces.into_iter().collect();
        let mut seen = std::collections::HashSet::with_capacity(queue.len());
        if !queue.iter().all(|n| seen.insert(*n)) {
            return Err(PiiError::Random);
        }
        self.nonces = NonceSource::Sequence(std::sync::Mutex::new(queue));
        Ok(self)
    }

    /// Sets the number of encryptions under the primary key after which
    /// [`Keyring::needs_rotation`] reports `true` (default [`DEFAULT_ROTATION_THRESHOLD`]).
    #[must_use]
    pub fn with_rotation_threshold(mut self, messages: u64) -> Self {
        self.rotation_threshold = messages;
        self
    }

    /// Encrypts `plaintext` for `ctx` under the primary key, with a fresh random nonce.
    ///
    /// # Errors
    ///
    /// [`PiiError::KeyUsageLimit`] after 2^32 encryptions under the primary key by this
    /// instance, [`PiiError::Random`] when the random number generator fails.
    pub fn encrypt(&self, ctx: &Context<'_>, plaintext: &[u8]) -> Result<Envelope, PiiError> {
        let mut bytes = Vec::with_capacity(OVERHEAD + plaintext.len());
        self.seal_into(ctx, plaintext, &mut bytes)?;
        Ok(Envelope::from_sealed(bytes))
    }

    /// Encrypts `plaintext` and returns the envelope's text form (`pii1.…`), ready for a
    /// `VARCHAR` column. The same as `encrypt(…)?.to_text()`, with one allocation instead of
    /// three for short values.
    ///
    /// # Errors
    ///
    /// As [`Keyring::encrypt`].
    pub fn encrypt_to_text(&self, ctx: &Context<'_>, plaintext: &[u8]) -> Result<String, PiiError> {
        let mut bytes = SmallBuf::<STACK_ENVELOPE>::with_capacity(OVERHEAD + plaintext.len());
        self.seal_into(ctx, plaintext, &mut bytes)?;
        Ok(encode_text(bytes.as_slice()))
    }

    /// Decrypts `envelope` for `ctx`. The plaintext comes back in a zeroize-on-drop box.
    ///
    /// # Errors
    ///
    /// [`PiiError::UnknownKey`], [`PiiError::RetiredKey`], [`PiiError::AlgorithmMismatch`],
    /// and [`PiiError::Decryption`] for every authentication failure (wrong key, wrong
    /// context, any modified byte).
    pub fn decrypt(
        &self,
        ctx: &Context<'_>,
        envelope: &Envelope,
    ) -> Result<SecretBox<[u8]>, PiiError> {
        self.decrypt_bytes(ctx, envelope.as_bytes())
    }

    /// Parses the text form and decrypts it.
    ///
    /// # Errors
    ///
    /// As [`Envelope::parse`], then as [`Keyring::decrypt`].
    pub fn decrypt_text(&self, ctx: &Context<'_>, text: &str) -> Result<SecretBox<[u8]>, PiiError> {
        let mut stack = [0u8; STACK_ENVELOPE];
        if text.len().saturating_sub(TEXT_PREFIX.len()).div_ceil(4) * 3 <= STACK_ENVELOPE {
            self.decrypt_bytes(ctx, decode_text(text, &mut stack)?)
        } else {
            self.decrypt(ctx, &Envelope::parse(text)?)
        }
    }

    /// Parses the binary form (for a `BYTEA`/`BLOB` column) and decrypts it.
    ///
    /// # Errors
    ///
    /// As [`Envelope::from_bytes`], then as [`Keyring::decrypt`].
    pub fn decrypt_bytes(
        &self,
        ctx: &Context<'_>,
        envelope: &[u8],
    ) -> Result<SecretBox<[u8]>, PiiError> {
        let parts = parse_parts(envelope)?;
        let [_, alg, k0, k1, k2, k3] = *parts.header;
        let key_id = KeyId::new(u32::from_be_bytes([k0, k1, k2, k3]))
            .ok_or(PiiError::malformed("key id 0"))?;
        let algorithm = Algorithm::from_id(alg).ok_or(PiiError::UnknownAlgorithm { id: alg })?;
        let key = self.encryption.usable(key_id)?;
        let expected = key.algorithm.unwrap_or(Algorithm::Aes256Gcm);
        if algorithm != expected {
            return Err(PiiError::AlgorithmMismatch {
                key_id: key.id.get(),
                expected,
                found: algorithm,
            });
        }
        let aad = associated_data(parts.header, ctx);
        // The plaintext goes straight into its final, exactly sized box: no copy is left
        // behind in a reallocated buffer.
        let mut out = SecretBox::new(vec![0u8; parts.ciphertext.len()].into_boxed_slice());
        self.with_cipher(key, algorithm, ctx, |cipher| {
            cipher.open_into(
                parts.nonce,
                aad.as_slice(),
                parts.ciphertext,
                parts.tag,
                out.expose_secret_mut(),
            )
        })??;
        Ok(out)
    }

    /// Decrypts `envelope` and encrypts it again under the current primary key (fresh
    /// nonce), for the re-encryption step of a rotation.
    ///
    /// # Errors
    ///
    /// As [`Keyring::decrypt`] and [`Keyring::encrypt`].
    pub fn reencrypt(&self, ctx: &Context<'_>, envelope: &Envelope) -> Result<Envelope, PiiError> {
        use secrecy::ExposeSecret as _;
        let plaintext = self.decrypt(ctx, envelope)?;
        self.encrypt(ctx, plaintext.expose_secret())
    }

    /// Whether `envelope` is under a key other than the current primary (so a rotation's
    /// re-encryption pass should rewrite it). Looks at the header only; no decryption.
    pub fn needs_reencrypt(&self, envelope: &Envelope) -> bool {
        self.encryption
            .primary()
            .is_none_or(|p| p.id != envelope.key_id())
    }

    /// Whether the primary encryption key has been used, by this instance, at least as many
    /// times as the rotation threshold ([`Keyring::with_rotation_threshold`]).
    pub fn needs_rotation(&self) -> bool {
        self.encryption
            .primary()
            .is_none_or(|p| p.uses.load(Ordering::Relaxed) >= self.rotation_threshold)
    }

    /// Encryptions (or, for index keys, index computations) done with key `id` by this
    /// instance, or `None` when there is no such key.
    pub fn usage(&self, purpose: KeyPurpose, id: KeyId) -> Option<u64> {
        self.list(purpose)
            .get(id)
            .map(|e| e.uses.load(Ordering::Relaxed))
    }

    /// The id of the primary key of `purpose`.
    pub fn primary_id(&self, purpose: KeyPurpose) -> KeyId {
        self.list(purpose).primary().map_or(KeyId::FIRST, |e| e.id)
    }

    /// Every key of `purpose`, by increasing id (never the material).
    pub fn keys(&self, purpose: KeyPurpose) -> Vec<KeyInfo> {
        self.list(purpose).entries.iter().map(Entry::info).collect()
    }

    // ---- rotation ----

    /// Rotation step 1: adds a new random encryption key of `algorithm`, decrypt-only
    /// ([`KeyStatus::Active`](crate::KeyStatus::Active)), and returns its id. Deploy the
    /// keyset everywhere before promoting it, so every instance can read what the new key
    /// will write.
    ///
    /// # Errors
    ///
    /// [`PiiError::Random`]; [`PiiError::Rotation`] when ids are exhausted.
    pub fn add_key(&mut self, algorithm: Algorithm) -> Result<KeyId, PiiError> {
        self.encryption.add(Some(algorithm))
    }

    /// Adds a new random blind-index key, decrypt-only ("active": not used until promoted),
    /// and returns its id. See the crate docs on rotating index keys.
    ///
    /// # Errors
    ///
    /// As [`Keyring::add_key`].
    pub fn add_index_key(&mut self) -> Result<KeyId, PiiError> {
        self.index.add(None)
    }

    /// Rotation step 2: makes key `id` of `purpose` the primary; the previous primary stays
    /// for decryption.
    ///
    /// # Errors
    ///
    /// [`PiiError::UnknownKey`]; [`PiiError::Rotation`] for a retired key.
    pub fn promote(&mut self, purpose: KeyPurpose, id: KeyId) -> Result<(), PiiError> {
        self.list_mut(purpose).promote(id)
    }

    /// Steps 1 and 2 at once: adds a key with the primary's algorithm, promotes it, and
    /// returns its id. Only safe when every instance loads the new keyset at once (a single
    /// process, or the CLI); otherwise add, deploy, then promote.
    ///
    /// # Errors
    ///
    /// As [`Keyring::add_key`].
    pub fn rotate(&mut self) -> Result<KeyId, PiiError> {
        let algorithm = self
            .encryption
            .primary()
            .and_then(|p| p.algorithm)
            .unwrap_or(Algorithm::Aes256Gcm);
        let id = self.add_key(algorithm)?;
        self.promote(KeyPurpose::Encryption, id)?;
        Ok(id)
    }

    /// Rotation step 4 (after re-encryption): retires key `id`, which is then refused.
    ///
    /// # Errors
    ///
    /// [`PiiError::UnknownKey`]; [`PiiError::Rotation`] for the primary.
    pub fn retire(&mut self, purpose: KeyPurpose, id: KeyId) -> Result<(), PiiError> {
        self.list_mut(purpose).retire(id)
    }

    /// Undoes [`Keyring::retire`]: the key decrypts again (for rows the re-encryption pass
    /// missed).
    ///
    /// # Errors
    ///
    /// [`PiiError::UnknownKey`].
    pub fn reactivate(&mut self, purpose: KeyPurpose, id: KeyId) -> Result<(), PiiError> {
        self.list_mut(purpose).reactivate(id)
    }

    /// Destroys a retired key: whatever is still encrypted under it becomes unreadable
    /// (crypto-shredding).
    ///
    /// Key ids are never reused: the key with the highest id stays (add a newer key before
    /// removing it), so an old envelope can never name a different key.
    ///
    /// # Errors
    ///
    /// [`PiiError::UnknownKey`]; [`PiiError::Rotation`] when the key is not retired, or has the
    /// highest id of its purpose.
    pub fn remove(&mut self, purpose: KeyPurpose, id: KeyId) -> Result<(), PiiError> {
        self.list_mut(purpose).remove(id)?;
        match purpose {
            KeyPurpose::Encryption => self.ciphers.forget(id),
            KeyPurpose::Index => self.macs.forget(id),
        }
        Ok(())
    }

    // ---- internals ----

    pub(crate) fn list(&self, purpose: KeyPurpose) -> &KeyList {
        match purpose {
            KeyPurpose::Encryption => &self.encryption,
            KeyPurpose::Index => &self.index,
        }
    }

    fn list_mut(&mut self, purpose: KeyPurpose) -> &mut KeyList {
        match purpose {
            KeyPurpose::Encryption => &mut self.encryption,
            KeyPurpose::Index => &mut self.index,
        }
    }

    fn primary(&self) -> Result<&Entry, PiiError> {
        self.encryption
            .primary()
            .ok_or_else(|| PiiError::keyset("no primary encryption key"))
    }

    /// Writes an envelope of `plaintext` under the primary key to `out`.
    fn seal_into(
        &self,
        ctx: &Context<'_>,
        plaintext: &[u8],
        out: &mut impl Sink,
    ) -> Result<(), PiiError> {
        let key = self.primary()?;
        let algorithm = key.algorithm.unwrap_or(Algorithm::Aes256Gcm);
        let used = key.uses.fetch_add(1, Ordering::Relaxed);
        if used >= GCM_RANDOM_NONCE_LIMIT {
            return Err(PiiError::KeyUsageLimit {
                key_id: key.id.get(),
                limit: GCM_RANDOM_NONCE_LIMIT,
            });
        }
        let nonce = self.nonces.next()?;
        self.with_cipher(key, algorithm, ctx, |cipher| {
            envelope::seal_into(
                out,
                algorithm,
                key.id,
                &nonce,
                ctx,
                plaintext,
                |aad, buf| cipher.seal_in_place(&nonce, aad, buf),
            )
        })?
    }

    fn with_cipher<R>(
        &self,
        key: &Entry,
        algorithm: Algorithm,
        ctx: &Context<'_>,
        f: impl FnOnce(&Cipher) -> R,
    ) -> Result<R, PiiError> {
        self.ciphers.with(
            key.id,
            algorithm.id(),
            ctx.table(),
            ctx.column(),
            || {
                let k = derive::field_key(key.key(), algorithm, ctx.table(), ctx.column())?;
                Ok(Cipher::new(algorithm, &k))
            },
            f,
        )
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Keyring");
        d.field("encryption_keys", &self.keys(KeyPurpose::Encryption))
            .field("index_keys", &self.keys(KeyPurpose::Index))
            .field("rotation_threshold", &self.rotation_threshold);
        if self.nonces.is_test_sequence() {
            d.field("test_nonces", &true);
        }
        d.finish_non_exhaustive()
    }
}
