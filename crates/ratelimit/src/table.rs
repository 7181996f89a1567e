//! A sharded hash table of per-key values, keyed by (tag, [`Key`]), with expiry, amortised
//! sweeping and a key cap. Shared by the memory store's states and blocks and by the
//! fallback store's shield.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hashbrown::HashTable;

use crate::{Key, RateLimitError};

/// What happens when a [`MemoryStore`](crate::MemoryStore) (or a shield) is at its key cap and a
/// new key arrives, after the expired keys of its shard have been dropped.
///
/// Dropping a key's state forgets what it has spent, so the choice is between forgetting the
/// keys that remember the least and not tracking the newcomer at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CapPolicy {
    /// Drop the keys of the shard closest to expiry (an eighth of the shard at a time, so the
    /// cost is amortised): those are the keys whose state is nearest to new, so forgetting them
    /// grants the least. A flood of fresh keys evicts other fresh keys first, not the keys it
    /// is trying to free from their limits. The default.
    #[default]
    EvictSoonestExpiring,
    /// Refuse to track the new key: the store returns [`RateLimitError::KeyCapReached`] and
    /// the caller decides (a [`FallbackStore`](crate::FallbackStore) does not treat it as a store
    /// failure). Keys already tracked are unaffected. A full shard is swept again only once one
    /// of its keys can have expired, and at most once a millisecond, so refusing is O(1).
    Refuse,
}

/// A value that knows when it becomes useless, in ns since the epoch.
pub(crate) trait Expiring {
    fn expires_at(&self) -> u64;
}

pub(crate) struct Entry<V> {
    pub(crate) tag: u64,
    pub(crate) key: Key,
    pub(crate) value: V,
}

struct ShardInner<V> {
    table: HashTable<Entry<V>>,
    /// Sweep expired entries when the shard reaches this length.
    sweep_at: usize,
    /// After a sweep that left the shard full: the earliest expiry among its entries then, and
    /// when that sweep ran (ns since the epoch). A full shard refusing new keys is not swept
    /// again before either has passed, so a flood of new keys cannot make every refusal scan
    /// the whole shard.
    full_until: u64,
    full_swept_at: u64,
}

/// The least time between two sweeps of a full shard that refuses new keys: 1 ms.
const FULL_SWEEP_INTERVAL_NS: u64 = 1_000_000;

/// One shard, on its own cache lines so that two cores working on two shards do not share one.
#[repr(align(128))]
struct Shard<V>(RwLock<ShardInner<V>>);

/// Sweep no shard below this many entries.
const MIN_SWEEP: usize = 1_024;

pub(crate) struct Table<V> {
    shards: Box<[Shard<V>]>,
    mask: usize,
    hasher: RandomState,
    shard_cap: usize,
    cap: usize,
    cap_policy: CapPolicy,
    len: AtomicUsize,
}

impl<V: Expiring> Table<V> {
    /// `shards` (rounded up to a power of two, at least 1) holding at most about `cap` keys.
    pub(crate) fn new(shards: usize, cap: usize, cap_policy: CapPolicy) -> Self {
        let n = shards.max(1).next_power_of_two();
        let shard_cap = cap.div_ceil(n).max(1);
        let shards = (0..n)
            .map(|_| {
                Shard(RwLock::new(ShardInner {
                    table: HashTable::new(),
                    sweep_at: MIN_SWEEP.min(shard_cap),
                    full_until: 0,
                    full_swept_at: 0,
                }))
            })
            .collect();
        Self {
            shards,
            mask: n - 1,
            // SipHash-1-3 with a random key per table: keys are chosen by clients, so the
            // table must resist collision flooding (HashDoS).
            hasher: RandomState::new(),
            shard_cap,
            cap,
            cap_policy,
            len: AtomicUsize::new(0),
        }
    }

    /// SipHash of the key, keyed per table, then the tag mixed in: the tag (a policy id) is not
    /// chosen by clients, so xoring a multiple of it keeps the key's collision resistance and
    /// saves hashing 8 more bytes.
    #[inline(always)]
    fn hash(&self, tag: u64, key: &Key) -> u64 {
        self.hasher.hash_one(key) ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    #[inline]
    #[expect(
        clippy::indexing_slicing,
        reason = "i = bits & mask, and mask = shards.len() - 1 with a power-of-two length"
    )]
    fn shard(&self, hash: u64) -> &Shard<V> {
        // Bits 32.. pick the shard; hashbrown uses the low bits (bucket) and the top 7 (tag).
        let i = ((hash >> 32) as usize) & self.mask;
        &self.shards[i]
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Runs `f` on the value of (tag, key), if present.
    #[inline]
    pub(crate) fn get<R>(&self, tag: u64, key: &Key, f: impl FnOnce(&V) -> R) -> Option<R> {
        let hash = self.hash(tag, key);
        let shard = read(self.shard(hash));
        shard
            .table
            .find(hash, |e| e.tag == tag && e.key == *key)
            .map(|e| f(&e.value))
    }

    /// Runs `f` on the value of (tag, key), inserting `make()` first if absent.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::KeyCapReached`] when the key is new, the shard is full of unexpired
    /// keys, and the cap policy is [`CapPolicy::Refuse`].
    #[inline(always)]
    pub(crate) fn with_or_insert<R>(
        &self,
        tag: u64,
        key: &Key,
        now: u64,
        make: impl FnOnce() -> V,
        f: impl FnOnce(&V) -> R,
    ) -> Result<R, RateLimitError> {
        let hash = self.hash(tag, key);
        let shard = self.shard(hash);
        {
            let inner = read(shard);
            if let Some(e) = inner.table.find(hash, |e| e.tag == tag && e.key == *key) {
                return Ok(f(&e.value));
            }
        }
        self.insert_slow(shard, hash, tag, key, now, make, f)
    }

    /// [`with_or_insert`](Self::with_or_insert) for a key not found under the read lock.
    #[cold]
    #[inline(never)]
    #[allow(
        clippy::too_many_arguments,
        reason = "the hot path's arguments, passed on"
    )]
    fn insert_slow<R>(
        &self,
        shard: &Shard<V>,
        hash: u64,
        tag: u64,
        key: &Key,
        now: u64,
        make: impl FnOnce() -> V,
        f: impl FnOnce(&V) -> R,
    ) -> Result<R, RateLimitError> {
        let mut inner = write(shard);
        if let Some(e) = inner.table.find(hash, |e| e.tag == tag && e.key == *key) {
            return Ok(f(&e.value));
        }
        self.insert_new(&mut inner, hash, tag, key, now, make)
            .map(f)
    }

    /// Inserts (tag, key) → `make()` into a shard known not to hold it, first making room.
    #[allow(
        clippy::too_many_arguments,
        reason = "the hot path's arguments, passed on"
    )]
    fn insert_new<'a>(
        &self,
        inner: &'a mut ShardInner<V>,
        hash: u64,
        tag: u64,
        key: &Key,
        now: u64,
        make: impl FnOnce() -> V,
    ) -> Result<&'a V, RateLimitError> {
        if inner.table.len() >= inner.sweep_at || inner.table.len() >= self.shard_cap {
            self.make_room(inner, now)?;
        }
        let entry = inner.table.insert_unique(
            hash,
            Entry {
                tag,
                key: *key,
                value: make(),
            },
            |e| self.hash(e.tag, &e.key),
        );
        self.len.fetch_add(1, Ordering::Relaxed);
        Ok(&entry.into_mut().value)
    }

    /// Replaces (or inserts) the value of (tag, key) by `f(old)`.
    pub(crate) fn upsert(
        &self,
        tag: u64,
        key: &Key,
        now: u64,
        f: impl FnOnce(Option<&V>) -> V,
    ) -> Result<(), RateLimitError> {
        let hash = self.hash(tag, key);
        let mut inner = write(self.shard(hash));
        if let Some(e) = inner
            .table
            .find_mut(hash, |e| e.tag == tag && e.key == *key)
        {
            e.value = f(Some(&e.value));
            return Ok(());
        }
        self.insert_new(&mut inner, hash, tag, key, now, || f(None))
            .map(|_| ())
    }

    /// Removes (tag, key); `true` if it was there.
    pub(crate) fn remove(&self, tag: u64, key: &Key) -> bool {
        let hash = self.hash(tag, key);
        let mut inner = write(self.shard(hash));
        let removed = inner
            .table
            .find_entry(hash, |e| e.tag == tag && e.key == *key)
            .map(|e| e.remove())
            .is_ok();
        if removed {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Removes every entry for which `keep` is false; returns how many.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&Entry<V>) -> bool) -> usize {
        let mut removed = 0;
        for shard in &self.shards {
            let mut inner = write(shard);
            let before = inner.table.len();
            inner.table.retain(|e| keep(e));
            removed += before - inner.table.len();
        }
        self.len.fetch_sub(removed, Ordering::Relaxed);
        removed
    }

    /// Removes the expired entries of every shard; returns how many.
    pub(crate) fn sweep(&self, now: u64) -> usize {
        self.retain(|e| e.value.expires_at() > now)
    }

    /// Called with the shard's write lock before inserting into a shard that is due a sweep or
    /// full: drops expired entries, then applies the cap policy.
    fn make_room(&self, inner: &mut ShardInner<V>, now: u64) -> Result<(), RateLimitError> {
        let refuse = self.cap_policy == CapPolicy::Refuse;
        if refuse
            && inner.table.len() >= self.shard_cap
            && (now < inner.full_until
                || now < inner.full_swept_at.saturating_add(FULL_SWEEP_INTERVAL_NS))
        {
            return Err(RateLimitError::KeyCapReached { cap: self.cap });
        }
        let before = inner.table.len();
        let mut earliest = u64::MAX;
        inner.table.retain(|e| {
            let expires = e.value.expires_at();
            let keep = expires > now;
            if keep {
                earliest = earliest.min(expires);
            }
            keep
        });
        let mut removed = before - inner.table.len();
        if inner.table.len() >= self.shard_cap {
            match self.cap_policy {
                CapPolicy::Refuse => {
                    self.len.fetch_sub(removed, Ordering::Relaxed);
                    inner.full_until = earliest;
                    inner.full_swept_at = now;
                    return Err(RateLimitError::KeyCapReached { cap: self.cap });
                }
                CapPolicy::EvictSoonestExpiring => {
                    // Find the expiry below which an eighth of the shard lies, and drop those.
                    let mut expiries: Vec<u64> =
                        inner.table.iter().map(|e| e.value.expires_at()).collect();
                    let k = (expiries.len() / 8).saturating_sub(1);
                    let threshold = match expiries.get(k) {
                        Some(_) => *expiries.select_nth_unstable(k).1,
                        None => u64::MAX,
                    };
                    let mut budget = k + 1;
                    let len_before = inner.table.len();
                    inner.table.retain(|e| {
                        if budget > 0 && e.value.expires_at() <= threshold {
                            budget -= 1;
                            false
                        } else {
                            true
                        }
                    });
                    removed += len_before - inner.table.len();
                }
            }
        }
        self.len.fetch_sub(removed, Ordering::Relaxed);
        // Sweep again once the shard has doubled: amortised O(1) per insert.
        inner.sweep_at =
            (inner.table.len() * 2).clamp(MIN_SWEEP.min(self.shard_cap), self.shard_cap);
        Ok(())
    }
}

fn read<V>(shard: &Shard<V>) -> RwLockReadGuard<'_, ShardInner<V>> {
    // No code panics while holding the lock; recover the data if a caller's closure did.
    shard.0.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<V>(shard: &Shard<V>) -> RwLockWriteGuard<'_, ShardInner<V>> {
    shard.0.write().unwrap_or_else(PoisonError::into_inner)
}
