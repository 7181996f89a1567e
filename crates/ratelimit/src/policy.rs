//! Policies: several limits on one key at once, the penalty box, and allow and deny lists.

use std::collections::HashSet;
use std::fmt::Write;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::algorithm::check_cost;
use crate::decision::ceil_secs;
use crate::{Decision, Gcra, Key, Limit, RateLimitError, State, Timestamp, Verdict};

/// The most limits one policy may hold: each is evaluated on every request.
pub const MAX_LIMITS: usize = 16;

/// Everything a store applies to one request: one or more [`Limit`]s that must all admit it,
/// an optional penalty-box duration, and allow and deny lists.
///
/// **No partial consumption.** With several limits ("10 per second and 1,000 per day"), a
/// request is admitted only if every limit admits it, and when one refuses, none is charged:
/// a client refused by the per-second limit does not burn its daily quota.
///
/// **Identity.** A policy's [`id`](Self::id) is a digest of its limits (names, algorithms,
/// quotas), the same on every server: stores keep a key's state per (policy id, key), so two
/// policies never share counters and a changed policy starts afresh.
///
/// ```
/// use palisade_ratelimit::{AlgorithmKind, Limit, Policy, Quota, State, Timestamp};
/// use std::time::Duration;
///
/// let policy = Policy::new([
///     Limit::gcra("per-second", Quota::per_second(10)?)?,
///     Limit::new("per-day", AlgorithmKind::FixedWindow, Quota::per_day(1_000)?)?,
/// ])?
/// .with_block(Duration::from_secs(60)); // refused once: blocked for a minute
///
/// let mut states = policy.new_states();
/// let t = Timestamp::from_unix_secs(1_700_000_000);
/// let v = policy.apply(&mut states, t, 1)?;
/// assert!(v.is_allowed());
/// assert_eq!(v.decisions()[1].remaining(), 999);
/// # Ok::<(), palisade_ratelimit::RateLimitError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    limits: Vec<Limit>,
    /// The limit's GCRA when the policy is one GCRA limit: the memory store's fast path reads
    /// it without walking the limits.
    single_gcra: Option<Gcra>,
    block_for: Option<Duration>,
    access: AccessList,
    id: u64,
    /// The `RateLimit-Policy` field value, rendered once: it depends on the limits alone.
    policy_field: Box<str>,
}

impl Policy {
    /// A policy of `limits`, checked in order.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidPolicy`] when there is no limit, more than [`MAX_LIMITS`], or
    /// two limits share a name.
    pub fn new(limits: impl IntoIterator<Item = Limit>) -> Result<Self, RateLimitError> {
        let limits: Vec<Limit> = limits.into_iter().collect();
        if limits.is_empty() {
            return Err(RateLimitError::InvalidPolicy {
                reason: "a policy needs at least one limit",
            });
        }
        if limits.len() > MAX_LIMITS {
            return Err(RateLimitError::InvalidPolicy {
                reason: "a policy holds at most 16 limits",
            });
        }
        let names: HashSet<&str> = limits.iter().map(Limit::name).collect();
        if names.len() != limits.len() {
            return Err(RateLimitError::InvalidPolicy {
                reason: "two limits of a policy share a name",
            });
        }
        let mut canon = b"palisade-ratelimit policy v1\0".to_vec();
        for l in &limits {
            l.fingerprint_into(&mut canon);
        }
        let digest = Sha256::digest(&canon);
        let mut id = [0u8; 8];
        for (d, s) in id.iter_mut().zip(digest.iter()) {
            *d = *s;
        }
        let single_gcra = match limits.as_slice() {
            [only] => only.as_gcra().copied(),
            _ => None,
        };
        let policy_field = render_policy_field(&limits).into_boxed_str();
        Ok(Self {
            limits,
            single_gcra,
            block_for: None,
            access: AccessList::default(),
            id: u64::from_be_bytes(id),
            policy_field,
        })
    }

    /// A policy of one limit.
    ///
    /// # Errors
    ///
    /// Never in practice; the signature matches [`Policy::new`].
    pub fn single(limit: Limit) -> Result<Self, RateLimitError> {
        Self::new([limit])
    }

    /// The same policy with a penalty box: after a refusal by a limit, the key is blocked for
    /// `block` (every request refused with [`Cause::Blocked`](crate::Cause::Blocked), no limit
    /// charged) by the store that refused it.
    #[must_use]
    pub fn with_block(mut self, block: Duration) -> Self {
        self.block_for = (!block.is_zero()).then_some(block);
        self
    }

    /// The same policy with allow and deny lists.
    #[must_use]
    pub fn with_access(mut self, access: AccessList) -> Self {
        self.access = access;
        self
    }

    /// The `RateLimit-Policy` response field value (draft-ietf-httpapi-ratelimit-headers-09/-10,
    /// a Structured Field List, RFC 9651): one `"name";q=<limit>;w=<period in s>` per limit,
    /// separated by `, `. A period that is not a whole number of seconds is rounded up, which
    /// under-states the quota rather than over-stating it. Rendered once, when the policy is
    /// built, since it does not change from one request to the next.
    pub fn policy_field(&self) -> &str {
        &self.policy_field
    }

    /// The limits, in order.
    pub fn limits(&self) -> &[Limit] {
        &self.limits
    }

    /// The penalty-box duration, if any.
    pub const fn block_for(&self) -> Option<Duration> {
        self.block_for
    }

    /// The allow and deny lists.
    pub const fn access(&self) -> &AccessList {
        &self.access
    }

    /// A 64-bit digest of the limits (SHA-256 of their names, algorithms and quotas), equal on
    /// every server: stores name a key's state by (policy id, key).
    pub const fn id(&self) -> u64 {
        self.id
    }

    /// The states of a key no limit has seen, one per limit.
    pub fn new_states(&self) -> Vec<State> {
        self.limits.iter().map(Limit::new_state).collect()
    }

    /// When a key's `states` are all back to new (ns since the epoch): a store may forget the key
    /// from then on.
    pub fn expires_at(&self, states: &[State]) -> Timestamp {
        self.limits
            .iter()
            .zip(states)
            .map(|(l, s)| l.expires_at(s))
            .max()
            .unwrap_or_default()
    }

    /// Applies every limit to a key's `states` (one per limit, as from
    /// [`new_states`](Self::new_states); replaced by new states if they do not match) for a
    /// request of `cost` at `now`: all are charged if all admit, none otherwise.
    ///
    /// This is the one pure operation a store runs atomically per key; the penalty box and
    /// blocks are the store's (they outlive a policy), the allow and deny lists the caller's
    /// ([`RateLimitStore::check`](crate::RateLimitStore::check)).
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidCost`] when `cost` is 0 or above some limit's capacity; nothing
    /// is charged.
    pub fn apply(
        &self,
        states: &mut Vec<State>,
        now: Timestamp,
        cost: u32,
    ) -> Result<Verdict, RateLimitError> {
        let costs = self.check_cost(cost)?;
        if states.len() != self.limits.len() {
            *states = self.new_states();
        }
        let now = now.as_unix_nanos();
        if let ([limit], [state]) = (self.limits.as_slice(), states.as_mut_slice()) {
            return Ok(Verdict::from_one(limit.apply_checked(state, now, costs)));
        }
        let all_admit = self
            .limits
            .iter()
            .zip(states.iter())
            .all(|(l, s)| l.decide_checked(s, now, costs).is_allowed());
        let decisions = if all_admit {
            self.limits
                .iter()
                .zip(states.iter_mut())
                .map(|(l, s)| l.apply_checked(s, now, costs))
                .collect()
        } else {
            // Nothing is charged: the limits that would admit report what they still hold.
            self.limits
                .iter()
                .zip(states.iter())
                .map(|(l, s)| l.decide_checked(s, now, costs).uncharged(costs))
                .collect()
        };
        Ok(Verdict::from_decisions(decisions))
    }

    /// The verdict of this policy from one decision per limit, in the policy's order, that a
    /// store computed elsewhere (a Lua script in Redis, a SQL function in Postgres) at one
    /// instant, each decided as if it were charged: what [`apply`](Self::apply) followed by
    /// the store's penalty box returns. When some limit refuses, nothing is charged, so the
    /// admitting limits report their remaining with `cost` given back; a refusal under
    /// [`block_for`](Self::block_for) carries the penalty ([`Verdict::with_penalty`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use palisade_ratelimit::{Cause, Decision, Limit, Policy, Quota};
    ///
    /// let policy = Policy::new([
    ///     Limit::gcra("second", Quota::per_second(10)?)?,
    ///     Limit::gcra("hour", Quota::per_hour(100)?)?,
    /// ])?;
    /// let admitted = Decision::allowed(10, 4, Duration::from_millis(600));
    /// let refused = Decision::refused(100, 0, Duration::from_secs(36), Duration::from_secs(36));
    /// let verdict = policy.verdict_from(vec![admitted, refused], 1);
    /// assert_eq!(verdict.cause(), Cause::Limited);
    /// assert_eq!(verdict.decisions()[0].remaining(), 5); // not charged after all
    /// # Ok::<(), palisade_ratelimit::RateLimitError>(())
    /// ```
    pub fn verdict_from(&self, decisions: Vec<Decision>, cost: u32) -> Verdict {
        let all_admit = decisions.iter().all(Decision::is_allowed);
        let decisions = if all_admit {
            decisions
        } else {
            decisions
                .into_iter()
                .map(|d| d.uncharged(u64::from(cost)))
                .collect()
        };
        let verdict = Verdict::from_decisions(decisions);
        match self.block_for {
            Some(block) if !verdict.is_allowed() => verdict.with_penalty(block),
            _ => verdict,
        }
    }

    /// The GCRA of a policy of one GCRA limit.
    #[inline]
    pub(crate) const fn single_gcra(&self) -> Option<&Gcra> {
        self.single_gcra.as_ref()
    }

    /// Checks `cost` against every limit's capacity, in the limits' order, as
    /// [`apply`](Self::apply) and every store do before charging anything; returns it as a
    /// `u64`. A remote store calls it before its round trip.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::InvalidCost`] for the first limit whose
    /// [`capacity`](Limit::capacity) `cost` exceeds, or when `cost` is 0.
    pub fn check_cost(&self, cost: u32) -> Result<u64, RateLimitError> {
        let mut n = u64::from(cost);
        for l in &self.limits {
            n = check_cost(cost, l.capacity())?;
        }
        Ok(n)
    }
}

/// Keys admitted without counting (health checks, internal services) and keys always refused
/// (known abusers). The deny list wins when a key is on both.
///
/// Lists match the exact key a request is checked with. To allow or deny one identity across
/// several policies whose keys also name an endpoint, screen the identity's own key with
/// [`screen`](Self::screen) before checking the composite key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessList {
    allow: HashSet<Key>,
    deny: HashSet<Key>,
}

impl AccessList {
    /// Empty lists.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key` to the allow list.
    #[must_use]
    pub fn allow(mut self, key: Key) -> Self {
        self.allow.insert(key);
        self
    }

    /// Adds `key` to the deny list.
    #[must_use]
    pub fn deny(mut self, key: Key) -> Self {
        self.deny.insert(key);
        self
    }

    /// `true` when both lists are empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// The verdict the lists give `key`: [`Verdict::denylisted`], [`Verdict::allowlisted`], or
    /// `None` when it is on neither and must be counted.
    #[inline]
    pub fn screen(&self, key: &Key) -> Option<Verdict> {
        if self.is_empty() {
            None
        } else if self.deny.contains(key) {
            Some(Verdict::denylisted())
        } else if self.allow.contains(key) {
            Some(Verdict::allowlisted())
        } else {
            None
        }
    }
}

/// The `RateLimit-Policy` value of `limits` (see [`Policy::policy_field`]).
fn render_policy_field(limits: &[Limit]) -> String {
    let mut out = String::new();
    for (i, l) in limits.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let w = ceil_secs(l.quota().period_nanos());
        let _ = write!(out, "{sep}\"{}\";q={};w={w}", l.name(), l.quota().limit());
    }
    out
}
