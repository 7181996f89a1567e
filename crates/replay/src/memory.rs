//! `MemoryNonceStore`: a sharded in-process nonce store with TTL expiry and a hard cap.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use palisade_webhook::{CapPolicy, Clock, SystemClock};
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::store::{ClaimOutcome, LeaseToken, check_arguments, check_namespace, ttl_millis};
use crate::{Freshness, NonceStore, ReplayError};

/// The default cap on live entries of a [`MemoryNonceStore`]: one million, about 33 MB of heap
/// (33 bytes per entry, `docs/benchmarks.md`). An id stays live for its time-to-live (for a
/// [`ReplayGuard`](crate::ReplayGuard), the tolerance's [`ttl`](palisade_webhook::Tolerance::ttl):
/// 601 s by default), so the default holds about 1,660 new ids a second at that TTL.
pub const DEFAULT_NONCE_CAP: usize = 1_000_000;

/// What a full [`MemoryNonceStore`] does by default with a new id: [`CapPolicy::Refuse`].
/// The insert fails with [`ReplayError::StoreFull`] and the request is refused (fail
/// closed); no live id is forgotten, so a flood cannot make the store forget the ids that
/// protect real requests.
///
/// With [`CapPolicy::EvictSoonestExpiring`] the store forgets the one live entry of the shard
/// that would expire soonest and inserts: requests keep flowing during a flood, at the cost
/// that the forgotten id could be replayed until its timestamp leaves the tolerance.
pub const DEFAULT_NONCE_CAP_POLICY: CapPolicy = CapPolicy::Refuse;

/// An entry key: a 128-bit fingerprint of the namespace and the id, SipHash-1-3 with its
/// 128-bit output (the `siphasher` crate) in one pass, under a random key drawn when the store
/// is built (from `std`'s per-process random hashing keys, so building a store cannot fail).
/// Fixed size, so memory per entry does not depend on the id; keyed, so an attacker can
/// neither aim ids at one shard or bucket nor construct two ids with the same fingerprint.
/// Two distinct ids sharing a fingerprint by chance (probability about n²/2¹²⁹ for n live
/// ids) would make the second one `Replayed`: a refusal, never an acceptance.
type Fingerprint = [u8; 16];

/// Hashes a [`Fingerprint`] by folding its (already uniformly random) bytes.
#[derive(Default, Clone, Copy)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as one `write` of its 32 bytes; anything shorter (a length prefix,
        // if the standard library ever adds one) is mixed in rather than dropped.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            if let Some(dst) = word.get_mut(..chunk.len()) {
                dst.copy_from_slice(chunk);
            }
            self.0 = self.0.rotate_left(29) ^ u64::from_le_bytes(word);
        }
    }
}

#[derive(Default, Clone, Copy)]
struct DigestHash;

impl BuildHasher for DigestHash {
    type Hasher = DigestHasher;

    fn build_hasher(&self) -> DigestHasher {
        DigestHasher(0)
    }
}

/// One shard. An entry of `entries` is *completed* (recorded by `insert_if_absent` or
/// `complete`) unless its key is also in `leases`, in which case it is *in flight* under that
/// token until its expiry (the lease). Every key of `leases` is a key of `entries`; every
/// operation keeps that true under the shard lock.
///
/// The tokens live in their own map so that a completed entry (nearly all of them) stays a
/// 16-byte fingerprint and an 8-byte expiry: only deliveries being handled right now pay for
/// a token.
struct Shard {
    /// Entry key → expiry, in Unix milliseconds.
    entries: HashMap<Fingerprint, i64, DigestHash>,
    /// Entry key → the token of the claim holding it in flight.
    leases: HashMap<Fingerprint, LeaseToken, DigestHash>,
    /// When this shard next sweeps out expired entries, in Unix milliseconds.
    next_sweep: i64,
}

/// The state of an unexpired entry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Completed,
    InFlight(LeaseToken),
}

impl Shard {
    fn sweep(&mut self, now: i64, interval: i64) {
        self.entries.retain(|_, expires| *expires > now);
        if !self.leases.is_empty() {
            let entries = &self.entries;
            self.leases.retain(|key, _| entries.contains_key(key));
        }
        self.next_sweep = now.saturating_add(interval);
    }

    /// The state of `key` if it is held and unexpired.
    fn live(&self, key: &Fingerprint, now: i64) -> Option<State> {
        match self.entries.get(key) {
            Some(expires) if *expires > now => Some(match self.leases.get(key) {
                Some(token) => State::InFlight(*token),
                None => State::Completed,
            }),
            _ => None,
        }
    }

    /// Forgets `key` entirely.
    fn forget(&mut self, key: &Fingerprint) {
        self.entries.remove(key);
        if !self.leases.is_empty() {
            self.leases.remove(key);
        }
    }
}

/// A sharded, in-process [`NonceStore`].
///
/// - **Expiry without a background thread**: each shard sweeps its expired entries when an
///   insert finds its sweep time passed (every [`MemoryNonceStoreBuilder::sweep_interval`],
///   default 1 s), so the cost is amortized over inserts; an expired entry is also replaced in
///   place by an insert of the same id. [`MemoryNonceStore::sweep`] sweeps everything at once,
///   and with the `sweeper` feature [`MemoryNonceStore::spawn_sweeper`] runs it on a tokio
///   task.
/// - **A hard cap** on live entries ([`DEFAULT_NONCE_CAP`]), split evenly over the shards
///   (each holds `cap / shards`, rounded up), with a [`CapPolicy`] when a shard is full
///   ([`DEFAULT_NONCE_CAP_POLICY`]: refuse, that is fail closed).
/// - **Memory per entry** is fixed: a 16-byte fingerprint and an 8-byte expiry in a hash table,
///   plus a 16-byte [`LeaseToken`] in a second table while a delivery is
///   [claimed](NonceStore::claim) and in flight; `docs/benchmarks.md` gives the measured bytes
///   per entry.
/// - **Delivery claims**: [`NonceStore::claim`], [`NonceStore::complete`] and
///   [`NonceStore::release`] each decide under the shard lock, like `insert_if_absent`. A claim
///   counts towards the cap like any entry; an expired claim is claimable again.
///
/// It protects one process only: behind a load balancer, use a shared store
/// (`palisade-redis`, `palisade-postgres`).
///
/// ```
/// use std::time::Duration;
/// use palisade_replay::{Freshness, MemoryNonceStore, NonceStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryNonceStore::new();
/// let ttl = Duration::from_secs(600);
/// assert_eq!(store.insert_if_absent("stripe", b"evt_1", ttl).await?, Freshness::Fresh);
/// assert_eq!(store.insert_if_absent("stripe", b"evt_1", ttl).await?, Freshness::Replayed);
/// # Ok::<(), palisade_replay::ReplayError>(())
/// # }).unwrap();
/// ```
pub struct MemoryNonceStore {
    shards: Box<[Mutex<Shard>]>,
    /// The SipHash key of [`Fingerprint`]s.
    sip_key: (u64, u64),
    clock: Arc<dyn Clock>,
    cap_per_shard: usize,
    cap: usize,
    policy: CapPolicy,
    sweep_interval_ms: i64,
}

/// Configures a [`MemoryNonceStore`].
pub struct MemoryNonceStoreBuilder {
    shards: usize,
    cap: usize,
    policy: CapPolicy,
    sweep_interval: Duration,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryNonceStoreBuilder {
    fn default() -> Self {
        Self {
            shards: 64,
            cap: DEFAULT_NONCE_CAP,
            policy: DEFAULT_NONCE_CAP_POLICY,
            sweep_interval: Duration::from_secs(1),
            clock: Arc::new(SystemClock),
        }
    }
}

impl MemoryNonceStoreBuilder {
    /// Number of independently locked shards (rounded up to a power of two, at least 1;
    /// default 64).
    #[must_use]
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// Hard cap on live entries (default [`DEFAULT_NONCE_CAP`]), split evenly over the shards.
    #[must_use]
    pub fn cap(mut self, cap: usize) -> Self {
        self.cap = cap;
        self
    }

    /// What a full shard does with a new id (default [`DEFAULT_NONCE_CAP_POLICY`]: refuse).
    #[must_use]
    pub fn cap_policy(mut self, policy: CapPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How often each shard sweeps its expired entries during inserts (default 1 s).
    #[must_use]
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.sweep_interval = interval;
        self
    }

    /// The clock expiry is measured on (default the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the store.
    ///
    /// # Errors
    /// [`ReplayError::InvalidConfig`] for a zero cap.
    pub fn build(self) -> Result<MemoryNonceStore, ReplayError> {
        if self.cap == 0 {
            return Err(ReplayError::InvalidConfig { reason: "zero cap" });
        }
        Ok(MemoryNonceStore::from_builder(self))
    }
}

impl Default for MemoryNonceStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryNonceStore {
    /// A store with the defaults: 64 shards, 1,000,000 entries, refuse when full, sweep every
    /// second, system clock.
    pub fn new() -> Self {
        Self::from_builder(MemoryNonceStoreBuilder::default())
    }

    fn from_builder(b: MemoryNonceStoreBuilder) -> Self {
        let shards = b.shards.clamp(1, 1 << 16).next_power_of_two();
        let cap = b.cap.max(1);
        let now = b.clock.now_unix_millis();
        Self {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: HashMap::with_hasher(DigestHash),
                        leases: HashMap::with_hasher(DigestHash),
                        next_sweep: now,
                    })
                })
                .collect(),
            sip_key: {
                // Two outputs of SipHash under `std`'s random key: 128 pseudorandom bits.
                let random = RandomState::new();
                (random.hash_one(0u8), random.hash_one(1u8))
            },
            clock: b.clock,
            cap_per_shard: cap.div_ceil(shards),
            cap,
            policy: b.policy,
            sweep_interval_ms: ttl_millis(b.sweep_interval),
        }
    }

    /// Starts configuring a store.
    pub fn builder() -> MemoryNonceStoreBuilder {
        MemoryNonceStoreBuilder::default()
    }

    fn digest(&self, namespace: &str, id: &[u8]) -> Fingerprint {
        // `(&str, &[u8])` hashes both parts with their lengths, so no namespace/id split of
        // the same bytes aliases another.
        let mut sip = SipHasher13::new_with_keys(self.sip_key.0, self.sip_key.1);
        (namespace, id).hash(&mut sip);
        sip.finish128().as_bytes()
    }

    /// The shard of `key`. A panic while holding a lock cannot leave a shard inconsistent
    /// (nothing that can panic runs between an operation's map calls, and a token left
    /// without its entry is ignored and swept), so a poisoned lock is still used.
    fn shard(&self, key: &Fingerprint) -> Result<MutexGuard<'_, Shard>, ReplayError> {
        let [.., hi, lo] = *key;
        let index = (usize::from(hi) << 8 | usize::from(lo)) % self.shards.len().max(1);
        self.shards
            .get(index)
            .map(lock)
            .ok_or(ReplayError::InvalidConfig { reason: "no shard" })
    }

    /// The synchronous form of [`NonceStore::insert_if_absent`]: the store never waits on I/O.
    ///
    /// # Errors
    /// As [`NonceStore::insert_if_absent`].
    pub fn insert_if_absent_now(
        &self,
        namespace: &str,
        id: &[u8],
        ttl: Duration,
    ) -> Result<Freshness, ReplayError> {
        check_arguments(namespace, ttl)?;
        let key = self.digest(namespace, id);
        let now = self.clock.now_unix_millis();
        let expires = now.saturating_add(ttl_millis(ttl));
        let mut shard = self.shard(&key)?;
        if now >= shard.next_sweep {
            shard.sweep(now, self.sweep_interval_ms);
        }
        if let Some(existing) = shard.entries.get_mut(&key) {
            if *existing > now {
                return Ok(Freshness::Replayed);
            }
            *existing = expires;
            // An expired claim's token must not survive into the completed entry.
            if !shard.leases.is_empty() {
                shard.leases.remove(&key);
            }
            return Ok(Freshness::Fresh);
        }
        self.insert_new(&mut shard, key, now, expires)?;
        Ok(Freshness::Fresh)
    }

    /// Inserts `key` (absent from the shard) with `expires`, making room first: sweeps when
    /// the shard is at its cap, then applies the [`CapPolicy`].
    fn insert_new(
        &self,
        shard: &mut Shard,
        key: Fingerprint,
        now: i64,
        expires: i64,
    ) -> Result<(), ReplayError> {
        if shard.entries.len() >= self.cap_per_shard {
            shard.sweep(now, self.sweep_interval_ms);
            if shard.entries.len() >= self.cap_per_shard {
                match self.policy {
                    CapPolicy::Refuse => {
                        return Err(ReplayError::StoreFull { cap: self.cap });
                    }
                    CapPolicy::EvictSoonestExpiring => {
                        let soonest = shard
                            .entries
                            .iter()
                            .min_by_key(|(_, e)| **e)
                            .map(|(k, _)| *k);
                        if let Some(k) = soonest {
                            shard.forget(&k);
                        }
                    }
                }
            }
        }
        shard.entries.insert(key, expires);
        Ok(())
    }

    /// Locks the shard of `(namespace, id)`, sweeping it when its sweep time has passed.
    fn locked(
        &self,
        namespace: &str,
        id: &[u8],
        now: i64,
    ) -> Result<(Fingerprint, MutexGuard<'_, Shard>), ReplayError> {
        let key = self.digest(namespace, id);
        let mut shard = self.shard(&key)?;
        if now >= shard.next_sweep {
            shard.sweep(now, self.sweep_interval_ms);
        }
        Ok((key, shard))
    }

    /// The synchronous form of [`NonceStore::claim`], under one shard lock.
    ///
    /// # Errors
    /// As [`NonceStore::claim`].
    pub fn claim_now(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
        lease: Duration,
    ) -> Result<ClaimOutcome, ReplayError> {
        check_arguments(namespace, lease)?;
        let now = self.clock.now_unix_millis();
        let expires = now.saturating_add(ttl_millis(lease));
        let (key, mut shard) = self.locked(namespace, id, now)?;
        match shard.live(&key, now) {
            Some(State::Completed) => return Ok(ClaimOutcome::Completed),
            Some(State::InFlight(_)) => return Ok(ClaimOutcome::InProgress),
            None => {}
        }
        if let Some(existing) = shard.entries.get_mut(&key) {
            // Expired (completed or in flight): taken over in place.
            *existing = expires;
        } else {
            self.insert_new(&mut shard, key, now, expires)?;
        }
        shard.leases.insert(key, token);
        Ok(ClaimOutcome::Claimed)
    }

    /// The synchronous form of [`NonceStore::complete`], under one shard lock.
    ///
    /// # Errors
    /// As [`NonceStore::complete`].
    pub fn complete_now(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
        ttl: Duration,
    ) -> Result<bool, ReplayError> {
        check_arguments(namespace, ttl)?;
        let now = self.clock.now_unix_millis();
        let expires = now.saturating_add(ttl_millis(ttl));
        let (key, mut shard) = self.locked(namespace, id, now)?;
        let ours = shard.live(&key, now) == Some(State::InFlight(token));
        if let Some(existing) = shard.entries.get_mut(&key) {
            *existing = expires;
            if !shard.leases.is_empty() {
                shard.leases.remove(&key);
            }
        } else {
            self.insert_new(&mut shard, key, now, expires)?;
        }
        Ok(ours)
    }

    /// The synchronous form of [`NonceStore::release`], under one shard lock.
    ///
    /// # Errors
    /// As [`NonceStore::release`].
    pub fn release_now(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
    ) -> Result<bool, ReplayError> {
        check_namespace(namespace)?;
        let now = self.clock.now_unix_millis();
        let (key, mut shard) = self.locked(namespace, id, now)?;
        if shard.leases.get(&key) != Some(&token) {
            return Ok(false);
        }
        // Ours: removed even when expired (nobody took it over, or the token would differ);
        // only an unexpired lease counts as released.
        let held = shard.entries.get(&key).is_some_and(|e| *e > now);
        shard.forget(&key);
        Ok(held)
    }

    /// The synchronous form of [`NonceStore::remove`].
    ///
    /// # Errors
    /// As [`NonceStore::remove`].
    pub fn remove_now(&self, namespace: &str, id: &[u8]) -> Result<bool, ReplayError> {
        check_namespace(namespace)?;
        let key = self.digest(namespace, id);
        let now = self.clock.now_unix_millis();
        let mut shard = self.shard(&key)?;
        let held = shard.entries.get(&key).is_some_and(|e| *e > now);
        shard.forget(&key);
        Ok(held)
    }

    /// Removes every expired entry now, in every shard.
    pub fn sweep(&self) {
        let now = self.clock.now_unix_millis();
        for shard in self.shards.iter() {
            lock(shard).sweep(now, self.sweep_interval_ms);
        }
    }

    /// Number of entries held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).entries.len()).sum()
    }

    /// Whether the store holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The configured cap on live entries.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Sweeps every `every` on the current tokio runtime until the store is dropped.
    #[cfg(feature = "sweeper")]
    pub fn spawn_sweeper(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match weak.upgrade() {
                    Some(store) => store.sweep(),
                    None => break,
                }
            }
        })
    }
}

fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl NonceStore for MemoryNonceStore {
    async fn insert_if_absent(
        &self,
        namespace: &str,
        id: &[u8],
        ttl: Duration,
    ) -> Result<Freshness, ReplayError> {
        self.insert_if_absent_now(namespace, id, ttl)
    }

    async fn remove(&self, namespace: &str, id: &[u8]) -> Result<bool, ReplayError> {
        self.remove_now(namespace, id)
    }

    async fn claim(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
        lease: Duration,
    ) -> Result<ClaimOutcome, ReplayError> {
        self.claim_now(namespace, id, token, lease)
    }

    async fn complete(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
        ttl: Duration,
    ) -> Result<bool, ReplayError> {
        self.complete_now(namespace, id, token, ttl)
    }

    async fn release(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
    ) -> Result<bool, ReplayError> {
        self.release_now(namespace, id, token)
    }
}

impl std::fmt::Debug for MemoryNonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryNonceStore")
            .field("shards", &self.shards.len())
            .field("cap", &self.cap)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use palisade_webhook::{ManualClock, Timestamp};

    use super::*;

    fn store(cap: usize, policy: CapPolicy, clock: Arc<ManualClock>) -> MemoryNonceStore {
        MemoryNonceStore::builder()
            .shards(1)
            .cap(cap)
            .cap_policy(policy)
            .clock(clock)
            .build()
            .unwrap()
    }

    #[test]
    fn expiry_and_reuse() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
        let s = store(10, CapPolicy::Refuse, clock.clone());
        let ttl = Duration::from_secs(10);
        assert_eq!(
            s.insert_if_absent_now("n", b"a", ttl).unwrap(),
            Freshness::Fresh
        );
        clock.advance(Duration::from_millis(9_999));
        assert_eq!(
            s.insert_if_absent_now("n", b"a", ttl).unwrap(),
            Freshness::Replayed
        );
        clock.advance(Duration::from_millis(1));
        assert_eq!(
            s.insert_if_absent_now("n", b"a", ttl).unwrap(),
            Freshness::Fresh
        );
        assert!(s.remove_now("n", b"a").unwrap());
        assert!(!s.remove_now("n", b"a").unwrap());
    }

    #[test]
    fn full_store_refuses_then_recovers_after_expiry() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
        let s = store(3, CapPolicy::Refuse, clock.clone());
        let ttl = Duration::from_secs(5);
        for id in [b"1", b"2", b"3"] {
            assert_eq!(
                s.insert_if_absent_now("n", id, ttl).unwrap(),
                Freshness::Fresh
            );
        }
        assert!(matches!(
            s.insert_if_absent_now("n", b"4", ttl),
            Err(ReplayError::StoreFull { cap: 3 })
        ));
        // Live ids are not forgotten.
        assert_eq!(
            s.insert_if_absent_now("n", b"1", ttl).unwrap(),
            Freshness::Replayed
        );
        clock.advance(Duration::from_secs(5));
        assert_eq!(
            s.insert_if_absent_now("n", b"4", ttl).unwrap(),
            Freshness::Fresh
        );
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn evict_policy_forgets_the_soonest_expiring() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
        let s = store(2, CapPolicy::EvictSoonestExpiring, clock);
        s.insert_if_absent_now("n", b"short", Duration::from_secs(1))
            .unwrap();
        s.insert_if_absent_now("n", b"long", Duration::from_secs(100))
            .unwrap();
        assert_eq!(
            s.insert_if_absent_now("n", b"new", Duration::from_secs(100))
                .unwrap(),
            Freshness::Fresh
        );
        assert_eq!(
            s.insert_if_absent_now("n", b"long", Duration::from_secs(100))
                .unwrap(),
            Freshness::Replayed
        );
        assert_eq!(
            s.insert_if_absent_now("n", b"short", Duration::from_secs(1))
                .unwrap(),
            Freshness::Fresh
        );
    }

    #[test]
    fn arguments_are_checked() {
        let s = MemoryNonceStore::new();
        assert!(
            s.insert_if_absent_now("", b"a", Duration::from_secs(1))
                .is_err()
        );
        assert!(s.insert_if_absent_now("n", b"a", Duration::ZERO).is_err());
        assert!(MemoryNonceStore::builder().cap(0).build().is_err());
    }

    #[test]
    fn amortized_sweep_drops_expired_entries() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
        let s = store(1_000, CapPolicy::Refuse, clock.clone());
        for i in 0..100u32 {
            s.insert_if_absent_now("n", &i.to_le_bytes(), Duration::from_millis(500))
                .unwrap();
        }
        assert_eq!(s.len(), 100);
        clock.advance(Duration::from_secs(2));
        s.insert_if_absent_now("n", b"x", Duration::from_secs(1))
            .unwrap();
        assert_eq!(s.len(), 1);
    }

    const A: LeaseToken = LeaseToken::from_bytes([1; 16]);
    const B: LeaseToken = LeaseToken::from_bytes([2; 16]);

    #[test]
    fn claim_complete_release_states() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
        let s = store(10, CapPolicy::Refuse, clock.clone());
        let lease = Duration::from_secs(60);
        let ttl = Duration::from_secs(600);
        assert_eq!(
            s.claim_now("n", b"a", A, lease).unwrap(),
            ClaimOutcome::Claimed
        );
        assert_eq!(
            s.claim_now("n", b"a", B, lease).unwrap(),
            ClaimOutcome::InProgress
        );
        assert_eq!(
            s.insert_if_absent_now("n", b"a", ttl).unwrap(),
            Freshness::Replayed
        );
        // Another token can neither release nor (silently) own the claim.
        assert!(!s.release_now("n", b"a", B).unwrap());
        assert_eq!(
            s.claim_now("n", b"a", B, lease).unwrap(),
            ClaimOutcome::InProgress
        );
        assert!(s.release_now("n", b"a", A).unwrap());
        assert!(!s.release_now("n", b"a", A).unwrap(), "released once");
        assert_eq!(
            s.claim_now("n", b"a", B, lease).unwrap(),
            ClaimOutcome::Claimed
        );
        assert!(s.complete_now("n", b"a", B, ttl).unwrap());
        assert_eq!(
            s.claim_now("n", b"a", A, lease).unwrap(),
            ClaimOutcome::Completed
        );
        assert!(
            !s.release_now("n", b"a", B).unwrap(),
            "a completed entry stays"
        );
        assert_eq!(
            s.claim_now("n", b"a", A, lease).unwrap(),
            ClaimOutcome::Completed
        );
        // Completed for the TTL, not the lease.
        clock.advance(Duration::from_secs(599));
        assert_eq!(
            s.claim_now("n", b"a", A, lease).unwrap(),
            ClaimOutcome::Completed
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            s.claim_now("n", b"a", A, lease).unwrap(),
            ClaimOutcome::Claimed
        );
        // An id recorded by insert_if_absent is completed for claims.
        s.insert_if_absent_now("n", b"b", ttl).unwrap();
        assert_eq!(
            s.claim_now("n", b"b", A, lease).unwrap(),
            ClaimOutcome::Completed
        );
        assert!(!s.release_now("n", b"b", A).unwrap());
    }

    #[test]
    fn expired_lease_is_claimable_and_complete_after_loss_still_completes() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
        let s = store(10, CapPolicy::Refuse, clock.clone());
        let lease = Duration::from_secs(60);
        let ttl = Duration::from_secs(600);
        assert_eq!(
            s.claim_now("n", b"a", A, lease).unwrap(),
            ClaimOutcome::Claimed
        );
        clock.advance(Duration::from_millis(59_999));
        assert_eq!(
            s.claim_now("n", b"a", B, lease).unwrap(),
            ClaimOutcome::InProgress
        );
        clock.advance(Duration::from_millis(1));
        assert_eq!(
            s.claim_now("n", b"a", B, lease).unwrap(),
            ClaimOutcome::Claimed
        );
        // A lost its lease: its release removes nothing, its completion reports the loss
        // but still records the delivery as handled.
        assert!(!s.release_now("n", b"a", A).unwrap());
        assert!(!s.complete_now("n", b"a", A, ttl).unwrap());
        assert_eq!(
            s.claim_now("n", b"a", B, lease).unwrap(),
            ClaimOutcome::Completed
        );
        assert!(
            !s.release_now("n", b"a", B).unwrap(),
            "B's claim was completed"
        );
        // Complete without any claim records the id too.
        assert!(!s.complete_now("n", b"c", A, ttl).unwrap());
        assert_eq!(
            s.insert_if_absent_now("n", b"c", ttl).unwrap(),
            Freshness::Replayed
        );
        // An expired claim replaced by insert_if_absent leaves no token behind.
        s.claim_now("n", b"d", A, lease).unwrap();
        clock.advance(Duration::from_secs(60));
        assert_eq!(
            s.insert_if_absent_now("n", b"d", ttl).unwrap(),
            Freshness::Fresh
        );
        assert!(!s.release_now("n", b"d", A).unwrap());
        assert_eq!(
            s.claim_now("n", b"d", B, lease).unwrap(),
            ClaimOutcome::Completed
        );
    }

    #[test]
    fn claims_count_towards_the_cap_and_are_swept() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
        let s = store(2, CapPolicy::Refuse, clock.clone());
        let lease = Duration::from_secs(1);
        assert_eq!(
            s.claim_now("n", b"1", A, lease).unwrap(),
            ClaimOutcome::Claimed
        );
        assert_eq!(
            s.claim_now("n", b"2", A, lease).unwrap(),
            ClaimOutcome::Claimed
        );
        assert!(matches!(
            s.claim_now("n", b"3", A, lease),
            Err(ReplayError::StoreFull { cap: 2 })
        ));
        assert!(matches!(
            s.complete_now("n", b"3", A, lease),
            Err(ReplayError::StoreFull { cap: 2 })
        ));
        clock.advance(Duration::from_secs(2));
        s.sweep();
        assert_eq!(s.len(), 0);
        assert!(
            lock(&s.shards[0]).leases.is_empty(),
            "tokens swept with their entries"
        );
        let evicting = store(1, CapPolicy::EvictSoonestExpiring, clock);
        evicting.claim_now("n", b"1", A, lease).unwrap();
        evicting.claim_now("n", b"2", B, lease).unwrap();
        assert!(
            lock(&evicting.shards[0]).leases.len() == 1,
            "evicted token forgotten"
        );
        assert!(!evicting.release_now("n", b"1", A).unwrap());
        assert!(evicting.release_now("n", b"2", B).unwrap());
    }

    #[test]
    fn claim_arguments_are_checked() {
        let s = MemoryNonceStore::new();
        let d = Duration::from_secs(1);
        assert!(s.claim_now("", b"a", A, d).is_err());
        assert!(s.claim_now("n", b"a", A, Duration::ZERO).is_err());
        assert!(s.complete_now("", b"a", A, d).is_err());
        assert!(s.complete_now("n", b"a", A, Duration::ZERO).is_err());
        assert!(s.release_now("", b"a", A).is_err());
    }

    #[cfg(feature = "sweeper")]
    #[test]
    fn background_sweeper_empties_expired_entries() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
            let s = Arc::new(store(100, CapPolicy::Refuse, clock.clone()));
            for i in 0..10u8 {
                s.insert_if_absent_now("n", &[i], Duration::from_secs(1))
                    .unwrap();
            }
            let task = s.spawn_sweeper(Duration::from_millis(5));
            clock.advance(Duration::from_secs(2));
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(s.len(), 0);
            drop(s);
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(
                task.is_finished(),
                "the sweeper stops once the store is dropped"
            );
        });
    }
}
