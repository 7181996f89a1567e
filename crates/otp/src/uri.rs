//! `otpauth://` Key URIs, Google Authenticator's Key Uri Format:
//! <https://github.com/google/google-authenticator/wiki/Key-Uri-Format>.
//!
//! `otpauth://TYPE/LABEL?PARAMETERS`, `TYPE` `totp` or `hotp`, `LABEL` `issuer:account` or
//! `account` (percent-encoded, the colon literal or `%3A`, spaces allowed after it),
//! parameters `secret` (base32, required), `issuer`, `algorithm` (`SHA1`, `SHA256`,
//! `SHA512`), `digits` (6–8), `period` (TOTP, seconds) and `counter` (HOTP, required).

use std::borrow::Cow;
use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use secrecy::ExposeSecret;
use zeroize::Zeroize;

use crate::error::OtpError;
use palisade_core::HmacAlgorithm;

use crate::hotp::{DEFAULT_STEP, OtpSecret};

/// Everything but RFC 3986's unreserved characters and `@` (allowed in a path and a query)
/// is percent-encoded: a space is `%20`, as in the Key Uri Format's examples, `:` is `%3A`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'@')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Longest URI parsed, in bytes.
pub const MAX_URI_LEN: usize = 4096;

/// TOTP or HOTP, with the parameter that only that kind has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtpKind {
    /// `totp`, with its `period` in seconds (30 when absent).
    Totp {
        /// The time step, in seconds.
        period: u64,
    },
    /// `hotp`, with its initial `counter`.
    Hotp {
        /// The initial counter.
        counter: u64,
    },
}

/// An `otpauth://` Key URI: what an authenticator app's QR code holds.
#[derive(Debug, Clone)]
pub struct KeyUri {
    /// TOTP (with its period) or HOTP (with its counter).
    pub kind: OtpKind,
    /// The provider or service (`ACME Co`); in the label prefix and the `issuer` parameter.
    pub issuer: Option<String>,
    /// The account name (`john.doe@email.com`).
    pub account: String,
    /// The shared secret.
    pub secret: OtpSecret,
    /// The HMAC algorithm (SHA-1 by default).
    pub algorithm: HmacAlgorithm,
    /// The number of digits (6 by default).
    pub digits: u8,
}

impl KeyUri {
    /// A TOTP URI with the defaults authenticator apps assume (SHA-1, 6 digits, 30 s).
    pub fn totp(issuer: Option<String>, account: impl Into<String>, secret: OtpSecret) -> Self {
        Self {
            kind: OtpKind::Totp {
                period: DEFAULT_STEP,
            },
            issuer,
            account: account.into(),
            secret,
            algorithm: HmacAlgorithm::Sha1,
            digits: 6,
        }
    }

    /// The URI. The issuer is written both as the label prefix and as the `issuer`
    /// parameter (the format's recommendation); `algorithm`, `digits` and `period` always.
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidUri`] when the issuer or the account contains a colon (the format
    /// forbids it), the account is empty, or the URI would be longer than [`MAX_URI_LEN`]
    /// (percent-encoding makes a non-ASCII name up to three times longer), which
    /// [`parse`](Self::parse) would refuse: what this writes always parses back.
    pub fn to_uri(&self) -> Result<String, OtpError> {
        if self.account.is_empty() {
            return Err(OtpError::InvalidUri("empty account name"));
        }
        if self.account.contains(':') || self.issuer.as_deref().is_some_and(|i| i.contains(':')) {
            return Err(OtpError::InvalidUri(
                "issuer and account may not contain a colon",
            ));
        }
        if self.issuer.is_none() && matches!(self.account.as_str(), "." | "..") {
            // The label is the URI's path: a lone `.` or `..` is a dot segment, which every
            // WHATWG parser removes, so the account would be lost on the way back.
            return Err(OtpError::InvalidUri(
                "an account named . or .. needs an issuer (a lone dot segment is dropped)",
            ));
        }
        let (kind, extra) = match self.kind {
            OtpKind::Totp { period } => ("totp", format!("&period={period}")),
            OtpKind::Hotp { counter } => ("hotp", format!("&counter={counter}")),
        };
        let mut out = format!("otpauth://{kind}/");
        if let Some(issuer) = &self.issuer {
            let _ = write!(out, "{}:", utf8_percent_encode(issuer, COMPONENT));
        }
        let _ = write!(
            out,
            "{}?secret={}",
            utf8_percent_encode(&self.account, COMPONENT),
            self.secret.to_base32().expose_secret()
        );
        if let Some(issuer) = &self.issuer {
            let _ = write!(out, "&issuer={}", utf8_percent_encode(issuer, COMPONENT));
        }
        let _ = write!(
            out,
            "&algorithm={}&digits={}{extra}",
            self.algorithm.uri_name(),
            self.digits
        );
        if out.len() > MAX_URI_LEN {
            // It holds the secret: wiped, not just dropped.
            out.zeroize();
            return Err(OtpError::InvalidUri("longer than 4096 bytes"));
        }
        Ok(out)
    }

    /// Parses a Key URI. The `issuer` parameter wins over a label prefix; when both are
    /// present they must be equal.
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidUri`] saying what is wrong: not an `otpauth` URI, an unknown type,
    /// no label or account, no or an invalid `secret`, an unknown `algorithm`, `digits` outside
    /// 6–8, a `period` of 0, a missing HOTP `counter`, a repeated parameter, an issuer
    /// mismatch, over 4,096 bytes.
    pub fn parse(input: &str) -> Result<Self, OtpError> {
        if input.len() > MAX_URI_LEN {
            return Err(OtpError::InvalidUri("longer than 4096 bytes"));
        }
        let url = url::Url::parse(input).map_err(|_| OtpError::InvalidUri("not a URI"))?;
        if url.scheme() != "otpauth" {
            return Err(OtpError::InvalidUri("the scheme is not otpauth"));
        }
        let kind = url
            .host_str()
            .ok_or(OtpError::InvalidUri("no type (totp or hotp)"))?
            .to_ascii_lowercase();
        let label = url
            .path()
            .strip_prefix('/')
            .ok_or(OtpError::InvalidUri("no label"))?;
        let label = percent_decode_str(label)
            .decode_utf8()
            .map_err(|_| OtpError::InvalidUri("the label is not UTF-8"))?;
        let (prefix, account) = match label.split_once(':') {
            Some((issuer, account)) => (Some(issuer.to_owned()), account.trim_start().to_owned()),
            None => (None, label.into_owned()),
        };
        if account.is_empty() {
            return Err(OtpError::InvalidUri("no account name"));
        }

        let mut secret = None;
        let mut issuer = None;
        let mut algorithm = None;
        let mut digits = None;
        let mut period = None;
        let mut counter = None;
        for (name, value) in url.query_pairs() {
            let slot: &mut Option<Cow<'_, str>> = match name.as_ref() {
                "secret" => &mut secret,
                "issuer" => &mut issuer,
                "algorithm" => &mut algorithm,
                "digits" => &mut digits,
                "period" => &mut period,
                "counter" => &mut counter,
                _ => continue, // unknown parameters (e.g. `image`) are ignored
            };
            if slot.replace(value).is_some() {
                return Err(OtpError::InvalidUri("a parameter is repeated"));
            }
        }
        let secret = OtpSecret::from_base32(
            secret
                .as_deref()
                .ok_or(OtpError::InvalidUri("no secret parameter"))?,
        )
        .map_err(|_| OtpError::InvalidUri("the secret is not base32"))?;
        let issuer = match (prefix, issuer) {
            (Some(p), Some(i)) if p != i.as_ref() => {
                return Err(OtpError::InvalidUri(
                    "the issuer parameter differs from the label's",
                ));
            }
            (_, Some(i)) => Some(i.into_owned()),
            (p, None) => p,
        };
        let algorithm = match algorithm {
            None => HmacAlgorithm::Sha1,
            Some(a) => {
                HmacAlgorithm::from_name(&a).ok_or(OtpError::InvalidUri("unknown algorithm"))?
            }
        };
        let digits = match digits {
            None => 6,
            Some(d) => d
                .parse::<u8>()
                .ok()
                .filter(|d| (6..=8).contains(d))
                .ok_or(OtpError::InvalidUri("digits must be 6 to 8"))?,
        };
        let kind = match kind.as_str() {
            "totp" => OtpKind::Totp {
                period: match period {
                    None => DEFAULT_STEP,
                    Some(p) => p
                        .parse::<u64>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or(OtpError::InvalidUri("period must be a positive integer"))?,
                },
            },
            "hotp" => OtpKind::Hotp {
                counter: counter
                    .ok_or(OtpError::InvalidUri("hotp needs a counter"))?
                    .parse::<u64>()
                    .map_err(|_| OtpError::InvalidUri("counter must be an integer"))?,
            },
            _ => return Err(OtpError::InvalidUri("the type is neither totp nor hotp")),
        };
        Ok(Self {
            kind,
            issuer,
            account,
            secret,
            algorithm,
            digits,
        })
    }
}
