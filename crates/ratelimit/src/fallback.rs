//! A primary store with a fallback, and a local shield for keys already refused.

use std::time::Duration;

use async_trait::async_trait;

use crate::table::{Expiring, Table};
use crate::time::{Steady, duration_nanos};
use crate::{
    CapPolicy, Cause, Clock, Key, Policy, RateLimitError, RateLimitStore, SystemClock, Verdict,
};

/// The default capacity of the over-limit shield, in keys.
pub const DEFAULT_SHIELD_CAP: usize = 100_000;

/// What a [`FallbackStore`] does when its primary fails (a store failure:
/// [`RateLimitError::is_store_failure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FallbackMode {
    /// Admit the request ([`Cause::FailedOpen`](crate::Cause::FailedOpen)): availability over
    /// protection. For limits that shape traffic, not for ones that stop brute force.
    FailOpen,
    /// Refuse the request ([`Cause::FailedClosed`](crate::Cause::FailedClosed)) with a short
    /// retry time: protection over availability. For login, OTP and password-reset limits.
    FailClosed,
    /// Ask the secondary store (typically a [`MemoryStore`](crate::MemoryStore)): limits keep
    /// holding per server while the primary is down, at `servers ×` the quota in the worst
    /// case. Caller errors of the secondary are returned as they are.
    Secondary,
}

/// A refusal remembered by the shield.
struct Shielded {
    /// Refused until, local ns since the epoch.
    until: u64,
    /// When the primary said so, local ns.
    recorded: u64,
    /// The smallest cost this refusal answers for: a cheaper request might fit.
    min_cost: u32,
    verdict: Verdict,
}

impl Expiring for Shielded {
    fn expires_at(&self) -> u64 {
        self.until
    }
}

/// A primary store (Redis, Postgres) with explicit behaviour when it fails, and an optional
/// local **over-limit shield**.
///
/// **The shield.** When the primary refuses a key with a retry time, the shield remembers
/// "refused until *t*" locally, and answers that key's requests of the same or a higher cost itself, without a round trip,
/// until *t* (by this process's clock, from the primary's relative retry time, so clock skew
/// between servers does not matter). A flood from one abusive key then costs the primary one
/// request per retry period per application server instead of one per request: this is what
/// keeps Redis alive during a flood. The shield's answers are the primary's refusal with its
/// times shortened by the time elapsed. It is bounded ([`DEFAULT_SHIELD_CAP`] keys by default,
/// soonest-expiring evicted first) and never admits anything: the worst a stale entry can do is
/// refuse a key until the retry time the primary itself gave.
///
/// [`unblock`](RateLimitStore::unblock) clears the key from the shield too.
///
/// ```
/// use palisade_ratelimit::{FallbackMode, FallbackStore, Key, Limit, MemoryStore, Policy, Quota};
/// use palisade_ratelimit::RateLimitStore;
///
/// # async fn demo() -> Result<(), palisade_ratelimit::RateLimitError> {
/// // In production the primary is a Redis or Postgres store.
/// let store = FallbackStore::new(MemoryStore::new(), MemoryStore::new(), FallbackMode::Secondary)
///     .with_shield(10_000);
/// let policy = Policy::single(Limit::gcra("api", Quota::per_second(100)?)?)?;
/// assert!(store.check(&Key::from(42u64), &policy, 1).await?.is_allowed());
/// # Ok(()) }
/// ```
pub struct FallbackStore<P, S, C = SystemClock> {
    primary: P,
    secondary: S,
    mode: FallbackMode,
    shield: Option<Table<Shielded>>,
    clock: C,
    /// The shield's time: the clock with its backward steps absorbed.
    steady: Steady,
    fail_closed_retry: Duration,
    #[cfg(feature = "tokio")]
    timeout: Option<Duration>,
}

impl<P, S, C> std::fmt::Debug for FallbackStore<P, S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackStore")
            .field("mode", &self.mode)
            .field("shielded", &self.shield.as_ref().map(Table::len))
            .finish_non_exhaustive()
    }
}

impl<P, S> FallbackStore<P, S, SystemClock> {
    /// `primary`, falling back as `mode` says; no shield until [`with_shield`](Self::with_shield).
    pub fn new(primary: P, secondary: S, mode: FallbackMode) -> Self {
        Self {
            primary,
            secondary,
            mode,
            shield: None,
            clock: SystemClock,
            steady: Steady::default(),
            fail_closed_retry: Duration::from_secs(1),
            #[cfg(feature = "tokio")]
            timeout: None,
        }
    }
}

impl<P, S, C> FallbackStore<P, S, C> {
    /// Turns on the over-limit shield, holding at most about `cap` keys.
    #[must_use]
    pub fn with_shield(mut self, cap: usize) -> Self {
        let shards = std::thread::available_parallelism().map_or(4, |n| n.get() * 4);
        self.shield = Some(Table::new(shards, cap, CapPolicy::EvictSoonestExpiring));
        self
    }

    /// The retry time of a [`FallbackMode::FailClosed`] refusal (default 1 s).
    #[must_use]
    pub fn with_fail_closed_retry(mut self, retry: Duration) -> Self {
        self.fail_closed_retry = retry;
        self
    }

    /// The same store with the shield reading `clock` (for tests).
    pub fn with_clock<C2: Clock>(self, clock: C2) -> FallbackStore<P, S, C2> {
        FallbackStore {
            primary: self.primary,
            secondary: self.secondary,
            mode: self.mode,
            shield: self.shield,
            clock,
            steady: Steady::default(),
            fail_closed_retry: self.fail_closed_retry,
            #[cfg(feature = "tokio")]
            timeout: self.timeout,
        }
    }

    /// Treats a primary call that takes longer than `timeout` as failed
    /// ([`RateLimitError::Timeout`]). Requires feature `tokio` and a tokio runtime with time
    /// enabled.
    #[cfg(feature = "tokio")]
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The primary store.
    pub const fn primary(&self) -> &P {
        &self.primary
    }

    /// The secondary store.
    pub const fn secondary(&self) -> &S {
        &self.secondary
    }

    /// The number of keys the shield holds (0 without a shield).
    pub fn shielded(&self) -> usize {
        self.shield.as_ref().map_or(0, Table::len)
    }
}

impl<P: RateLimitStore, S: RateLimitStore, C: Clock> FallbackStore<P, S, C> {
    async fn primary_apply(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        #[cfg(feature = "tokio")]
        if let Some(after) = self.timeout {
            return match tokio::time::timeout(after, self.primary.apply(key, policy, cost)).await {
                Ok(r) => r,
                Err(_) => Err(RateLimitError::Timeout {
                    store: "primary",
                    after,
                }),
            };
        }
        self.primary.apply(key, policy, cost).await
    }
}

#[async_trait]
impl<P: RateLimitStore, S: RateLimitStore, C: Clock> RateLimitStore for FallbackStore<P, S, C> {
    async fn apply(
        &self,
        key: &Key,
        policy: &Policy,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        // A bad cost is an error whichever store would have answered, failed over or not.
        policy.check_cost(cost)?;
        let now = self.steady.now(&self.clock).as_unix_nanos();
        if let Some(shield) = &self.shield
            && let Some(Some(v)) = shield.get(policy.id(), key, |s| {
                (s.until > now && cost >= s.min_cost)
                    .then(|| s.verdict.aged(now.saturating_sub(s.recorded)))
            })
        {
            return Ok(v);
        }
        match self.primary_apply(key, policy, cost).await {
            Ok(verdict) => {
                if let (Some(shield), Some(retry)) = (&self.shield, verdict.retry_after()) {
                    let until = now.saturating_add(duration_nanos(retry));
                    // With a penalty box the primary now holds a block: answer as it would.
                    let remembered = match policy.block_for() {
                        Some(_) if verdict.cause() == Cause::Limited => Verdict::blocked(retry),
                        _ => verdict.clone(),
                    };
                    // A block refuses every cost; a limit, this cost and any larger one.
                    let min_cost = if remembered.cause() == Cause::Limited {
                        cost
                    } else {
                        1
                    };
                    // A full shield only costs round trips: ignore its errors.
                    let _ = shield.upsert(policy.id(), key, now, |_| Shielded {
                        until,
                        recorded: now,
                        min_cost,
                        verdict: remembered,
                    });
                }
                Ok(verdict)
            }
            Err(e) if e.is_store_failure() => match self.mode {
                FallbackMode::FailOpen => Ok(Verdict::failed_open()),
                FallbackMode::FailClosed => Ok(Verdict::failed_closed(self.fail_closed_retry)),
                FallbackMode::Secondary => self.secondary.apply(key, policy, cost).await,
            },
            Err(e) => Err(e),
        }
    }

    /// Blocks on the primary, and on the secondary too in [`FallbackMode::Secondary`] so that
    /// a failover keeps the block; the secondary's answer counts only if the primary failed.
    async fn block(&self, key: &Key, duration: Duration) -> Result<(), RateLimitError> {
        let primary = self.primary.block(key, duration).await;
        if self.mode == FallbackMode::Secondary {
            let secondary = self.secondary.block(key, duration).await;
            if primary
                .as_ref()
                .is_err_and(RateLimitError::is_store_failure)
            {
                return secondary;
            }
        }
        primary
    }

    /// Unblocks on both stores and forgets the key in the shield.
    async fn unblock(&self, key: &Key) -> Result<(), RateLimitError> {
        if let Some(shield) = &self.shield {
            shield.retain(|k, _| k != key);
        }
        let primary = self.primary.unblock(key).await;
        if self.mode == FallbackMode::Secondary {
            let secondary = self.secondary.unblock(key).await;
            if primary
                .as_ref()
                .is_err_and(RateLimitError::is_store_failure)
            {
                return secondary;
            }
        }
        primary
    }
}
