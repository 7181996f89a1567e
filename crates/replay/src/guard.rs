//! `ReplayGuard`: a timestamp tolerance combined with a nonce store.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use palisade_webhook::{Clock, Provider, SystemClock, Tolerance, Verified};

use crate::{ClaimOutcome, Freshness, LeaseToken, NonceStore, ReplayError};

/// A namespace for replay ids: one per provider, optionally per route and per tenant, so that
/// two providers (or two routes, or two tenants) can never collide on an id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace(String);

impl Namespace {
    /// The namespace of a provider's requests: `replay:<provider>`.
    pub fn provider(provider: Provider) -> Self {
        Self(format!("replay:{provider}"))
    }

    /// The namespace of one tenant's requests from a provider: `replay:<provider>:<tenant>`.
    /// The tenant comes last, so any tenant string is unambiguous.
    pub fn tenant(provider: Provider, tenant: &str) -> Self {
        Self(format!("replay:{provider}:{tenant}"))
    }

    /// The namespace of one route (or verifier) of a provider, optionally per tenant:
    /// `replay-route:<provider>:<route length>:<route>`, then `:<tenant>` when a tenant is
    /// given.
    ///
    /// Two routes that verify the same provider with different secrets keep apart: a sender
    /// on one route cannot claim ids that the other will receive. The route is length-prefixed
    /// (its length in bytes, in decimal) and the tenant comes last, so no two
    /// `(provider, route, tenant)` give the same string (a tenant of `""` differs from no
    /// tenant), and none equals a [`Namespace::provider`] or [`Namespace::tenant`] namespace.
    pub fn route(provider: Provider, route: &str, tenant: Option<&str>) -> Self {
        let mut name = format!("replay-route:{provider}:{}:{route}", route.len());
        if let Some(tenant) = tenant {
            name.push(':');
            name.push_str(tenant);
        }
        Self(name)
    }

    /// A namespace of your own (for requests that are not webhooks).
    ///
    /// # Errors
    /// [`ReplayError::InvalidConfig`] when `name` is empty.
    pub fn custom(name: impl Into<String>) -> Result<Self, ReplayError> {
        let name = name.into();
        if name.is_empty() {
            return Err(ReplayError::InvalidConfig {
                reason: "empty namespace",
            });
        }
        Ok(Self(name))
    }

    /// The namespace string given to the store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Refuses a request that was seen before: a timestamp [`Tolerance`] (the same type a
/// [`Verifier`](palisade_webhook::Verifier) checks signatures' timestamps against) checked
/// against a [`Clock`], and a [`NonceStore`] that remembers ids for at least as long as the
/// tolerance accepts their timestamps.
///
/// **The TTL is derived, not configured**: ids with a signed timestamp are kept for
/// [`Tolerance::ttl`], so one can never expire while its timestamp would still be accepted.
/// Ids without a signed timestamp (GitHub, Meta, Shopify, Twilio, Vapi's secret header sign
/// none) are kept for [`ReplayGuard::with_untimestamped_ttl`] (default 72 hours): for those
/// providers the replay key is a hash of the signed bytes, and nothing but memory stops an
/// attacker from re-sending a captured request later, so remember them for at least as long as
/// the provider retries, and keep the TLS that stops capture in the first place.
///
/// ```
/// use palisade_replay::{MemoryNonceStore, Namespace, ReplayError, ReplayGuard};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let guard = ReplayGuard::new(MemoryNonceStore::new());
/// let ns = Namespace::custom("internal-api")?;
/// let now = std::time::SystemTime::now()
///     .duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
/// guard.check(&ns, b"request-42", Some(now)).await?;
/// assert!(matches!(guard.check(&ns, b"request-42", Some(now)).await, Err(ReplayError::Replayed)));
/// # Ok::<(), ReplayError>(())
/// # }).unwrap();
/// ```
pub struct ReplayGuard<S> {
    store: S,
    tolerance: Tolerance,
    untimestamped_ttl: Duration,
    lease: Duration,
    clock: Arc<dyn Clock>,
}

/// A delivery claimed by [`ReplayGuard::claim`]: in flight until it is
/// [completed](ReplayGuard::complete) (the handler succeeded) or
/// [released](ReplayGuard::release) (it failed, so the provider's retry runs it again). A lease
/// neither completed nor released expires after [`ReplayGuard::lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    namespace: Namespace,
    id: Vec<u8>,
    token: LeaseToken,
    ttl: Duration,
}

impl Lease {
    /// The namespace the delivery was claimed in.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// How long the id is remembered once completed.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A lease on `id` in `namespace`, claimed with `token`, remembered for `ttl` once
    /// completed (for [`Idempotency`](crate::Idempotency), which claims through the same
    /// store operations).
    pub(crate) fn new(namespace: Namespace, id: Vec<u8>, token: LeaseToken, ttl: Duration) -> Self {
        Self {
            namespace,
            id,
            token,
            ttl,
        }
    }

    /// The claimed id.
    pub(crate) fn id(&self) -> &[u8] {
        &self.id
    }

    /// The claim's token.
    pub(crate) fn token(&self) -> LeaseToken {
        self.token
    }
}

impl<S: NonceStore> ReplayGuard<S> {
    /// Default for [`ReplayGuard::with_untimestamped_ttl`]: 72 hours, covering Stripe's and
    /// Shopify's retry schedules (up to 3 days and 48 hours).
    pub const DEFAULT_UNTIMESTAMPED_TTL: Duration = Duration::from_secs(72 * 3600);

    /// Default for [`ReplayGuard::with_lease`]: 60 seconds, above the providers' delivery
    /// timeouts (Stripe and GitHub wait 10 s for an answer, Svix 15 s).
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

    /// A guard over `store` with the default tolerance ([`Tolerance::DEFAULT`], 300 s each
    /// way) and the system clock.
    pub fn new(store: S) -> Self {
        Self {
            store,
            tolerance: Tolerance::DEFAULT,
            untimestamped_ttl: Self::DEFAULT_UNTIMESTAMPED_TTL,
            lease: Self::DEFAULT_LEASE,
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the timestamp tolerance; the TTL of timestamped ids follows it.
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: Tolerance) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// How long to remember ids that carry no signed timestamp. It is never shorter than the
    /// tolerance's TTL.
    #[must_use]
    pub fn with_untimestamped_ttl(mut self, ttl: Duration) -> Self {
        self.untimestamped_ttl = ttl;
        self
    }

    /// How long a claimed delivery stays in flight before another claim may take it over
    /// (default [`ReplayGuard::DEFAULT_LEASE`]). Longer than the handler's slowest answer, or a
    /// retry arriving after the lease runs the handler a second time.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The lease of claimed deliveries.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Replaces the clock the tolerance is checked against.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The timestamp tolerance.
    pub fn tolerance(&self) -> Tolerance {
        self.tolerance
    }

    /// The TTL used for an id with (`true`) or without (`false`) a signed timestamp.
    pub fn ttl(&self, timestamped: bool) -> Duration {
        if timestamped {
            self.tolerance.ttl()
        } else {
            self.untimestamped_ttl.max(self.tolerance.ttl())
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Accepts `id` in `namespace` once: checks `timestamp` (Unix seconds, when the sender
    /// signed one) against the tolerance, then records the id.
    ///
    /// # Errors
    /// [`ReplayError::TimestampOutsideTolerance`], [`ReplayError::Replayed`], or the store's
    /// failure ([`ReplayError::is_store_failure`]), on which the request must be refused.
    pub async fn check(
        &self,
        namespace: &Namespace,
        id: &[u8],
        timestamp: Option<i64>,
    ) -> Result<(), ReplayError> {
        if let Some(ts) = timestamp {
            self.tolerance.check(ts, self.clock.now_unix_secs())?;
        }
        let ttl = self.ttl(timestamp.is_some());
        match self
            .store
            .insert_if_absent(namespace.as_str(), id, ttl)
            .await?
        {
            Freshness::Fresh => Ok(()),
            Freshness::Replayed => Err(ReplayError::Replayed),
        }
    }

    /// Accepts a verified webhook once, in the namespace of its provider (and `tenant`, when
    /// given), using its replay key and signed timestamp.
    ///
    /// # Errors
    /// As [`ReplayGuard::check`].
    pub async fn check_verified(
        &self,
        verified: &Verified,
        tenant: Option<&str>,
    ) -> Result<(), ReplayError> {
        let ns = match tenant {
            Some(t) => Namespace::tenant(verified.provider, t),
            None => Namespace::provider(verified.provider),
        };
        self.check(&ns, verified.replay_key.as_bytes(), verified.timestamp)
            .await
    }
}

impl<S: NonceStore> ReplayGuard<S> {
    /// Claims a delivery: checks `timestamp` (Unix seconds, when the sender signed one)
    /// against the tolerance, then claims `id` in `namespace` for the [lease](Self::lease).
    ///
    /// # Errors
    /// [`ReplayError::TimestampOutsideTolerance`]; [`ReplayError::InProgress`] while another claim
    /// holds the lease; [`ReplayError::Replayed`] when the delivery was completed; the store's
    /// failure ([`ReplayError::is_store_failure`]), on which the request must be refused.
    pub async fn claim(
        &self,
        namespace: &Namespace,
        id: &[u8],
        timestamp: Option<i64>,
    ) -> Result<Lease, ReplayError> {
        if let Some(ts) = timestamp {
            self.tolerance.check(ts, self.clock.now_unix_secs())?;
        }
        let token = LeaseToken::random()?;
        match self
            .store
            .claim(namespace.as_str(), id, token, self.lease)
            .await?
        {
            ClaimOutcome::Claimed => Ok(Lease {
                namespace: namespace.clone(),
                id: id.to_vec(),
                token,
                ttl: self.ttl(timestamp.is_some()),
            }),
            ClaimOutcome::InProgress => Err(ReplayError::InProgress),
            ClaimOutcome::Completed => Err(ReplayError::Replayed),
        }
    }

    /// As [`ReplayGuard::claim`] for a verified webhook, with its replay key and signed
    /// timestamp.
    ///
    /// # Errors
    /// As [`ReplayGuard::claim`].
    pub async fn claim_verified(
        &self,
        verified: &Verified,
        namespace: &Namespace,
    ) -> Result<Lease, ReplayError> {
        self.claim(
            namespace,
            verified.replay_key.as_bytes(),
            verified.timestamp,
        )
        .await
    }

    /// Completes a claimed delivery: the id is remembered as handled for the replay TTL, and a
    /// duplicate is answered [`ReplayError::Replayed`]. Returns whether the lease was still
    /// held (false: it had expired, and the delivery may have run twice).
    ///
    /// # Errors
    /// The store's failure.
    pub async fn complete(&self, lease: &Lease) -> Result<bool, ReplayError> {
        self.store
            .complete(lease.namespace.as_str(), &lease.id, lease.token, lease.ttl)
            .await
    }

    /// Releases a claimed delivery after the handler failed, so the provider's retry runs it
    /// again. Returns whether the claim was still held (false: it had expired or been taken
    /// over, and nothing was removed).
    ///
    /// # Errors
    /// The store's failure.
    pub async fn release(&self, lease: &Lease) -> Result<bool, ReplayError> {
        self.store
            .release(lease.namespace.as_str(), &lease.id, lease.token)
            .await
    }
}

impl<S> fmt::Debug for ReplayGuard<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayGuard")
            .field("tolerance", &self.tolerance)
            .field("untimestamped_ttl", &self.untimestamped_ttl)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use palisade_webhook::{ManualClock, Timestamp};

    use super::*;
    use crate::MemoryNonceStore;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn ttl_always_covers_the_tolerance() {
        let g = ReplayGuard::new(MemoryNonceStore::new())
            .with_tolerance(Tolerance {
                past_secs: 600,
                future_secs: 60,
            })
            .with_untimestamped_ttl(Duration::from_secs(1));
        assert_eq!(g.ttl(true), Duration::from_secs(661));
        assert_eq!(g.ttl(false), Duration::from_secs(661));
    }

    #[test]
    fn tolerance_bounds_and_expiry() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(10_000)));
        let store = MemoryNonceStore::builder()
            .clock(clock.clone())
            .build()
            .unwrap();
        let g = ReplayGuard::new(store).with_clock(clock.clone());
        let ns = Namespace::provider(Provider::Stripe);
        block_on(async {
            assert!(g.check(&ns, b"a", Some(9_700)).await.is_ok());
            assert!(g.check(&ns, b"b", Some(10_300)).await.is_ok());
            assert!(matches!(
                g.check(&ns, b"c", Some(9_699)).await,
                Err(ReplayError::TimestampOutsideTolerance {
                    skew_secs: 301,
                    tolerance_secs: 300
                })
            ));
            assert!(matches!(
                g.check(&ns, b"d", Some(10_301)).await,
                Err(ReplayError::TimestampOutsideTolerance {
                    skew_secs: -301,
                    tolerance_secs: 300
                })
            ));
            // The id signed 300 s in the future stays remembered for as long as its
            // timestamp is accepted: until now + 600 s.
            clock.advance(Duration::from_secs(600));
            assert!(matches!(
                g.check(&ns, b"b", Some(10_300)).await,
                Err(ReplayError::Replayed)
            ));
            clock.advance(Duration::from_secs(1));
            assert!(matches!(
                g.check(&ns, b"b", Some(10_300)).await,
                Err(ReplayError::TimestampOutsideTolerance { .. })
            ));
        });
    }

    #[test]
    fn namespaces_separate_providers_and_tenants() {
        let g = ReplayGuard::new(MemoryNonceStore::new());
        block_on(async {
            for ns in [
                Namespace::provider(Provider::GitHub),
                Namespace::provider(Provider::Meta),
                Namespace::tenant(Provider::GitHub, "acme"),
                Namespace::tenant(Provider::GitHub, "globex"),
            ] {
                assert!(g.check(&ns, b"same-id", None).await.is_ok());
                assert!(g.check(&ns, b"same-id", None).await.is_err());
            }
        });
        assert!(Namespace::custom("").is_err());
    }

    #[test]
    fn route_namespaces_never_collide() {
        let p = Provider::Stripe;
        let all = [
            Namespace::provider(p),
            Namespace::tenant(p, "a"),
            Namespace::tenant(p, "route:1:a"),
            Namespace::route(p, "a", None),
            Namespace::route(p, "a", Some("")),
            Namespace::route(p, "a:b", None),
            Namespace::route(p, "a", Some("b")),
            Namespace::route(p, "a:1:b", None),
            Namespace::route(p, "a", Some("1:b")),
            Namespace::route(Provider::GitHub, "a", None),
            Namespace::route(p, "/hooks/a", Some("acme")),
            Namespace::route(p, "/hooks/b", Some("acme")),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in all.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
        assert_eq!(
            Namespace::route(p, "/hook", Some("prod")).as_str(),
            "replay-route:stripe:5:/hook:prod"
        );
    }
}
