//! The verifier: a scheme, its keys, a tolerance and a clock.

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::error::SecretError;
use crate::headers::{Headers, Lookup};
use crate::key::Key;
use crate::lazy::LazyVerified;
use crate::mac::{Sink, Tag};
use crate::time::Tolerance;
use crate::{Provider, Verified, WebhookError};
use palisade_core::HmacAlgorithm;
use palisade_core::{Clock, SystemClock};

/// The shortest secret accepted where a provider states no minimum, in bytes (128 bits).
pub const MIN_SECRET_LEN: usize = 16;

/// One incoming request, as received: headers, the exact body bytes, and for schemes that
/// sign them, the public URL and the method.
///
/// The body must be the raw bytes off the wire. Never re-serialize parsed JSON: providers
/// sign their own bytes (Meta, for one, escapes non-ASCII as `\uXXXX`), and any re-encoding
/// breaks the signature.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub(crate) headers: &'a dyn Headers,
    pub(crate) body: &'a [u8],
    pub(crate) url: Option<&'a str>,
    pub(crate) method: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request with these headers and raw body bytes (which need not be UTF-8).
    pub fn new(headers: &'a dyn Headers, body: &'a [u8]) -> Self {
        Self {
            headers,
            body,
            url: None,
            method: None,
        }
    }

    /// The absolute URL the sender posted to, as configured on the sender's side (for Twilio,
    /// the URL set in the console, query string included). Required by Twilio and by HMAC
    /// schemes whose template contains `{url}`.
    #[must_use]
    pub fn with_url(mut self, url: &'a str) -> Self {
        self.url = Some(url);
        self
    }

    /// The HTTP method (`POST`), for HMAC schemes whose template contains `{method}`.
    #[must_use]
    pub fn with_method(mut self, method: &'a str) -> Self {
        self.method = Some(method);
        self
    }

    /// The raw body.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies may hold personal data: only their length is shown.
        f.debug_struct("Request")
            .field("body_len", &self.body.len())
            .field("url", &self.url)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// What to sign: the body and, per scheme, a timestamp, a message id, a URL or a method.
#[derive(Clone, Copy, Default)]
pub struct Message<'a> {
    pub(crate) body: &'a [u8],
    pub(crate) timestamp: Option<i64>,
    pub(crate) id: Option<&'a str>,
    pub(crate) url: Option<&'a str>,
    pub(crate) method: Option<&'a str>,
}

impl<'a> Message<'a> {
    /// A message with this body. The timestamp defaults to the verifier's clock, the
    /// Standard Webhooks id to a random `msg_…` value.
    pub fn new(body: &'a [u8]) -> Self {
        Self {
            body,
            ..Self::default()
        }
    }

    /// Signs at this time, in Unix seconds.
    #[must_use]
    pub fn timestamp(mut self, unix_secs: i64) -> Self {
        self.timestamp = Some(unix_secs);
        self
    }

    /// The message id (Standard Webhooks `webhook-id`, `{id}` in HMAC templates).
    #[must_use]
    pub fn id(mut self, id: &'a str) -> Self {
        self.id = Some(id);
        self
    }

    /// The absolute URL the request is sent to (Twilio, `{url}`).
    #[must_use]
    pub fn url(mut self, url: &'a str) -> Self {
        self.url = Some(url);
        self
    }

    /// The HTTP method (`{method}`).
    #[must_use]
    pub fn method(mut self, method: &'a str) -> Self {
        self.method = Some(method);
        self
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("body_len", &self.body.len())
            .field("timestamp", &self.timestamp)
            .field("id", &self.id)
            .field("url", &self.url)
            .field("method", &self.method)
            .finish()
    }
}

/// The headers a provider would send with a signed request, in order.
///
/// `Display` writes one `Name: value` line per header. It also implements [`Headers`], so a
/// signed message can be verified directly.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignedHeaders(pub(crate) Vec<(String, String)>);

impl SignedHeaders {
    pub(crate) fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The `(name, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The value of `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Converts to an [`http::HeaderMap`].
    ///
    /// # Errors
    /// [`WebhookError::InvalidConfig`] if a name or value is not a valid HTTP header (only
    /// possible with a user-configured header name or message id).
    pub fn to_header_map(&self) -> Result<http::HeaderMap, WebhookError> {
        let mut map = http::HeaderMap::with_capacity(self.0.len());
        for (n, v) in &self.0 {
            let name = http::HeaderName::from_bytes(n.as_bytes())
                .map_err(|_| WebhookError::config("header name is not a valid HTTP name"))?;
            let value = http::HeaderValue::from_str(v)
                .map_err(|_| WebhookError::config("header value is not a valid HTTP value"))?;
            map.append(name, value);
        }
        Ok(map)
    }
}

impl fmt::Display for SignedHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, v) in &self.0 {
            writeln!(f, "{n}: {v}")?;
        }
        Ok(())
    }
}

impl Headers for SignedHeaders {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        self.0.as_slice().lookup(name)
    }
}

/// A provider's signature scheme: how to turn secrets into keys, verify, and sign.
///
/// The schemes of this crate are [`StandardWebhooks`](crate::StandardWebhooks),
/// [`Stripe`](crate::Stripe), [`GitHub`](crate::GitHub), [`Meta`](crate::Meta),
/// [`Slack`](crate::Slack), [`Twilio`](crate::Twilio), [`Shopify`](crate::Shopify),
/// [`Vapi`](crate::Vapi), [`HmacScheme`](crate::HmacScheme) for any other sender, and
/// [`AnyScheme`](crate::AnyScheme) to choose one at run time. Use them through [`Verifier`].
///
/// A scheme of your own implements [`provider`](Self::provider),
/// [`verify_lazy`](Self::verify_lazy) and [`sign`](Self::sign); [`verify`](Self::verify) is
/// provided, and [`parse_secret`](Self::parse_secret) has a default. A scheme whose replay key
/// is known once it has verified returns `Ok(LazyVerified::from(verified))`.
pub trait Scheme: Send + Sync {
    /// Which provider this scheme implements.
    fn provider(&self) -> Provider;

    /// Turns one configured secret into a key. The default uses the secret's UTF-8 bytes as
    /// an HMAC key, which is what most providers do, and refuses fewer than
    /// [`MIN_SECRET_LEN`] (16) bytes.
    ///
    /// Each provider's minimum, in bytes of key material:
    ///
    /// | scheme | minimum | why |
    /// |---|---|---|
    /// | Standard Webhooks | 24 bytes once base64-decoded (and at most 64) | the spec's key size range |
    /// | Stripe | 16 bytes after `whsec_` | Stripe issues `whsec_` and 32 or more characters |
    /// | GitHub | 16 bytes | GitHub asks for "a random string with high entropy" (its documented sample is 26 bytes) |
    /// | Meta, Slack, Twilio | 16 bytes | app secrets, signing secrets and auth tokens are 32 hex digits |
    /// | Shopify, Vapi, [`HmacScheme`](crate::HmacScheme) | 16 bytes (decoded, for base64 secrets) | the provider states none: 128 bits, the floor of a MAC key |
    ///
    /// The minimum catches configuration mistakes (an empty variable, `whsec_` alone, a
    /// placeholder), not weak random secrets. Published test vectors with shorter keys (such
    /// as Twilio's documented token `12345`) go through [`Verifier::from_keys`].
    ///
    /// # Errors
    /// [`SecretError::TooShort`] (reported as [`WebhookError::SecretTooShort`]) or
    /// [`SecretError::Invalid`] (reported as [`WebhookError::InvalidSecret`]).
    fn parse_secret(&self, secret: &str) -> Result<Key, SecretError> {
        SecretError::check_len(secret.len(), MIN_SECRET_LEN)?;
        Ok(Key::hmac(secret.as_bytes()))
    }

    /// Verifies `request` at time `now` (Unix seconds) against every key in order; the
    /// replay key may be left to be computed when asked for ([`LazyVerified::replay_key`]).
    /// The schemes whose key is a hash of the signed content (GitHub, Meta, Shopify, Slack,
    /// Stripe, [`HmacScheme`](crate::HmacScheme), [`AnyScheme`](crate::AnyScheme) holding one
    /// of them) defer it; the others return a key already known
    /// (`LazyVerified::from(Verified)`).
    ///
    /// # Errors
    /// The [`WebhookError`] that says what failed.
    fn verify_lazy<'a>(
        &'a self,
        keys: &[Key],
        request: &Request<'a>,
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<LazyVerified<'a>, WebhookError>;

    /// As [`verify_lazy`](Self::verify_lazy), with the replay key computed.
    ///
    /// # Errors
    /// As [`verify_lazy`](Self::verify_lazy).
    fn verify(
        &self,
        keys: &[Key],
        request: &Request<'_>,
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<Verified, WebhookError> {
        self.verify_lazy(keys, request, now, tolerance)
            .map(LazyVerified::into_verified)
    }

    /// Signs `message` with `key`, as the provider would, at `now` unless the message fixes
    /// its own timestamp.
    ///
    /// # Errors
    /// [`WebhookError::MissingUrl`] and the like when the message lacks what the scheme signs.
    fn sign(
        &self,
        key: &Key,
        message: &Message<'_>,
        now: i64,
    ) -> Result<SignedHeaders, WebhookError>;
}

/// Verifies (and signs) requests of one [`Scheme`] with one or more secrets.
///
/// Several secrets may be configured at once for rotation: a request is accepted when any of
/// them matches, and [`Verified::secret_index`] says which. Signing uses the first.
/// Timestamps are checked against a [`Tolerance`] (default 300 s each way) and a [`Clock`]
/// (default the system clock).
///
/// ```
/// use palisade_webhook::{Message, Request, Stripe, Verifier};
/// use secrecy::SecretString;
///
/// let v = Verifier::new(Stripe, [SecretString::from("whsec_test_0123456789abcdef")])?;
/// let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
/// let headers = v.sign(&Message::new(body))?;
/// let verified = v.verify(&Request::new(&headers, body))?;
/// assert_eq!(verified.secret_index, 0);
/// # Ok::<(), palisade_webhook::WebhookError>(())
/// ```
pub struct Verifier<S> {
    scheme: S,
    keys: Vec<Key>,
    tolerance: Tolerance,
    clock: Arc<dyn Clock>,
}

impl<S: Scheme> Verifier<S> {
    /// A verifier for `scheme` that accepts any of `secrets`.
    ///
    /// # Errors
    /// [`WebhookError::NoSecrets`] for an empty list; with the secret's index,
    /// [`WebhookError::SecretTooShort`] when it is shorter than the provider's minimum (see
    /// [`Scheme::parse_secret`]) and [`WebhookError::InvalidSecret`] when the scheme refuses
    /// it otherwise (for Standard Webhooks: not base64, or a decoded key over 64 bytes).
    pub fn new<I>(scheme: S, secrets: I) -> Result<Self, WebhookError>
    where
        I: IntoIterator<Item = SecretString>,
    {
        let keys = secrets
            .into_iter()
            .enumerate()
            .map(|(index, s)| {
                scheme
                    .parse_secret(s.expose_secret())
                    .map_err(|e| e.at(index))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_keys(scheme, keys)
    }

    /// A verifier for `scheme` that accepts any of `keys`, taken as they are: no provider
    /// format and no minimum length is checked. For key material that does not come as a
    /// configured secret string, and for published test vectors whose keys are shorter than
    /// the providers' minimums (Twilio's documented token `12345`).
    ///
    /// ```
    /// use palisade_webhook::{Key, Request, Twilio, Verifier};
    ///
    /// let v = Verifier::from_keys(Twilio::default(), [Key::hmac(b"12345")])?;
    /// # let _ = v;
    /// # Ok::<(), palisade_webhook::WebhookError>(())
    /// ```
    ///
    /// # Errors
    /// [`WebhookError::NoSecrets`] for an empty list.
    pub fn from_keys<I>(scheme: S, keys: I) -> Result<Self, WebhookError>
    where
        I: IntoIterator<Item = Key>,
    {
        let keys: Vec<Key> = keys.into_iter().collect();
        if keys.is_empty() {
            return Err(WebhookError::NoSecrets);
        }
        Ok(Self {
            scheme,
            keys,
            tolerance: Tolerance::DEFAULT,
            clock: Arc::new(SystemClock),
        })
    }

    /// Replaces the timestamp tolerance (default: 300 s each way).
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: Tolerance) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Replaces the clock (default: [`SystemClock`]).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The scheme.
    pub fn scheme(&self) -> &S {
        &self.scheme
    }

    /// The configured tolerance.
    pub fn tolerance(&self) -> Tolerance {
        self.tolerance
    }

    /// Verifies `request` at the clock's current time.
    ///
    /// # Errors
    /// The [`WebhookError`] that says what failed; see [`Verifier::verify_at`].
    pub fn verify(&self, request: &Request<'_>) -> Result<Verified, WebhookError> {
        self.verify_at(request, self.clock.now_unix_secs())
    }

    /// Verifies `request` as if the time were `now` (Unix seconds).
    ///
    /// # Errors
    /// - [`WebhookError::MissingHeader`] / [`WebhookError::MalformedHeader`]: the scheme's
    ///   headers are absent, repeated or unparsable;
    /// - [`WebhookError::TimestampOutsideTolerance`]: the signed timestamp is too old or too
    ///   far in the future;
    /// - [`WebhookError::NoMatchingSignature`]: no configured secret produced a signature the
    ///   request carries;
    /// - [`WebhookError::BodyHashMismatch`], [`WebhookError::MissingUrl`],
    ///   [`WebhookError::InvalidUrl`], [`WebhookError::MissingMethod`]: per scheme.
    pub fn verify_at(&self, request: &Request<'_>, now: i64) -> Result<Verified, WebhookError> {
        self.scheme
            .verify(&self.keys, request, now, &self.tolerance)
    }

    /// As [`verify`](Self::verify), with the replay key computed only if
    /// [`LazyVerified::replay_key`] asks for it: for a service without a replay store, or that
    /// decides per request whether to claim it. For GitHub, Meta, Shopify, Stripe, Slack and
    /// HMAC schemes without `{id}` this saves a hash of the body.
    ///
    /// # Errors
    /// As [`Verifier::verify_at`].
    pub fn verify_lazy<'a>(
        &'a self,
        request: &Request<'a>,
    ) -> Result<LazyVerified<'a>, WebhookError> {
        self.verify_lazy_at(request, self.clock.now_unix_secs())
    }

    /// As [`verify_at`](Self::verify_at), with the replay key computed only if
    /// [`LazyVerified::replay_key`] asks for it.
    ///
    /// # Errors
    /// As [`Verifier::verify_at`].
    pub fn verify_lazy_at<'a>(
        &'a self,
        request: &Request<'a>,
        now: i64,
    ) -> Result<LazyVerified<'a>, WebhookError> {
        self.scheme
            .verify_lazy(&self.keys, request, now, &self.tolerance)
    }

    /// Produces the headers the provider would send for `message`, signed with the first
    /// secret, timestamped by the clock unless the message sets a timestamp.
    ///
    /// # Errors
    /// As [`Scheme::sign`]; [`WebhookError::InvalidConfig`] for a negative timestamp or an
    /// empty message id, which verification would refuse.
    pub fn sign(&self, message: &Message<'_>) -> Result<SignedHeaders, WebhookError> {
        let key = self.keys.first().ok_or(WebhookError::NoSecrets)?;
        // Refuse what verification would refuse, rather than produce headers that never verify.
        if message.timestamp.is_some_and(|t| t < 0) {
            return Err(WebhookError::config(
                "timestamps are Unix seconds, not negative",
            ));
        }
        if message.id.is_some_and(str::is_empty) {
            return Err(WebhookError::config("the message id is empty"));
        }
        self.scheme.sign(key, message, self.clock.now_unix_secs())
    }
}

impl<S: fmt::Debug> fmt::Debug for Verifier<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("scheme", &self.scheme)
            .field("secrets", &format_args!("[{} REDACTED]", self.keys.len()))
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

/// Computes the HMAC of `feed`'s message under each HMAC key in turn, and returns the index of
/// the first key for which `accept` finds a matching signature, with what `accept` returned.
pub(crate) fn first_match<T>(
    keys: &[Key],
    algorithm: HmacAlgorithm,
    feed: &dyn Fn(&mut dyn Sink),
    mut accept: impl FnMut(&Tag) -> Option<T>,
) -> Option<(usize, T)> {
    keys.iter().enumerate().find_map(|(i, key)| {
        let tag = crate::mac::hmac(algorithm, key, feed)?;
        accept(&tag).map(|t| (i, t))
    })
}

/// The HMAC tag a sender makes with `key`.
///
/// # Errors
/// [`WebhookError::InvalidConfig`] when `key` is not an HMAC key (an Ed25519 key).
pub(crate) fn sign_tag(
    key: &Key,
    algorithm: HmacAlgorithm,
    feed: &dyn Fn(&mut dyn Sink),
) -> Result<Tag, WebhookError> {
    crate::mac::hmac(algorithm, key, feed)
        .ok_or_else(|| WebhookError::config("this key cannot make an HMAC signature"))
}

/// A fresh Standard-Webhooks-style message id: `msg_` and 32 random hex digits (128 bits from
/// the operating system's CSPRNG).
pub(crate) fn random_id() -> Result<String, WebhookError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|_| WebhookError::config("the operating system's random generator failed"))?;
    Ok(format!("msg_{}", hex::encode(bytes)))
}
