//! What a successful verification proves.

use std::fmt;

use crate::WebhookError;

/// The senders this crate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Provider {
    /// Standard Webhooks (<https://www.standardwebhooks.com/>), as sent by Svix and others.
    Standard,
    /// Stripe (`Stripe-Signature`).
    Stripe,
    /// GitHub (`X-Hub-Signature-256`).
    GitHub,
    /// Meta Graph API webhooks, including the WhatsApp Cloud API (`X-Hub-Signature-256`).
    Meta,
    /// Slack (`X-Slack-Signature`).
    Slack,
    /// Twilio (`X-Twilio-Signature`).
    Twilio,
    /// Shopify (`X-Shopify-Hmac-Sha256`).
    Shopify,
    /// Vapi (`x-vapi-secret`, or a Vapi HMAC credential).
    Vapi,
    /// Any other sender, through a configurable [`HmacScheme`](crate::HmacScheme).
    Hmac,
}

impl Provider {
    /// Every provider, in declaration order.
    pub const ALL: [Self; 9] = [
        Self::Standard,
        Self::Stripe,
        Self::GitHub,
        Self::Meta,
        Self::Slack,
        Self::Twilio,
        Self::Shopify,
        Self::Vapi,
        Self::Hmac,
    ];

    /// The lowercase name used in configuration and on the command line: `standard`,
    /// `stripe`, `github`, `meta`, `slack`, `twilio`, `shopify`, `vapi`, `hmac`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Stripe => "stripe",
            Self::GitHub => "github",
            Self::Meta => "meta",
            Self::Slack => "slack",
            Self::Twilio => "twilio",
            Self::Shopify => "shopify",
            Self::Vapi => "vapi",
            Self::Hmac => "hmac",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Provider {
    type Err = WebhookError;

    /// Parses the names of [`Provider::as_str`], any case; `svix` and `standard-webhooks`
    /// mean [`Provider::Standard`], `whatsapp` means [`Provider::Meta`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "svix" | "standard-webhooks" | "standardwebhooks" => Ok(Self::Standard),
            "whatsapp" | "facebook" => Ok(Self::Meta),
            other => Self::ALL
                .into_iter()
                .find(|p| p.as_str() == other)
                .ok_or_else(|| WebhookError::config("unknown provider")),
        }
    }
}

/// In bytes: replay-key hash inputs (provider name, zero byte, signed content) of at least this
/// length are hashed with BLAKE3, shorter ones with SHA-256 (8 KiB); see [`ReplayKey`] and
/// `docs/formats.md`, "Webhook replay key".
pub const REPLAY_KEY_BLAKE3_FROM: usize = BLAKE3_FROM;
const BLAKE3_FROM: usize = 8 * 1024;

/// A fixed-size key that identifies one signed delivery, for replay detection.
///
/// It is taken **only from what the signature covers**, so an attacker cannot mint fresh keys
/// for a captured request, and **never from the signature itself**, so it does not depend on
/// which configured secret matched: the same content signed under secret 1 or secret 2 (during
/// a rotation), or a Stripe header re-sent with fewer `v1` entries, yields the same key.
///
/// | provider | key derived from |
/// |---|---|
/// | Standard Webhooks (`webhook-id`), HMAC schemes with a signed message id (`{id}`) | the signed id: inline (a length byte, the id, zero padding) when it is 31 bytes or fewer, otherwise `0xFF` followed by the last 31 bytes of the hash (below) of the provider name, a zero byte and the id. A provider's retry keeps its id, so a retry has the same key |
/// | Stripe | hash of `stripe`, a zero byte, and the signed content `t.body` |
/// | Slack | hash of `slack`, a zero byte, and the signed content `v0:timestamp:body` |
/// | GitHub, Meta, Shopify | hash of the provider name, a zero byte, and the body (the signed content) |
/// | Twilio | hash of `twilio`, a zero byte, the URL without its port, and the sorted form parameters as signed (or nothing more when the URL's `bodySHA256` binds the body), so every URL variant that verifies gives one key |
/// | Vapi HMAC credential, other HMAC schemes without `{id}` | hash of the provider name (`vapi`, `hmac`), a zero byte, and the exact bytes the template signs (timestamp, method, URL, literals, body) |
/// | Vapi `x-vapi-secret` | hash of `vapi`, a zero byte, and the body (which that mode does not sign) |
///
/// The provider name ends at the zero byte (no name contains one), so the hash input is
/// unambiguous: one signed message, one key. Keys are 32 bytes. Replay stores keep each
/// provider (and route) in its own namespace.
///
/// "Hash" above is SHA-256 when its input (provider name, zero byte, content) is shorter than
/// [`REPLAY_KEY_BLAKE3_FROM`] (8 KiB), and BLAKE3 (default hash mode, 256-bit output;
/// <https://github.com/BLAKE3-team/BLAKE3-specs>) from there on. Both are collision-resistant
/// at 128 bits, and the input length, part of the content, picks one deterministically. Below
/// 8 KiB SHA-256 with the CPU's SHA extensions is as fast or faster (BLAKE3 hashes its 1 KiB
/// chunks one after the other there); above, BLAKE3 hashes chunks in parallel with SIMD and
/// costs a fraction of the HMAC. Keys of inputs under 8 KiB are the SHA-256 keys of earlier
/// releases; larger ones changed with issue 19 (see `docs/formats.md`).
///
/// [`Verifier::verify_lazy`](crate::Verifier::verify_lazy) skips the hash altogether when no
/// replay store asks for the key.
///
/// Schemes without a signed timestamp (GitHub, Meta, Shopify, Twilio, Vapi's secret header)
/// see the same bytes again only as a provider retry; a replay store should keep such keys for
/// a long TTL. Schemes with a signed timestamp but no id (Stripe, Slack) sign each retry at a
/// new time, so each attempt has its own key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplayKey([u8; 32]);

impl ReplayKey {
    /// The hash of the provider name, a zero byte and what `feed` writes: SHA-256 when that
    /// is shorter than [`BLAKE3_FROM`] bytes, BLAKE3 from there on.
    pub(crate) fn derive(provider: Provider, feed: &dyn Fn(&mut dyn crate::mac::Sink)) -> Self {
        let name = provider.as_str().as_bytes();
        let input = |sink: &mut dyn crate::mac::Sink| {
            sink.put(name);
            sink.put(&[0]);
            feed(sink);
        };
        let mut len = crate::mac::Counter(0);
        input(&mut len);
        if len.0 < BLAKE3_FROM {
            Self(crate::mac::sha256(&input))
        } else {
            Self(crate::mac::blake3(&input))
        }
    }

    /// A signed message id: the id itself when it fits (31 bytes or fewer: a length byte,
    /// then the id, zero-padded), otherwise the hash of provider, `0x00` and the id, with the
    /// first byte set to `0xFF`, a value no length byte takes, so the two forms never collide. Short ids, such as Svix's
    /// 28-byte `msg_…`, cost no hashing.
    pub(crate) fn from_id(provider: Provider, id: &str) -> Self {
        let bytes = id.as_bytes();
        match u8::try_from(bytes.len()) {
            Ok(len) if len <= 31 => {
                let mut key = [0u8; 32];
                key[0] = len;
                for (dst, src) in key.iter_mut().skip(1).zip(bytes) {
                    *dst = *src;
                }
                Self(key)
            }
            _ => {
                let Self(mut key) = Self::derive(provider, &|s| s.put(bytes));
                key[0] = 0xFF;
                Self(key)
            }
        }
    }

    /// The 32 key bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Builds a key from raw bytes, for stores that persisted [`ReplayKey::as_bytes`].
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for ReplayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplayKey({})", self.to_hex())
    }
}

impl fmt::Display for ReplayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The facts a successful verification establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// Which scheme verified the request.
    pub provider: Provider,
    /// The signed timestamp in Unix seconds, for schemes that sign one (Standard Webhooks,
    /// Stripe, Slack, HMAC schemes with `{timestamp}`); it has passed the tolerance check.
    pub timestamp: Option<i64>,
    /// Replay key derived from signed material only; see [`ReplayKey`].
    pub replay_key: ReplayKey,
    /// Index, in the list given to the verifier, of the secret that matched. During a
    /// rotation, once no request matches the old secret any more, it can be removed.
    pub secret_index: usize,
    /// Whether the signature covers the body. Always `true` except for Vapi's
    /// `x-vapi-secret` mode, which authenticates the sender but not the bytes (HTTPS does).
    pub body_signed: bool,
}

impl Verified {
    /// A verification whose signature covers the body.
    pub(crate) fn body_signed(
        provider: Provider,
        timestamp: Option<i64>,
        replay_key: ReplayKey,
        secret_index: usize,
    ) -> Self {
        Self {
            provider,
            timestamp,
            replay_key,
            secret_index,
            body_signed: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().unwrap(), p);
        }
        assert_eq!("Svix".parse::<Provider>().unwrap(), Provider::Standard);
        assert!("paypal".parse::<Provider>().is_err());
    }

    #[test]
    fn id_keys_are_injective_across_forms() {
        let short = ReplayKey::from_id(Provider::Standard, "msg_p5jXN8AQM9LWM0D4loKWxJek");
        assert_eq!(short.as_bytes()[0], 28);
        assert_eq!(&short.as_bytes()[1..29], b"msg_p5jXN8AQM9LWM0D4loKWxJek");
        let long_id = "m".repeat(32);
        let long = ReplayKey::from_id(Provider::Standard, &long_id);
        assert_eq!(long.as_bytes()[0], 0xFF);
        assert_ne!(
            ReplayKey::from_id(Provider::Standard, &"m".repeat(31)),
            long
        );
        assert_ne!(
            ReplayKey::from_id(Provider::Standard, ""),
            ReplayKey::from_id(Provider::Standard, "\0")
        );
    }

    #[test]
    fn replay_keys_are_domain_separated() {
        let a = ReplayKey::derive(Provider::GitHub, &|s| s.put(b"body"));
        let b = ReplayKey::derive(Provider::Meta, &|s| s.put(b"body"));
        assert_ne!(a, b);
        assert_eq!(a.to_hex().len(), 64);
        assert_eq!(ReplayKey::from_bytes(*a.as_bytes()), a);
    }
}
