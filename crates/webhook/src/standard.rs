//! Standard Webhooks (<https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>),
//! the scheme Svix sends.
//!
//! Headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, or the
//! same with `svix-` names. The signed content is `<id>.<timestamp>.<body>`. The signature
//! header is a space-separated list of `<version>,<base64>` entries, any of which may match:
//! `v1` is HMAC-SHA256 keyed with the base64-decoded secret (`whsec_` prefix optional, padding
//! optional, 24 to 64 bytes once decoded), `v1a` is Ed25519 (feature `ed25519`; public keys
//! `whpk_`, secret keys `whsk_`, base64). Unknown versions are ignored; more than
//! [`MAX_SIGNATURES`] `v1`/`v1a` entries is a malformed header.

use crate::encoding::{Encoding, decode_base64_secret};
use crate::error::SecretError;
use crate::headers::KnownHeader;
use crate::key::{Key, KeyRepr};
use crate::lazy::LazyVerified;
use crate::mac::Sink;
use crate::time::{Tolerance, parse_unix_secs};
use crate::verifier::{Message, Request, Scheme, SignedHeaders, first_match, random_id};
use crate::{Provider, ReplayKey, Verified, WebhookError, headers};
use palisade_core::HmacAlgorithm;

/// Shortest and longest HMAC key the spec allows, in bytes once decoded.
pub const KEY_LEN_RANGE: std::ops::RangeInclusive<usize> = 24..=64;

/// The Standard Webhooks (Svix) signature scheme.
///
/// ```
/// use palisade_webhook::{Request, StandardWebhooks, Verifier};
/// use secrecy::SecretString;
///
/// // From the Standard Webhooks reference libraries' tests.
/// let v = Verifier::new(StandardWebhooks, [SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")])?;
/// let headers = [
///     ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
///     ("webhook-timestamp", "1614265330"),
///     ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
/// ];
/// let ok = v.verify_at(&Request::new(&headers, br#"{"test": 2432232314}"#), 1_614_265_330)?;
/// assert_eq!(ok.timestamp, Some(1_614_265_330));
/// # Ok::<(), palisade_webhook::WebhookError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StandardWebhooks;

struct Names {
    id: KnownHeader,
    timestamp: KnownHeader,
    signature: KnownHeader,
}

static WEBHOOK: Names = Names {
    id: KnownHeader::new("webhook-id", "webhook-id"),
    timestamp: KnownHeader::new("webhook-timestamp", "webhook-timestamp"),
    signature: KnownHeader::new("webhook-signature", "webhook-signature"),
};
static SVIX: Names = Names {
    id: KnownHeader::new("svix-id", "svix-id"),
    timestamp: KnownHeader::new("svix-timestamp", "svix-timestamp"),
    signature: KnownHeader::new("svix-signature", "svix-signature"),
};

/// The header set in use and its message id: `webhook-*` when `webhook-id` is present,
/// otherwise `svix-*` when `svix-id` is, otherwise `webhook-id` is reported missing.
fn names_and_id(headers: &dyn headers::Headers) -> Result<(&'static Names, &str), WebhookError> {
    if let Some(id) = headers::optional(headers, &WEBHOOK.id)? {
        return Ok((&WEBHOOK, id));
    }
    match headers::optional(headers, &SVIX.id)? {
        Some(id) => Ok((&SVIX, id)),
        None => Err(WebhookError::missing(WEBHOOK.id.as_str())),
    }
}

/// Most signatures (`v1` and `v1a` entries together) accepted in one signature header, as
/// for Stripe ([`STRIPE_MAX_V1`](crate::STRIPE_MAX_V1)). A sender adds one per active secret
/// or key, two while one is rotated; the cap bounds the work an attacker can ask for (each
/// `v1a` entry costs an Ed25519 verification per configured key).
pub const MAX_SIGNATURES: usize = 8;

/// The `(version, signature)` entries of a signature header.
fn entries(value: &str) -> impl Iterator<Item = (&str, &str)> {
    value.split(' ').filter_map(|e| e.split_once(','))
}

/// The signature header's `v1` and `v1a` entries, decoded once, without allocating.
struct Signatures<'a> {
    /// `v1` entries that decode to 32 bytes (others can match nothing).
    v1: [[u8; 32]; MAX_SIGNATURES],
    n_v1: usize,
    /// `v1a` entries, as sent (base64), decoded by the Ed25519 code.
    #[cfg_attr(not(feature = "ed25519"), allow(dead_code))]
    v1a: [&'a str; MAX_SIGNATURES],
    #[cfg_attr(not(feature = "ed25519"), allow(dead_code))]
    n_v1a: usize,
}

impl<'a> Signatures<'a> {
    fn of(value: &'a str, header: &'static str) -> Result<Self, WebhookError> {
        let mut out = Self {
            v1: [[0; 32]; MAX_SIGNATURES],
            n_v1: 0,
            v1a: [""; MAX_SIGNATURES],
            n_v1a: 0,
        };
        let mut seen = 0usize;
        for (version, sig) in entries(value) {
            if version != "v1" && version != "v1a" {
                continue; // Unknown versions are ignored, as the spec says.
            }
            seen += 1;
            if seen > MAX_SIGNATURES {
                return Err(WebhookError::malformed(
                    header,
                    "more than 8 `v1`/`v1a` signatures",
                ));
            }
            if version == "v1a" {
                if let Some(slot) = out.v1a.get_mut(out.n_v1a) {
                    *slot = sig;
                    out.n_v1a += 1;
                }
                continue;
            }
            let mut buf = [0u8; 64];
            if let Some(tag) = Encoding::Base64
                .decode(sig, &mut buf)
                .filter(|t| t.len() == 32)
                && let Some(slot) = out.v1.get_mut(out.n_v1)
            {
                slot.copy_from_slice(tag);
                out.n_v1 += 1;
            }
        }
        Ok(out)
    }

    fn v1(&self) -> &[[u8; 32]] {
        self.v1.get(..self.n_v1).unwrap_or(&[])
    }

    #[cfg(feature = "ed25519")]
    fn v1a(&self) -> &[&'a str] {
        self.v1a.get(..self.n_v1a).unwrap_or(&[])
    }
}

impl Scheme for StandardWebhooks {
    fn provider(&self) -> Provider {
        Provider::Standard
    }

    /// `whsec_` (optional) and base64 (padding optional) of a 24- to 64-byte key, or with
    /// the `ed25519` feature an Ed25519 key (`whpk_` public, `whsk_` secret).
    fn parse_secret(&self, secret: &str) -> Result<Key, SecretError> {
        if let Some(_rest) = secret
            .strip_prefix("whpk_")
            .or_else(|| secret.strip_prefix("whsk_"))
        {
            #[cfg(feature = "ed25519")]
            return ed25519::parse(secret).map_err(SecretError::Invalid);
            #[cfg(not(feature = "ed25519"))]
            return Err("Ed25519 keys (whpk_/whsk_) need the `ed25519` feature".into());
        }
        let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
        let key = decode_base64_secret(b64).ok_or("not valid base64 after the `whsec_` prefix")?;
        SecretError::check_len(key.len(), *KEY_LEN_RANGE.start())?;
        if key.len() > *KEY_LEN_RANGE.end() {
            return Err("decoded key must be 24 to 64 bytes".into());
        }
        Ok(Key::hmac(&key))
    }

    fn verify_lazy<'a>(
        &'a self,
        keys: &[Key],
        request: &Request<'a>,
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<LazyVerified<'a>, WebhookError> {
        let (n, id) = names_and_id(request.headers)?;
        let ts = headers::required(request.headers, &n.timestamp)?;
        let sigs = headers::required(request.headers, &n.signature)?;
        if id.is_empty() {
            return Err(WebhookError::malformed(n.id.as_str(), "empty message id"));
        }
        let timestamp = parse_unix_secs(ts).ok_or_else(|| {
            WebhookError::malformed(n.timestamp.as_str(), "not a whole number of seconds")
        })?;
        tolerance.check(timestamp, now)?;

        let feed = |s: &mut dyn Sink| {
            s.put(id.as_bytes());
            s.put(b".");
            s.put(ts.as_bytes());
            s.put(b".");
            s.put(request.body);
        };
        let signatures = Signatures::of(sigs, n.signature.as_str())?;
        let hmac_match = first_match(keys, HmacAlgorithm::Sha256, &feed, |tag| {
            signatures
                .v1()
                .iter()
                .any(|sig| tag.matches(sig))
                .then_some(())
        });
        let secret_index = match hmac_match {
            Some((i, ())) => i,
            None => asymmetric_match(
                keys,
                &signatures,
                &feed,
                id.len() + ts.len() + request.body.len() + 2,
            )
            .ok_or(WebhookError::NoMatchingSignature)?,
        };
        Ok(LazyVerified::from(Verified::body_signed(
            Provider::Standard,
            Some(timestamp),
            ReplayKey::from_id(Provider::Standard, id),
            secret_index,
        )))
    }

    fn sign(
        &self,
        key: &Key,
        message: &Message<'_>,
        now: i64,
    ) -> Result<SignedHeaders, WebhookError> {
        let generated;
        let id = match message.id {
            Some(id) => id,
            None => {
                generated = random_id()?;
                &generated
            }
        };
        let ts = message.timestamp.unwrap_or(now).to_string();
        let feed = |s: &mut dyn Sink| {
            s.put(id.as_bytes());
            s.put(b".");
            s.put(ts.as_bytes());
            s.put(b".");
            s.put(message.body);
        };
        let signature = match &key.0 {
            KeyRepr::Hmac(_) => {
                let tag = crate::verifier::sign_tag(key, HmacAlgorithm::Sha256, &feed)?;
                format!("v1,{}", Encoding::Base64.encode(tag.as_bytes()))
            }
            #[cfg(feature = "ed25519")]
            _ => ed25519::sign(key, &feed)?,
        };
        let mut out = SignedHeaders::default();
        out.push(WEBHOOK.id.as_str(), id);
        out.push(WEBHOOK.timestamp.as_str(), ts);
        out.push(WEBHOOK.signature.as_str(), signature);
        Ok(out)
    }
}

#[cfg(not(feature = "ed25519"))]
fn asymmetric_match(
    _: &[Key],
    _: &Signatures<'_>,
    _: &dyn Fn(&mut dyn Sink),
    _: usize,
) -> Option<usize> {
    None
}

#[cfg(feature = "ed25519")]
use ed25519::asymmetric_match;

#[cfg(feature = "ed25519")]
mod ed25519 {
    //! `v1a`: Ed25519 (RFC 8032) over the same signed content.

    use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

    use super::{MAX_SIGNATURES, Signatures};
    use crate::WebhookError;
    use crate::encoding::{Encoding, decode_base64_secret};
    use crate::key::{Key, KeyRepr};
    use crate::mac::Sink;

    pub(super) fn parse(secret: &str) -> Result<Key, &'static str> {
        if let Some(b64) = secret.strip_prefix("whpk_") {
            let bytes = decode_base64_secret(b64).ok_or("not valid base64 after `whpk_`")?;
            let arr: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| "an Ed25519 public key is 32 bytes")?;
            let vk = VerifyingKey::from_bytes(&arr).map_err(|_| "not an Ed25519 public key")?;
            return Ok(Key(KeyRepr::Ed25519Public(vk)));
        }
        let b64 = secret
            .strip_prefix("whsk_")
            .ok_or("expected `whpk_` or `whsk_`")?;
        let bytes = decode_base64_secret(b64).ok_or("not valid base64 after `whsk_`")?;
        // Either the 32-byte seed, or seed followed by the public key (64 bytes).
        let seed: [u8; 32] = bytes
            .get(..32)
            .and_then(|s| s.try_into().ok())
            .filter(|_| bytes.len() == 32 || bytes.len() == 64)
            .ok_or("an Ed25519 secret key is 32 bytes (or 64 with its public key)")?;
        let sk = SigningKey::from_bytes(&seed);
        if let Some(public) = bytes.get(32..64)
            && sk.verifying_key().as_bytes() != public
        {
            return Err("the public half does not belong to this Ed25519 secret key");
        }
        Ok(Key(KeyRepr::Ed25519Secret(Box::new(sk))))
    }

    fn content(feed: &dyn Fn(&mut dyn Sink), len: usize) -> Vec<u8> {
        let mut buf = Vec::with_capacity(len);
        feed(&mut buf);
        buf
    }

    /// The index of the first Ed25519 key for which some `v1a` entry verifies.
    ///
    /// Pure Ed25519 (RFC 8032 §5.1.7) hashes `R ‖ A ‖ message`, the signature's `R` and the
    /// key `A` first, so no hash of the message can be shared between signatures or keys.
    /// What is shared: the signed content is assembled once (only when some key is Ed25519
    /// and some entry is `v1a`), each entry is decoded once, and an entry repeated in the
    /// header is verified once; the entries are capped at
    /// [`MAX_SIGNATURES`](super::MAX_SIGNATURES).
    pub(super) fn asymmetric_match(
        keys: &[Key],
        signatures: &Signatures<'_>,
        feed: &dyn Fn(&mut dyn Sink),
        len: usize,
    ) -> Option<usize> {
        let mut decoded: [Option<Signature>; MAX_SIGNATURES] = [None; MAX_SIGNATURES];
        let mut n = 0;
        for sig in signatures.v1a() {
            let mut buf = [0u8; 64];
            let Some(s) = Encoding::Base64
                .decode(sig, &mut buf)
                .and_then(|b| Signature::from_slice(b).ok())
            else {
                continue;
            };
            if decoded.iter().flatten().any(|d| *d == s) {
                continue;
            }
            if let Some(slot) = decoded.get_mut(n) {
                *slot = Some(s);
                n += 1;
            }
        }
        if n == 0 {
            return None;
        }
        let mut msg = None;
        keys.iter().enumerate().find_map(|(i, key)| {
            let vk = match &key.0 {
                KeyRepr::Ed25519Public(vk) => *vk,
                KeyRepr::Ed25519Secret(sk) => sk.verifying_key(),
                KeyRepr::Hmac(_) => return None,
            };
            let msg: &Vec<u8> = msg.get_or_insert_with(|| content(feed, len));
            decoded
                .iter()
                .flatten()
                .any(|s| vk.verify_strict(msg, s).is_ok())
                .then_some(i)
        })
    }

    pub(super) fn sign(key: &Key, feed: &dyn Fn(&mut dyn Sink)) -> Result<String, WebhookError> {
        match &key.0 {
            KeyRepr::Ed25519Secret(sk) => Ok(format!(
                "v1a,{}",
                Encoding::Base64.encode(&sk.sign(&content(feed, 0)).to_bytes())
            )),
            _ => Err(WebhookError::config(
                "an Ed25519 public key (whpk_) can verify but not sign",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_checked() {
        let s = StandardWebhooks;
        assert!(
            s.parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                .is_ok()
        );
        assert!(s.parse_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        // Unpadded base64 of 25 bytes.
        assert!(
            s.parse_secret("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ")
                .is_ok()
        );
        assert_eq!(
            s.parse_secret("whsec_c2hvcnQ=").unwrap_err(),
            SecretError::TooShort { min_bytes: 24 }
        );
        assert_eq!(
            s.parse_secret(&format!("whsec_{}", "A".repeat(88)))
                .unwrap_err(),
            SecretError::Invalid("decoded key must be 24 to 64 bytes")
        );
        assert!(s.parse_secret("whsec_!!!").is_err());
    }
}
