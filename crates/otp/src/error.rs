//! The crate's one error type.

use std::time::Duration;

use thiserror::Error;

/// What went wrong in `palisade-otp`. No variant carries a code, a secret or a pepper.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtpError {
    /// A code policy outside what this crate supports (digits 4–10, Crockford base32 11–32
    /// characters), or an attempt limit or expiry of 0.
    #[error("invalid code policy: {0}")]
    InvalidPolicy(&'static str),
    /// A pepper shorter than 32 bytes, an empty or over-long pepper id, or a keyring without
    /// its current pepper.
    #[error("invalid pepper: {0}")]
    InvalidPepper(&'static str),
    /// The OS random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// A new challenge was asked for before the resend cooldown of the live one ended.
    #[error("a code was sent less than the cooldown ago; retry in {} s", retry_after.as_secs())]
    Cooldown {
        /// Time left before a new code may be issued.
        retry_after: Duration,
    },
    /// The per-subject issue rate limit refused a new challenge.
    #[error("too many codes issued for this subject; retry in {} s", retry_after.as_secs())]
    RateLimited {
        /// Time left before the limit admits a new code.
        retry_after: Duration,
    },
    /// An HOTP/TOTP parameter outside RFC 4226/6238's range as implemented here: digits 6–8,
    /// a step of 0, a secret shorter than 16 bytes (128 bits, RFC 4226 § 4 R6).
    #[error("invalid HOTP/TOTP parameter: {0}")]
    InvalidOtpParameter(&'static str),
    /// A base32 (RFC 4648) secret that does not decode.
    #[error("secret is not valid base32 (RFC 4648)")]
    InvalidBase32,
    /// An `otpauth://` Key URI that does not follow Google Authenticator's Key Uri Format.
    #[error("invalid otpauth:// URI: {0}")]
    InvalidUri(&'static str),
    /// The store could not be reached or answered something unexpected.
    #[error("challenge store unavailable: {0}")]
    StoreUnavailable(String),
}
