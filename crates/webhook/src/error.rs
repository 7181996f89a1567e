//! The one error type of this crate.

use std::borrow::Cow;

/// Why a webhook request was refused, or why a verifier could not be built.
///
/// No variant ever carries a secret, a signature or a body: the messages are safe to log and
/// to return to the caller. Header names are written as the scheme names them; lookups
/// ignore ASCII case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A header the scheme needs is absent (for example `stripe-signature`).
    #[error("missing header `{name}`")]
    MissingHeader {
        /// Name of the absent header.
        name: Cow<'static, str>,
    },
    /// A header is present but cannot be parsed: not visible ASCII, repeated, wrong prefix,
    /// bad hex or base64, a timestamp that is not a whole number of seconds, and so on.
    #[error("malformed header `{name}`: {reason}")]
    MalformedHeader {
        /// Name of the header.
        name: Cow<'static, str>,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signed timestamp is further from `now` than the tolerance allows.
    ///
    /// `skew_secs` is `now - timestamp` in seconds: positive when the request was signed in
    /// the past (too old), negative when it claims to be from the future.
    ///
    /// `Display` says only the direction ("too old" or "in the future"): the message may be
    /// sent to the client, and the skew and tolerance would tell it the server's clock and
    /// the window to aim for. Log the fields (or the `Debug` form) for the operator.
    #[error(
        "timestamp outside tolerance: {}",
        if *skew_secs >= 0 { "too old" } else { "in the future" }
    )]
    TimestampOutsideTolerance {
        /// `now - timestamp`, in seconds.
        skew_secs: i64,
        /// The tolerance that was exceeded in that direction, in seconds.
        tolerance_secs: u64,
    },
    /// The request carries well-formed signatures, but none matches any configured secret.
    #[error("no matching signature")]
    NoMatchingSignature,
    /// The body does not hash to the value the signed material commits to
    /// (Twilio's `bodySHA256` query parameter).
    #[error("body hash mismatch")]
    BodyHashMismatch,
    /// The request has a body that the scheme's signature does not cover (Twilio: neither
    /// form-encoded nor bound by `bodySHA256`), so it is refused rather than accepted
    /// unauthenticated.
    #[error("the body is not covered by the signature")]
    UnsignedBody,
    /// The scheme signs the request URL (Twilio, or a `{url}` template) and none was given.
    #[error("the request URL is required by this scheme and was not given")]
    MissingUrl,
    /// The request URL cannot be used: not absolute `http`/`https`, or unparsable.
    #[error("invalid request URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The scheme signs the HTTP method (a `{method}` template) and none was given.
    #[error("the request method is required by this scheme and was not given")]
    MissingMethod,
    /// A configured secret is unusable (for Standard Webhooks: not base64, or a decoded key
    /// outside 24 to 64 bytes). The secret itself is never shown.
    #[error("invalid secret #{index}: {reason}")]
    InvalidSecret {
        /// Position of the secret in the list given to the verifier, from 0.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A configured secret is shorter than the scheme's minimum (see [`Scheme::parse_secret`](crate::Scheme::parse_secret)
    /// for each provider's): an empty value after a prefix (`whsec_`), a placeholder, a
    /// truncated variable. The secret itself is never shown.
    #[error("secret #{index} is too short: this provider needs at least {min_bytes} bytes")]
    SecretTooShort {
        /// Position of the secret in the list given to the verifier, from 0.
        index: usize,
        /// The scheme's minimum, in bytes of key material (decoded, without a prefix).
        min_bytes: usize,
    },
    /// A verifier was built with no secret at all.
    #[error("no secret configured")]
    NoSecrets,
    /// A scheme configuration is inconsistent (an unknown `{placeholder}` in a message
    /// template, an empty header name, a signing key that cannot sign, …).
    #[error("invalid scheme configuration: {reason}")]
    InvalidConfig {
        /// What is wrong with it.
        reason: Cow<'static, str>,
    },
}

/// Why a [`Scheme`](crate::Scheme) refused one configured secret. [`Verifier::new`](crate::Verifier::new)
/// reports it as [`WebhookError::SecretTooShort`] or [`WebhookError::InvalidSecret`], with the
/// secret's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretError {
    /// Shorter than the scheme's minimum, in bytes of key material (decoded, without a
    /// prefix such as `whsec_`).
    TooShort {
        /// The minimum, in bytes.
        min_bytes: usize,
    },
    /// Unusable for another reason (not base64, too long, not a key of the right kind).
    Invalid(&'static str),
}

impl From<&'static str> for SecretError {
    fn from(reason: &'static str) -> Self {
        Self::Invalid(reason)
    }
}

impl SecretError {
    /// Refuses `len` bytes of key material when fewer than `min_bytes`.
    pub(crate) fn check_len(len: usize, min_bytes: usize) -> Result<(), Self> {
        if len < min_bytes {
            return Err(Self::TooShort { min_bytes });
        }
        Ok(())
    }

    /// The [`WebhookError`] for the secret at `index`.
    pub(crate) fn at(self, index: usize) -> WebhookError {
        match self {
            Self::TooShort { min_bytes } => WebhookError::SecretTooShort { index, min_bytes },
            Self::Invalid(reason) => WebhookError::InvalidSecret { index, reason },
        }
    }
}

impl WebhookError {
    pub(crate) fn malformed(name: impl Into<Cow<'static, str>>, reason: &'static str) -> Self {
        Self::MalformedHeader {
            name: name.into(),
            reason,
        }
    }

    pub(crate) fn missing(name: impl Into<Cow<'static, str>>) -> Self {
        Self::MissingHeader { name: name.into() }
    }

    pub(crate) fn config(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidConfig {
            reason: reason.into(),
        }
    }
}
