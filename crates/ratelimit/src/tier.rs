//! Named service tiers and the policy, or the absence of any limit, of each.

use std::fmt;
use std::str::FromStr;

use crate::{Cause, Key, Policy, RateLimitError, RateLimitStore, Verdict};

/// A named service tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// `free`
    Free,
    /// `basic`
    Basic,
    /// `pro`
    Pro,
    /// `enterprise`
    Enterprise,
}

impl Tier {
    /// Every tier, lowest first.
    pub const ALL: [Self; 4] = [Self::Free, Self::Basic, Self::Pro, Self::Enterprise];

    /// `free`, `basic`, `pro` or `enterprise`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Basic => "basic",
            Self::Pro => "pro",
            Self::Enterprise => "enterprise",
        }
    }

    const fn index(self) -> usize {
        match self {
            Self::Free => 0,
            Self::Basic => 1,
            Self::Pro => 2,
            Self::Enterprise => 3,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given to [`Tier::from_str`] is not a tier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tier (expected free, basic, pro or enterprise)")]
pub struct UnknownTier;

impl FromStr for Tier {
    type Err = UnknownTier;

    /// Case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or(UnknownTier)
    }
}

/// What a [`Tier`] is limited by, as [`Tiers::limit`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TierLimit<'a> {
    /// Requests are checked against this policy in the store.
    Limited(&'a Policy),
    /// No limit: every request is admitted ([`Verdict::unlimited`]) without a store round
    /// trip and without counting.
    Unlimited,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Setting {
    Limited(Policy),
    Unlimited,
}

/// The policy of each [`Tier`], or no limit at all for a tier declared
/// [unlimited](Self::with_unlimited) (an enterprise plan, say).
///
/// [`check`](Self::check) is the whole decision for a request of a tier: a limited tier's
/// policy checked in the store ([`RateLimitStore::check`]); an unlimited tier admitted at once,
/// with no store round trip, as a [`Verdict`] of [`Cause::Unlimited`](crate::Cause::Unlimited)
/// that [`is_allowed`](Verdict::is_allowed), so whatever counts verdicts (the
/// `palisade_ratelimit_decisions_total{outcome="admitted"}` counter of `palisade-tower`'s
/// layer, a caller's own metrics) counts it like any admission, and can tell it apart by its
/// cause.
///
/// ```
/// use palisade_ratelimit::{Cause, Key, Limit, MemoryStore, Policy, Quota, Tier, Tiers};
///
/// // A booking agent's plans: 10, 100 and 1,000 bookings a day, enterprise unlimited.
/// let per_day = |n| Policy::single(Limit::gcra("bookings", Quota::per_day(n)?)?);
/// let tiers = Tiers::new()
///     .with(Tier::Free, per_day(10)?)
///     .with(Tier::Basic, per_day(100)?)
///     .with(Tier::Pro, per_day(1_000)?)
///     .with_unlimited(Tier::Enterprise);
/// assert_eq!(tiers.policy(Tier::Pro)?.limits()[0].quota().limit(), 1_000);
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let key = Key::from(42u64);
/// let v = tiers.check(&store, Tier::Enterprise, &key, 1).await?;
/// assert!(v.is_allowed());
/// assert_eq!(v.cause(), Cause::Unlimited);
/// assert!(store.is_empty(), "no state kept for an unlimited tier");
/// let v = tiers.check(&store, Tier::Free, &key, 1).await?;
/// assert_eq!(v.cause(), Cause::Admitted);
/// # Ok::<(), palisade_ratelimit::RateLimitError>(())
/// # })?;
/// # Ok::<(), palisade_ratelimit::RateLimitError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tiers {
    settings: [Option<Setting>; 4],
}

impl Tiers {
    /// No tier configured.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the policy of `tier` (replacing an earlier policy or unlimited setting).
    #[must_use]
    pub fn with(self, tier: Tier, policy: Policy) -> Self {
        self.set(tier, Setting::Limited(policy))
    }

    /// Declares `tier` unlimited (replacing an earlier policy): [`check`](Self::check) admits
    /// its requests without a store round trip.
    #[must_use]
    pub fn with_unlimited(self, tier: Tier) -> Self {
        self.set(tier, Setting::Unlimited)
    }

    fn set(mut self, tier: Tier, setting: Setting) -> Self {
        if let Some(slot) = self.settings.get_mut(tier.index()) {
            *slot = Some(setting);
        }
        self
    }

    /// What `tier` is limited by.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::UnknownTier`] when the tier was neither given a policy nor declared
    /// unlimited.
    pub fn limit(&self, tier: Tier) -> Result<TierLimit<'_>, RateLimitError> {
        match self.settings.get(tier.index()).and_then(Option::as_ref) {
            Some(Setting::Limited(policy)) => Ok(TierLimit::Limited(policy)),
            Some(Setting::Unlimited) => Ok(TierLimit::Unlimited),
            None => Err(RateLimitError::UnknownTier {
                tier: tier.as_str(),
            }),
        }
    }

    /// The policy of `tier`.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::UnknownTier`] when none was set, which is also the case of an
    /// unlimited tier (it has no policy: see [`limit`](Self::limit) and
    /// [`check`](Self::check)).
    pub fn policy(&self, tier: Tier) -> Result<&Policy, RateLimitError> {
        match self.limit(tier)? {
            TierLimit::Limited(policy) => Ok(policy),
            TierLimit::Unlimited => Err(RateLimitError::UnknownTier {
                tier: tier.as_str(),
            }),
        }
    }

    /// The decision for a request of `cost` by `key` of `tier`: [`RateLimitStore::check`] with
    /// the tier's policy, or, for an unlimited tier, [`Verdict::unlimited`] at once (no store
    /// round trip, no state kept).
    ///
    /// Every call counts one `palisade_ratelimit_tier_decisions_total{tier, outcome}`
    /// ([`METRIC_RATELIMIT_TIER_DECISIONS`](palisade_telemetry::METRIC_RATELIMIT_TIER_DECISIONS)),
    /// `outcome` one of `admitted`, `refused`, `unlimited` (an unlimited tier's request: still
    /// counted, so its traffic shows on the same dashboard) or `error`.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::UnknownTier`] for a tier without a setting; for an unlimited tier,
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 (as every store answers); otherwise
    /// the store's errors.
    pub async fn check<S: RateLimitStore + ?Sized>(
        &self,
        store: &S,
        tier: Tier,
        key: &Key,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        let decision = match self.limit(tier) {
            Err(e) => Err(e),
            Ok(TierLimit::Limited(policy)) => store.check(key, policy, cost).await,
            Ok(TierLimit::Unlimited) if cost == 0 => Err(RateLimitError::InvalidCost {
                cost,
                capacity: u64::MAX,
            }),
            Ok(TierLimit::Unlimited) => Ok(Verdict::unlimited()),
        };
        let outcome = match &decision {
            Ok(v) if v.cause() == Cause::Unlimited => "unlimited",
            Ok(v) if v.is_allowed() => "admitted",
            Ok(_) => "refused",
            Err(_) => "error",
        };
        metrics::counter!(
            palisade_telemetry::METRIC_RATELIMIT_TIER_DECISIONS,
            "tier" => tier.as_str(),
            "outcome" => outcome
        )
        .increment(1);
        decision
    }
}
