//! The hash function under HMAC.

use std::fmt;
use std::str::FromStr;

/// The hash function under HMAC (RFC 2104): what a webhook provider signs with (Stripe,
/// GitHub and Standard Webhooks use SHA-256; Twilio and GitHub's legacy header SHA-1), and what
/// HOTP/TOTP codes are computed with (RFC 4226 uses SHA-1; RFC 6238 § 1.2 allows SHA-256 and
/// SHA-512 beside it).
///
/// HMAC-SHA1 remains a secure MAC (its security does not rest on SHA-1's collision
/// resistance), but prefer SHA-256 where the other side allows it. There is no `Default`:
/// HOTP's customary default (SHA-1) is not a webhook's, so each API names its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HmacAlgorithm {
    /// HMAC-SHA1, 20-byte tags.
    Sha1,
    /// HMAC-SHA256, 32-byte tags.
    Sha256,
    /// HMAC-SHA512, 64-byte tags.
    Sha512,
}

impl HmacAlgorithm {
    /// The tag (MAC output) length, in bytes: 20, 32 or 64.
    pub const fn tag_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    /// The lowercase name webhook providers write: `sha1`, `sha256`, `sha512`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// The name in an `otpauth://` Key URI (Google Authenticator's Key URI format):
    /// `SHA1`, `SHA256`, `SHA512`.
    pub const fn uri_name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// Parses `sha1`, `sha256` or `sha512` in any case, with or without a hyphen after `sha`
    /// (`SHA-256`) and an `hmac-` or `hmac_` prefix (`HMAC-SHA256`); `None` for anything else.
    /// Does not allocate: Twilio's verifier parses the name from a request header.
    pub fn from_name(name: &str) -> Option<Self> {
        let bare = strip_prefix_ignore_case(name, "hmac-")
            .or_else(|| strip_prefix_ignore_case(name, "hmac_"))
            .unwrap_or(name);
        let digits = strip_prefix_ignore_case(bare, "sha-")
            .or_else(|| strip_prefix_ignore_case(bare, "sha"))?;
        match digits {
            "1" => Some(Self::Sha1),
            "256" => Some(Self::Sha256),
            "512" => Some(Self::Sha512),
            _ => None,
        }
    }
}

/// `s` without `prefix`, compared ASCII case-insensitively.
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

impl FromStr for HmacAlgorithm {
    type Err = UnknownHmacAlgorithm;

    /// As [`HmacAlgorithm::from_name`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or(UnknownHmacAlgorithm)
    }
}

/// A name that is not one of [`HmacAlgorithm`]'s (the error of its `FromStr`). Its message
/// does not quote the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownHmacAlgorithm;

impl fmt::Display for UnknownHmacAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown HMAC algorithm (expected sha1, sha256 or sha512)")
    }
}

impl std::error::Error for UnknownHmacAlgorithm {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_parse_leniently() {
        for a in [
            HmacAlgorithm::Sha1,
            HmacAlgorithm::Sha256,
            HmacAlgorithm::Sha512,
        ] {
            assert_eq!(HmacAlgorithm::from_name(a.as_str()), Some(a));
            assert_eq!(HmacAlgorithm::from_name(a.uri_name()), Some(a));
            assert_eq!(a.as_str().parse::<HmacAlgorithm>(), Ok(a));
        }
        assert_eq!(HmacAlgorithm::Sha256.tag_len(), 32);
        assert_eq!("SHA-256".parse(), Ok(HmacAlgorithm::Sha256));
        assert_eq!("hmac_sha1".parse(), Ok(HmacAlgorithm::Sha1));
        assert_eq!("HMAC-SHA512".parse(), Ok(HmacAlgorithm::Sha512));
        assert_eq!("Hmac_Sha-1".parse(), Ok(HmacAlgorithm::Sha1));
        assert_eq!("sha-512".parse(), Ok(HmacAlgorithm::Sha512));
        for bad in [
            "md5",
            "",
            "sha",
            "sha-",
            "sha-2-56",
            "sha--256",
            "hmac-",
            "hmac-hmac-sha1",
            "sha256 ",
            "é256",
        ] {
            assert_eq!(
                bad.parse::<HmacAlgorithm>(),
                Err(UnknownHmacAlgorithm),
                "{bad}"
            );
        }
        assert!(!UnknownHmacAlgorithm.to_string().contains("md5"));
    }
}
