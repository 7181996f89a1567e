//! The conformance suite that every [`RateLimitStore`] must pass (feature `testing`).
//!
//! A store is correct when it passes these cases unchanged: exact admission counts for each
//! algorithm at window boundaries, costs above 1, several limits with no partial charge, the
//! penalty box, explicit blocks, allow and deny lists, independence of keys and policies, and
//! 64 concurrent tasks on one key admitting exactly the quota.
//!
//! # Time: real clocks and manual ones
//!
//! A remote store decides with its server's clock, which a test cannot move. So the suite never
//! reads or sets a clock: it only asks its [`Harness`] to let time pass
//! ([`Harness::advance`]). A memory store's harness moves a [`ManualClock`] (the suite then
//! runs in milliseconds); a remote store's harness sleeps. Every case is written so that both
//! give the same counts:
//!
//! - periods are multiples of a [`tick`](Harness::tick) (100 ms by default), and each
//!   expectation holds as long as the store answers in well under one tick;
//! - time only moves forward by at least what was asked, so "after 10 ticks" means at least 10;
//! - window boundaries are found from the store's own answers: a probe's `reset_after` says how
//!   far the current window's end is, and the case waits until then. Nothing assumes where the
//!   epoch-aligned windows fall on the test machine's clock.
//!
//! Keys carry a per-run nonce, so a shared Redis or Postgres needs no flushing between cases.
//!
//! # Running it
//!
//! ```ignore
//! // tests/conformance.rs of a store crate (dev-dependency on palisade-ratelimit with
//! // feature `testing`):
//! async fn harness() -> MyRedisHarness { MyRedisHarness::connect().await }
//! palisade_ratelimit::conformance_suite!(harness);
//! ```
//!
//! The macro writes one `#[test]` per case, each on its own multi-threaded tokio runtime (no
//! tokio dependency needed in the caller). [`MemoryHarness`] (manual clock) and
//! [`RealTimeHarness`] (system clock, sleeping) serve the memory store; [`FailingStore`] helps
//! test fallbacks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test support: a failed expectation must fail the test"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

pub mod quarantine;

use crate::{
    AccessList, AlgorithmKind, Cause, Key, KeyBuilder, Limit, ManualClock, MemoryStore, Policy,
    Quota, RateLimitError, RateLimitStore, SystemClock, Timestamp, Verdict,
};

/// What the suite needs from a store under test.
#[async_trait]
pub trait Harness: Send + Sync {
    /// A store to run one case on. It may share state with earlier cases (keys never repeat).
    async fn store(&self) -> Arc<dyn RateLimitStore>;

    /// Lets at least `d` of the store's time pass: a manual clock advances, a real one is
    /// waited for (`tokio::time::sleep`).
    async fn advance(&self, d: Duration);

    /// The suite's unit of time: every period is a multiple of it, and the store must answer
    /// well within it (a tenth is comfortable). 100 ms by default.
    fn tick(&self) -> Duration {
        Duration::from_millis(100)
    }
}

/// A [`MemoryStore`] on a [`ManualClock`] that starts between two seconds, so that nothing
/// accidentally lines up with window boundaries.
#[derive(Debug)]
pub struct MemoryHarness {
    clock: Arc<ManualClock>,
}

impl MemoryHarness {
    /// A harness whose clock starts at 2023-11-14T22:13:20.123456789Z.
    pub fn new() -> Self {
        Self {
            clock: Arc::new(ManualClock::new(Timestamp::from_unix_nanos(
                1_700_000_000_123_456_789,
            ))),
        }
    }

    /// The clock the stores read.
    pub fn clock(&self) -> Arc<ManualClock> {
        Arc::clone(&self.clock)
    }
}

impl Default for MemoryHarness {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Harness for MemoryHarness {
    async fn store(&self) -> Arc<dyn RateLimitStore> {
        Arc::new(MemoryStore::with_clock(self.clock()))
    }

    async fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }
}

/// A [`MemoryStore`] on the system clock, whose harness sleeps: the suite exactly as a remote
/// store sees it, to show that the cases hold under real time.
#[derive(Debug)]
pub struct RealTimeHarness {
    tick: Duration,
}

impl RealTimeHarness {
    /// A harness with the given tick (50 ms keeps the suite under a minute).
    pub const fn new(tick: Duration) -> Self {
        Self { tick }
    }
}

#[async_trait]
impl Harness for RealTimeHarness {
    async fn store(&self) -> Arc<dyn RateLimitStore> {
        Arc::new(MemoryStore::with_clock(SystemClock))
    }

    async fn advance(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn tick(&self) -> Duration {
        self.tick
    }
}

/// A store that is always down: every call fails with [`RateLimitError::Unavailable`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FailingStore;

#[async_trait]
impl RateLimitStore for FailingStore {
    async fn apply(&self, _: &Key, _: &Policy, _: u32) -> Result<Verdict, RateLimitError> {
        Err(down())
    }

    async fn block(&self, _: &Key, _: Duration) -> Result<(), RateLimitError> {
        Err(down())
    }

    async fn unblock(&self, _: &Key) -> Result<(), RateLimitError> {
        Err(down())
    }
}

fn down() -> RateLimitError {
    RateLimitError::Unavailable {
        store: "failing",
        reason: "always down".into(),
    }
}

/// A multi-threaded runtime (2 workers) for one case, with timers and, when tokio is built
/// with them (a remote store's client needs them), its I/O drivers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A key no other case or run uses.
fn unique_key(case: &str) -> Key {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    KeyBuilder::new("palisade-conformance")
        .str(case)
        .u64(nanos)
        .u64(COUNTER.fetch_add(1, Ordering::Relaxed))
        .build()
}

fn limit(
    name: &str,
    kind: AlgorithmKind,
    limit: u64,
    period: Duration,
    burst: Option<u64>,
) -> Limit {
    let mut q = Quota::new(limit, period).unwrap();
    if let Some(b) = burst {
        q = q.with_burst(b).unwrap();
    }
    Limit::new(name, kind, q).unwrap()
}

fn policy(l: Limit) -> Policy {
    Policy::single(l).unwrap()
}

/// How many of `n` requests of `cost` are admitted.
async fn admitted(
    store: &dyn RateLimitStore,
    key: &Key,
    policy: &Policy,
    n: usize,
    cost: u32,
) -> usize {
    let mut count = 0;
    for _ in 0..n {
        if store.check(key, policy, cost).await.unwrap().is_allowed() {
            count += 1;
        }
    }
    count
}

/// Waits, if needed, until a window of `policy` has at least `room` left before it ends,
/// judged from a probe key's `reset_after`. Returns how much of the window is left (at least
/// `room`, or a whole period after waiting for the boundary).
async fn window_with_room(
    h: &dyn Harness,
    store: &dyn RateLimitStore,
    policy: &Policy,
    room: Duration,
) -> Duration {
    let probe = unique_key("probe");
    let v = store.check(&probe, policy, 1).await.unwrap();
    let left = v.decisions()[0].reset_after();
    if left >= room {
        return left;
    }
    h.advance(left).await;
    policy.limits()[0].quota().period()
}

/// Waits until the start of a window of `policy` (just after, under real time).
async fn window_start(h: &dyn Harness, store: &dyn RateLimitStore, policy: &Policy) {
    let probe = unique_key("probe");
    let v = store.check(&probe, policy, 1).await.unwrap();
    h.advance(v.decisions()[0].reset_after()).await;
}

/// GCRA, token bucket and leaky bucket: 10 per 10 ticks with a burst of 5 admit 5 at once, then
/// one per tick.
pub async fn bucket_burst_and_refill(h: &dyn Harness) {
    let tick = h.tick();
    for kind in [
        AlgorithmKind::Gcra,
        AlgorithmKind::TokenBucket,
        AlgorithmKind::LeakyBucket,
    ] {
        let store = h.store().await;
        let p = policy(limit("burst", kind, 10, tick * 10, Some(5)));
        let key = unique_key("bucket");
        assert_eq!(
            admitted(&*store, &key, &p, 5, 1).await,
            5,
            "{kind}: the burst"
        );
        let refused = store.check(&key, &p, 1).await.unwrap();
        assert_eq!(refused.cause(), Cause::Limited, "{kind}");
        let retry = refused.retry_after().unwrap();
        assert!(
            retry > Duration::ZERO && retry <= tick,
            "{kind}: retry {retry:?} within one tick"
        );
        assert_eq!(refused.decisions()[0].remaining(), 0, "{kind}");
        h.advance(tick).await;
        assert_eq!(
            admitted(&*store, &key, &p, 2, 1).await,
            1,
            "{kind}: one per tick"
        );
        h.advance(tick * 3).await;
        assert_eq!(
            admitted(&*store, &key, &p, 4, 1).await,
            3,
            "{kind}: three after three ticks"
        );
    }
}

/// Fixed window: 5 per 10 ticks, counted per epoch-aligned window; nothing more until the
/// boundary, the full limit right after it.
pub async fn fixed_window_boundary(h: &dyn Harness) {
    let tick = h.tick();
    let store = h.store().await;
    let p = policy(limit(
        "fixed",
        AlgorithmKind::FixedWindow,
        5,
        tick * 10,
        None,
    ));
    window_start(h, &*store, &p).await;
    let key = unique_key("fixed");
    assert_eq!(
        admitted(&*store, &key, &p, 6, 1).await,
        5,
        "the window's limit"
    );
    let refused = store.check(&key, &p, 1).await.unwrap();
    let retry = refused.retry_after().unwrap();
    assert!(
        retry > tick * 9 && retry <= tick * 10,
        "retry {retry:?}: the window's end"
    );
    h.advance(tick * 9).await;
    assert_eq!(
        admitted(&*store, &key, &p, 1, 1).await,
        0,
        "still the same window"
    );
    h.advance(tick).await;
    assert_eq!(
        admitted(&*store, &key, &p, 6, 1).await,
        5,
        "the next window"
    );
}

/// Sliding window log: 5 per 10 ticks, in any 10-tick span wherever it starts.
pub async fn sliding_log_exact(h: &dyn Harness) {
    let tick = h.tick();
    let store = h.store().await;
    let p = policy(limit(
        "log",
        AlgorithmKind::SlidingWindowLog,
        5,
        tick * 10,
        None,
    ));
    let key = unique_key("log");
    assert_eq!(admitted(&*store, &key, &p, 3, 1).await, 3);
    h.advance(tick * 5).await;
    assert_eq!(admitted(&*store, &key, &p, 2, 1).await, 2);
    let refused = store.check(&key, &p, 1).await.unwrap();
    let retry = refused.retry_after().unwrap();
    assert!(
        retry <= tick * 5 && retry > tick * 4,
        "retry {retry:?}: when the first three expire"
    );
    h.advance(tick * 4).await;
    assert_eq!(
        admitted(&*store, &key, &p, 1, 1).await,
        0,
        "the first three still count"
    );
    h.advance(tick).await;
    assert_eq!(
        admitted(&*store, &key, &p, 4, 1).await,
        3,
        "the first three expired"
    );
}

/// Sliding window counter: 10 per 10 ticks; half-way into the next window the previous
/// window's 10 weigh 5.
pub async fn sliding_counter_weighting(h: &dyn Harness) {
    let tick = h.tick();
    let store = h.store().await;
    let p = policy(limit(
        "counter",
        AlgorithmKind::SlidingWindowCounter,
        10,
        tick * 10,
        None,
    ));
    window_start(h, &*store, &p).await;
    let key = unique_key("counter");
    assert_eq!(admitted(&*store, &key, &p, 11, 1).await, 10);
    h.advance(tick * 10).await;
    assert_eq!(
        admitted(&*store, &key, &p, 1, 1).await,
        0,
        "the previous window weighs 10"
    );
    h.advance(tick * 5).await;
    assert_eq!(
        admitted(&*store, &key, &p, 6, 1).await,
        5,
        "half-way it weighs 5"
    );
}

/// Costs above 1, for every algorithm: 10 units admit 4 + 4, refuse 4 (reporting 2 left),
/// admit 2; a cost of 0 or above the capacity is an error.
pub async fn cost_above_one(h: &dyn Harness) {
    let tick = h.tick();
    for kind in AlgorithmKind::ALL {
        let store = h.store().await;
        let p = policy(limit("cost", kind, 10, tick * 1000, None));
        if kind.is_window() {
            window_with_room(h, &*store, &p, tick * 20).await;
        }
        let key = unique_key("cost");
        let first = store.check(&key, &p, 4).await.unwrap();
        assert!(first.is_allowed(), "{kind}");
        assert_eq!(first.decisions()[0].remaining(), 6, "{kind}");
        assert_eq!(
            store.check(&key, &p, 4).await.unwrap().decisions()[0].remaining(),
            2,
            "{kind}"
        );
        let refused = store.check(&key, &p, 4).await.unwrap();
        assert!(!refused.is_allowed(), "{kind}");
        assert_eq!(
            refused.decisions()[0].remaining(),
            2,
            "{kind}: a refusal charges nothing"
        );
        assert!(refused.retry_after_secs().unwrap() >= 1, "{kind}");
        assert!(
            store.check(&key, &p, 2).await.unwrap().is_allowed(),
            "{kind}: 2 fit"
        );
        assert!(
            !store.check(&key, &p, 1).await.unwrap().is_allowed(),
            "{kind}: spent"
        );
        for bad in [0, 11] {
            assert!(
                matches!(
                    store.check(&key, &p, bad).await,
                    Err(RateLimitError::InvalidCost { .. })
                ),
                "{kind}: cost {bad}"
            );
        }
    }
}

/// Two limits on one key: a request refused by one charges neither.
pub async fn multi_limit_no_partial_charge(h: &dyn Harness) {
    let tick = h.tick();
    let store = h.store().await;
    let p = Policy::new([
        limit("long", AlgorithmKind::Gcra, 4, tick * 10_000, None),
        limit("short", AlgorithmKind::SlidingWindowLog, 2, tick * 10, None),
    ])
    .unwrap();
    let key = unique_key("multi");
    assert_eq!(admitted(&*store, &key, &p, 2, 1).await, 2);
    for _ in 0..5 {
        let v = store.check(&key, &p, 1).await.unwrap();
        assert_eq!(v.cause(), Cause::Limited);
        assert!(
            v.decisions()[0].is_allowed() && !v.decisions()[1].is_allowed(),
            "short refuses"
        );
        assert_eq!(
            v.decisions()[0].remaining(),
            2,
            "long reports what it still holds"
        );
        assert_eq!(v.binding().map(|(i, _)| i), Some(1));
    }
    h.advance(tick * 10).await;
    assert_eq!(
        admitted(&*store, &key, &p, 2, 1).await,
        2,
        "long was not charged by the five refusals"
    );
    h.advance(tick * 10).await;
    let v = store.check(&key, &p, 1).await.unwrap();
    assert!(
        !v.decisions()[0].is_allowed() && v.decisions()[1].is_allowed(),
        "long refuses"
    );
    // Cost above one limit's capacity: an error, nothing charged anywhere.
    assert!(matches!(
        store.check(&key, &p, 3).await,
        Err(RateLimitError::InvalidCost { capacity: 2, .. })
    ));
}

/// Penalty box: refused once, blocked for 10 ticks even when the quota has room again.
pub async fn penalty_box(h: &dyn Harness) {
    let tick = h.tick();
    let store = h.store().await;
    let p = policy(limit("penalty", AlgorithmKind::Gcra, 2, tick * 2, None)).with_block(tick * 10);
    let key = unique_key("penalty");
    assert_eq!(admitted(&*store, &key, &p, 2, 1).await, 2);
    let refused = store.check(&key, &p, 1).await.unwrap();
    assert_eq!(refused.cause(), Cause::Limited);
    assert!(
        refused.retry_after().unwrap() >= tick * 9,
        "retry covers the block"
    );
    h.advance(tick * 3).await;
    let blocked = store.check(&key, &p, 1).await.unwrap();
    assert_eq!(
        blocked.cause(),
        Cause::Blocked,
        "the quota has room, the box does not"
    );
    let retry = blocked.retry_after().unwrap();
    assert!(
        retry <= tick * 7 && retry > tick * 6,
        "retry {retry:?}: the rest of the block"
    );
    h.advance(tick * 7).await;
    assert!(
        store.check(&key, &p, 1).await.unwrap().is_allowed(),
        "out of the box"
    );
}

/// Explicit block and unblock, per key, charging nothing.
pub async fn block_and_unblock(h: &dyn Harness) {
    let tick = h.tick();
    let store = h.store().await;
    let p = policy(limit("block", AlgorithmKind::Gcra, 1, tick * 10_000, None));
    let (key, other) = (unique_key("blocked"), unique_key("other"));
    store.block(&key, tick * 100).await.unwrap();
    for _ in 0..3 {
        let v = store.check(&key, &p, 1).await.unwrap();
        assert_eq!(v.cause(), Cause::Blocked);
        let retry = v.retry_after().unwrap();
        assert!(retry <= tick * 100 && retry > tick * 99, "retry {retry:?}");
    }
    assert!(
        store.check(&other, &p, 1).await.unwrap().is_allowed(),
        "other keys unaffected"
    );
    store.unblock(&key).await.unwrap();
    assert!(
        store.check(&key, &p, 1).await.unwrap().is_allowed(),
        "blocked requests charged nothing"
    );
    assert!(!store.check(&key, &p, 1).await.unwrap().is_allowed());
}

/// Allow and deny lists: allow-listed keys pass uncounted, deny-listed ones never pass.
pub async fn access_lists(h: &dyn Harness) {
    let tick = h.tick();
    let store = h.store().await;
    let (friend, foe, anyone) = (
        unique_key("friend"),
        unique_key("foe"),
        unique_key("anyone"),
    );
    let p = policy(limit("lists", AlgorithmKind::Gcra, 1, tick * 10_000, None))
        .with_access(AccessList::new().allow(friend).deny(foe).allow(foe));
    for _ in 0..5 {
        assert_eq!(
            store.check(&friend, &p, 1).await.unwrap().cause(),
            Cause::Allowlisted
        );
        let v = store.check(&foe, &p, 1).await.unwrap();
        assert_eq!(v.cause(), Cause::Denylisted, "deny wins over allow");
        assert_eq!(v.retry_after(), None);
    }
    assert_eq!(admitted(&*store, &anyone, &p, 3, 1).await, 1);
}

/// Two keys under one policy, and one key under two policies, never share a counter.
pub async fn keys_and_policies_are_independent(h: &dyn Harness) {
    let tick = h.tick();
    let store = h.store().await;
    let p1 = policy(limit("one", AlgorithmKind::Gcra, 2, tick * 10_000, None));
    let p2 = policy(limit("two", AlgorithmKind::Gcra, 2, tick * 10_000, None));
    let (a, b) = (unique_key("a"), unique_key("b"));
    assert_eq!(admitted(&*store, &a, &p1, 3, 1).await, 2);
    assert_eq!(admitted(&*store, &b, &p1, 3, 1).await, 2);
    assert_eq!(admitted(&*store, &a, &p2, 3, 1).await, 2);
}

/// Every refusal, of every algorithm, says when to come back: at least 1 s once rounded, and no
/// more than two periods (the sliding window counter may have to wait for the next window's
/// weight to shrink); `remaining` never exceeds the limit.
pub async fn refusals_say_when(h: &dyn Harness) {
    let tick = h.tick();
    for kind in AlgorithmKind::ALL {
        let store = h.store().await;
        let p = policy(limit("when", kind, 3, tick * 1000, None));
        if kind.is_window() {
            window_with_room(h, &*store, &p, tick * 20).await;
        }
        let key = unique_key("when");
        for i in 0..5 {
            let v = store.check(&key, &p, 1).await.unwrap();
            let d = v.decisions()[0];
            assert!(d.remaining() <= d.limit(), "{kind}");
            assert_eq!(v.is_allowed(), i < 3, "{kind}: request {i}");
            if !v.is_allowed() {
                assert!(v.retry_after_secs().unwrap() >= 1, "{kind}");
                assert!(v.retry_after().unwrap() <= tick * 2000, "{kind}");
                assert!(d.retry_after().is_some(), "{kind}");
            }
        }
    }
}

/// 64 tasks, 4 requests each, on one key with a quota of 100: exactly 100 admitted, for every
/// algorithm.
pub async fn concurrent_exact_admission(h: &dyn Harness) {
    let tick = h.tick();
    for kind in AlgorithmKind::ALL {
        let store = h.store().await;
        let p = Arc::new(policy(limit("race", kind, 100, tick * 36_000, None)));
        if kind.is_window() {
            window_with_room(h, &*store, &p, tick * 100).await;
        }
        let key = unique_key("race");
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (store, p) = (Arc::clone(&store), Arc::clone(&p));
                tokio::spawn(async move { admitted(&*store, &key, &p, 4, 1).await })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        assert_eq!(total, 100, "{kind}: 64 tasks admit exactly the quota");
    }
}

/// A store that says at which instant of its own clock it decided, so that its calls can be
/// replayed on a [`MemoryStore`] at the same instants ([`differential`]). The Redis and
/// Postgres stores have these methods as inherent `apply_timed` / `block_timed`; a test wraps
/// its store in a local type that forwards to them.
#[async_trait]
pub trait TimedStore: Send + Sync {
    /// [`RateLimitStore::apply`], and the store's instant of the decision.
    async fn apply_timed(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<(Verdict, Timestamp), RateLimitError>;

    /// [`RateLimitStore::block`], and the store's instant the block counts from.
    async fn block_timed(&self, key: &Key, duration: Duration)
    -> Result<Timestamp, RateLimitError>;

    /// [`RateLimitStore::unblock`].
    async fn unblock(&self, key: &Key) -> Result<(), RateLimitError>;
}

/// How the calls of a [`differential`] run were answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Admitted by the limits.
    pub admitted: usize,
    /// Refused by the limits.
    pub refused: usize,
    /// Refused by a block (explicit or penalty).
    pub blocked: usize,
}

/// SplitMix64: a small seeded generator for randomized store tests, so that a failing run
/// replays from its seed.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The generator seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next number, uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        if n == 0 { 0 } else { (z ^ (z >> 31)) % n }
    }
}

/// The differential check of a remote store against the memory store: `ops` random calls on
/// `keys` (4 % blocks of up to 400 ms, 4 % unblocks, 1 % invalid costs, the rest decisions
/// with costs of 1 or 2 and now and then up to the policy's capacity), each followed by a
/// pause of up to `max_pause`. Every verdict must equal, to the nanosecond, what
/// [`MemoryStore::apply_at`] answers for the same call at the store's instant (the memory store
/// replays the blocks with [`MemoryStore::block_at`] at theirs), invalid costs must fail
/// alike, and the store's clock must never go back. Panics, naming `seed` and the operation,
/// on the first difference; returns how the calls were answered.
pub async fn differential(
    store: &dyn TimedStore,
    policy: &Policy,
    keys: &[Key],
    seed: u64,
    ops: usize,
    max_pause: Duration,
) -> Tally {
    let model = MemoryStore::new();
    let mut rng = SplitMix64::new(seed);
    let capacity = policy
        .limits()
        .iter()
        .map(Limit::capacity)
        .min()
        .unwrap_or(1);
    let max_pause_ms = u64::try_from(max_pause.as_millis()).unwrap_or(u64::MAX);
    let mut last = Timestamp::EPOCH;
    let mut tally = Tally::default();
    for op in 0..ops {
        let key = &keys[rng.below(keys.len() as u64) as usize];
        let at = match rng.below(100) {
            0..=3 => {
                let d = Duration::from_millis(rng.below(400));
                let at = store.block_timed(key, d).await.unwrap();
                model.block_at(key, d, at).unwrap();
                Some(at)
            }
            4..=7 => {
                store.unblock(key).await.unwrap();
                model.unblock_key(key);
                None
            }
            8 => {
                let cost = if rng.below(2) == 0 {
                    0
                } else {
                    u32::try_from(capacity + 1).unwrap_or(u32::MAX)
                };
                let e = store.apply_timed(key, policy, cost).await.unwrap_err();
                let expected = model.apply_at(key, policy, cost, last).unwrap_err();
                assert_eq!(e, expected, "seed {seed}, op {op}: invalid cost {cost}");
                None
            }
            _ => {
                let most = if rng.below(4) == 0 {
                    capacity
                } else {
                    capacity.min(2)
                };
                let cost = u32::try_from(1 + rng.below(most)).unwrap_or(u32::MAX);
                let (verdict, at) = store.apply_timed(key, policy, cost).await.unwrap();
                let expected = model.apply_at(key, policy, cost, at).unwrap();
                assert_eq!(
                    verdict, expected,
                    "seed {seed}, op {op}: cost {cost} at {at:?}"
                );
                match verdict.cause() {
                    Cause::Admitted => tally.admitted += 1,
                    Cause::Limited => tally.refused += 1,
                    _ => tally.blocked += 1,
                }
                Some(at)
            }
        };
        if let Some(at) = at {
            assert!(
                at >= last,
                "seed {seed}, op {op}: the store's clock went back"
            );
            last = at;
        }
        let pause = rng.below(max_pause_ms.saturating_add(1));
        if pause > 0 {
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }
    tally
}

/// Every case, in order.
pub async fn run_all(h: &dyn Harness) {
    bucket_burst_and_refill(h).await;
    fixed_window_boundary(h).await;
    sliding_log_exact(h).await;
    sliding_counter_weighting(h).await;
    cost_above_one(h).await;
    multi_limit_no_partial_charge(h).await;
    penalty_box(h).await;
    block_and_unblock(h).await;
    access_lists(h).await;
    keys_and_policies_are_independent(h).await;
    refusals_say_when(h).await;
    concurrent_exact_admission(h).await;
}

/// Writes one `#[test]` per conformance case, each building its harness with `$make` (a path to
/// an `async fn() -> impl Harness`) on its own tokio runtime.
///
/// ```ignore
/// async fn harness() -> palisade_ratelimit::testing::MemoryHarness {
///     palisade_ratelimit::testing::MemoryHarness::new()
/// }
/// palisade_ratelimit::conformance_suite!(harness);
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($make:path) => {
        $crate::conformance_suite!(@cases $make;
            bucket_burst_and_refill,
            fixed_window_boundary,
            sliding_log_exact,
            sliding_counter_weighting,
            cost_above_one,
            multi_limit_no_partial_charge,
            penalty_box,
            block_and_unblock,
            access_lists,
            keys_and_policies_are_independent,
            refusals_say_when,
            concurrent_exact_admission,
        );
    };
    (@cases $make:path; $($case:ident,)*) => {
        $(
            #[test]
            fn $case() {
                $crate::testing::runtime().block_on(async {
                    let harness = $make().await;
                    $crate::testing::$case(&harness).await;
                });
            }
        )*
    };
}
