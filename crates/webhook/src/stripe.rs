//! Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`, where each
//! `v1` is the HMAC-SHA256 of `<t>.<body>` keyed with the endpoint secret.
//!
//! Source: <https://docs.stripe.com/webhooks#verify-manually>. The key is the whole secret
//! string, `whsec_` prefix included, as Stripe's libraries use it. Every `v1` is tried, since
//! Stripe sends one per active secret while a secret is being rolled; `v0` (test-mode legacy)
//! and unknown schemes are ignored.

use crate::encoding::Encoding;
use crate::error::SecretError;
use crate::headers::KnownHeader;
use crate::key::Key;
use crate::lazy::{KeySource, LazyVerified};
use crate::mac::Sink;
use crate::time::{Tolerance, parse_unix_secs};
use crate::verifier::{
    MIN_SECRET_LEN, Message, Request, Scheme, SignedHeaders, first_match, sign_tag,
};
use crate::{Provider, WebhookError, headers};
use palisade_core::HmacAlgorithm;

static HEADER: KnownHeader = KnownHeader::new("Stripe-Signature", "stripe-signature");

/// Stripe's webhook signature scheme.
///
/// ```
/// use palisade_webhook::{Message, Request, Stripe, Verifier};
/// use secrecy::SecretString;
///
/// let v = Verifier::new(
///     Stripe,
///     [SecretString::from("whsec_new_0123456789abcdef"), SecretString::from("whsec_old_0123456789abcdef")],
/// )?;
/// let headers = [("Stripe-Signature", "t=1700000000,v1=deadbeef")];
/// let err = v.verify_at(&Request::new(&headers, b"{}"), 1_700_000_000).unwrap_err();
/// assert_eq!(err.to_string(), "no matching signature");
/// # Ok::<(), palisade_webhook::WebhookError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stripe;

/// The parsed parts of a `Stripe-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeSignatureHeader<'a> {
    /// The `t` element, exactly as sent.
    pub timestamp: &'a str,
    /// The `v1` elements, as sent (hex), in order.
    pub v1: Vec<&'a str>,
}

impl<'a> StripeSignatureHeader<'a> {
    /// Parses a header value: comma-separated `key=value` elements, spaces around them
    /// ignored, exactly one `t`, one to [`STRIPE_MAX_V1`](crate::STRIPE_MAX_V1) `v1`; other keys
    /// are ignored.
    ///
    /// # Errors
    /// [`WebhookError::MalformedHeader`] naming what is wrong.
    pub fn parse(value: &'a str) -> Result<Self, WebhookError> {
        let scan = Scan::of(value)?;
        Ok(Self {
            timestamp: scan.t,
            v1: scan.v1().to_vec(),
        })
    }
}

/// Most `v1` signatures accepted in one header. Stripe sends one per active endpoint secret:
/// two while a secret is being rolled.
pub const MAX_V1: usize = 8;

/// One pass over the header, without allocating.
struct Scan<'a> {
    t: &'a str,
    v1: [&'a str; MAX_V1],
    n: usize,
}

impl<'a> Scan<'a> {
    fn of(value: &'a str) -> Result<Self, WebhookError> {
        let mut t = None;
        let mut v1 = [""; MAX_V1];
        let mut n = 0;
        for (k, v) in elements(value) {
            match k {
                "t" if t.is_some() => {
                    return Err(WebhookError::malformed(
                        HEADER.as_str(),
                        "more than one `t` element",
                    ));
                }
                "t" => t = Some(v),
                "v1" => {
                    let slot = v1.get_mut(n).ok_or_else(|| {
                        WebhookError::malformed(HEADER.as_str(), "more than 8 `v1` signatures")
                    })?;
                    *slot = v;
                    n += 1;
                }
                _ => {}
            }
        }
        let t = t.ok_or_else(|| WebhookError::malformed(HEADER.as_str(), "no `t` element"))?;
        if n == 0 {
            return Err(WebhookError::malformed(
                HEADER.as_str(),
                "no `v1` signature",
            ));
        }
        Ok(Self { t, v1, n })
    }

    fn v1(&self) -> &[&'a str] {
        self.v1.get(..self.n).unwrap_or(&[])
    }
}

fn elements(value: &str) -> impl Iterator<Item = (&str, &str)> {
    value
        .split(',')
        .filter_map(|item| item.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
}

impl Scheme for Stripe {
    fn provider(&self) -> Provider {
        Provider::Stripe
    }

    /// The whole secret, `whsec_` included, is the HMAC key (as Stripe's libraries use it);
    /// at least [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN) bytes must follow the prefix.
    fn parse_secret(&self, secret: &str) -> Result<Key, SecretError> {
        let material = secret.strip_prefix("whsec_").unwrap_or(secret);
        SecretError::check_len(material.len(), MIN_SECRET_LEN)?;
        Ok(Key::hmac(secret.as_bytes()))
    }

    fn verify_lazy<'a>(
        &'a self,
        keys: &[Key],
        request: &Request<'a>,
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<LazyVerified<'a>, WebhookError> {
        let value = headers::required(request.headers, &HEADER)?;
        let scan = Scan::of(value)?;
        let t = scan.t;
        let timestamp = parse_unix_secs(t)
            .ok_or_else(|| WebhookError::malformed(HEADER.as_str(), "`t` is not a whole number"))?;
        tolerance.check(timestamp, now)?;

        // Decode every `v1` once; one that is not 64 hex digits can match nothing.
        let mut decoded = [[0u8; 32]; MAX_V1];
        let mut usable = [false; MAX_V1];
        for ((v, out), ok) in scan.v1().iter().zip(&mut decoded).zip(&mut usable) {
            let mut buf = [0u8; 64];
            if let Some(sig) = Encoding::Hex.decode(v, &mut buf).filter(|s| s.len() == 32) {
                out.copy_from_slice(sig);
                *ok = true;
            }
        }
        let feed = |s: &mut dyn Sink| {
            s.put(t.as_bytes());
            s.put(b".");
            s.put(request.body);
        };
        let (secret_index, ()) = first_match(keys, HmacAlgorithm::Sha256, &feed, |tag| {
            decoded
                .iter()
                .zip(&usable)
                .any(|(sig, ok)| *ok && tag.matches(sig))
                .then_some(())
        })
        .ok_or(WebhookError::NoMatchingSignature)?;
        // The key is a hash of the signed content (`t.body`), never of the matching signature:
        // during a secret roll one delivery carries one `v1` per secret, and a key taken from
        // the signature would change with the `v1` entries kept (`t=T,v1=A,v1=B` re-sent as
        // `t=T,v1=B` would count as a new delivery).
        Ok(LazyVerified::of_signed_body(
            Provider::Stripe,
            Some(timestamp),
            secret_index,
            KeySource::Pieces([t.as_bytes(), b".", request.body]),
        ))
    }

    fn sign(
        &self,
        key: &Key,
        message: &Message<'_>,
        now: i64,
    ) -> Result<SignedHeaders, WebhookError> {
        let t = message.timestamp.unwrap_or(now).to_string();
        let tag = sign_tag(key, HmacAlgorithm::Sha256, &|s| {
            s.put(t.as_bytes());
            s.put(b".");
            s.put(message.body);
        })?;
        let mut out = SignedHeaders::default();
        out.push(
            HEADER.as_str(),
            format!("t={t},v1={}", hex::encode(tag.as_bytes())),
        );
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parsing() {
        let h = StripeSignatureHeader::parse("t=12, v1=aa ,v1=bb,v0=cc,x").unwrap();
        assert_eq!(h.timestamp, "12");
        assert_eq!(h.v1, vec!["aa", "bb"]);
        let many = format!("t=1{}", ",v1=aa".repeat(MAX_V1 + 1));
        for bad in ["", "v1=aa", "t=1", "t=1,t=2,v1=aa", many.as_str()] {
            assert!(StripeSignatureHeader::parse(bad).is_err(), "{bad}");
        }
    }
}
