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
use crate::headers::KnownHeader;
use crate::hmac_scheme::{HmacScheme, Part};
use crate::key::Key;
use crate::mac::{Algorithm, Sink};
use crate::time::Tolerance;
use crate::verifier::{Message, Request, Scheme, SignedHeaders};
use crate::{Provider, ReplayKey, Verified, WebhookError, headers};

static SECRET_HEADER: KnownHeader = KnownHeader::new("x-vapi-secret", "x-vapi-secret");
static SIGNATURE: KnownHeader = KnownHeader::new("x-signature", "x-signature");
static TIMESTAMP: KnownHeader = KnownHeader::new("x-timestamp", "x-timestamp");

/// Vapi's request authentication.
///
/// - [`Vapi::server_secret`]: only `x-vapi-secret`, compared in constant time.
/// - [`Vapi::hmac`]: only a Vapi HMAC credential, described as an [`HmacScheme`]
///   ([`Vapi::default_hmac_plan`] is Vapi's defaults).
/// - [`Vapi::default`]: `x-vapi-secret` when the request carries it, otherwise the default
///   HMAC plan.
///
/// Signing always produces HMAC headers; the server-secret mode refuses to sign, because its
/// "signature" would be the secret itself.
///
/// ```
/// use palisade_webhook::{Request, Vapi, Verifier};
/// use secrecy::SecretString;
///
/// let v = Verifier::new(Vapi::server_secret(), [SecretString::from("my-server-secret")])?;
/// let headers = [("x-vapi-secret", "my-server-secret")];
/// v.verify(&Request::new(&headers, br#"{"message":{"type":"end-of-call-report"}}"#))?;
/// # Ok::<(), palisade_webhook::WebhookError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vapi {
    accept_server_secret: bool,
    hmac: Option<HmacScheme>,
}

impl Default for Vapi {
    fn default() -> Self {
        Self {
            accept_server_secret: true,
            hmac: Some(Self::default_hmac_plan()),
        }
    }
}

impl Vapi {
    /// Only the `x-vapi-secret` header.
    pub fn server_secret() -> Self {
        Self {
            accept_server_secret: true,
            hmac: None,
        }
    }

    /// Only the HMAC credential described by `plan`.
    pub fn hmac(plan: HmacScheme) -> Self {
        Self {
            accept_server_secret: false,
            hmac: Some(plan),
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
            Algorithm::Sha256,
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
        HmacScheme::builder("x-signature", Algorithm::Sha256, Encoding::Hex)
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

    fn parse_secret(&self, secret: &str) -> Result<Key, &'static str> {
        match &self.hmac {
            Some(plan) if !self.accept_server_secret => plan.parse_secret(secret),
            _ if secret.is_empty() => Err("empty secret"),
            _ => Ok(Key::hmac(secret.as_bytes())),
        }
    }

    fn verify(
        &self,
        keys: &[Key],
        request: &Request<'_>,
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<Verified, WebhookError> {
        // The secret header is read only in the modes that accept it, so a stray or repeated
        // `x-vapi-secret` cannot affect an HMAC-only verifier.
        let presented = if self.accept_server_secret {
            headers::optional(request.headers, &SECRET_HEADER)?
        } else {
            None
        };
        match (presented, &self.hmac) {
            (Some(presented), _) if self.accept_server_secret => {
                // Compare digests so neither the content nor the length of the secret leaks
                // through timing.
                let presented = digest(presented.as_bytes());
                let secret_index = keys
                    .iter()
                    .position(|k| {
                        k.hmac_bytes()
                            .is_some_and(|s| bool::from(digest(s).ct_eq(&presented)))
                    })
                    .ok_or(WebhookError::NoMatchingSignature)?;
                Ok(Verified {
                    provider: Provider::Vapi,
                    timestamp: None,
                    replay_key: ReplayKey::derive(Provider::Vapi, &|s: &mut dyn Sink| {
                        s.put(request.body);
                    }),
                    secret_index,
                    body_signed: false,
                })
            }
            (_, Some(plan)) => plan.verify(keys, request, now, tolerance),
            (None, None) => Err(WebhookError::missing(SECRET_HEADER.as_str())),
            (Some(_), None) => Err(WebhookError::NoMatchingSignature),
        }
    }

    fn sign(
        &self,
        key: &Key,
        message: &Message<'_>,
        now: i64,
    ) -> Result<SignedHeaders, WebhookError> {
        match &self.hmac {
            Some(plan) => plan.sign(key, message, now),
            // The server-secret mode sends the secret itself; nothing is signed, and this
            // crate never writes a secret into headers or output.
            None => Err(WebhookError::config(
                "Vapi's server-secret mode sends the secret itself and has nothing to sign; use an HMAC plan",
            )),
        }
    }
}
