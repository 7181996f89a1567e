//! A sharded hash table of per-key values, keyed by (tag, [`Key`]), with expiry, amortised
//! sweeping and a key cap. Shared by the memory store's states and blocks and by the
//! fallback store's shield.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hashbrown::HashTable;

use palisade_core::CapPolicy;

use crate::sip::SipKey;
use crate::{Key, RateLimitError};

/// A value that knows when it becomes useless, in ns since the epoch.
pub(crate) trait Expiring {
    fn expires_at(&self) -> u64;
}

/// A key of at most [`SHORT_KEY_LEN`](crate::key::SHORT_KEY_LEN) bytes (`u64` and IPv4 keys,
/// short strings), held as its [`head`](Key::head): 16 bytes instead of the 32 of a [`Key`].
/// Exact, not a digest: a short key's buffer is zero past its head.
type ShortKey = [u64; 2];

/// An entry of a long key.
struct Entry<V> {
    tag: u64,
    key: Key,
    value: V,
}

/// An entry of a short key, aligned to its 32 bytes (with an 8-byte value) so that none
/// straddles two cache lines.
#[repr(align(32))]
struct ShortEntry<V> {
    tag: u64,
    key: ShortKey,
    value: V,
}

struct ShardInner<V> {
    /// Entries of short keys: 32 bytes with an 8-byte value.
    short: HashTable<ShortEntry<V>>,
    /// Entries of the other keys: 48 bytes with an 8-byte value.
    long: HashTable<Entry<V>>,
    /// Sweep expired entries when the shard reaches this length.
    sweep_at: usize,
    /// After a sweep that left the shard full: the earliest expiry among its entries then, and
    /// when that sweep ran (ns since the epoch). A full shard refusing new keys is not swept
    /// again before either has passed, so a flood of new keys cannot make every refusal scan
    /// the whole shard.
    full_until: u64,
    full_swept_at: u64,
}

impl<V> ShardInner<V> {
    /// Entries of both forms.
    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    #[inline(always)]
    fn find(&self, hash: u64, tag: u64, key: &Key) -> Option<&V> {
        if key.is_short() {
            let head = key.head();
            self.short
                .find(hash, |e| e.tag == tag && e.key == head)
                .map(|e| &e.value)
        } else {
            self.long
                .find(hash, |e| e.tag == tag && e.key == *key)
                .map(|e| &e.value)
        }
    }

    fn find_mut(&mut self, hash: u64, tag: u64, key: &Key) -> Option<&mut V> {
        if key.is_short() {
            let head = key.head();
            self.short
                .find_mut(hash, |e| e.tag == tag && e.key == head)
                .map(|e| &mut e.value)
        } else {
            self.long
                .find_mut(hash, |e| e.tag == tag && e.key == *key)
                .map(|e| &mut e.value)
        }
    }

    fn remove(&mut self, hash: u64, tag: u64, key: &Key) -> bool {
        if key.is_short() {
            let head = key.head();
            self.short
                .find_entry(hash, |e| e.tag == tag && e.key == head)
                .map(|e| e.remove())
                .is_ok()
        } else {
            self.long
                .find_entry(hash, |e| e.tag == tag && e.key == *key)
                .map(|e| e.remove())
                .is_ok()
        }
    }

    /// Keeps the entries for which `keep(key, value)` holds; returns how many were removed.
    fn retain(&mut self, mut keep: impl FnMut(&Key, &V) -> bool) -> usize {
        let before = self.len();
        self.short
            .retain(|e| keep(&Key::from_head(e.key), &e.value));
        self.long.retain(|e| keep(&e.key, &e.value));
        before - self.len()
    }

    /// Keeps the entries for which `keep(value)` holds; returns how many were removed.
    fn retain_values(&mut self, mut keep: impl FnMut(&V) -> bool) -> usize {
        let before = self.len();
        self.short.retain(|e| keep(&e.value));
        self.long.retain(|e| keep(&e.value));
        before - self.len()
    }
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
    /// SipHash-1-3 with a random key per table: keys are chosen by clients, so the table
    /// must resist collision flooding (HashDoS).
    sip: SipKey,
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
                    short: HashTable::new(),
                    long: HashTable::new(),
                    sweep_at: MIN_SWEEP.min(shard_cap),
                    full_until: 0,
                    full_swept_at: 0,
                }))
            })
            .collect();
        Self {
            shards,
            mask: n - 1,
            sip: SipKey::random(),
            shard_cap,
            cap,
            cap_policy,
            len: AtomicUsize::new(0),
        }
    }

    /// SipHash-1-3 of the key's [`encoded`](Key::encoded) bytes, keyed per table (inlined: the
    /// generic `Hasher` path costs a call and byte-wise tail handling), then the tag mixed in: the tag (a policy id) is not chosen by clients, so
    /// xoring a multiple of it keeps the key's collision resistance and saves hashing 8 more
    /// bytes.
    #[inline(always)]
    fn hash(&self, tag: u64, key: &Key) -> u64 {
        let h = self.sip.hash(&key.words(), key.encoded_len());
        h ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15)
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
        shard.find(hash, tag, key).map(f)
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
            if let Some(v) = inner.find(hash, tag, key) {
                return Ok(f(v));
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
        if let Some(v) = inner.find(hash, tag, key) {
            return Ok(f(v));
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
        if inner.len() >= inner.sweep_at || inner.len() >= self.shard_cap {
            self.make_room(inner, now)?;
        }
        let value = if key.is_short() {
            let entry = ShortEntry {
                tag,
                key: key.head(),
                value: make(),
            };
            &inner
                .short
                .insert_unique(hash, entry, |e| self.hash(e.tag, &Key::from_head(e.key)))
                .into_mut()
                .value
        } else {
            let entry = Entry {
                tag,
                key: *key,
                value: make(),
            };
            &inner
                .long
                .insert_unique(hash, entry, |e| self.hash(e.tag, &e.key))
                .into_mut()
                .value
        };
        self.len.fetch_add(1, Ordering::Relaxed);
        Ok(value)
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
        if let Some(v) = inner.find_mut(hash, tag, key) {
            *v = f(Some(v));
            return Ok(());
        }
        self.insert_new(&mut inner, hash, tag, key, now, || f(None))
            .map(|_| ())
    }

    /// Removes (tag, key); `true` if it was there.
    pub(crate) fn remove(&self, tag: u64, key: &Key) -> bool {
        self.remove_if(tag, key, |_| true).is_some()
    }

    /// Removes (tag, key) if present, returning `seen(value)`: what the value was when it
    /// was removed.
    pub(crate) fn remove_if<R>(
        &self,
        tag: u64,
        key: &Key,
        seen: impl FnOnce(&V) -> R,
    ) -> Option<R> {
        let hash = self.hash(tag, key);
        let mut inner = write(self.shard(hash));
        let found = inner.find(hash, tag, key).map(seen)?;
        if inner.remove(hash, tag, key) {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        Some(found)
    }

    /// Calls `f(key, value)` on every entry, one shard at a time under its read lock.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Key, &V)) {
        for shard in &self.shards {
            let inner = read(shard);
            for e in &inner.short {
                f(&Key::from_head(e.key), &e.value);
            }
            for e in &inner.long {
                f(&e.key, &e.value);
            }
        }
    }

    /// Removes every entry for which `keep(key, value)` is false; returns how many.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&Key, &V) -> bool) -> usize {
        let mut removed = 0;
        for shard in &self.shards {
            removed += write(shard).retain(&mut keep);
        }
        self.len.fetch_sub(removed, Ordering::Relaxed);
        removed
    }

    /// Removes the expired entries of every shard; returns how many.
    pub(crate) fn sweep(&self, now: u64) -> usize {
        let mut removed = 0;
        for shard in &self.shards {
            removed += write(shard).retain_values(|v| v.expires_at() > now);
        }
        self.len.fetch_sub(removed, Ordering::Relaxed);
        removed
    }

    /// Called with the shard's write lock before inserting into a shard that is due a sweep or
    /// full: drops expired entries, then applies the cap policy.
    fn make_room(&self, inner: &mut ShardInner<V>, now: u64) -> Result<(), RateLimitError> {
        let refuse = self.cap_policy == CapPolicy::Refuse;
        if refuse
            && inner.len() >= self.shard_cap
            && (now < inner.full_until
                || now < inner.full_swept_at.saturating_add(FULL_SWEEP_INTERVAL_NS))
        {
            return Err(RateLimitError::KeyCapReached { cap: self.cap });
        }
        let mut earliest = u64::MAX;
        let mut removed = inner.retain_values(|v| {
            let expires = v.expires_at();
            let keep = expires > now;
            if keep {
                earliest = earliest.min(expires);
            }
            keep
        });
        if inner.len() >= self.shard_cap {
            match self.cap_policy {
                CapPolicy::Refuse => {
                    self.len.fetch_sub(removed, Ordering::Relaxed);
                    inner.full_until = earliest;
                    inner.full_swept_at = now;
                    return Err(RateLimitError::KeyCapReached { cap: self.cap });
                }
                CapPolicy::EvictSoonestExpiring => {
                    // Find the expiry below which an eighth of the shard lies, and drop those.
                    let mut expiries: Vec<u64> = inner
                        .short
                        .iter()
                        .map(|e| e.value.expires_at())
                        .chain(inner.long.iter().map(|e| e.value.expires_at()))
                        .collect();
                    let k = (expiries.len() / 8).saturating_sub(1);
                    let threshold = match expiries.get(k) {
                        Some(_) => *expiries.select_nth_unstable(k).1,
                        None => u64::MAX,
                    };
                    let mut budget = k + 1;
                    removed += inner.retain_values(|v| {
                        if budget > 0 && v.expires_at() <= threshold {
                            budget -= 1;
                            false
                        } else {
                            true
                        }
                    });
                }
            }
        }
        self.len.fetch_sub(removed, Ordering::Relaxed);
        // Sweep again once the shard has doubled: amortised O(1) per insert.
        inner.sweep_at = (inner.len() * 2).clamp(MIN_SWEEP.min(self.shard_cap), self.shard_cap);
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    struct Until(u64);

    impl Expiring for Until {
        fn expires_at(&self) -> u64 {
            self.0
        }
    }

    /// The tag is mixed in by xor of a multiple of it: for each tag the hash is a bijection of
    /// the key's SipHash, so a tag cannot add collisions (an `|` would set bits and make the
    /// keys of one policy collide).
    #[test]
    fn tags_are_mixed_in_by_xor() {
        let table: Table<Until> = Table::new(1, 16, CapPolicy::Refuse);
        let keys = [
            Key::from(1u64),
            Key::from("user-42"),
            Key::from("k".repeat(40).as_str()),
        ];
        for tag in [1u64, 42, 0xDEAD_BEEF, u64::MAX] {
            for key in &keys {
                assert_eq!(
                    table.hash(tag, key) ^ table.hash(0, key),
                    tag.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                );
            }
        }
    }

    /// Keys of every length around the short/long boundary, raw and built, with shared
    /// prefixes and trailing zero bytes: each is its own entry, found again, under each tag.
    #[test]
    fn short_and_long_keys_are_distinct_entries() {
        let table: Table<Until> = Table::new(4, 10_000, CapPolicy::Refuse);
        let mut keys = Vec::new();
        for len in 0..=40 {
            keys.push(Key::from_bytes(&vec![7u8; len]));
            if len > 0 {
                keys.push(Key::from_bytes(&vec![0u8; len]));
            }
            keys.push(crate::KeyBuilder::new("n").bytes(&vec![7u8; len]).build());
        }
        keys.push(Key::from(42u64));
        keys.push(Key::from(u64::MAX));
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(k.is_short(), k.encoded_len() <= 16);
            for tag in [1, 2] {
                let v = table
                    .with_or_insert(tag, k, 0, || Until(i as u64 * 10 + tag), |v| v.0)
                    .unwrap();
                assert_eq!(v, i as u64 * 10 + tag, "key {i} tag {tag} collided");
            }
        }
        assert_eq!(table.len(), keys.len() * 2);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(table.get(2, k, |v| v.0), Some(i as u64 * 10 + 2));
            if k.is_short() {
                assert_eq!(Key::from_head(k.head()), *k);
            }
        }
        // `retain` sees each key as it was inserted.
        let target = keys[5];
        assert_eq!(table.retain(|k, _| *k != target), 2);
        assert!(table.get(1, &target, |_| ()).is_none());
        assert!(table.remove(1, &keys[6]));
        assert!(!table.remove(1, &keys[6]));
    }

    /// The cap counts short and long keys together.
    #[test]
    fn cap_spans_both_forms() {
        let table: Table<Until> = Table::new(1, 4, CapPolicy::Refuse);
        let short = [Key::from(1u64), Key::from(2u64)];
        let long = [
            Key::from("a string key of more than 15"),
            Key::from("x".repeat(64).as_str()),
        ];
        for k in short.iter().chain(&long) {
            table
                .with_or_insert(0, k, 0, || Until(100), |_| ())
                .unwrap();
        }
        assert!(matches!(
            table.with_or_insert(0, &Key::from(3u64), 0, || Until(100), |_| ()),
            Err(RateLimitError::KeyCapReached { cap: 4 })
        ));
        // Once expired, both forms are swept.
        assert_eq!(table.sweep(100), 4);
        assert_eq!(table.len(), 0);
    }
}
