//! The answer of a store to one request under a whole policy.

use std::time::Duration;

use crate::Decision;
use crate::decision::ceil_secs;
use crate::time::duration_nanos;

/// Why a request was admitted or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cause {
    /// Every limit admitted it, and each was charged.
    Admitted,
    /// At least one limit refused it; none was charged.
    Limited,
    /// The key is blocked: by [`RateLimitStore::block`](crate::RateLimitStore::block), or in
    /// the penalty box after an earlier refusal ([`Policy::with_block`](crate::Policy::with_block)).
    Blocked,
    /// The key is on the policy's allow list: admitted without counting.
    Allowlisted,
    /// The key is on the policy's deny list: refused, with no retry time.
    Denylisted,
    /// The key's tier is unlimited ([`Tiers::with_unlimited`](crate::Tiers::with_unlimited)):
    /// admitted without a store round trip and without counting.
    Unlimited,
    /// The store failed and the [`FallbackStore`](crate::FallbackStore) fails open.
    FailedOpen,
    /// The store failed and the [`FallbackStore`](crate::FallbackStore) fails closed.
    FailedClosed,
}

/// What a store said about one request under a [`Policy`](crate::Policy): the overall
/// answer, its [`Cause`], the retry time and one [`Decision`] per limit, in the policy's order
/// (none when the answer did not come from the limits: blocked, listed, failed over).
///
/// The constructors are public so that remote stores can build verdicts from their replies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// The decision of a single limit (zeroed when there is none or several).
    one: Decision,
    /// The decisions of several limits.
    many: Option<Box<[Decision]>>,
    retry_after_ns: u64,
    cause: Cause,
}

impl Verdict {
    /// The verdict of a policy's limits: [`Cause::Admitted`] when every decision admits,
    /// otherwise [`Cause::Limited`] with the longest retry-after of the refusing limits.
    ///
    /// In a refusal, the limits that would have admitted keep `is_allowed() == true` ("this
    /// limit alone would admit") and report what they still hold, since none was charged.
    pub fn from_decisions(decisions: Vec<Decision>) -> Self {
        match <[Decision; 1]>::try_from(decisions) {
            Ok([one]) => Self::from_one(one),
            Err(many) => {
                let refused = many.iter().filter_map(|d| d.retry_after()).max();
                Self {
                    one: Decision::default(),
                    many: Some(many.into_boxed_slice()),
                    retry_after_ns: refused.map_or(0, duration_nanos),
                    cause: if refused.is_some() {
                        Cause::Limited
                    } else {
                        Cause::Admitted
                    },
                }
            }
        }
    }

    /// The verdict of a single limit, without allocating.
    #[inline]
    pub fn from_one(decision: Decision) -> Self {
        Self {
            one: decision,
            many: None,
            retry_after_ns: decision.retry_after_nanos(),
            cause: if decision.is_allowed() {
                Cause::Admitted
            } else {
                Cause::Limited
            },
        }
    }

    /// A refusal of a blocked key, which may retry after `remaining` (at least 1 ns).
    pub fn blocked(remaining: Duration) -> Self {
        Self::bare(Cause::Blocked, duration_nanos(remaining).max(1))
    }

    /// An admission of an allow-listed key.
    pub fn allowlisted() -> Self {
        Self::bare(Cause::Allowlisted, 0)
    }

    /// An admission of a request of an unlimited tier ([`Tiers::check`](crate::Tiers::check)).
    pub fn unlimited() -> Self {
        Self::bare(Cause::Unlimited, 0)
    }

    /// A refusal of a deny-listed key: no retry time.
    pub fn denylisted() -> Self {
        Self::bare(Cause::Denylisted, 0)
    }

    /// An admission because the store failed and the caller chose to fail open.
    pub fn failed_open() -> Self {
        Self::bare(Cause::FailedOpen, 0)
    }

    /// A refusal because the store failed and the caller chose to fail closed; retry after
    /// `retry_after` (at least 1 ns).
    pub fn failed_closed(retry_after: Duration) -> Self {
        Self::bare(Cause::FailedClosed, duration_nanos(retry_after).max(1))
    }

    fn bare(cause: Cause, retry_after_ns: u64) -> Self {
        Self {
            one: Decision::default(),
            many: None,
            retry_after_ns,
            cause,
        }
    }

    /// The same refusal, with the key now in the penalty box for `block`: the retry time becomes
    /// at least `block`. An admission is returned unchanged.
    #[must_use]
    pub fn with_penalty(mut self, block: Duration) -> Self {
        if !self.is_allowed() && self.cause != Cause::Denylisted {
            self.retry_after_ns = self.retry_after_ns.max(duration_nanos(block)).max(1);
        }
        self
    }

    /// `true` when the request may proceed.
    pub const fn is_allowed(&self) -> bool {
        matches!(
            self.cause,
            Cause::Admitted | Cause::Allowlisted | Cause::Unlimited | Cause::FailedOpen
        )
    }

    /// Why.
    pub const fn cause(&self) -> Cause {
        self.cause
    }

    /// When refused, how long to wait before the request could be admitted (at least 1 ns).
    /// `None` when admitted, and for a deny-listed key (no wait will help).
    pub const fn retry_after(&self) -> Option<Duration> {
        if self.retry_after_ns == 0 {
            None
        } else {
            Some(Duration::from_nanos(self.retry_after_ns))
        }
    }

    /// [`retry_after`](Self::retry_after) in whole seconds, rounded up (at least 1), as the
    /// `Retry-After` field wants it.
    pub const fn retry_after_secs(&self) -> Option<u64> {
        if self.retry_after_ns == 0 {
            None
        } else {
            Some(ceil_secs(self.retry_after_ns))
        }
    }

    /// One decision per limit, in the policy's order; empty when the limits were not consulted.
    pub fn decisions(&self) -> &[Decision] {
        match (&self.many, self.cause) {
            (Some(many), _) => many,
            (None, Cause::Admitted | Cause::Limited) => std::slice::from_ref(&self.one),
            (None, _) => &[],
        }
    }

    /// The decision that binds: when refused, the refusing limit with the longest retry-after;
    /// when admitted, the limit with the least remaining (ties: the longest reset). `None` when
    /// the limits were not consulted.
    pub fn binding(&self) -> Option<(usize, &Decision)> {
        let ds = self.decisions().iter().enumerate();
        if self.cause == Cause::Limited {
            ds.filter(|(_, d)| !d.is_allowed())
                .max_by_key(|(_, d)| d.retry_after_nanos())
        } else {
            ds.min_by_key(|(_, d)| (d.remaining(), u64::MAX - d.reset_after_nanos()))
        }
    }

    /// The same verdict seen `elapsed` later: retry and reset times shortened.
    #[must_use]
    pub(crate) fn aged(&self, elapsed_ns: u64) -> Self {
        Self {
            one: self.one.aged(elapsed_ns),
            many: self
                .many
                .as_ref()
                .map(|ds| ds.iter().map(|d| d.aged(elapsed_ns)).collect()),
            retry_after_ns: if self.retry_after_ns == 0 {
                0
            } else {
                self.retry_after_ns.saturating_sub(elapsed_ns).max(1)
            },
            cause: self.cause,
        }
    }
}
