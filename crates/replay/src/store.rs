//! The `NonceStore` trait: insert-if-absent with a time to live, and delivery claims.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use rand::rngs::{StdRng, SysRng};
use rand::{Rng, SeedableRng};

use crate::ReplayError;

/// What an insert-if-absent found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Freshness {
    /// The id was not there (or had expired) and is now recorded: process the request.
    Fresh,
    /// The id is already recorded and unexpired: refuse the request.
    Replayed,
}

/// A random 128-bit value that identifies one claim of a delivery (one in-flight lease).
///
/// Only the holder of the token can [`complete`](NonceStore::complete) or
/// [`release`](NonceStore::release) its claim, so a handler whose lease expired and was taken
/// over by a retry cannot remove the retry's claim. Not a secret (it never leaves the
/// service), but unguessable, so no other claim collides with it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseToken([u8; 16]);

/// Tokens drawn from one seed before the thread's generator is seeded again from the OS.
const TOKENS_PER_SEED: u32 = 4096;

thread_local! {
    /// This thread's token generator and how many tokens it may still draw before reseeding.
    static GENERATOR: RefCell<Option<(StdRng, u32)>> = const { RefCell::new(None) };
}

impl LeaseToken {
    /// A fresh token from a cryptographically secure generator: ChaCha12 (`rand`'s
    /// [`StdRng`]), one per thread, seeded from the operating system's CSPRNG and seeded again
    /// every 4,096 tokens (64 KiB of output, as `rand`'s `ThreadRng`). A claim costs no system
    /// call: reading the OS source for each token took about as long as the memory store's
    /// whole claim (issue 19). Like `ThreadRng`, the generator is not reseeded when the process
    /// forks.
    ///
    /// # Errors
    /// [`ReplayError::StoreUnavailable`] when the OS random source fails to seed the generator.
    pub fn random() -> Result<Self, ReplayError> {
        let mut bytes = [0u8; 16];
        let drawn = GENERATOR.with(|cell| {
            // Never borrowed re-entrantly: nothing below draws a token.
            let mut slot = cell.try_borrow_mut().ok()?;
            if slot.as_ref().is_none_or(|(_, left)| *left == 0) {
                *slot = Some((StdRng::try_from_rng(&mut SysRng).ok()?, TOKENS_PER_SEED));
            }
            let (rng, left) = slot.as_mut()?;
            rng.fill_bytes(&mut bytes);
            *left = left.saturating_sub(1);
            Some(())
        });
        drawn
            .map(|()| Self(bytes))
            .ok_or_else(|| ReplayError::StoreUnavailable {
                reason: "the OS random source failed".into(),
            })
    }

    /// A token from fixed bytes (tests, or a store that round-trips it).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Debug for LeaseToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LeaseToken(..)")
    }
}

/// What [`NonceStore::claim`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClaimOutcome {
    /// The id was absent (or expired) and is now claimed by the caller's token for the lease:
    /// run the handler, then complete or release the claim.
    Claimed,
    /// Another claim holds an unexpired lease: the same delivery is being handled now.
    InProgress,
    /// The id was completed (or recorded by [`NonceStore::insert_if_absent`]) and is
    /// unexpired: a duplicate of a delivery already handled.
    Completed,
}

/// Where ids are remembered, shared by every instance of a service.
///
/// Every operation is one atomic decision in one round trip; implementations must never read
/// then write in two steps (two instances racing on the same id would both see "absent").
///
/// | operation | memory (one shard lock) | Redis (one command or script) | Postgres (one statement) |
/// |---|---|---|---|
/// | [`insert_if_absent`](Self::insert_if_absent) | look up, insert or replace an expired entry | `SET key 1 NX PX ttl` | `INSERT … ON CONFLICT DO UPDATE … WHERE expired` |
/// | [`claim`](Self::claim) | look up; absent or expired → entry + token | Lua: `GET`, `SET key p:<token> PX lease` when absent | `INSERT … ON CONFLICT DO UPDATE` taking over only an expired row, `RETURNING` the locked row's token |
/// | [`complete`](Self::complete) | set completed + expiry, compare the token | `SET key 1 PX ttl GET` | upsert to completed, comparing the prior row's token |
/// | [`release`](Self::release) | remove if the token matches and is unexpired | Lua compare-and-delete | `DELETE … WHERE lease_token = $token AND unexpired` |
/// | [`remove`](Self::remove) | remove | `DEL` | `DELETE … WHERE unexpired` |
///
/// An entry is either *completed* (recorded by `insert_if_absent` or `complete`, remembered
/// for the replay TTL) or *in flight* under a [`LeaseToken`] (recorded by `claim`, until its
/// lease runs out). `insert_if_absent` treats both as present; `claim` answers which one it
/// found. Expiry is decided on the store's clock (the server's, for Redis and Postgres).
///
/// A delivery's life: [`claim`](Self::claim) before the handler runs; then
/// [`complete`](Self::complete) when it succeeded (a duplicate is then answered as completed
/// for the TTL), or [`release`](Self::release) when it failed (the provider's retry runs the
/// handler again). A claim neither completed nor released (the process died) expires after its
/// lease and can be claimed again. [`ReplayGuard::claim`](crate::ReplayGuard::claim) and
/// [`Lease`](crate::Lease) wrap this.
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

    /// Forgets `id` under `namespace` whatever its state (completed or in flight under any
    /// token), returning whether an unexpired entry was there. An operator's tool; a failed
    /// delivery is [released](Self::release) instead, which never removes another claim.
    ///
    /// # Errors
    /// As [`NonceStore::insert_if_absent`].
    async fn remove(&self, namespace: &str, id: &[u8]) -> Result<bool, ReplayError>;

    /// Claims `id` under `namespace` for `lease` (rounded up to whole milliseconds) with
    /// `token`, atomically: absent or expired → recorded as in flight,
    /// [`ClaimOutcome::Claimed`]; in flight under any token (the caller's included) and
    /// unexpired → [`ClaimOutcome::InProgress`]; completed and unexpired →
    /// [`ClaimOutcome::Completed`]. Among concurrent claims of one absent id, exactly one is
    /// `Claimed`.
    ///
    /// # Errors
    /// As [`NonceStore::insert_if_absent`] (a zero `lease` is `InvalidConfig`).
    async fn claim(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
        lease: Duration,
    ) -> Result<ClaimOutcome, ReplayError>;

    /// Marks `id` under `namespace` completed for `ttl` (rounded up to whole milliseconds),
    /// atomically, whatever its state (the handler succeeded, so a later duplicate must be
    /// answered as completed). Returns whether the caller's claim (`token`) was still the one
    /// in flight and unexpired: false means the lease ran out first, and the delivery may have
    /// been claimed and handled a second time.
    ///
    /// # Errors
    /// As [`NonceStore::insert_if_absent`].
    async fn complete(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
        ttl: Duration,
    ) -> Result<bool, ReplayError>;

    /// Removes `id` under `namespace` only if it is in flight under `token` and unexpired,
    /// atomically, so the provider's retry runs the handler again. Never removes a completed
    /// entry or another claim's lease. Returns whether it removed the claim.
    ///
    /// # Errors
    /// As [`NonceStore::insert_if_absent`] (there is no TTL to check).
    async fn release(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
    ) -> Result<bool, ReplayError>;
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

            async fn claim(
                &self,
                namespace: &str,
                id: &[u8],
                token: LeaseToken,
                lease: Duration,
            ) -> Result<ClaimOutcome, ReplayError> {
                (**self).claim(namespace, id, token, lease).await
            }

            async fn complete(
                &self,
                namespace: &str,
                id: &[u8],
                token: LeaseToken,
                ttl: Duration,
            ) -> Result<bool, ReplayError> {
                (**self).complete(namespace, id, token, ttl).await
            }

            async fn release(
                &self,
                namespace: &str,
                id: &[u8],
                token: LeaseToken,
            ) -> Result<bool, ReplayError> {
                (**self).release(namespace, id, token).await
            }
        }
    )*};
}
forward!(Arc<S>, Box<S>, &S);

/// Checks the namespace every store must refuse (for operations that take no TTL: `remove`,
/// `release`).
///
/// # Errors
/// [`ReplayError::InvalidConfig`] for an empty namespace.
pub fn check_namespace(namespace: &str) -> Result<(), ReplayError> {
    if namespace.is_empty() {
        return Err(ReplayError::InvalidConfig {
            reason: "empty namespace",
        });
    }
    Ok(())
}

/// Checks the arguments every store must refuse.
///
/// # Errors
/// [`ReplayError::InvalidConfig`] for an empty namespace or a zero TTL.
pub fn check_arguments(namespace: &str, ttl: Duration) -> Result<(), ReplayError> {
    check_namespace(namespace)?;
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn lease_tokens_are_distinct_across_reseeds_and_threads() {
        let draw = || {
            (0..TOKENS_PER_SEED * 2 + 3)
                .map(|_| LeaseToken::random().unwrap().0)
                .collect::<Vec<_>>()
        };
        let other = std::thread::spawn(draw);
        let mut seen: HashSet<[u8; 16]> = draw().into_iter().collect();
        let mine = seen.len();
        assert_eq!(mine, (TOKENS_PER_SEED * 2 + 3) as usize);
        seen.extend(other.join().unwrap());
        assert_eq!(seen.len(), mine * 2, "two threads drew the same token");
        // No token is all zeroes (the buffer was filled).
        assert!(!seen.contains(&[0u8; 16]));
    }

    #[test]
    fn a_thread_reseeds_after_its_quota_of_tokens() {
        let left = || GENERATOR.with(|c| c.borrow().as_ref().map(|(_, left)| *left));
        let _ = LeaseToken::random().unwrap();
        let start = left().unwrap();
        for _ in 0..start {
            let _ = LeaseToken::random().unwrap();
        }
        assert_eq!(left(), Some(0));
        let _ = LeaseToken::random().unwrap();
        assert_eq!(
            left(),
            Some(TOKENS_PER_SEED - 1),
            "a fresh seed after the quota"
        );
    }
}
