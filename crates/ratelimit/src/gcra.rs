//! GCRA, the generic cell rate algorithm (ITU-T I.371; as in governor and redis-cell).
//!
//! **Formula.** With the emission interval `T = ⌈period / limit⌉` ns and the tolerance
//! `τ = burst · T`, the state is one instant, the *theoretical arrival time* `TAT`
//! (initially 0). A request of cost `n` at `now`:
//!
//! ```text
//! tat     = max(TAT, now)
//! new_tat = tat + n·T
//! admit  ⇔ new_tat − τ ≤ now          then TAT := new_tat
//! remaining   = ⌊(now + τ − new_tat) / T⌋   (admitted)   ⌊(now + τ − tat) / T⌋ (refused)
//! retry_after = new_tat − τ − now            (refused)
//! reset_after = TAT − now                    (back to a full burst)
//! ```
//!
//! **Memory per key**: 8 bytes (one `u64`), updated with a single compare-and-swap in
//! [`MemoryStore`](crate::MemoryStore).
//!
//! **Accuracy and bursts.** Exact up to the rounding of `T`, which is rounded *up*, so the
//! sustained rate never exceeds `limit / period`. Over any closed interval of length `d`, the
//! admitted cost is at most `burst + ⌊d / T⌋`; after a quiet spell, `burst` units pass at once.
//! No window edges: traffic is smoothed, never doubled at a boundary.

use crate::algorithm::{Eval, step};
use crate::{Decision, Quota, RateLimitError, Timestamp};

/// GCRA with a prepared emission interval and tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gcra {
    limit: u64,
    capacity: u64,
    emission_ns: u64,
    tau_ns: u64,
}

/// GCRA's state: the theoretical arrival time, in ns since the Unix epoch (0 = never seen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct GcraState {
    /// Theoretical arrival time, ns since the epoch.
    pub tat: u64,
}

impl Gcra {
    /// Prepares the quota: `T = ⌈period / limit⌉`, `τ = capacity · T`.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidQuota`] when `τ` overflows 64-bit nanoseconds.
    pub fn new(quota: &Quota) -> Result<Self, RateLimitError> {
        let emission_ns = quota.period_nanos().div_ceil(quota.limit());
        let tau_ns =
            quota
                .capacity()
                .checked_mul(emission_ns)
                .ok_or(RateLimitError::InvalidQuota {
                    reason: "burst × period / limit overflows 64-bit nanoseconds",
                })?;
        Ok(Self {
            limit: quota.limit(),
            capacity: quota.capacity(),
            emission_ns,
            tau_ns,
        })
    }

    /// The emission interval `T`, in ns: one unit of cost is restored every `T`.
    pub const fn emission_interval_nanos(&self) -> u64 {
        self.emission_ns
    }

    /// The tolerance `τ = capacity × T`, in ns: how far ahead of now the TAT may run.
    pub const fn tolerance_nanos(&self) -> u64 {
        self.tau_ns
    }

    /// The most cost admitted at once: the burst.
    pub const fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The decision for a request of `cost` at `now`, and the state it leaves behind.
    /// A refusal leaves the state unchanged.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 or above the burst.
    pub fn apply(
        &self,
        state: GcraState,
        now: Timestamp,
        cost: u32,
    ) -> Result<(GcraState, Decision), RateLimitError> {
        step(state, cost, self.capacity, |s, n| {
            self.eval(s, now.as_unix_nanos(), n)
        })
    }

    /// [`apply`](Self::apply) on a bare TAT, for stores that keep it in an atomic word:
    /// returns the decision and, when admitted, the new TAT. `cost` must already be checked.
    #[inline(always)]
    pub(crate) fn eval_tat(&self, tat: u64, now: u64, cost: u64) -> (Decision, u64) {
        let e = self.eval(GcraState { tat }, now, cost);
        (e.decision, e.next.tat)
    }

    /// The new TAT when a request of `cost` at `now` is admitted on `tat`, else `None`: the
    /// test of [`eval`](Self::eval) alone, for the compare-and-swap loop. `cost` must already
    /// be checked.
    #[inline(always)]
    pub(crate) fn admit(&self, tat: u64, now: u64, cost: u64) -> Option<u64> {
        let new_tat = tat
            .max(now)
            .saturating_add(cost.saturating_mul(self.emission_ns));
        (new_tat.saturating_sub(self.tau_ns) <= now).then_some(new_tat)
    }

    #[inline(always)]
    pub(crate) fn eval(&self, state: GcraState, now: u64, cost: u64) -> Eval<GcraState> {
        let tat = state.tat.max(now);
        // cost ≤ capacity, so cost·T ≤ τ fits.
        let new_tat = tat.saturating_add(cost.saturating_mul(self.emission_ns));
        let allow_at = new_tat.saturating_sub(self.tau_ns);
        let horizon = now.saturating_add(self.tau_ns);
        let decision = if allow_at <= now {
            Decision::from_fraction(
                true,
                self.limit,
                horizon.saturating_sub(new_tat),
                self.emission_ns,
                new_tat - now,
                0,
            )
        } else {
            Decision::from_fraction(
                false,
                self.limit,
                horizon.saturating_sub(tat),
                self.emission_ns,
                tat - now,
                allow_at - now,
            )
        };
        Eval {
            decision,
            next: GcraState { tat: new_tat },
        }
    }

    /// When the state becomes indistinguishable from a fresh one (ns since the epoch).
    pub const fn expires_at(&self, state: &GcraState) -> u64 {
        state.tat
    }
}
