//! The `NonceStore` trait: one atomic insert-if-absent with a time to live.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::ReplayError;

/// What an insert-if-absent found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Freshness {
    /// The id was not there (or had expired) and is now recorded: process the request.
    Fresh,
    /// The id is already recorded and unexpired: refuse the request.
    Replayed,
}

/// Where ids are remembered, shared by every instance of a service.
///
/// The one decision is [`NonceStore::insert_if_absent`]: atomically record `(namespace, id)`
/// for `ttl` unless it is already recorded. Implementations must never read then write (two
/// instances racing on the same id would both see "absent"): memory stores do it under one
/// lock, Redis with `SET key 1 NX PX ttl`, Postgres with
/// `INSERT … ON CONFLICT DO NOTHING` (reclaiming an expired row in the same statement).
///
/// The trait is object-safe (`Arc<dyn NonceStore>`) and its futures are `Send`. Every store
/// passes the same conformance suite, `palisade_replay::testing` (feature `testing`).
#[async_trait]
pub trait NonceStore: Send + Sync {
    /// Records `id` under `namespace` for `ttl` (rounded up to whole milliseconds) unless it is
    /// already recorded and unexpired.
    ///
    /// # Errors
    /// [`ReplayError::InvalidConfig`] for a zero `ttl` or an empty namespace;
    /// [`ReplayError::StoreFull`], [`ReplayError::StoreUnavailable`],
    /// [`ReplayError::StoreTimeout`] when the store cannot decide. A caller that cannot get a
    /// decision must refuse the request (fail closed) unless it has chosen otherwise.
    async fn insert_if_absent(
        &self,
        namespace: &str,
        id: &[u8],
        ttl: Duration,
    ) -> Result<Freshness, ReplayError>;

    /// Forgets `id` under `namespace`, returning whether an unexpired entry was there.
    ///
    /// Used by [`Idempotency::release`](crate::Idempotency::release) after a failed
    /// processing, so that the provider's retry is processed; never needed for replay checks.
    ///
    /// # Errors
    /// As [`NonceStore::insert_if_absent`].
    async fn remove(&self, namespace: &str, id: &[u8]) -> Result<bool, ReplayError>;
}

macro_rules! forward {
    ($($ptr:ty),*) => {$(
        #[async_trait]
        impl<S: NonceStore + ?Sized> NonceStore for $ptr {
            async fn insert_if_absent(
                &self,
                namespace: &str,
                id: &[u8],
                ttl: Duration,
            ) -> Result<Freshness, ReplayError> {
                (**self).insert_if_absent(namespace, id, ttl).await
            }

            async fn remove(&self, namespace: &str, id: &[u8]) -> Result<bool, ReplayError> {
                (**self).remove(namespace, id).await
            }
        }
    )*};
}
forward!(Arc<S>, Box<S>, &S);

/// Checks the arguments every store must refuse.
///
/// # Errors
/// [`ReplayError::InvalidConfig`] for an empty namespace or a zero TTL.
pub fn check_arguments(namespace: &str, ttl: Duration) -> Result<(), ReplayError> {
    if namespace.is_empty() {
        return Err(ReplayError::InvalidConfig {
            reason: "empty namespace",
        });
    }
    if ttl.is_zero() {
        return Err(ReplayError::InvalidConfig { reason: "zero TTL" });
    }
    Ok(())
}

/// A TTL in whole milliseconds, rounded up (at least 1), saturating at `i64::MAX`.
pub fn ttl_millis(ttl: Duration) -> i64 {
    let ms = ttl.as_nanos().div_ceil(1_000_000).max(1);
    i64::try_from(ms).unwrap_or(i64::MAX)
}
