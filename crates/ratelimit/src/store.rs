//! The store trait: one atomic operation per request.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::{Key, Policy, RateLimitError, Verdict};

/// Where rate-limit state lives: in memory ([`MemoryStore`](crate::MemoryStore)), in Redis or
/// Postgres (`palisade-redis`, `palisade-postgres`), or a primary with a fallback
/// ([`FallbackStore`](crate::FallbackStore)).
///
/// **One atomic operation.** [`apply`](Self::apply) reads a key's state, runs the policy's
/// algorithms on it ([`Policy::apply`]) and writes the result back as one indivisible step:
/// a single Lua script in Redis, one statement or a row lock in Postgres, a lock or a
/// compare-and-swap in memory. Never a "get" followed by a "set": two servers reading the same
/// counter and both writing `count + 1` is the race that lets a flood through.
///
/// **Whose clock.** The methods take no `now`: each store decides with its own clock. The
/// memory store reads its injectable [`Clock`](crate::Clock); a distributed store reads its
/// server's clock (Redis `TIME`, Postgres `clock_timestamp()`), so application servers with
/// skewed clocks still agree on windows and buckets. Durations in and out are relative to
/// that clock.
///
/// **State per (policy, key).** A store keeps one state per [`Policy::id`] and [`Key`]; blocks
/// (explicit or penalty) are per key, across policies.
///
/// **Trait objects.** Futures are `Send`, and the trait is object safe through
/// [`async_trait`](macro@async_trait): use `Arc<dyn RateLimitStore>` where the store is chosen at run time.
/// `Arc<S>` is a store whenever `S` is.
///
/// **Conformance.** A store is correct when it passes the suite of
/// [`testing`](crate::testing) (feature `testing`), which runs against real clocks as well as
/// the memory store's manual one.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Applies `policy` to `key` for a request of `cost` (1 for a plain request), atomically,
    /// at the store's current time:
    ///
    /// 1. a key blocked until later is refused ([`Cause::Blocked`](crate::Cause::Blocked)) and
    ///    nothing is charged;
    /// 2. otherwise every limit is applied with no partial consumption ([`Policy::apply`]);
    /// 3. a refusal by the limits with [`Policy::block_for`] set blocks the key for that long
    ///    and raises the verdict's retry time to match ([`Verdict::with_penalty`]).
    ///
    /// The allow and deny lists are not consulted: that is [`check`](Self::check).
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 or above a limit's capacity (nothing is
    /// charged); store failures ([`RateLimitError::is_store_failure`]) when the state cannot be
    /// reached; [`RateLimitError::KeyCapReached`] from a full memory store that refuses new keys.
    async fn apply(&self, key: &Key, policy: &Policy, cost: u32)
    -> Result<Verdict, RateLimitError>;

    /// Blocks `key` for `duration` from the store's now (extending, never shortening, a block
    /// already in place): every [`apply`](Self::apply) on it is refused until then.
    ///
    /// # Errors
    ///
    /// Store failures.
    async fn block(&self, key: &Key, duration: Duration) -> Result<(), RateLimitError>;

    /// Lifts any block on `key`, explicit or penalty.
    ///
    /// # Errors
    ///
    /// Store failures.
    async fn unblock(&self, key: &Key) -> Result<(), RateLimitError>;

    /// The whole check of one request: the policy's deny and allow lists
    /// ([`AccessList::screen`](crate::AccessList::screen)), then [`apply`](Self::apply).
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply).
    async fn check(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        match policy.access().screen(key) {
            Some(v) => Ok(v),
            None => self.apply(key, policy, cost).await,
        }
    }
}

#[async_trait]
impl<S: RateLimitStore + ?Sized> RateLimitStore for Arc<S> {
    async fn apply(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        (**self).apply(key, policy, cost).await
    }

    async fn block(&self, key: &Key, duration: Duration) -> Result<(), RateLimitError> {
        (**self).block(key, duration).await
    }

    async fn unblock(&self, key: &Key) -> Result<(), RateLimitError> {
        (**self).unblock(key).await
    }

    async fn check(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        (**self).check(key, policy, cost).await
    }
}
