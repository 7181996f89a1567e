//! The algorithms by name, a named [`Limit`] (algorithm + quota), and the [`State`] it keeps
//! per key.

use std::fmt;
use std::str::FromStr;

use crate::{
    Decision, FixedWindow, FixedWindowState, Gcra, GcraState, LeakyBucket, LeakyBucketState, Quota,
    RateLimitError, SlidingWindowCounter, SlidingWindowCounterState, SlidingWindowLog,
    SlidingWindowLogState, Timestamp, TokenBucket, TokenBucketState,
};

/// A decision and the state to keep if it admits.
pub(crate) struct Eval<S> {
    pub(crate) decision: Decision,
    pub(crate) next: S,
}

/// The by-value `apply` of the algorithms with a `Copy` state: checks the cost, evaluates,
/// and keeps the new state only on admission.
pub(crate) fn step<S: Copy>(
    state: S,
    cost: u32,
    capacity: u64,
    eval: impl FnOnce(S, u64) -> Eval<S>,
) -> Result<(S, Decision), RateLimitError> {
    let e = eval(state, check_cost(cost, capacity)?);
    Ok((
        if e.decision.is_allowed() {
            e.next
        } else {
            state
        },
        e.decision,
    ))
}

/// Checks `1 ≤ cost ≤ capacity`.
#[inline]
pub(crate) fn check_cost(cost: u32, capacity: u64) -> Result<u64, RateLimitError> {
    let n = u64::from(cost);
    if n == 0 || n > capacity {
        return Err(RateLimitError::InvalidCost { cost, capacity });
    }
    Ok(n)
}

/// The rate-limiting algorithms. Their names (`Display`, `FromStr`) are the ones the CLI takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AlgorithmKind {
    /// [`Gcra`]: `gcra`.
    Gcra,
    /// [`TokenBucket`]: `token-bucket`.
    TokenBucket,
    /// [`LeakyBucket`] (as a meter): `leaky-bucket`.
    LeakyBucket,
    /// [`FixedWindow`] aligned to the epoch: `fixed-window`.
    FixedWindow,
    /// [`SlidingWindowLog`]: `sliding-window-log`.
    SlidingWindowLog,
    /// [`SlidingWindowCounter`]: `sliding-window-counter`.
    SlidingWindowCounter,
}

impl AlgorithmKind {
    /// Every algorithm, in the order of the crate documentation.
    pub const ALL: [Self; 6] = [
        Self::Gcra,
        Self::TokenBucket,
        Self::LeakyBucket,
        Self::FixedWindow,
        Self::SlidingWindowLog,
        Self::SlidingWindowCounter,
    ];

    /// The name: `gcra`, `token-bucket`, `leaky-bucket`, `fixed-window`, `sliding-window-log`
    /// or `sliding-window-counter`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gcra => "gcra",
            Self::TokenBucket => "token-bucket",
            Self::LeakyBucket => "leaky-bucket",
            Self::FixedWindow => "fixed-window",
            Self::SlidingWindowLog => "sliding-window-log",
            Self::SlidingWindowCounter => "sliding-window-counter",
        }
    }

    /// `true` for the window algorithms, which take no burst.
    pub const fn is_window(self) -> bool {
        matches!(
            self,
            Self::FixedWindow | Self::SlidingWindowLog | Self::SlidingWindowCounter
        )
    }

    /// A stable number for the algorithm, for stores that pass it to server-side code (a Lua
    /// script, a SQL function): 1 GCRA, 2 token bucket, 3 leaky bucket, 4 fixed window,
    /// 5 sliding window log, 6 sliding window counter. Never reused or renumbered.
    pub const fn code(self) -> u8 {
        match self {
            Self::Gcra => 1,
            Self::TokenBucket => 2,
            Self::LeakyBucket => 3,
            Self::FixedWindow => 4,
            Self::SlidingWindowLog => 5,
            Self::SlidingWindowCounter => 6,
        }
    }
}

impl fmt::Display for AlgorithmKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given to [`AlgorithmKind::from_str`] is not an algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown algorithm (expected gcra, token-bucket, leaky-bucket, fixed-window, sliding-window-log or sliding-window-counter)"
)]
pub struct UnknownAlgorithm;

impl FromStr for AlgorithmKind {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(UnknownAlgorithm)
    }
}

/// A prepared algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Prepared {
    Gcra(Gcra),
    TokenBucket(TokenBucket),
    LeakyBucket(LeakyBucket),
    FixedWindow(FixedWindow),
    SlidingWindowLog(SlidingWindowLog),
    SlidingWindowCounter(SlidingWindowCounter),
}

/// One limit of a [`Policy`](crate::Policy): a name (shown in the `RateLimit` headers), an
/// algorithm and a quota, checked and prepared once.
///
/// ```
/// use palisade_ratelimit::{AlgorithmKind, Limit, Quota, State, Timestamp};
///
/// let limit = Limit::new("per-second", AlgorithmKind::Gcra, Quota::per_second(2)?)?;
/// let mut state = limit.new_state();
/// let t = Timestamp::from_unix_secs(1_700_000_000);
/// assert!(limit.apply(&mut state, t, 1)?.is_allowed());
/// assert!(limit.apply(&mut state, t, 1)?.is_allowed());
/// let refused = limit.apply(&mut state, t, 1)?;
/// assert_eq!(refused.retry_after_secs(), Some(1)); // 0.5 s, rounded up
/// # Ok::<(), palisade_ratelimit::RateLimitError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Limit {
    name: String,
    kind: AlgorithmKind,
    quota: Quota,
    prepared: Prepared,
}

impl Limit {
    /// A limit named `name` applying `kind` with `quota`.
    ///
    /// The name identifies the limit in the `RateLimit-Policy` and `RateLimit` fields: 1 to 64
    /// characters of `A-Z a-z 0-9 _ - .`.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidPolicy`] for a bad name; [`RateLimitError::InvalidQuota`] when a
    /// window algorithm is given a burst, or the quota overflows the algorithm's arithmetic.
    pub fn new(
        name: impl Into<String>,
        kind: AlgorithmKind,
        quota: Quota,
    ) -> Result<Self, RateLimitError> {
        let name = name.into();
        check_name(&name)?;
        let prepared = match kind {
            AlgorithmKind::Gcra => Prepared::Gcra(Gcra::new(&quota)?),
            AlgorithmKind::TokenBucket => Prepared::TokenBucket(TokenBucket::new(&quota)?),
            AlgorithmKind::LeakyBucket => Prepared::LeakyBucket(LeakyBucket::new(&quota)?),
            AlgorithmKind::FixedWindow => Prepared::FixedWindow(FixedWindow::new(&quota)?),
            AlgorithmKind::SlidingWindowLog => {
                Prepared::SlidingWindowLog(SlidingWindowLog::new(&quota)?)
            }
            AlgorithmKind::SlidingWindowCounter => {
                Prepared::SlidingWindowCounter(SlidingWindowCounter::new(&quota)?)
            }
        };
        Ok(Self {
            name,
            kind,
            quota,
            prepared,
        })
    }

    /// The integers that define this limit's arithmetic: the very numbers its prepared
    /// algorithm computes with (derived once, in [`Limit::new`]), for a store that runs the
    /// algorithm on its server (a Lua script in Redis, a SQL function in Postgres) and must
    /// decide as this crate does.
    ///
    /// ```
    /// use palisade_ratelimit::{AlgorithmKind, Limit, Quota};
    ///
    /// let limit = Limit::new("api", AlgorithmKind::Gcra, Quota::per_second(3)?.with_burst(2)?)?;
    /// let p = limit.parameters();
    /// assert_eq!(p.emission_interval_nanos, 333_333_334); // ⌈1 s / 3⌉
    /// assert_eq!(p.tolerance_nanos, 666_666_668); // burst × T
    /// let bucket = Limit::new("b", AlgorithmKind::TokenBucket, Quota::per_second(4)?)?;
    /// let p = bucket.parameters();
    /// // gcd(1e9, 4) = 4: a token is 250,000,000 units, 1 unit accrues per ns.
    /// assert_eq!((p.bucket_unit, p.bucket_rate, p.bucket_cap), (250_000_000, 1, 1_000_000_000));
    /// # Ok::<(), palisade_ratelimit::RateLimitError>(())
    /// ```
    pub fn parameters(&self) -> LimitParameters {
        let mut p = LimitParameters {
            kind: self.kind,
            limit: self.quota.limit(),
            period_nanos: self.quota.period_nanos(),
            capacity: self.capacity(),
            emission_interval_nanos: 0,
            tolerance_nanos: 0,
            bucket_unit: 0,
            bucket_rate: 0,
            bucket_cap: 0,
        };
        let rate = match &self.prepared {
            Prepared::Gcra(g) => {
                p.emission_interval_nanos = g.emission_interval_nanos();
                p.tolerance_nanos = g.tolerance_nanos();
                None
            }
            Prepared::TokenBucket(a) => Some(a.rate()),
            Prepared::LeakyBucket(a) => Some(a.rate()),
            _ => None,
        };
        if let Some(r) = rate {
            (p.bucket_unit, p.bucket_rate, p.bucket_cap) = (r.unit, r.per_ns, r.cap);
        }
        p
    }

    /// A GCRA limit.
    ///
    /// # Errors
    ///
    /// As [`Limit::new`].
    pub fn gcra(name: impl Into<String>, quota: Quota) -> Result<Self, RateLimitError> {
        Self::new(name, AlgorithmKind::Gcra, quota)
    }

    /// The limit's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its algorithm.
    pub const fn kind(&self) -> AlgorithmKind {
        self.kind
    }

    /// Its quota.
    pub const fn quota(&self) -> &Quota {
        &self.quota
    }

    /// The most cost one request may have: the burst for GCRA and the buckets, the limit for
    /// the windows.
    pub const fn capacity(&self) -> u64 {
        match &self.prepared {
            Prepared::Gcra(a) => a.capacity(),
            Prepared::TokenBucket(a) => a.capacity(),
            Prepared::LeakyBucket(a) => a.capacity(),
            Prepared::FixedWindow(a) => a.capacity(),
            Prepared::SlidingWindowLog(a) => a.capacity(),
            Prepared::SlidingWindowCounter(a) => a.capacity(),
        }
    }

    /// The state of a key this limit has never seen.
    pub fn new_state(&self) -> State {
        match &self.prepared {
            Prepared::Gcra(_) => State::Gcra(GcraState::default()),
            Prepared::TokenBucket(a) => State::TokenBucket(a.full()),
            Prepared::LeakyBucket(_) => State::LeakyBucket(LeakyBucketState::default()),
            Prepared::FixedWindow(_) => State::FixedWindow(FixedWindowState::default()),
            Prepared::SlidingWindowLog(_) => {
                State::SlidingWindowLog(SlidingWindowLogState::default())
            }
            Prepared::SlidingWindowCounter(_) => {
                State::SlidingWindowCounter(SlidingWindowCounterState::default())
            }
        }
    }

    /// The GCRA parameters, when this is a GCRA limit.
    #[inline]
    pub(crate) const fn as_gcra(&self) -> Option<&Gcra> {
        match &self.prepared {
            Prepared::Gcra(g) => Some(g),
            _ => None,
        }
    }

    /// The decision for a request of `cost` at `now`, without changing `state`.
    ///
    /// A state of another algorithm (from a policy that changed) is treated as a new state.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 or above [`capacity`](Self::capacity).
    pub fn decide(
        &self,
        state: &State,
        now: Timestamp,
        cost: u32,
    ) -> Result<Decision, RateLimitError> {
        let n = check_cost(cost, self.capacity())?;
        // A state of another algorithm is decided as a new one by `decide_checked`.
        Ok(self.decide_checked(state, now.as_unix_nanos(), n))
    }

    /// The decision for a request of `cost` at `now`, applied to `state`: an admission charges
    /// the state, a refusal leaves it as it was (up to forgetting what has expired).
    ///
    /// This is the pure function of (state, now, cost) → (new state, decision) of the crate
    /// documentation, with the state updated in place.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 or above [`capacity`](Self::capacity).
    pub fn apply(
        &self,
        state: &mut State,
        now: Timestamp,
        cost: u32,
    ) -> Result<Decision, RateLimitError> {
        let n = check_cost(cost, self.capacity())?;
        Ok(self.apply_checked(state, now.as_unix_nanos(), n))
    }

    /// `true` when `state` belongs to this limit's algorithm.
    fn owns(&self, state: &State) -> bool {
        matches!(
            (&self.prepared, state),
            (Prepared::Gcra(_), State::Gcra(_))
                | (Prepared::TokenBucket(_), State::TokenBucket(_))
                | (Prepared::LeakyBucket(_), State::LeakyBucket(_))
                | (Prepared::FixedWindow(_), State::FixedWindow(_))
                | (Prepared::SlidingWindowLog(_), State::SlidingWindowLog(_))
                | (
                    Prepared::SlidingWindowCounter(_),
                    State::SlidingWindowCounter(_)
                )
        )
    }

    /// [`decide`](Self::decide) with the cost checked and a state of the right algorithm.
    pub(crate) fn decide_checked(&self, state: &State, now: u64, n: u64) -> Decision {
        match (&self.prepared, state) {
            (Prepared::Gcra(a), State::Gcra(s)) => a.eval(*s, now, n).decision,
            (Prepared::TokenBucket(a), State::TokenBucket(s)) => a.eval(*s, now, n).decision,
            (Prepared::LeakyBucket(a), State::LeakyBucket(s)) => a.eval(*s, now, n).decision,
            (Prepared::FixedWindow(a), State::FixedWindow(s)) => a.eval(*s, now, n).decision,
            (Prepared::SlidingWindowCounter(a), State::SlidingWindowCounter(s)) => {
                a.eval(*s, now, n).decision
            }
            (Prepared::SlidingWindowLog(a), State::SlidingWindowLog(s)) => {
                let mut pruned = s.clone();
                a.prune(&mut pruned, now);
                a.decide_pruned(&pruned, now, n)
            }
            _ => self.decide_checked(&self.new_state(), now, n),
        }
    }

    /// [`apply`](Self::apply) with the cost checked.
    pub(crate) fn apply_checked(&self, state: &mut State, now: u64, n: u64) -> Decision {
        fn keep<S>(slot: &mut S, e: crate::algorithm::Eval<S>) -> Decision {
            if e.decision.is_allowed() {
                *slot = e.next;
            }
            e.decision
        }
        if !self.owns(state) {
            *state = self.new_state();
        }
        match (&self.prepared, state) {
            (Prepared::Gcra(a), State::Gcra(s)) => keep(s, a.eval(*s, now, n)),
            (Prepared::TokenBucket(a), State::TokenBucket(s)) => keep(s, a.eval(*s, now, n)),
            (Prepared::LeakyBucket(a), State::LeakyBucket(s)) => keep(s, a.eval(*s, now, n)),
            (Prepared::FixedWindow(a), State::FixedWindow(s)) => keep(s, a.eval(*s, now, n)),
            (Prepared::SlidingWindowCounter(a), State::SlidingWindowCounter(s)) => {
                keep(s, a.eval(*s, now, n))
            }
            (Prepared::SlidingWindowLog(a), State::SlidingWindowLog(s)) => {
                a.prune(s, now);
                let d = a.decide_pruned(s, now, n);
                if d.is_allowed() {
                    a.record(s, now, n);
                }
                d
            }
            // Unreachable: `owns` was made true above.
            (_, s) => self.decide_checked(s, now, n),
        }
    }

    /// When `state` becomes indistinguishable from a new one, in ns since the epoch: a store
    /// may forget the key from then on.
    pub fn expires_at(&self, state: &State) -> Timestamp {
        Timestamp::from_unix_nanos(match (&self.prepared, state) {
            (Prepared::Gcra(a), State::Gcra(s)) => a.expires_at(s),
            (Prepared::TokenBucket(a), State::TokenBucket(s)) => a.expires_at(s),
            (Prepared::LeakyBucket(a), State::LeakyBucket(s)) => a.expires_at(s),
            (Prepared::FixedWindow(a), State::FixedWindow(s)) => a.expires_at(s),
            (Prepared::SlidingWindowLog(a), State::SlidingWindowLog(s)) => a.expires_at(s),
            (Prepared::SlidingWindowCounter(a), State::SlidingWindowCounter(s)) => a.expires_at(s),
            _ => 0,
        })
    }

    /// Feeds the limit's identity into a policy fingerprint.
    pub(crate) fn fingerprint_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.name.len() as u64).to_be_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.push(self.kind.code());
        out.extend_from_slice(&self.quota.limit().to_be_bytes());
        out.extend_from_slice(&self.quota.period_nanos().to_be_bytes());
        out.extend_from_slice(&self.quota.burst().unwrap_or(0).to_be_bytes());
    }
}

/// The integer parameters of a [`Limit`] ([`Limit::parameters`]). Times are in nanoseconds.
///
/// Which fields an algorithm reads:
///
/// | algorithm | fields |
/// |---|---|
/// | GCRA | `limit`, `emission_interval_nanos` (T = ⌈period / limit⌉), `tolerance_nanos` (τ = capacity × T) |
/// | token and leaky bucket | `limit`, `bucket_unit`, `bucket_rate`, `bucket_cap` (below) |
/// | the three windows | `limit`, `period_nanos` |
///
/// The buckets count in scaled units so that refilling is exact integer arithmetic: with
/// `g = gcd(period, limit)`, one token is `bucket_unit = period / g` units, `bucket_rate =
/// limit / g` units accrue per nanosecond, and a full bucket holds `bucket_cap = capacity ×
/// bucket_unit` units. Fields an algorithm does not read are 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LimitParameters {
    /// The algorithm.
    pub kind: AlgorithmKind,
    /// Requests (units of cost) per period.
    pub limit: u64,
    /// The period, in ns.
    pub period_nanos: u64,
    /// The most cost one request may have ([`Limit::capacity`]).
    pub capacity: u64,
    /// GCRA's emission interval T, in ns.
    pub emission_interval_nanos: u64,
    /// GCRA's tolerance τ = capacity × T, in ns.
    pub tolerance_nanos: u64,
    /// Buckets: scaled units per token.
    pub bucket_unit: u64,
    /// Buckets: scaled units accrued per ns.
    pub bucket_rate: u64,
    /// Buckets: capacity in scaled units.
    pub bucket_cap: u64,
}

/// Limit names: 1–64 of `A-Z a-z 0-9 _ - .`, safe inside a Structured Field string.
fn check_name(name: &str) -> Result<(), RateLimitError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(RateLimitError::InvalidPolicy {
            reason: "a limit name must be 1-64 characters of A-Z a-z 0-9 _ - .",
        })
    }
}

/// What one limit remembers about one key, for any algorithm.
///
/// Build it with [`Limit::new_state`]; the variants are public so that a store can persist
/// them (a Postgres row, a serialised blob) and the fields of each are documented with units.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// See [`GcraState`].
    Gcra(GcraState),
    /// See [`TokenBucketState`].
    TokenBucket(TokenBucketState),
    /// See [`LeakyBucketState`].
    LeakyBucket(LeakyBucketState),
    /// See [`FixedWindowState`].
    FixedWindow(FixedWindowState),
    /// See [`SlidingWindowLogState`].
    SlidingWindowLog(SlidingWindowLogState),
    /// See [`SlidingWindowCounterState`].
    SlidingWindowCounter(SlidingWindowCounterState),
}
