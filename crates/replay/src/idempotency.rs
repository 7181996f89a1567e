//! Idempotency for business retries: process each provider event once.

use std::time::Duration;

use crate::{Freshness, NonceStore, ReplayError};

/// Whether to process an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time this event id is claimed: process it (and call
    /// [`Idempotency::release`] if processing fails and the provider's retry should run it).
    Process,
    /// Already claimed: skip it, and answer the provider with success so it stops retrying.
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
/// | on failure | the request is refused | the claim is released so a retry can run |
///
/// A provider retry is a *new* signed request (new timestamp, new signature), so it passes the
/// replay check by design; only the event id shows it is the same event. Conversely the event
/// id is often in the body, so it may be trusted only after the signature is verified. Use
/// both: verify, guard against replay, then claim the event.
///
/// ```
/// use std::sync::Arc;
/// use palisade_replay::{Claim, Idempotency, MemoryNonceStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let events = Idempotency::new(Arc::new(MemoryNonceStore::new()));
/// assert_eq!(events.claim("stripe", "evt_1NG8Du2eZvKYlo2CUI79vXWy").await?, Claim::Process);
/// // Stripe retries: skip.
/// assert_eq!(events.claim("stripe", "evt_1NG8Du2eZvKYlo2CUI79vXWy").await?, Claim::Skip);
/// # Ok::<(), palisade_replay::ReplayError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct Idempotency<S> {
    store: S,
    ttl: Duration,
}

impl<S: NonceStore> Idempotency<S> {
    /// Default time an event id is remembered: 7 days, beyond Stripe's 3-day and Shopify's
    /// 48-hour retry schedules.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

    /// Event ids in `store`, remembered for [`Idempotency::DEFAULT_TTL`].
    pub fn new(store: S) -> Self {
        Self {
            store,
            ttl: Self::DEFAULT_TTL,
        }
    }

    /// Remembers event ids for `ttl` instead.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    fn namespace(scope: &str) -> String {
        format!("idempotency:{scope}")
    }

    /// Claims `event_id` within `scope` (a provider, or provider and tenant).
    ///
    /// # Errors
    /// The store's failure: the caller should answer with a retryable error (HTTP 503), so the
    /// provider tries again later.
    pub async fn claim(&self, scope: &str, event_id: &str) -> Result<Claim, ReplayError> {
        match self
            .store
            .insert_if_absent(&Self::namespace(scope), event_id.as_bytes(), self.ttl)
            .await?
        {
            Freshness::Fresh => Ok(Claim::Process),
            Freshness::Replayed => Ok(Claim::Skip),
        }
    }

    /// Releases a claim after processing failed, so the provider's next retry is processed.
    /// Returns whether a claim was held.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn release(&self, scope: &str, event_id: &str) -> Result<bool, ReplayError> {
        self.store
            .remove(&Self::namespace(scope), event_id.as_bytes())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryNonceStore;

    #[test]
    fn claim_release_claim() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let i = Idempotency::new(MemoryNonceStore::new());
            assert_eq!(i.claim("stripe", "evt_1").await.unwrap(), Claim::Process);
            assert_eq!(i.claim("stripe", "evt_1").await.unwrap(), Claim::Skip);
            assert_eq!(i.claim("shopify", "evt_1").await.unwrap(), Claim::Process);
            assert!(i.release("stripe", "evt_1").await.unwrap());
            assert_eq!(i.claim("stripe", "evt_1").await.unwrap(), Claim::Process);
        });
    }
}
