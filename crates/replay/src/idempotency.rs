//! Idempotency for business retries: process each provider event once.

use std::time::Duration;

use crate::ReplayError;
use crate::guard::{Lease, Namespace};
use crate::store::{ClaimOutcome, LeaseToken, NonceStore};

/// What to do with an event, answered by [`Idempotency::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody handled this event id yet, and it is now claimed for the
    /// [lease](Idempotency::with_lease): process it, then [complete](Idempotency::complete)
    /// the lease when processing succeeded, or [release](Idempotency::release) it when it
    /// failed so that the provider's retry processes it.
    Process(Lease),
    /// Another claim is processing this event now (its lease is unexpired): answer with a
    /// retryable error (HTTP 409 or 503), so the provider tries again later.
    InProgress,
    /// Already processed: skip it, and answer the provider with success so it stops retrying.
    Skip,
}

/// Processes each provider event once, across retries and instances.
///
/// **This is not the replay check, and does not replace it.**
///
/// | | [`ReplayGuard`](crate::ReplayGuard) | `Idempotency` |
/// |---|---|---|
/// | question | was *this signed request* seen before? | was *this business event* handled before? |
/// | key | derived from signed material only | the provider's event id (`evt_…`, `webhook-id`, a `MessageSid`) |
/// | adversary | an attacker re-sending a captured request | the provider's own retries and duplicate deliveries |
/// | lifetime | the timestamp window (minutes) | the provider's retry horizon (days) |
///
/// Both use the same store operations: [`NonceStore::claim`] before processing (a [`Lease`]
/// for a short lease, [`Idempotency::DEFAULT_LEASE`] unless
/// [`with_lease`](Self::with_lease) says otherwise), then [`NonceStore::complete`] (the id is
/// remembered for the [TTL](Self::with_ttl)) or [`NonceStore::release`] (forgotten, so a
/// retry processes it). A process that dies while processing leaves a claim that expires
/// after its lease, so the event is not lost.
///
/// A provider retry may be a *new* signed request (new timestamp, new signature) that passes
/// the replay check by design; only the event id shows it is the same event. Conversely the
/// event id is often in the body, so it may be trusted only after the signature is verified.
/// Use both: verify, guard against replay, then claim the event.
///
/// ```
/// use palisade_replay::{Claim, Idempotency, MemoryNonceStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let events = Idempotency::new(MemoryNonceStore::new());
/// let Claim::Process(lease) = events.claim("stripe", "evt_1NG8Du2eZvKYlo2CUI79vXWy").await? else {
///     panic!("a new event is processed");
/// };
/// // Stripe retries while we process: not now.
/// assert_eq!(events.claim("stripe", "evt_1NG8Du2eZvKYlo2CUI79vXWy").await?, Claim::InProgress);
/// // Processing succeeded.
/// events.complete(&lease).await?;
/// // Stripe retries again: skip.
/// assert_eq!(events.claim("stripe", "evt_1NG8Du2eZvKYlo2CUI79vXWy").await?, Claim::Skip);
/// # Ok::<(), palisade_replay::ReplayError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct Idempotency<S> {
    store: S,
    ttl: Duration,
    lease: Duration,
}

impl<S: NonceStore> Idempotency<S> {
    /// Default time an event id is remembered once processed: 7 days, beyond Stripe's 3-day
    /// and Shopify's 48-hour retry schedules.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

    /// Default lease of a claimed event: 60 seconds, as
    /// [`ReplayGuard::DEFAULT_LEASE`](crate::ReplayGuard::DEFAULT_LEASE).
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

    /// Event ids in `store`, remembered for [`Idempotency::DEFAULT_TTL`], claimed for
    /// [`Idempotency::DEFAULT_LEASE`].
    pub fn new(store: S) -> Self {
        Self {
            store,
            ttl: Self::DEFAULT_TTL,
            lease: Self::DEFAULT_LEASE,
        }
    }

    /// Remembers processed event ids for `ttl` instead.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Claims events for `lease` instead: longer than the slowest processing, or a retry
    /// arriving after the lease processes the event a second time.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The store namespace of `scope`: `idempotency:<scope>`.
    fn namespace(scope: &str) -> Result<Namespace, ReplayError> {
        Namespace::custom(format!("idempotency:{scope}"))
    }

    /// Claims `event_id` within `scope` (a provider, or provider and tenant).
    ///
    /// # Errors
    /// The store's failure: the caller should answer with a retryable error (HTTP 503), so the
    /// provider tries again later. [`ReplayError::InvalidConfig`] for a zero TTL or lease.
    pub async fn claim(&self, scope: &str, event_id: &str) -> Result<Claim, ReplayError> {
        if self.ttl.is_zero() {
            return Err(ReplayError::InvalidConfig { reason: "zero TTL" });
        }
        let namespace = Self::namespace(scope)?;
        let token = LeaseToken::random()?;
        match self
            .store
            .claim(namespace.as_str(), event_id.as_bytes(), token, self.lease)
            .await?
        {
            ClaimOutcome::Claimed => Ok(Claim::Process(Lease::new(
                namespace,
                event_id.as_bytes().to_vec(),
                token,
                self.ttl,
            ))),
            ClaimOutcome::InProgress => Ok(Claim::InProgress),
            ClaimOutcome::Completed => Ok(Claim::Skip),
        }
    }

    /// Records a claimed event as processed: later claims answer [`Claim::Skip`] for the TTL.
    /// Returns whether the lease was still held (false: it had expired, and the event may
    /// have been processed twice).
    ///
    /// # Errors
    /// The store's failure.
    pub async fn complete(&self, lease: &Lease) -> Result<bool, ReplayError> {
        self.store
            .complete(
                lease.namespace().as_str(),
                lease.id(),
                lease.token(),
                lease.ttl(),
            )
            .await
    }

    /// Releases a claimed event after processing failed, so the provider's next retry
    /// processes it. Returns whether the claim was still held (false: it had expired or been
    /// taken over, and nothing was removed).
    ///
    /// # Errors
    /// The store's failure.
    pub async fn release(&self, lease: &Lease) -> Result<bool, ReplayError> {
        self.store
            .release(lease.namespace().as_str(), lease.id(), lease.token())
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use palisade_webhook::{ManualClock, Timestamp};

    use super::*;
    use crate::MemoryNonceStore;

    fn process(claim: Claim) -> Lease {
        match claim {
            Claim::Process(lease) => lease,
            other => panic!("expected Process, got {other:?}"),
        }
    }

    #[test]
    fn claim_complete_release() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let i = Idempotency::new(MemoryNonceStore::new());
            let lease = process(i.claim("stripe", "evt_1").await.unwrap());
            assert_eq!(lease.namespace().as_str(), "idempotency:stripe");
            assert_eq!(lease.ttl(), Idempotency::<MemoryNonceStore>::DEFAULT_TTL);
            assert_eq!(i.claim("stripe", "evt_1").await.unwrap(), Claim::InProgress);
            let other = process(i.claim("shopify", "evt_1").await.unwrap());
            // Processing failed: the retry processes it.
            assert!(i.release(&lease).await.unwrap());
            assert!(!i.release(&lease).await.unwrap());
            let lease = process(i.claim("stripe", "evt_1").await.unwrap());
            assert!(i.complete(&other).await.unwrap());
            assert_eq!(i.claim("shopify", "evt_1").await.unwrap(), Claim::Skip);
            assert!(i.complete(&lease).await.unwrap());
            assert_eq!(i.claim("stripe", "evt_1").await.unwrap(), Claim::Skip);
            // A completed event is never released.
            assert!(!i.release(&lease).await.unwrap());
            assert_eq!(i.claim("stripe", "evt_1").await.unwrap(), Claim::Skip);
        });
    }

    #[test]
    fn a_claim_abandoned_by_a_crash_expires_after_its_lease() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
            let store = MemoryNonceStore::builder()
                .clock(clock.clone())
                .build()
                .unwrap();
            let i = Idempotency::new(store).with_lease(Duration::from_secs(30));
            // Claimed, then the process dies: neither completed nor released.
            let abandoned = process(i.claim("stripe", "evt_1").await.unwrap());
            clock.advance(Duration::from_secs(29));
            assert_eq!(i.claim("stripe", "evt_1").await.unwrap(), Claim::InProgress);
            clock.advance(Duration::from_secs(1));
            let retry = process(i.claim("stripe", "evt_1").await.unwrap());
            // The dead claim cannot remove the retry's claim.
            assert!(!i.release(&abandoned).await.unwrap());
            assert!(i.complete(&retry).await.unwrap());
            // Remembered for the TTL, not the lease.
            clock.advance(Duration::from_secs(6 * 24 * 3600));
            assert_eq!(i.claim("stripe", "evt_1").await.unwrap(), Claim::Skip);
        });
    }

    #[test]
    fn zero_ttl_or_lease_is_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let i = Idempotency::new(MemoryNonceStore::new()).with_ttl(Duration::ZERO);
            assert!(matches!(
                i.claim("stripe", "evt_1").await,
                Err(ReplayError::InvalidConfig { .. })
            ));
            let i = Idempotency::new(MemoryNonceStore::new()).with_lease(Duration::ZERO);
            assert!(matches!(
                i.claim("stripe", "evt_1").await,
                Err(ReplayError::InvalidConfig { .. })
            ));
        });
    }
}
