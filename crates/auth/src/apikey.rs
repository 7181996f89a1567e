//! The API key format: `<prefix>_<id>_<secret><checksum>`, parsed and generated.
//!
//! ```text
//! pal_4fK9sQ2mZt7Lw1Xc_Yb3...43 base62 characters...Qe8m2Z
//! └┬┘ └──────┬───────┘ └──────────────┬──────────────┘└─┬──┘
//! prefix    id (16)              secret (43)          checksum (6)
//! ```
//!
//! - **prefix**: 1–16 of `[a-z0-9]`, starting with a letter, chosen by the service (`pal`,
//!   `acme_live` is not allowed: `_` separates the parts). It tells secret scanners and
//!   people what the key is for, as GitHub's `ghp_` does.
//! - **id**: 16 base62 characters (≈ 95 bits) from the OS CSPRNG. Public: it indexes the
//!   store, and it is the part safe to show in logs and dashboards.
//! - **secret**: 43 base62 characters, each drawn uniformly (rejection sampling) from the OS
//!   CSPRNG: 43 · log₂ 62 ≈ 256.0 bits. Stored only as a peppered HMAC.
//! - **checksum**: CRC-32 of `<prefix>_<id>_<secret>` in 6 base62 characters
//!   ([`crate::checksum`], after GitHub's token format).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::checksum::{BASE62, CHECKSUM_LEN, checksum, is_base62};
use crate::error::AuthError;

/// The length of a key id, in base62 characters.
pub const ID_LEN: usize = 16;
/// The length of a key secret, in base62 characters (≥ 256 bits of entropy).
pub const SECRET_LEN: usize = 43;
/// The longest prefix accepted, in bytes.
pub const MAX_PREFIX_LEN: usize = 16;
/// The longest API key: prefix, two separators, id, secret, checksum.
pub const MAX_KEY_LEN: usize = MAX_PREFIX_LEN + 2 + ID_LEN + SECRET_LEN + CHECKSUM_LEN;

/// A key prefix: 1–16 of `[a-z0-9]`, starting with a lower-case letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiKeyPrefix(Box<str>);

impl ApiKeyPrefix {
    /// Checks and wraps a prefix.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidPrefix`] when it is empty, longer than 16 bytes, does not start
    /// with `[a-z]` or holds a byte outside `[a-z0-9]`.
    pub fn new(prefix: &str) -> Result<Self, AuthError> {
        check_prefix(prefix).map_err(AuthError::InvalidPrefix)?;
        Ok(Self(prefix.into()))
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_prefix(prefix: &str) -> Result<(), &'static str> {
    let bytes = prefix.as_bytes();
    match bytes.first() {
        None => return Err("empty prefix"),
        Some(b) if !b.is_ascii_lowercase() => {
            return Err("the prefix must start with a lower-case letter");
        }
        Some(_) => {}
    }
    if bytes.len() > MAX_PREFIX_LEN {
        return Err("prefix longer than 16 bytes");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err("the prefix may hold only [a-z0-9]");
    }
    Ok(())
}

/// The public id of a key: 16 base62 characters. Safe to log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Box<str>);

impl KeyId {
    /// Checks and wraps an id (exactly 16 base62 characters).
    ///
    /// # Errors
    ///
    /// [`AuthError::MalformedApiKey`] otherwise.
    pub fn new(id: &str) -> Result<Self, AuthError> {
        if id.len() != ID_LEN || !id.bytes().all(is_base62) {
            return Err(AuthError::MalformedApiKey(
                "the id must be 16 base62 characters",
            ));
        }
        Ok(Self(id.into()))
    }

    /// A new random id from the OS CSPRNG.
    ///
    /// # Errors
    ///
    /// [`AuthError::Random`].
    pub fn generate() -> Result<Self, AuthError> {
        let id = random_base62(ID_LEN)?;
        Ok(Self(String::from_utf8_lossy(&id).into()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An API key parsed from its text: format and checksum checked, nothing looked up. The
/// secret part stays in a [`SecretString`]; `Debug` shows the prefix and id only.
pub struct ApiKey {
    prefix: Box<str>,
    id: KeyId,
    secret: SecretString,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("prefix", &self.prefix)
            .field("id", &self.id)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

impl ApiKey {
    /// Parses `text` as `<prefix>_<id>_<secret><checksum>` and checks its checksum. Nothing
    /// else: whether the key exists, is revoked or expired is the store's answer.
    ///
    /// # Errors
    ///
    /// [`AuthError::MalformedApiKey`] (saying which part is wrong) or
    /// [`AuthError::ChecksumMismatch`].
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        if text.len() > MAX_KEY_LEN {
            return Err(AuthError::MalformedApiKey("longer than any API key"));
        }
        let mut parts = text.split('_');
        let (Some(prefix), Some(id), Some(tail), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::MalformedApiKey(
                "expected <prefix>_<id>_<secret> (two underscores)",
            ));
        };
        check_prefix(prefix).map_err(AuthError::MalformedApiKey)?;
        let id = KeyId::new(id)?;
        if tail.len() != SECRET_LEN + CHECKSUM_LEN || !tail.bytes().all(is_base62) {
            return Err(AuthError::MalformedApiKey(
                "the secret must be 49 base62 characters (43 + checksum)",
            ));
        }
        let (secret, sum) = tail.split_at(SECRET_LEN);
        let body_len = text.len() - CHECKSUM_LEN;
        let body = text.as_bytes().get(..body_len).unwrap_or_default();
        let expected = checksum(body);
        // Not secret (anyone can compute it), but compared without branching all the same.
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], sum.as_bytes())) {
            return Err(AuthError::ChecksumMismatch);
        }
        Ok(Self {
            prefix: prefix.into(),
            id,
            secret: SecretString::from(secret.to_owned()),
        })
    }

    /// A new key with `prefix`: a random id and a 256-bit random secret from the OS CSPRNG.
    /// Returns the parsed key; [`ApiKey::to_secret_string`] gives the text to hand to the
    /// client once.
    ///
    /// # Errors
    ///
    /// [`AuthError::Random`].
    pub fn generate(prefix: &ApiKeyPrefix) -> Result<Self, AuthError> {
        let id = KeyId::generate()?;
        let secret = random_base62(SECRET_LEN)?;
        let secret = String::from_utf8_lossy(&secret).into_owned();
        Ok(Self {
            prefix: prefix.as_str().into(),
            id,
            secret: SecretString::from(secret),
        })
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The public id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The secret part (43 base62 characters, without the checksum).
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// The full key text, `<prefix>_<id>_<secret><checksum>`: what the client sends.
    pub fn to_secret_string(&self) -> SecretString {
        let mut text = Zeroizing::new(String::with_capacity(MAX_KEY_LEN));
        text.push_str(&self.prefix);
        text.push('_');
        text.push_str(self.id.as_str());
        text.push('_');
        text.push_str(self.secret.expose_secret());
        let sum = checksum(text.as_bytes());
        text.push_str(&String::from_utf8_lossy(&sum));
        SecretString::from(text.as_str().to_owned())
    }
}

/// `len` base62 characters, each uniform: random bytes below 248 (= 4 · 62) taken modulo 62,
/// the others rejected.
fn random_base62(len: usize) -> Result<Zeroizing<Vec<u8>>, AuthError> {
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    let mut buf = Zeroizing::new([0u8; 64]);
    while out.len() < len {
        getrandom::fill(&mut buf[..]).map_err(|_| AuthError::Random)?;
        for &b in buf.iter() {
            if b < 248 && out.len() < len {
                out.push(BASE62.get(usize::from(b % 62)).copied().unwrap_or(b'0'));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back() {
        let prefix = ApiKeyPrefix::new("pal").unwrap();
        let key = ApiKey::generate(&prefix).unwrap();
        let text = key.to_secret_string();
        let text = text.expose_secret();
        assert_eq!(text.len(), 3 + 2 + ID_LEN + SECRET_LEN + CHECKSUM_LEN);
        let parsed = ApiKey::parse(text).unwrap();
        assert_eq!(parsed.id(), key.id());
        assert_eq!(parsed.prefix(), "pal");
        assert_eq!(
            parsed.secret().expose_secret(),
            key.secret().expose_secret()
        );
        assert!(!format!("{parsed:?}").contains(key.secret().expose_secret()));
    }

    #[test]
    fn prefixes_are_checked() {
        for bad in ["", "Pal", "1pal", "pal_x", "pal-x", "abcdefghijklmnopq"] {
            assert!(ApiKeyPrefix::new(bad).is_err(), "{bad}");
        }
        assert!(ApiKeyPrefix::new("sk2").is_ok());
    }

    #[test]
    fn malformed_keys_say_why() {
        for bad in [
            "",
            "pal",
            "pal_abc",
            "pal_0123456789abcdef_short",
            "pal__x",
            "a_b_c_d",
        ] {
            assert!(
                matches!(ApiKey::parse(bad), Err(AuthError::MalformedApiKey(_))),
                "{bad}"
            );
        }
    }

    /// The longest key (a 16-byte prefix) is exactly `MAX_KEY_LEN` bytes and parses; one
    /// more byte is refused for its length before anything else is looked at.
    #[test]
    fn the_longest_key_is_max_key_len() {
        assert_eq!(MAX_KEY_LEN, 16 + 2 + 16 + 43 + 6);
        let prefix = ApiKeyPrefix::new("abcdefghijklmnop").unwrap();
        let key = ApiKey::generate(&prefix).unwrap();
        let text = key.to_secret_string();
        let text = text.expose_secret();
        assert_eq!(text.len(), MAX_KEY_LEN);
        assert_eq!(ApiKey::parse(text).unwrap().id(), key.id());
        assert_eq!(
            ApiKey::parse(&format!("{text}0")).err(),
            Some(AuthError::MalformedApiKey("longer than any API key"))
        );
    }

    #[test]
    fn parts_display_as_written_and_the_secret_never() {
        let prefix = ApiKeyPrefix::new("pal").unwrap();
        assert_eq!(prefix.to_string(), "pal");
        let key = ApiKey::generate(&prefix).unwrap();
        assert_eq!(key.id().to_string(), key.id().as_str());
        assert_eq!(key.id().to_string().len(), ID_LEN);
        assert_eq!(
            format!("{key:?}"),
            format!(
                "ApiKey {{ prefix: \"pal\", id: {:?}, secret: \"[REDACTED]\" }}",
                key.id()
            )
        );
    }

    /// Every base62 symbol is equally likely: 248,000 symbols (4,000 expected each, standard
    /// deviation about 63), each count within 6 standard deviations. Taking byte 248 (it
    /// maps to `0`) would make `0` 25 % more frequent; `/` for `%` would leave 4 symbols.
    #[test]
    fn generated_symbols_are_uniform() {
        let symbols = random_base62(248_000).unwrap();
        assert_eq!(symbols.len(), 248_000);
        let mut counts = [0u32; 62];
        for s in symbols.iter() {
            let i = BASE62.iter().position(|b| b == s).unwrap();
            counts[i] += 1;
        }
        for (i, c) in counts.iter().enumerate() {
            assert!((3_620..=4_380).contains(c), "symbol {i}: {c}");
        }
    }
}
