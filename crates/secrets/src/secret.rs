//! A named secret's value with its creation time, and sets of them.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::error::SecretsError;

/// The longest secret name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// The largest secret value read from a file, in bytes (64 KiB): enough for PEM keys and
/// keysets; a larger file is refused rather than read into memory.
pub const MAX_SECRET_LEN: usize = 64 * 1024;

/// A secret's value, held as a [`SecretString`] (zeroized on drop, `[REDACTED]` in `Debug`),
/// with the time it was created or last changed when the source knows it.
///
/// Its `Debug` shows the creation time only.
#[derive(Clone)]
pub struct Secret {
    value: SecretString,
    created_at: Option<SystemTime>,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("value", &"[REDACTED]")
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl Secret {
    /// A secret of `value`, created at `created_at` (`None`: unknown).
    pub fn new(value: SecretString, created_at: Option<SystemTime>) -> Self {
        Self { value, created_at }
    }

    /// The value. Expose it (`ExposeSecret::expose_secret`) only to hand it to the code that
    /// uses it (a verifier, a keyring); never log it.
    pub fn value(&self) -> &SecretString {
        &self.value
    }

    /// When the secret was created or last changed: a file's modification time, a
    /// `<NAME>_CREATED_AT` variable; `None` when the source does not say.
    pub fn created_at(&self) -> Option<SystemTime> {
        self.created_at
    }

    /// Its age at `now`, when its creation time is known (zero for a time in the future).
    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        self.created_at
            .map(|created| now.duration_since(created).unwrap_or(Duration::ZERO))
    }

    /// The value's lines, trimmed, empty ones skipped: a secret that holds several values,
    /// one per line, newest first (the signing secrets of a webhook during a rotation).
    pub fn lines(&self) -> impl Iterator<Item = SecretString> + '_ {
        self.value
            .expose_secret()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(SecretString::from)
    }

    /// Same value (compared in constant time for equal lengths) and same creation time.
    pub fn same_as(&self, other: &Self) -> bool {
        let (a, b) = (
            self.value.expose_secret().as_bytes(),
            other.value.expose_secret().as_bytes(),
        );
        self.created_at == other.created_at && bool::from(a.ct_eq(b))
    }
}

/// Secrets by name, as fetched in one batch ([`SecretSource::fetch_many`](crate::SecretSource::fetch_many)).
#[derive(Clone, Debug, Default)]
pub struct SecretSet {
    secrets: BTreeMap<String, Secret>,
}

impl SecretSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) `name`.
    pub fn insert(&mut self, name: impl Into<String>, secret: Secret) {
        self.secrets.insert(name.into(), secret);
    }

    /// The secret `name`, if the set has it.
    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.secrets.get(name)
    }

    /// The secret `name`.
    ///
    /// # Errors
    /// [`SecretsError::Missing`] naming it.
    pub fn require(&self, name: &str) -> Result<&Secret, SecretsError> {
        self.get(name).ok_or_else(|| SecretsError::Missing {
            names: vec![name.to_owned()],
        })
    }

    /// The names of `names` this set does not have, in order.
    pub fn missing<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        names
            .into_iter()
            .filter(|n| !self.secrets.contains_key(*n))
            .map(str::to_owned)
            .collect()
    }

    /// The names and secrets, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Secret)> {
        self.secrets.iter().map(|(n, s)| (n.as_str(), s))
    }

    /// How many secrets the set holds.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The same names, each with the [same](Secret::same_as) value and creation time.
    pub fn same_as(&self, other: &Self) -> bool {
        self.secrets.len() == other.secrets.len()
            && self
                .secrets
                .iter()
                .zip(other.secrets.iter())
                .all(|((na, a), (nb, b))| na == nb && a.same_as(b))
    }
}

/// Checks a secret name (see [`SecretsError::InvalidName`]).
///
/// # Errors
/// [`SecretsError::InvalidName`].
pub fn check_name(name: &str) -> Result<(), SecretsError> {
    let invalid = |reason| SecretsError::InvalidName {
        name: name.get(..64).unwrap_or(name).to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid("longer than 128 bytes"));
    }
    if name.starts_with('.') {
        return Err(invalid("starts with `.`"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(invalid("use ASCII letters, digits, `_`, `-` and `.` only"));
    }
    Ok(())
}
