//! Flood quarantine on top of the penalty box: list the keys blocked now, release one, collect
//! the blocks that have ended, and `tracing` events when a key is blocked and when its block
//! ends.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tracing::Level;

use crate::{Cause, Key, Policy, RateLimitError, RateLimitStore, Verdict};

/// The most entries one page of [`PenaltyBox::blocks`] holds, and the most ended blocks one
/// [`PenaltyBox::take_ended`] returns: 1,000. Larger requests are cut to it.
pub const MAX_BLOCK_PAGE: usize = 1_000;

/// Where the next page of [`PenaltyBox::blocks`] starts: an opaque value the store gave with
/// the previous page ([`BlockPage::next`]).
///
/// Its bytes ([`as_bytes`](Self::as_bytes)) may be sent to an operator's tool and given back
/// ([`from_bytes`](Self::from_bytes)); they name a position in the store's order, never a
/// secret, but they do hold a key's encoding (an address or phone number): keep them out of
/// logs as you would keys. A cursor of one store means nothing to another.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BlockCursor(Vec<u8>);

impl BlockCursor {
    /// A cursor from the bytes of [`as_bytes`](Self::as_bytes).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The cursor's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for BlockCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlockCursor({} bytes)", self.0.len())
    }
}

/// One blocked key, as [`PenaltyBox::blocks`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockEntry {
    /// The blocked key (its `Debug` shows kind and length only; [`Key::fingerprint`] names it
    /// in logs).
    pub key: Key,
    /// How long the block still lasts, from the store's now (nanoseconds in memory and
    /// Postgres, whole milliseconds rounded up in Redis), at least 1 ns.
    pub remaining: Duration,
}

/// A page of blocked keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockPage {
    /// At most the page size asked for, in the store's order.
    pub entries: Vec<BlockEntry>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<BlockCursor>,
}

/// A [`RateLimitStore`] whose penalty box can be inspected and managed: the keys blocked now
/// ([`blocks`](Self::blocks), bounded and paginated), the release of one
/// ([`release`](Self::release)), and the collection of blocks that ended by themselves
/// ([`take_ended`](Self::take_ended), for "block ended" events and reports).
///
/// Implemented by [`MemoryStore`](crate::MemoryStore), `palisade_redis::RedisRateLimitStore`
/// and `palisade_postgres::PostgresRateLimitStore`; all pass the suite of
/// [`testing::quarantine`](crate::testing::quarantine) (feature `testing`). Wrap a store in a
/// [`Quarantine`] to have each block and each end of a block logged.
///
/// **Pagination.** A page holds at most `limit` entries (cut to [`MAX_BLOCK_PAGE`]); the
/// walk from `None` through every [`BlockPage::next`] lists each key blocked throughout the
/// walk exactly once. Keys blocked or released during it may or may not appear. Memory and
/// Postgres order by key, Redis by the block's end then key.
#[async_trait]
pub trait PenaltyBox: RateLimitStore {
    /// One page of the keys blocked now (explicitly or by the penalty box), after `after`
    /// (`None`: from the start), at most `limit` entries (1 to [`MAX_BLOCK_PAGE`]).
    ///
    /// # Errors
    ///
    /// Store failures. A cursor from another store lists from an arbitrary position.
    async fn blocks(
        &self,
        after: Option<&BlockCursor>,
        limit: usize,
    ) -> Result<BlockPage, RateLimitError>;

    /// Lifts `key`'s block, as [`unblock`](RateLimitStore::unblock) does; `true` when the key
    /// was blocked (an unexpired block was removed).
    ///
    /// # Errors
    ///
    /// Store failures.
    async fn release(&self, key: &Key) -> Result<bool, RateLimitError>;

    /// Removes up to `limit` (1 to [`MAX_BLOCK_PAGE`]) blocks that have ended by themselves
    /// (their time passed; released ones are gone already) and returns their keys, each once
    /// across every caller and instance: the call a periodic job makes to report "released on
    /// expiry". A block that ended is not reported twice, and one still running is never
    /// taken.
    ///
    /// The memory store also drops ended blocks when it sweeps ([`MemoryStore::sweep`](crate::MemoryStore::sweep),
    /// or a shard of the box that grows); those are not reported. Postgres's `cleanup` deletes
    /// them too: call `take_ended` before it, or instead of it for the blocks table.
    ///
    /// # Errors
    ///
    /// Store failures.
    async fn take_ended(&self, limit: usize) -> Result<Vec<Key>, RateLimitError>;
}

#[async_trait]
impl<S: PenaltyBox + ?Sized> PenaltyBox for Arc<S> {
    async fn blocks(
        &self,
        after: Option<&BlockCursor>,
        limit: usize,
    ) -> Result<BlockPage, RateLimitError> {
        (**self).blocks(after, limit).await
    }

    async fn release(&self, key: &Key) -> Result<bool, RateLimitError> {
        (**self).release(key).await
    }

    async fn take_ended(&self, limit: usize) -> Result<Vec<Key>, RateLimitError> {
        (**self).take_ended(limit).await
    }
}

/// `limit` as a page size: 1 to [`MAX_BLOCK_PAGE`].
pub(crate) fn page_size(limit: usize) -> usize {
    limit.clamp(1, MAX_BLOCK_PAGE)
}

/// Why a key was blocked, in the `reason` field of the `ratelimit.blocked` event.
const PENALTY: &str = "penalty";
const EXPLICIT: &str = "explicit";

/// Emits `ratelimit.blocked` for `key`, blocked for `duration` because of `reason`.
fn blocked_event(key: &Key, reason: &'static str, duration: Duration) {
    tracing::event!(
        name: palisade_telemetry::RATELIMIT_BLOCKED,
        target: "palisade_ratelimit",
        Level::WARN,
        event = palisade_telemetry::RATELIMIT_BLOCKED,
        key_id = %key.fingerprint(),
        reason,
        block_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    );
}

/// Emits `ratelimit.block_ended` for `key`, whose block ended because of `reason`.
fn ended_event(key: &Key, reason: &'static str) {
    tracing::event!(
        name: palisade_telemetry::RATELIMIT_BLOCK_ENDED,
        target: "palisade_ratelimit",
        Level::INFO,
        event = palisade_telemetry::RATELIMIT_BLOCK_ENDED,
        key_id = %key.fingerprint(),
        reason,
    );
}

/// A store (any [`PenaltyBox`]: memory, Redis, Postgres) whose blocks are logged: the flood
/// quarantine.
///
/// Every call goes to the store unchanged; on top, `tracing` events (target
/// `palisade_ratelimit`, names from `palisade-telemetry`):
///
/// | when | event | level | fields |
/// |---|---|---|---|
/// | a refusal puts the key in the penalty box ([`Policy::with_block`]) | `ratelimit.blocked` | warn | `key_id`, `reason = "penalty"`, `block_ms` |
/// | [`block`](RateLimitStore::block) | `ratelimit.blocked` | warn | `key_id`, `reason = "explicit"`, `block_ms` |
/// | [`release`](PenaltyBox::release) or [`unblock`](RateLimitStore::unblock) of a blocked key | `ratelimit.block_ended` | info | `key_id`, `reason = "released"` |
/// | [`release_ended`](Self::release_ended) finds a block over | `ratelimit.block_ended` | info | `key_id`, `reason = "expired"` |
///
/// `key_id` is [`Key::fingerprint`]: never the key. A penalty is logged once per block (the
/// requests refused while blocked are [`Cause::Blocked`] and log nothing here). Events of
/// the end of a block come from `release_ended`: run it periodically (every few seconds to a
/// minute) from one task; without it, blocks still end on time, unlogged.
///
/// ```
/// use palisade_ratelimit::{Key, Limit, ManualClock, MemoryStore, PenaltyBox, Policy, Quarantine, Quota, RateLimitStore, Timestamp};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)));
/// let store = Quarantine::new(MemoryStore::with_clock(clock.clone()));
/// // 3 messages a minute per sender; a sender over it is quarantined for 10 minutes.
/// let policy = Policy::single(Limit::gcra("sender", Quota::per_minute(3)?)?)?
///     .with_block(Duration::from_secs(600));
/// let sender = Key::from("+14155550123");
/// for _ in 0..4 {
///     store.check(&sender, &policy, 1).await?; // the 4th is refused: `ratelimit.blocked`
/// }
/// let page = store.blocks(None, 100).await?;
/// assert_eq!(page.entries.len(), 1);
/// assert_eq!(page.entries[0].key, sender);
///
/// clock.advance(Duration::from_secs(601));
/// assert_eq!(store.release_ended(100).await?, 1); // `ratelimit.block_ended`, reason "expired"
/// assert!(store.blocks(None, 100).await?.entries.is_empty());
/// # Ok::<(), palisade_ratelimit::RateLimitError>(())
/// # }).map_err(|e| Box::new(e) as Box<dyn std::error::Error>)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Quarantine<S> {
    store: S,
}

impl<S: PenaltyBox> Quarantine<S> {
    /// `store`, with its blocks logged.
    pub const fn new(store: S) -> Self {
        Self { store }
    }

    /// The store.
    pub const fn store(&self) -> &S {
        &self.store
    }

    /// Takes the blocks that have ended ([`PenaltyBox::take_ended`]), up to `limit` (cut to
    /// [`MAX_BLOCK_PAGE`]), emits `ratelimit.block_ended` (`reason = "expired"`) for each, and
    /// returns how many. Call it periodically; a return of `limit` means more may be waiting.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub async fn release_ended(&self, limit: usize) -> Result<usize, RateLimitError> {
        let ended = self.store.take_ended(limit).await?;
        for key in &ended {
            ended_event(key, "expired");
        }
        Ok(ended.len())
    }
}

#[async_trait]
impl<S: PenaltyBox> RateLimitStore for Quarantine<S> {
    async fn apply(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        let verdict = self.store.apply(key, policy, cost).await?;
        // A penalty raises the retry time to the block (a full memory penalty box blocks
        // nothing, and its refusal keeps the limit's own retry time).
        if let Some(block) = policy.block_for()
            && verdict.cause() == Cause::Limited
            && verdict.retry_after().is_some_and(|r| r >= block)
        {
            blocked_event(key, PENALTY, block);
        }
        Ok(verdict)
    }

    async fn block(&self, key: &Key, duration: Duration) -> Result<(), RateLimitError> {
        self.store.block(key, duration).await?;
        blocked_event(key, EXPLICIT, duration);
        Ok(())
    }

    async fn unblock(&self, key: &Key) -> Result<(), RateLimitError> {
        self.release(key).await.map(|_| ())
    }
}

#[async_trait]
impl<S: PenaltyBox> PenaltyBox for Quarantine<S> {
    async fn blocks(
        &self,
        after: Option<&BlockCursor>,
        limit: usize,
    ) -> Result<BlockPage, RateLimitError> {
        self.store.blocks(after, limit).await
    }

    async fn release(&self, key: &Key) -> Result<bool, RateLimitError> {
        let released = self.store.release(key).await?;
        if released {
            ended_event(key, "released");
        }
        Ok(released)
    }

    async fn take_ended(&self, limit: usize) -> Result<Vec<Key>, RateLimitError> {
        self.store.take_ended(limit).await
    }
}
