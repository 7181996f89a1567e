//! Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`, where each
//! `v1` is the HMAC-SHA256 of `<t>.<body>` keyed with the endpoint secret.
//!
//! Source: <https://docs.stripe.com/webhooks#verify-manually>. The key is the whole secret
//! string, `whsec_` prefix included, as Stripe's libraries use it. Every `v1` is tried, since
//! Stripe sends one per active secret while a secret is being rolled; `v0` (test-mode legacy)
//! and unknown schemes are ignored.

use crate::encoding::Encoding;
use crate::key::Key;
use crate::mac::{Algorithm, Sink};
use crate::time::{Tolerance, parse_unix_secs};
use crate::verifier::{Message, Request, Scheme, SignedHeaders, first_match, sign_tag};
use crate::{Provider, ReplayKey, Verified, WebhookError, headers};

const HEADER: &str = "Stripe-Signature";

/// Stripe's webhook signature scheme.
///
/// ```
/// use palisade_webhook::{Message, Request, Stripe, Verifier};
/// use secrecy::SecretString;
///
/// let v = Verifier::new(Stripe, [SecretString::from("whsec_new"), SecretString::from("whsec_old")])?;
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
    /// ignored, exactly one `t`, at least one `v1`; other keys are ignored.
    ///
    /// # Errors
    /// [`WebhookError::MalformedHeader`] naming what is wrong.
    pub fn parse(value: &'a str) -> Result<Self, WebhookError> {
        Ok(Self {
            timestamp: checked_timestamp(value)?,
            v1: elements(value)
                .filter(|(k, _)| *k == "v1")
                .map(|(_, v)| v)
                .collect(),
        })
    }
}

/// Checks the header's shape without allocating (exactly one `t`, at least one `v1`) and
/// returns the `t` element.
fn checked_timestamp(value: &str) -> Result<&str, WebhookError> {
    let mut t = None;
    let mut any_v1 = false;
    for (k, v) in elements(value) {
        match k {
            "t" if t.is_some() => {
                return Err(WebhookError::malformed(HEADER, "more than one `t` element"));
            }
            "t" => t = Some(v),
            "v1" => any_v1 = true,
            _ => {}
        }
    }
    let t = t.ok_or_else(|| WebhookError::malformed(HEADER, "no `t` element"))?;
    if !any_v1 {
        return Err(WebhookError::malformed(HEADER, "no `v1` signature"));
    }
    Ok(t)
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

    fn verify(
        &self,
        keys: &[Key],
        request: &Request<'_>,
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<Verified, WebhookError> {
        let value = headers::required(request.headers, HEADER)?;
        let t = checked_timestamp(value)?;
        let timestamp = parse_unix_secs(t)
            .ok_or_else(|| WebhookError::malformed(HEADER, "`t` is not a whole number"))?;
        tolerance.check(timestamp, now)?;

        let feed = |s: &mut dyn Sink| {
            s.put(t.as_bytes());
            s.put(b".");
            s.put(request.body);
        };
        let mut buf = [0u8; 64];
        let (secret_index, replay_key) = first_match(keys, Algorithm::Sha256, &feed, |tag| {
            elements(value)
                .filter(|(k, _)| *k == "v1")
                .find_map(|(_, v)| {
                    let sig = Encoding::Hex.decode(v, &mut buf)?;
                    tag.matches(sig)
                        .then(|| ReplayKey::from_tag(tag.as_bytes()))
                })
        })
        .ok_or(WebhookError::NoMatchingSignature)?;
        Ok(Verified::body_signed(
            Provider::Stripe,
            Some(timestamp),
            replay_key,
            secret_index,
        ))
    }

    fn sign(
        &self,
        key: &Key,
        message: &Message<'_>,
        now: i64,
    ) -> Result<SignedHeaders, WebhookError> {
        let t = message.timestamp.unwrap_or(now).to_string();
        let tag = sign_tag(key, Algorithm::Sha256, &|s| {
            s.put(t.as_bytes());
            s.put(b".");
            s.put(message.body);
        })?;
        let mut out = SignedHeaders::default();
        out.push(HEADER, format!("t={t},v1={}", hex::encode(tag.as_bytes())));
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
        for bad in ["", "v1=aa", "t=1", "t=1,t=2,v1=aa"] {
            assert!(StripeSignatureHeader::parse(bad).is_err(), "{bad}");
        }
    }
}
