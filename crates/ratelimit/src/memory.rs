//! The in-memory store: sharded, GCRA on one atomic word per key, bounded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;

use crate::algorithm::check_cost;
use crate::quarantine::{BlockCursor, BlockEntry, BlockPage, PenaltyBox, page_size};
use crate::table::{Expiring, Table};
use crate::time::{Steady, duration_nanos};
use crate::{
    CapPolicy, Clock, Decision, FastClock, Gcra, Key, Policy, RateLimitError, RateLimitStore,
    State, Timestamp, Verdict,
};

/// What a full shard of a [`MemoryStore`] does by default with a new key:
/// [`CapPolicy::EvictSoonestExpiring`]. It drops the keys of the shard closest to expiry, an
/// eighth of the shard at a time so that the cost is amortised: those are the keys whose state
/// is nearest to new, so forgetting them grants the least, and a flood of fresh keys evicts
/// other fresh keys first, not the keys it is trying to free from their limits.
///
/// With [`CapPolicy::Refuse`] the store returns [`RateLimitError::KeyCapReached`] instead and
/// the caller decides (a [`FallbackStore`](crate::FallbackStore) does not treat it as a store
/// failure); keys already tracked are unaffected. A full shard is swept again only once one of
/// its keys can have expired, and at most once a millisecond, so refusing is O(1).
pub const DEFAULT_CAP_POLICY: CapPolicy = CapPolicy::EvictSoonestExpiring;

/// The default key cap of a [`MemoryStore`]: one million keys (with GCRA, about 55 MB for keys of
/// at most 15 bytes and 80 MB for longer ones; see `docs/benchmarks.md` for the measured bytes
/// per key of each algorithm).
pub const DEFAULT_KEY_CAP: usize = 1_000_000;

/// The TAT of a (policy, key) whose policy is one GCRA limit, in one atomic word updated by
/// compare-and-swap with no lock (as governor does). Expires at the TAT.
struct Word(AtomicU64);

impl Expiring for Word {
    fn expires_at(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The states of a (policy, key) for any other policy, under a mutex held for one
/// [`Policy::apply`].
struct Locked {
    /// When the states are all new again, ns since the epoch (for sweeping without the policy).
    expires: AtomicU64,
    states: Mutex<Vec<State>>,
}

impl Expiring for Box<Locked> {
    fn expires_at(&self) -> u64 {
        self.expires.load(Ordering::Relaxed)
    }
}

/// A block: until when, ns since the epoch.
struct Block(AtomicU64);

impl Expiring for Block {
    fn expires_at(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Rate-limit state in this process's memory.
///
/// - **Sharded**: keys spread over `4 × cores` shards (a power of two, 4 to 256), each a
///   SwissTable (`hashbrown`) behind a reader-writer lock on its own cache lines; a key is
///   hashed once, with SipHash-1-3 under a per-store random key, so clients cannot flood one
///   bucket with colliding keys. Keys of at most 15 bytes (`u64` and IPv4 keys, short
///   strings) are held exactly in 16 bytes, in a table of their own within the shard (32 bytes
///   per GCRA entry instead of 48).
/// - **GCRA on one atomic word**: a policy of a single GCRA limit keeps each key's TAT in an
///   `AtomicU64` updated by compare-and-swap under the shard's *read* lock, as governor does;
///   the [`Verdict`] is computed after the lock is released, from the TAT the decision was
///   made on.
///   Other algorithms and multi-limit policies hold a per-key mutex only for the few
///   nanoseconds of [`Policy::apply`].
/// - **Expired keys evicted automatically**: a shard that has doubled since its last sweep drops
///   its expired keys before growing (amortised O(1) per new key), [`sweep`](Self::sweep) does
///   it for all shards, and with feature `tokio`, [`spawn_sweeper`](Self::spawn_sweeper) calls it
///   periodically. An expired key is one whose state is back to new, so dropping it changes no
///   decision.
/// - **Key cap** (default [`DEFAULT_KEY_CAP`], split evenly over the shards): applied to the
///   states of single-GCRA policies and to those of other policies separately (so at most twice
///   the cap in all), and to blocks; see [`CapPolicy`] for what happens at the cap of the
///   states. The penalty box is always [`CapPolicy::Refuse`]: when it is full of unexpired
///   blocks, a newly refused key is not blocked (its limits still refuse it) and no block is
///   evicted, so a flood of newly blocked keys cannot lift earlier blocks.
/// - **Clock**: reads its [`Clock`] once per decision ([`FastClock`] by default, the wall
///   clock through the CPU's counter; [`SystemClock`](crate::SystemClock) or
///   [`ManualClock`](crate::ManualClock) on request), or takes `now` explicitly with
///   [`check_at`](Self::check_at). Elapsed time is monotonic: when the clock steps back
///   (NTP, a restored VM), the store absorbs the step and counts time on from where it was,
///   so decisions continue as before instead of every key's state lying in the future
///   (forward steps are followed). `check_at`/`apply_at` take `now` as given.
///
/// It is exact within one process and useless across several: behind a load balancer use a
/// shared store, with this one as a [`FallbackStore`](crate::FallbackStore)'s secondary.
///
/// ```
/// use palisade_ratelimit::{Key, Limit, ManualClock, MemoryStore, Policy, Quota, Timestamp};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)));
/// let store = MemoryStore::with_clock(clock.clone());
/// let policy = Policy::single(Limit::gcra("login", Quota::per_minute(3)?)?)?;
/// let key = Key::from("alice@example.com");
/// for _ in 0..3 {
///     assert!(store.check_now(&key, &policy, 1)?.is_allowed());
/// }
/// assert_eq!(store.check_now(&key, &policy, 1)?.retry_after_secs(), Some(20));
/// clock.advance(Duration::from_secs(20));
/// assert!(store.check_now(&key, &policy, 1)?.is_allowed());
/// # Ok::<(), palisade_ratelimit::RateLimitError>(())
/// ```
pub struct MemoryStore<C = FastClock> {
    words: Table<Word>,
    locked: Table<Box<Locked>>,
    blocks: Table<Block>,
    clock: C,
    steady: Steady,
}

impl MemoryStore<FastClock> {
    /// A store on a [`FastClock`] (the wall clock, read fast), with the default shards and key
    /// cap.
    pub fn new() -> Self {
        Self::with_clock(FastClock::new())
    }
}

impl Default for MemoryStore<FastClock> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> std::fmt::Debug for MemoryStore<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("keys", &(self.words.len() + self.locked.len()))
            .field("blocks", &self.blocks.len())
            .finish_non_exhaustive()
    }
}

fn default_shards() -> usize {
    let cores = std::thread::available_parallelism().map_or(4, std::num::NonZeroUsize::get);
    (cores * 4).clamp(4, 256)
}

impl<C: Clock> MemoryStore<C> {
    /// A store reading `clock`, with the default shards and key cap.
    pub fn with_clock(clock: C) -> Self {
        Self::with_config(clock, default_shards(), DEFAULT_KEY_CAP, DEFAULT_CAP_POLICY)
    }

    /// A store reading `clock`, with `shards` shards (rounded up to a power of two) and at most
    /// about `key_cap` keys (per shard: `key_cap / shards`, rounded up) of single-GCRA policies,
    /// as many of other policies, and as many blocks; `cap_policy` says what a full shard does
    /// with a new key (blocks always evict the soonest-expiring).
    pub fn with_config(clock: C, shards: usize, key_cap: usize, cap_policy: CapPolicy) -> Self {
        Self {
            words: Table::new(shards, key_cap, cap_policy),
            locked: Table::new(shards, key_cap, cap_policy),
            // Blocks are few; bound them like the states so a flood cannot grow them unbounded.
            // A full penalty box refuses new blocks rather than evicting old ones: otherwise a
            // flood of newly blocked keys (many addresses getting themselves blocked) would
            // evict the blocks it is trying to lift, the soonest-expiring first.
            blocks: Table::new(shards, key_cap, CapPolicy::Refuse),
            clock,
            steady: Steady::default(),
        }
    }

    /// The store's clock.
    pub const fn clock(&self) -> &C {
        &self.clock
    }

    /// The clock's now as the store counts time: backward steps of the clock absorbed
    /// ([`Steady`]), so elapsed time never runs backwards.
    #[inline]
    fn now(&self) -> Timestamp {
        self.steady.now(&self.clock)
    }

    /// Number of (policy, key) states held, expired or not.
    pub fn len(&self) -> usize {
        self.words.len() + self.locked.len()
    }

    /// `true` when no state is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// [`RateLimitStore::check`] at the clock's now, without an async runtime.
    ///
    /// # Errors
    ///
    /// As [`RateLimitStore::apply`].
    #[inline]
    pub fn check_now(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        self.check_at(key, policy, cost, self.now())
    }

    /// [`RateLimitStore::check`] at `now`: the lists, then [`apply_at`](Self::apply_at).
    ///
    /// # Errors
    ///
    /// As [`RateLimitStore::apply`].
    #[inline]
    pub fn check_at(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
        now: Timestamp,
    ) -> Result<Verdict, RateLimitError> {
        match policy.access().screen(key) {
            Some(v) => Ok(v),
            None => self.apply_at(key, policy, cost, now),
        }
    }

    /// [`RateLimitStore::apply`] at `now`.
    ///
    /// # Errors
    ///
    /// As [`RateLimitStore::apply`].
    #[inline]
    pub fn apply_at(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
        now: Timestamp,
    ) -> Result<Verdict, RateLimitError> {
        let now_ns = now.as_unix_nanos();
        if let Some(g) = policy.single_gcra() {
            // The fast path: no walk over the limits, no lock but the shard's read lock.
            let n = check_cost(cost, g.capacity())?;
            if let Some(blocked) = self.blocked(key, now_ns) {
                return Ok(blocked);
            }
            let decision = self.apply_gcra(g, key, policy.id(), n, now_ns)?;
            return match policy.block_for() {
                Some(block) if !decision.is_allowed() => {
                    self.penalize(key, now_ns, block, Verdict::from_one(decision))
                }
                _ => Ok(Verdict::from_one(decision)),
            };
        }
        policy.check_cost(cost)?;
        if let Some(blocked) = self.blocked(key, now_ns) {
            return Ok(blocked);
        }
        let verdict = self.apply_locked(key, policy, cost, now)?;
        match policy.block_for() {
            Some(block) if verdict.cause() == crate::Cause::Limited => {
                self.penalize(key, now_ns, block, verdict)
            }
            _ => Ok(verdict),
        }
    }

    /// A policy of one GCRA limit: one compare-and-swap on the key's word, under the shard's
    /// read lock. The decision is computed after the lock is released, from the TAT it was
    /// made on (a pure function of that TAT, `now` and the cost).
    #[inline]
    fn apply_gcra(
        &self,
        g: &Gcra,
        key: &Key,
        policy_id: u64,
        n: u64,
        now_ns: u64,
    ) -> Result<Decision, RateLimitError> {
        let cas = |Word(tat): &Word| {
            let mut current = tat.load(Ordering::Acquire);
            loop {
                let Some(next) = g.admit(current, now_ns, n) else {
                    break current;
                };
                match tat.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => break current,
                    Err(seen) => current = seen,
                }
            }
        };
        let new = || Word(AtomicU64::new(0));
        let tat = self
            .words
            .with_or_insert(policy_id, key, now_ns, new, cas)?;
        Ok(g.eval_tat(tat, now_ns, n).0)
    }

    /// Any other policy: its states under the key's mutex.
    #[inline(never)]
    fn apply_locked(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
        now: Timestamp,
    ) -> Result<Verdict, RateLimitError> {
        self.locked.with_or_insert(
            policy.id(),
            key,
            now.as_unix_nanos(),
            || {
                Box::new(Locked {
                    expires: AtomicU64::new(0),
                    states: Mutex::new(policy.new_states()),
                })
            },
            |locked| {
                let mut states = locked.states.lock().unwrap_or_else(PoisonError::into_inner);
                let verdict = policy.apply(&mut states, now, cost);
                locked.expires.store(
                    policy.expires_at(&states).as_unix_nanos(),
                    Ordering::Relaxed,
                );
                verdict
            },
        )?
    }

    /// Puts a key refused by the limits in the penalty box for `block`.
    #[cold]
    #[inline(never)]
    fn penalize(
        &self,
        key: &Key,
        now: u64,
        block: Duration,
        verdict: Verdict,
    ) -> Result<Verdict, RateLimitError> {
        match self.block_until(key, now, now.saturating_add(duration_nanos(block))) {
            Ok(()) => Ok(verdict.with_penalty(block)),
            // The penalty box is full of unexpired blocks: they stay, and this key is refused
            // by its limits alone (its state still holds what it spent).
            Err(RateLimitError::KeyCapReached { .. }) => Ok(verdict),
            Err(e) => Err(e),
        }
    }

    /// The verdict for `key` if it is blocked at `now`.
    #[inline(always)]
    fn blocked(&self, key: &Key, now: u64) -> Option<Verdict> {
        if self.blocks.len() == 0 {
            return None;
        }
        self.blocked_until(key, now)
            .map(|until| Verdict::blocked(Duration::from_nanos(until - now)))
    }

    /// When `key` is blocked at `now`, until when (ns since the epoch).
    #[inline(never)]
    fn blocked_until(&self, key: &Key, now: u64) -> Option<u64> {
        self.blocks
            .get(0, key, |b| b.0.load(Ordering::Relaxed))
            .filter(|&until| until > now)
    }

    fn block_until(&self, key: &Key, now: u64, until: u64) -> Result<(), RateLimitError> {
        self.blocks.upsert(0, key, now, |old| {
            let prev = old.map_or(0, Expiring::expires_at);
            Block(AtomicU64::new(prev.max(until)))
        })
    }

    /// [`RateLimitStore::block`] at `now`.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::KeyCapReached`] when the key is not blocked yet and its shard of the
    /// penalty box is full of unexpired blocks: blocks already held are never evicted to make
    /// room (a key already blocked has its block extended).
    pub fn block_at(
        &self,
        key: &Key,
        duration: Duration,
        now: Timestamp,
    ) -> Result<(), RateLimitError> {
        let now = now.as_unix_nanos();
        self.block_until(key, now, now.saturating_add(duration_nanos(duration)))
    }

    /// [`RateLimitStore::unblock`].
    pub fn unblock_key(&self, key: &Key) {
        self.blocks.remove(0, key);
    }

    /// [`PenaltyBox::blocks`] at `now`: the keys blocked at `now` whose encoding
    /// ([`Key::encoded`]) follows the cursor's, in that order. One pass over the box.
    pub fn blocks_at(
        &self,
        after: Option<&BlockCursor>,
        limit: usize,
        now: Timestamp,
    ) -> BlockPage {
        let (limit, now) = (page_size(limit), now.as_unix_nanos());
        let after = after.map(BlockCursor::as_bytes);
        // The `limit + 1` smallest keys past the cursor (one more tells whether a next page
        // exists), in a max-heap so the pass keeps only those.
        let mut heap = std::collections::BinaryHeap::with_capacity(limit + 1);
        self.blocks.for_each(|key, block| {
            let until = block.0.load(Ordering::Relaxed);
            if until <= now || after.is_some_and(|a| key.encoded() <= a) {
                return;
            }
            heap.push((*key, until));
            if heap.len() > limit + 1 {
                heap.pop();
            }
        });
        let mut entries: Vec<BlockEntry> = heap
            .into_sorted_vec()
            .into_iter()
            .map(|(key, until)| BlockEntry {
                key,
                remaining: Duration::from_nanos(until - now),
            })
            .collect();
        let next = if entries.len() > limit {
            entries.truncate(limit);
            entries
                .last()
                .map(|e| BlockCursor::from_bytes(e.key.encoded()))
        } else {
            None
        };
        BlockPage { entries, next }
    }

    /// [`PenaltyBox::release`] at `now`: lifts `key`'s block; `true` when it was blocked at
    /// `now`.
    pub fn release_at(&self, key: &Key, now: Timestamp) -> bool {
        self.blocks
            .remove_if(0, key, |b| b.0.load(Ordering::Relaxed))
            .is_some_and(|until| until > now.as_unix_nanos())
    }

    /// [`PenaltyBox::take_ended`] at `now`: removes up to `limit` blocks over at `now` and
    /// returns their keys.
    pub fn take_ended_at(&self, limit: usize, now: Timestamp) -> Vec<Key> {
        let (mut budget, now) = (page_size(limit), now.as_unix_nanos());
        let mut ended = Vec::new();
        self.blocks.retain(|key, block| {
            if budget > 0 && block.0.load(Ordering::Relaxed) <= now {
                budget -= 1;
                ended.push(*key);
                false
            } else {
                true
            }
        });
        ended
    }

    /// Drops every expired state and block at the clock's now; returns how many were dropped.
    pub fn sweep(&self) -> usize {
        self.sweep_at(self.now())
    }

    /// Drops every state and block expired at `now`; returns how many were dropped.
    pub fn sweep_at(&self, now: Timestamp) -> usize {
        let now = now.as_unix_nanos();
        self.words.sweep(now) + self.locked.sweep(now) + self.blocks.sweep(now)
    }
}

#[cfg(feature = "tokio")]
impl<C: Clock + 'static> MemoryStore<C> {
    /// Spawns a tokio task that calls [`sweep`](Self::sweep) every `every` (the first after one
    /// period) and ends when the store is dropped. Requires feature `tokio` and a running tokio
    /// runtime.
    pub fn spawn_sweeper(
        self: &std::sync::Arc<Self>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let weak = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match weak.upgrade() {
                    Some(store) => {
                        store.sweep();
                    }
                    None => break,
                }
            }
        })
    }
}

#[async_trait]
impl<C: Clock> RateLimitStore for MemoryStore<C> {
    async fn apply(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        self.apply_at(key, policy, cost, self.now())
    }

    async fn block(&self, key: &Key, duration: Duration) -> Result<(), RateLimitError> {
        self.block_at(key, duration, self.now())
    }

    async fn unblock(&self, key: &Key) -> Result<(), RateLimitError> {
        self.unblock_key(key);
        Ok(())
    }
}

#[async_trait]
impl<C: Clock> PenaltyBox for MemoryStore<C> {
    async fn blocks(
        &self,
        after: Option<&BlockCursor>,
        limit: usize,
    ) -> Result<BlockPage, RateLimitError> {
        Ok(self.blocks_at(after, limit, self.now()))
    }

    async fn release(&self, key: &Key) -> Result<bool, RateLimitError> {
        Ok(self.release_at(key, self.now()))
    }

    async fn take_ended(&self, limit: usize) -> Result<Vec<Key>, RateLimitError> {
        Ok(self.take_ended_at(limit, self.now()))
    }
}
