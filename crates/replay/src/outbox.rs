//! Outbound idempotency: one `Idempotency-Key` per logical message, and at most one send of
//! it across every instance of the sender.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::ReplayError;
use crate::guard::Lease;
use crate::idempotency::{Claim, Idempotency};
use crate::store::NonceStore;

/// The HTTP request header that carries an [`IdempotencyKey`] to the receiver
/// (draft-ietf-httpapi-idempotency-key-header; Stripe, Adyen, PayPal and most messaging APIs
/// read it under this name).
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The longest key [`IdempotencyKey::parse`] accepts: 255 bytes (Stripe's limit).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The idempotency key of one logical outbound message: generated once, when the message is
/// created, and **stored with it** (in the same row of your outbox table), so that every
/// attempt to send it, by any instance and after any crash, carries the same key.
///
/// [`generate`](Self::generate) makes a random UUID version 4 (RFC 9562 §5.4: 122 random bits
/// from the OS CSPRNG, lowercase hyphenated, 36 characters), the form the IETF draft
/// recommends. [`parse`](Self::parse) reads one back from storage. A key is an identifier,
/// not a secret: it may be logged.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A new random key (UUID v4).
    ///
    /// # Errors
    ///
    /// [`ReplayError::StoreUnavailable`] when the OS random source fails.
    pub fn generate() -> Result<Self, ReplayError> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|_| ReplayError::StoreUnavailable {
            reason: "the OS random source failed".into(),
        })?;
        b[6] = (b[6] & 0x0F) | 0x40; // version 4
        b[8] = (b[8] & 0x3F) | 0x80; // variant 10
        let mut s = String::with_capacity(36);
        for (i, byte) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            s.push_str(&format!("{byte:02x}"));
        }
        Ok(Self(s))
    }

    /// A key read back from storage: 1 to [`MAX_IDEMPOTENCY_KEY_LEN`] visible ASCII characters
    /// (`!` to `~`), so it fits an HTTP header value unchanged. Keys from other systems
    /// (Stripe's, your own message ids) are accepted as they are.
    ///
    /// # Errors
    ///
    /// [`ReplayError::InvalidConfig`] for an empty key, a longer one, or another character.
    pub fn parse(key: &str) -> Result<Self, ReplayError> {
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(ReplayError::InvalidConfig {
                reason: "an idempotency key is 1 to 255 characters",
            });
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ReplayError::InvalidConfig {
                reason: "an idempotency key is visible ASCII (no spaces or controls)",
            });
        }
        Ok(Self(key.to_owned()))
    }

    /// The key, as sent in the [`IDEMPOTENCY_KEY_HEADER`] header and stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What [`Outbox::send`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent<T> {
    /// This call sent the message; the sender's answer.
    Now(T),
    /// The message was sent before (by this instance or another): not sent again.
    Already,
    /// Another instance is sending it right now (its lease is unexpired): not sent; try again
    /// after the lease, when that attempt has completed or been released.
    InFlight,
}

/// Why [`Outbox::send`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError<E> {
    /// The nonce store could not claim, complete or release the key. When claiming failed,
    /// nothing was sent; when completing failed, the message *was* sent (the lease then
    /// expires and a later attempt may send it again: the receiver's own deduplication by
    /// the `Idempotency-Key` header is the last line).
    #[error(transparent)]
    Store(ReplayError),
    /// The sender failed; the claim was released, so a later attempt sends the message.
    #[error("send failed: {0}")]
    Send(E),
}

/// The sender side of idempotency: sends each logical message once, across retries, crashes
/// and every instance that shares the nonce store (Redis, Postgres, or memory for one
/// process), using [`Idempotency`] under the hood.
///
/// 1. When a message is created, [`IdempotencyKey::generate`] its key and store it with the
///    message (your outbox row).
/// 2. Whoever sends it calls [`send`](Self::send) with that key: the key is **claimed** in the
///    store (scope `outbox:<scope>`) for a lease; the closure runs with the key, to put in the
///    [`IDEMPOTENCY_KEY_HEADER`] header; on `Ok` the key is **completed** (remembered for the
///    TTL: every later `send` answers [`Sent::Already`]), on `Err` it is **released** (a retry
///    sends it).
/// 3. A second instance picking the same row while the first is sending gets
///    [`Sent::InFlight`]; after the first completed, [`Sent::Already`].
///
/// The receiver should deduplicate on the header as well: a sender that crashes after the
/// receiver accepted the message but before completing leaves a claim that expires after its
/// lease, and the next attempt sends it again with the same key.
///
/// ```
/// use palisade_replay::{IdempotencyKey, MemoryNonceStore, Outbox, Sent, IDEMPOTENCY_KEY_HEADER};
/// use std::sync::Arc;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = Arc::new(MemoryNonceStore::new()); // Redis or Postgres across instances
/// let (a, b) = (Outbox::new(store.clone(), "sms"), Outbox::new(store, "sms"));
///
/// // The message is created with its key, stored in the same outbox row.
/// let key = IdempotencyKey::generate()?;
/// let row = ("+14155550123", "Your driver is 2 minutes away", key.as_str().to_owned());
///
/// // Instance A sends it.
/// let key = IdempotencyKey::parse(&row.2)?;
/// let sent = a.send(&key, |k| async move {
///     // POST to the provider with the header `Idempotency-Key: <k>`.
///     assert_eq!(IDEMPOTENCY_KEY_HEADER, "Idempotency-Key");
///     Ok::<_, std::io::Error>(format!("sent with {k}"))
/// }).await?;
/// assert!(matches!(sent, Sent::Now(_)));
///
/// // Instance B picks the same row up again: not sent twice.
/// let again = b.send(&key, |_| async { Ok::<_, std::io::Error>(String::new()) }).await?;
/// assert_eq!(again, Sent::Already);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct Outbox<S> {
    idempotency: Idempotency<S>,
    scope: String,
}

impl<S: NonceStore> Outbox<S> {
    /// Sends of `scope` (a channel or provider: `sms`, `whatsapp`, `stripe-refunds`) through
    /// `store`, remembering sent keys for [`Idempotency::DEFAULT_TTL`] (7 days) and claiming
    /// them for [`Idempotency::DEFAULT_LEASE`] (60 s).
    pub fn new(store: S, scope: &str) -> Self {
        Self {
            idempotency: Idempotency::new(store),
            scope: format!("outbox:{scope}"),
        }
    }

    /// Remembers sent keys for `ttl`: at least as long as a message may still be retried.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.idempotency = self.idempotency.with_ttl(ttl);
        self
    }

    /// Claims a key for `lease` while sending: longer than the slowest send (with its
    /// timeouts), or a second instance may send it too.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.idempotency = self.idempotency.with_lease(lease);
        self
    }

    /// Claims `key` for one send ([`Claim::Process`] with the lease, [`Claim::InProgress`],
    /// or [`Claim::Skip`] when already sent); settle the lease with
    /// [`sent`](Self::sent) or [`failed`](Self::failed). [`send`](Self::send) does all three.
    ///
    /// # Errors
    ///
    /// The store's failure (nothing was claimed: do not send).
    pub async fn begin(&self, key: &IdempotencyKey) -> Result<Claim, ReplayError> {
        self.idempotency.claim(&self.scope, key.as_str()).await
    }

    /// Records the claimed message as sent; `false` when the lease had expired first (another
    /// instance may have sent it too).
    ///
    /// # Errors
    ///
    /// The store's failure.
    pub async fn sent(&self, lease: &Lease) -> Result<bool, ReplayError> {
        self.idempotency.complete(lease).await
    }

    /// Releases the claim after a failed send, so a later attempt sends the message.
    ///
    /// # Errors
    ///
    /// The store's failure (the claim then expires with its lease).
    pub async fn failed(&self, lease: &Lease) -> Result<bool, ReplayError> {
        self.idempotency.release(lease).await
    }

    /// Sends the message of `key` with `send` unless it was sent or is being sent: claim, run
    /// `send(key)`, then complete (on `Ok`) or release (on `Err`).
    ///
    /// # Errors
    ///
    /// [`OutboxError::Store`] when the store fails (see there for what was sent);
    /// [`OutboxError::Send`] with the sender's error, after the claim was released.
    pub async fn send<F, Fut, T, E>(
        &self,
        key: &IdempotencyKey,
        send: F,
    ) -> Result<Sent<T>, OutboxError<E>>
    where
        F: FnOnce(IdempotencyKey) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let lease = match self.begin(key).await.map_err(OutboxError::Store)? {
            Claim::Process(lease) => lease,
            Claim::InProgress => return Ok(Sent::InFlight),
            Claim::Skip => return Ok(Sent::Already),
        };
        match send(key.clone()).await {
            Ok(answer) => {
                self.sent(&lease).await.map_err(OutboxError::Store)?;
                Ok(Sent::Now(answer))
            }
            Err(e) => {
                // A failed release leaves the claim to expire with its lease: the send error
                // is the one to report.
                let _ = self.failed(&lease).await;
                Err(OutboxError::Send(e))
            }
        }
    }
}
