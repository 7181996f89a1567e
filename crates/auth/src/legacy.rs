//! The kill switch of retired shared tokens: a list of their SHA-256 hashes; a request
//! presenting one is refused, whatever else it carries, unless an explicit, time-limited
//! allow window is open.

use std::fmt;

use palisade_rbac::Principal;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::error::AuthError;

/// The answer of [`LegacyTokens::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyVerdict {
    /// Not a retired token.
    NotLegacy,
    /// A retired token: refuse the request (401) and emit `auth.legacy_token_blocked`.
    Blocked,
    /// A retired token inside the allow window: the request acts as this principal, and
    /// `auth.legacy_token_allowed` is emitted.
    Allowed(Principal),
}

/// The retired shared tokens, held as SHA-256 hashes (compute one with
/// `printf %s "$TOKEN" | sha256sum`), so the configuration never holds a usable token.
///
/// Blocking is the default: the allow mode ([`allow_until`](Self::allow_until)) must be
/// asked for, with an end (Unix seconds) after which the tokens are blocked again without a
/// redeploy.
#[derive(Clone, Default)]
pub struct LegacyTokens {
    hashes: Vec<[u8; 32]>,
    allow: Option<(u64, Principal)>,
}

impl fmt::Debug for LegacyTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyTokens")
            .field("count", &self.hashes.len())
            .field("allow_until", &self.allow.as_ref().map(|(t, _)| *t))
            .finish()
    }
}

impl LegacyTokens {
    /// An empty list: nothing is blocked.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds retired tokens by their SHA-256 in hex (64 characters, either case).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for a value that is not 64 hex characters.
    pub fn with_sha256_hex<I, S>(mut self, hashes: I) -> Result<Self, AuthError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for h in hashes {
            let mut out = [0u8; 32];
            hex::decode_to_slice(h.as_ref().trim(), &mut out).map_err(|_| {
                AuthError::InvalidConfig("a legacy token hash is not 64 hex digits")
            })?;
            self.hashes.push(out);
        }
        Ok(self)
    }

    /// Adds a retired token given in clear (hashed at once; for tests and migrations that
    /// read the token from a secret store).
    #[must_use]
    pub fn with_token(mut self, token: &[u8]) -> Self {
        self.hashes.push(Sha256::digest(token).into());
        self
    }

    /// Opens the migration window: until `until` (Unix seconds, exclusive) a retired token is
    /// accepted as `principal`. Off by default.
    #[must_use]
    pub fn allow_until(mut self, until: u64, principal: Principal) -> Self {
        self.allow = Some((until, principal));
        self
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether `presented` is a retired token, at `now` (Unix seconds). The hash is compared
    /// with every listed hash in constant time.
    pub fn check(&self, presented: &[u8], now: u64) -> LegacyVerdict {
        if self.hashes.is_empty() {
            return LegacyVerdict::NotLegacy;
        }
        let digest: [u8; 32] = Sha256::digest(presented).into();
        let mut hit = Choice::from(0);
        for h in &self.hashes {
            hit |= h.ct_eq(&digest);
        }
        if !bool::from(hit) {
            return LegacyVerdict::NotLegacy;
        }
        match &self.allow {
            Some((until, principal)) if now < *until => LegacyVerdict::Allowed(principal.clone()),
            _ => LegacyVerdict::Blocked,
        }
    }
}
