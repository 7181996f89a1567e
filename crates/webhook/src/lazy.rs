//! A successful verification whose replay key is computed only when asked for.

use std::fmt;

use crate::hmac_scheme::HmacScheme;
use crate::mac::Sink;
use crate::{Provider, ReplayKey, Verified};

/// What a successful verification establishes, as [`Verified`], except that the replay key
/// is derived only when [`replay_key`](Self::replay_key) (or
/// [`into_verified`](Self::into_verified)) asks for it.
///
/// For schemes whose key is a hash of the signed content (GitHub, Meta, Shopify, Stripe,
/// Slack, HMAC schemes without `{id}`), that hash is a second pass over the body, as long as
/// the HMAC's own: a service that keeps no replay store (or refuses a request before claiming
/// it) does not pay it. The key, when computed, is the same [`ReplayKey`] as
/// [`Verified::replay_key`], from signed material only and independent of the matching secret.
///
/// It borrows the request (headers, body) and the verifier, so it lives no longer than they do.
///
/// ```
/// use palisade_webhook::{GitHub, Request, Verifier};
/// use secrecy::SecretString;
///
/// let v = Verifier::new(GitHub::new(), [SecretString::from("It's a Secret to Everybody")])?;
/// let headers = [(
///     "X-Hub-Signature-256",
///     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
/// )];
/// let request = Request::new(&headers, b"Hello, World!");
/// let checked = v.verify_lazy(&request)?; // one HMAC, no hash of the body
/// assert_eq!(checked.secret_index(), 0);
/// // The key, only if a replay store needs it: the one `verify` returns.
/// assert_eq!(checked.replay_key(), v.verify(&request)?.replay_key);
/// # Ok::<(), palisade_webhook::WebhookError>(())
/// ```
#[derive(Clone, Copy)]
pub struct LazyVerified<'a> {
    provider: Provider,
    timestamp: Option<i64>,
    secret_index: usize,
    body_signed: bool,
    key: KeySource<'a>,
}

/// Where the replay key comes from.
#[derive(Clone, Copy)]
pub(crate) enum KeySource<'a> {
    /// Already known (a signed id, or a scheme that derives its key eagerly).
    Ready(ReplayKey),
    /// A hash of what an [`HmacScheme`] template signs, with these values.
    Template {
        scheme: &'a HmacScheme,
        body: &'a [u8],
        timestamp: &'a str,
        method: &'a str,
        url: &'a str,
    },
    /// A hash of these pieces, in order (Stripe's `t`, `.`, body).
    Pieces([&'a [u8]; 3]),
}

impl<'a> LazyVerified<'a> {
    /// A verification of a body-signing scheme.
    pub(crate) fn of_signed_body(
        provider: Provider,
        timestamp: Option<i64>,
        secret_index: usize,
        key: KeySource<'a>,
    ) -> Self {
        Self {
            provider,
            timestamp,
            secret_index,
            body_signed: true,
            key,
        }
    }

    /// Which scheme verified the request ([`Verified::provider`]).
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The signed timestamp in Unix seconds, for schemes that sign one; it has passed the
    /// tolerance check ([`Verified::timestamp`]).
    pub fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    /// Index of the secret that matched ([`Verified::secret_index`]).
    pub fn secret_index(&self) -> usize {
        self.secret_index
    }

    /// Whether the signature covers the body (the `body_signed` field of [`Verified`]).
    pub fn body_signed(&self) -> bool {
        self.body_signed
    }

    /// The replay key: computed now (one hash pass over the signed content for the
    /// content-hashed schemes, nothing for a signed id), equal to [`Verified::replay_key`].
    pub fn replay_key(&self) -> ReplayKey {
        match self.key {
            KeySource::Ready(key) => key,
            KeySource::Template {
                scheme,
                body,
                timestamp,
                method,
                url,
            } => ReplayKey::derive(self.provider, &|s: &mut dyn Sink| {
                scheme.feed(s, body, timestamp, "", method, url);
            }),
            KeySource::Pieces(pieces) => ReplayKey::derive(self.provider, &|s: &mut dyn Sink| {
                for p in pieces {
                    s.put(p);
                }
            }),
        }
    }

    /// The [`Verified`] facts, replay key computed.
    pub fn into_verified(self) -> Verified {
        Verified {
            provider: self.provider,
            timestamp: self.timestamp,
            replay_key: self.replay_key(),
            secret_index: self.secret_index,
            body_signed: self.body_signed,
        }
    }
}

impl From<Verified> for LazyVerified<'_> {
    /// A verification whose key is already known.
    fn from(v: Verified) -> Self {
        Self {
            provider: v.provider,
            timestamp: v.timestamp,
            secret_index: v.secret_index,
            body_signed: v.body_signed,
            key: KeySource::Ready(v.replay_key),
        }
    }
}

impl fmt::Debug for LazyVerified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pending key borrows the body, which may hold personal data: never shown.
        f.debug_struct("LazyVerified")
            .field("provider", &self.provider)
            .field("timestamp", &self.timestamp)
            .field("secret_index", &self.secret_index)
            .field("body_signed", &self.body_signed)
            .finish_non_exhaustive()
    }
}
