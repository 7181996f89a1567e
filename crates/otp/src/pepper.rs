//! Peppers and the keyed hash of a code: HMAC-SHA256 under a server-side secret.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use secrecy::SecretBox;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::challenge::SubjectKey;
use crate::error::OtpError;

type HmacSha256 = Hmac<Sha256>;

/// Domain-separation label at the start of every hashed message (versioned).
const LABEL: &[u8] = b"palisade-otp/v1";

/// Domain-separation label of a peppered password (`crate::password`), so that a password's
/// MAC and a code's never share an input under the same key.
const PASSWORD_LABEL: &[u8] = b"palisade-otp/password/v1";

/// The smallest pepper accepted, in bytes (256 bits).
pub const MIN_PEPPER_LEN: usize = 32;

/// The longest pepper id accepted, in bytes.
pub const MAX_PEPPER_ID_LEN: usize = 64;

/// A server-side secret key for the keyed hash of codes, with the id stored beside each hash
/// so that peppers can rotate. Keep peppers outside the database that holds the hashes (an
/// environment variable, a KMS, a file): a stolen table is then useless for brute force.
pub struct Pepper {
    id: String,
    /// The HMAC keyed once (its key schedule precomputed); cloned for each hash.
    mac: HmacSha256,
    _key: SecretBox<[u8]>,
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pepper")
            .field("id", &self.id)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

impl Pepper {
    /// A pepper named `id` (1–64 bytes, stored in clear beside each hash) with `key` (at
    /// least 32 random bytes).
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidPepper`] when the id is empty or too long, or the key too short.
    pub fn new(id: impl Into<String>, key: SecretBox<[u8]>) -> Result<Self, OtpError> {
        use secrecy::ExposeSecret;
        let id = id.into();
        if id.is_empty() || id.len() > MAX_PEPPER_ID_LEN {
            return Err(OtpError::InvalidPepper("the id must be 1 to 64 bytes"));
        }
        if key.expose_secret().len() < MIN_PEPPER_LEN {
            return Err(OtpError::InvalidPepper("the key must be at least 32 bytes"));
        }
        let mac = <HmacSha256 as KeyInit>::new_from_slice(key.expose_secret())
            .map_err(|_| OtpError::InvalidPepper("HMAC refused the key"))?;
        Ok(Self { id, mac, _key: key })
    }

    /// A new random 32-byte pepper from the OS CSPRNG.
    ///
    /// # Errors
    ///
    /// [`OtpError::Random`], or as [`Pepper::new`] for the id.
    pub fn generate(id: impl Into<String>) -> Result<Self, OtpError> {
        let mut key = vec![0u8; MIN_PEPPER_LEN].into_boxed_slice();
        getrandom::fill(&mut key).map_err(|_| OtpError::Random)?;
        Self::new(id, SecretBox::new(key))
    }

    /// The id stored beside the hashes made with this pepper.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// HMAC-SHA256 under this pepper of `"palisade-otp/v1" ‖ tenant ‖ purpose ‖ subject ‖
    /// code`, each of the last four preceded by its length in bytes (u32, big-endian), so
    /// that no two different inputs give the same message. The hash is bound to its subject
    /// and purpose: a hash copied to another row never verifies there.
    pub fn hash(&self, key: &SubjectKey, code: &[u8]) -> CodeHash {
        let mut mac = self.mac.clone();
        mac.update(LABEL);
        for part in [
            key.tenant().as_bytes(),
            key.purpose().as_bytes(),
            key.subject().as_bytes(),
            code,
        ] {
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            mac.update(&len.to_be_bytes());
            mac.update(part);
        }
        CodeHash {
            pepper_id: self.id.clone(),
            mac: mac.finalize().into_bytes().into(),
        }
    }
}

impl Pepper {
    /// `HMAC-SHA256(key, "palisade-otp/password/v1" ‖ password)`: the argon2 input of a
    /// peppered password hash.
    pub(crate) fn password_mac(&self, password: &[u8]) -> zeroize::Zeroizing<[u8; 32]> {
        let mut mac = self.mac.clone();
        mac.update(PASSWORD_LABEL);
        mac.update(password);
        let mut out = zeroize::Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&mac.finalize().into_bytes());
        out
    }
}

/// The peppers a service holds: the current one hashes new codes; every one (current and
/// previous) verifies the hashes that name it. Retiring a pepper makes the codes hashed
/// under it unverifiable (they then count as wrong answers), so keep a pepper for at least
/// the longest challenge expiry after it stops being current.
#[derive(Debug)]
pub struct Peppers {
    current: Pepper,
    previous: Vec<Pepper>,
}

impl Peppers {
    /// A keyring with one pepper, the current one.
    pub fn new(current: Pepper) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds a previous pepper, still used to verify the hashes that name it.
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidPepper`] when its id is already in the keyring.
    pub fn with_previous(mut self, pepper: Pepper) -> Result<Self, OtpError> {
        if self.get(pepper.id()).is_some() {
            return Err(OtpError::InvalidPepper("duplicate pepper id"));
        }
        self.previous.push(pepper);
        Ok(self)
    }

    /// The current pepper.
    pub fn current(&self) -> &Pepper {
        &self.current
    }

    /// The pepper named `id`, if held.
    pub fn get(&self, id: &str) -> Option<&Pepper> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|p| p.id == id)
    }

    /// The hash of `code` under the current pepper: what is stored.
    pub fn hash(&self, key: &SubjectKey, code: &[u8]) -> CodeHash {
        self.current.hash(key, code)
    }

    /// The hash of a candidate `code` under every pepper held (current first): the store
    /// compares the stored hash with the candidate that names the same pepper, so a single
    /// round trip verifies whichever pepper the stored hash was made with.
    pub fn candidates(&self, key: &SubjectKey, code: &[u8]) -> Vec<CodeHash> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|p| p.hash(key, code))
            .collect()
    }
}

/// A keyed hash of a code (32 bytes of HMAC-SHA256) and the id of the pepper that made it.
/// Not secret by itself (without the pepper it cannot be brute-forced), but compared in
/// constant time all the same.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeHash {
    pepper_id: String,
    mac: [u8; 32],
}

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeHash")
            .field("pepper_id", &self.pepper_id)
            .finish_non_exhaustive()
    }
}

impl CodeHash {
    /// A hash as read back from storage: the pepper id and the 32 bytes.
    pub fn from_parts(pepper_id: impl Into<String>, mac: [u8; 32]) -> Self {
        Self {
            pepper_id: pepper_id.into(),
            mac,
        }
    }

    /// The id of the pepper that made this hash.
    pub fn pepper_id(&self) -> &str {
        &self.pepper_id
    }

    /// The 32 bytes of HMAC-SHA256.
    pub fn mac(&self) -> &[u8; 32] {
        &self.mac
    }

    /// Whether `self` (stored) matches one of `candidates`: the candidate naming the same
    /// pepper, compared in constant time. A stored hash whose pepper has no candidate (a
    /// retired pepper) matches nothing.
    pub fn matches(&self, candidates: &[CodeHash]) -> bool {
        let mut ok = subtle::Choice::from(0);
        for c in candidates {
            if c.pepper_id == self.pepper_id {
                ok |= c.mac.ct_eq(&self.mac);
            }
        }
        ok.into()
    }
}
