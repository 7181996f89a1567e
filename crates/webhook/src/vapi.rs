//! Vapi: the server URL secret sent as `x-vapi-secret`, or a Vapi HMAC credential.
//!
//! Source: Vapi's server authentication documentation (<https://docs.vapi.ai/server-url/server-authentication>)
//! and its `HMACAuthenticationPlan` (algorithm `sha256`/`sha512`/`sha1`, `signatureHeader`
//! default `x-signature`, `timestampHeader` default `x-timestamp`, `signaturePrefix`,
//! `payloadFormat` default `{timestamp}.{body}`, `signatureEncoding` default `hex`,
//! `secretIsBase64`).
//!
//! The shared secret authenticates the sender but does not bind the body (the transport,
//! HTTPS, does that); prefer an HMAC credential where you can configure one.

use std::borrow::Cow;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::encoding::Encoding;
use crate::error::SecretError;
use crate::headers::KnownHeader;
use crate::hmac_scheme::{HmacScheme, Part};
use crate::key::Key;
use crate::lazy::LazyVerified;
use crate::mac::Sink;
use crate::time::Tolerance;
use crate::verifier::{MIN_SECRET_LEN, Message, Request, Scheme, SignedHeaders};
use crate::{Provider, ReplayKey, Verified, WebhookError, headers};
use palisade_core::HmacAlgorithm;

static SECRET_HEADER: KnownHeader = KnownHeader::new("x-vapi-secret", "x-vapi-secret");
static SIGNATURE: KnownHeader = KnownHeader::new("x-signature", "x-signature");
static TIMESTAMP: KnownHeader = KnownHeader::new("x-timestamp", "x-timestamp");

/// Vapi's request authentication, in one explicit mode.
///
/// - [`Vapi::server_secret`]: only `x-vapi-secret`, compared in constant time. It
///   authenticates the sender but signs neither the body nor a time; HTTPS carries the rest.
/// - [`Vapi::hmac`]: only a Vapi HMAC credential, described as an [`HmacScheme`]
///   ([`Vapi::default_hmac_plan`] is Vapi's defaults). A request carrying `x-vapi-secret` is
///   verified by its HMAC headers alone; the secret header is not read.
///
/// There is no default that accepts both: a verifier holding an HMAC credential must not
/// also accept the weaker secret-header mode, where a leaked secret is enough to forge any
/// body. ([`AnyScheme::for_provider`](crate::AnyScheme::for_provider) picks the HMAC mode with
/// the default plan.)
///
/// Signing produces HMAC headers; the server-secret mode refuses to sign, because its
/// "signature" would be the secret itself.
///
/// ```
/// use palisade_webhook::{Message, Request, Vapi, Verifier};
/// use secrecy::SecretString;
///
/// let v = Verifier::new(Vapi::server_secret(), [SecretString::from("my-vapi-server-secret")])?;
/// let headers = [("x-vapi-secret", "my-vapi-server-secret")];
/// let body = br#"{"message":{"type":"end-of-call-report"}}"#;
/// v.verify(&Request::new(&headers, body))?;
///
/// let hmac = Verifier::new(
///     Vapi::hmac(Vapi::default_hmac_plan()),
///     [SecretString::from("my-vapi-hmac-credential")],
/// )?;
/// // The secret header alone is not accepted by an HMAC verifier.
/// assert!(hmac.verify(&Request::new(&headers, body)).is_err());
/// let signed = hmac.sign(&Message::new(body))?;
/// hmac.verify(&Request::new(&signed, body))?;
/// # Ok::<(), palisade_webhook::WebhookError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vapi {
    mode: Mode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    SecretHeader,
    Hmac(HmacScheme),
}

impl Vapi {
    /// Only the `x-vapi-secret` header.
    pub fn server_secret() -> Self {
        Self {
            mode: Mode::SecretHeader,
        }
    }

    /// Only the HMAC credential described by `plan`.
    pub fn hmac(plan: HmacScheme) -> Self {
        Self {
            mode: Mode::Hmac(plan),
        }
    }

    /// Vapi's default HMAC plan: HMAC-SHA256, hex, no prefix, `x-signature` over
    /// `{timestamp}.{body}` with the timestamp (Unix seconds) in `x-timestamp`.
    pub fn default_hmac_plan() -> HmacScheme {
        HmacScheme::fixed(
            Provider::Vapi,
            &SIGNATURE,
            "",
            Encoding::Hex,
            HmacAlgorithm::Sha256,
            &[
                Part::Timestamp,
                Part::Literal(Cow::Borrowed(".")),
                Part::Body,
            ],
            Some(&TIMESTAMP),
        )
    }

    /// A builder preset with Vapi's defaults, to adjust for a custom credential.
    pub fn plan_builder() -> crate::HmacSchemeBuilder {
        HmacScheme::builder("x-signature", HmacAlgorithm::Sha256, Encoding::Hex)
            .timestamp_header("x-timestamp")
            .template("{timestamp}.{body}")
            .provider(Provider::Vapi)
    }
}

fn digest(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

impl Scheme for Vapi {
    fn provider(&self) -> Provider {
        Provider::Vapi
    }

    fn parse_secret(&self, secret: &str) -> Result<Key, SecretError> {
        match &self.mode {
            Mode::Hmac(plan) => plan.parse_secret(secret),
            Mode::SecretHeader => {
                SecretError::check_len(secret.len(), MIN_SECRET_LEN)?;
                Ok(Key::hmac(secret.as_bytes()))
            }
        }
    }

    fn verify_lazy<'a>(
        &'a self,
        keys: &[Key],
        request: &Request<'a>,
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<LazyVerified<'a>, WebhookError> {
        // The secret header is read only in its own mode, so a stray or repeated
        // `x-vapi-secret` cannot affect an HMAC verifier.
        if let Mode::Hmac(plan) = &self.mode {
            return plan.verify_lazy(keys, request, now, tolerance);
        }
        let presented = headers::required(request.headers, &SECRET_HEADER)?;
        // Compare digests so neither the content nor the length of the secret leaks through
        // timing.
        let presented = digest(presented.as_bytes());
        let secret_index = keys
            .iter()
            .position(|k| {
                k.hmac_bytes()
                    .is_some_and(|s| bool::from(digest(s).ct_eq(&presented)))
            })
            .ok_or(WebhookError::NoMatchingSignature)?;
        Ok(LazyVerified::from(Verified {
            provider: Provider::Vapi,
            timestamp: None,
            replay_key: ReplayKey::derive(Provider::Vapi, &|s: &mut dyn Sink| {
                s.put(request.body);
            }),
            secret_index,
            body_signed: false,
        }))
    }

    fn sign(
        &self,
        key: &Key,
        message: &Message<'_>,
        now: i64,
    ) -> Result<SignedHeaders, WebhookError> {
        match &self.mode {
            Mode::Hmac(plan) => plan.sign(key, message, now),
            // The server-secret mode sends the secret itself; nothing is signed, and this
            // crate never writes a secret into headers or output.
            Mode::SecretHeader => Err(WebhookError::config(
                "Vapi's server-secret mode sends the secret itself and has nothing to sign; use an HMAC plan",
            )),
        }
    }
}
