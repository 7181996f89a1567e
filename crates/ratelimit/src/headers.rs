//! HTTP response fields: `RateLimit-Policy` and `RateLimit` of the IETF draft, the older
//! `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset`, and `Retry-After`.
//!
//! Sources: draft-ietf-httpapi-ratelimit-headers-09/-10 (the two fields are Structured Field
//! Lists, RFC 9651, of quoted policy names with integer parameters: `q` quota and `w` window
//! in seconds for the policy; `r` remaining and `t` seconds until reset for the current
//! state); its drafts up to -06 for the three `RateLimit-*` integer fields still sent by many
//! APIs; RFC 9110 §10.2.3 for `Retry-After` (delay in whole seconds).

use std::borrow::Cow;
use std::fmt::Write;

use crate::{Cause, Policy, Verdict};

/// Which fields [`RateLimitHeaders::to_pairs`] renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HeaderStyle {
    /// `RateLimit-Policy` and `RateLimit` (the current draft), and `Retry-After`.
    #[default]
    Draft,
    /// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`, and `Retry-After`.
    Legacy,
    /// All of the above.
    Both,
}

/// The rate-limit response fields for one verdict under one policy.
///
/// Every number is a whole number of seconds or units, rounded so as never to invite a client
/// back too early: reset and retry times round up, and a refusal always says at least 1 second.
///
/// ```
/// use palisade_ratelimit::{HeaderStyle, Limit, Policy, Quota, RateLimitHeaders, Timestamp};
///
/// let policy = Policy::single(Limit::gcra("default", Quota::per_minute(100)?)?)?;
/// let mut states = policy.new_states();
/// let v = policy.apply(&mut states, Timestamp::from_unix_secs(1_700_000_000), 1)?;
/// let h = RateLimitHeaders::new(&policy, &v);
/// assert_eq!(h.policy_field(), r#""default";q=100;w=60"#);
/// assert_eq!(h.ratelimit_field().as_deref(), Some(r#""default";r=99;t=1"#));
/// assert_eq!(h.to_pairs(HeaderStyle::Legacy)[1], ("RateLimit-Remaining", "99".to_string()));
/// # Ok::<(), palisade_ratelimit::RateLimitError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RateLimitHeaders<'a> {
    policy: &'a Policy,
    verdict: &'a Verdict,
}

impl<'a> RateLimitHeaders<'a> {
    /// The fields for `verdict`, which `policy` produced.
    pub const fn new(policy: &'a Policy, verdict: &'a Verdict) -> Self {
        Self { policy, verdict }
    }

    /// The `RateLimit-Policy` value: one `"name";q=<limit>;w=<period in s>` per limit. A
    /// period that is not a whole number of seconds is rounded up, which under-states the quota
    /// rather than over-stating it. A copy of [`Policy::policy_field`], which is rendered once.
    pub fn policy_field(&self) -> String {
        self.policy.policy_field().to_owned()
    }

    /// The `RateLimit` value: one `"name";r=<remaining>;t=<seconds to reset>` per limit.
    /// For a blocked key every limit shows `r=0` and the block's remaining time; for a
    /// deny-listed key `r=0`; `None` when nothing was counted (allow list, failed open).
    pub fn ratelimit_field(&self) -> Option<String> {
        let mut out = String::new();
        let decisions = self.verdict.decisions();
        for (i, l) in self.policy.limits().iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let (r, t) = match (decisions.get(i), self.verdict.cause()) {
                (Some(d), _) => (d.remaining(), Some(d.reset_after_secs())),
                (None, Cause::Blocked | Cause::FailedClosed) => {
                    (0, self.verdict.retry_after_secs())
                }
                (None, Cause::Denylisted) => (0, None),
                (None, _) => return None,
            };
            let _ = write!(out, "{sep}\"{}\";r={r}", l.name());
            if let Some(t) = t {
                let _ = write!(out, ";t={t}");
            }
        }
        Some(out)
    }

    /// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds) of the binding
    /// limit ([`Verdict::binding`]); `None` when the limits were not consulted.
    pub fn legacy(&self) -> Option<(u64, u64, u64)> {
        self.verdict
            .binding()
            .map(|(_, d)| (d.limit(), d.remaining(), d.reset_after_secs()))
    }

    /// `Retry-After` in seconds (at least 1), when refused with a known wait.
    pub fn retry_after(&self) -> Option<String> {
        self.verdict.retry_after_secs().map(|s| s.to_string())
    }

    /// The fields of `style` as (name, value) pairs, ready for any HTTP library.
    pub fn to_pairs(&self, style: HeaderStyle) -> Vec<(&'static str, String)> {
        self.to_fields(style)
            .into_iter()
            .map(|(field, value)| (field.name(), value.into_owned()))
            .collect()
    }

    /// The fields of `style`, in the order of [`to_pairs`](Self::to_pairs), each with its value.
    /// `RateLimit-Policy`'s value is borrowed from the policy, which rendered it once; a caller
    /// that keeps its own encoded copy of it (a `HeaderValue`) need not copy it per response.
    pub fn to_fields(&self, style: HeaderStyle) -> Vec<(HeaderField, Cow<'a, str>)> {
        let mut out = Vec::with_capacity(5);
        if matches!(style, HeaderStyle::Draft | HeaderStyle::Both) {
            out.push((
                HeaderField::Policy,
                Cow::Borrowed(self.policy.policy_field()),
            ));
            if let Some(v) = self.ratelimit_field() {
                out.push((HeaderField::RateLimit, Cow::Owned(v)));
            }
        }
        if matches!(style, HeaderStyle::Legacy | HeaderStyle::Both)
            && let Some((limit, remaining, reset)) = self.legacy()
        {
            out.push((HeaderField::Limit, Cow::Owned(limit.to_string())));
            out.push((HeaderField::Remaining, Cow::Owned(remaining.to_string())));
            out.push((HeaderField::Reset, Cow::Owned(reset.to_string())));
        }
        if let Some(v) = self.retry_after() {
            out.push((HeaderField::RetryAfter, Cow::Owned(v)));
        }
        out
    }
}

/// One rate-limit response field, by the name its specification gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderField {
    /// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers-09/-10).
    Policy,
    /// `RateLimit` (draft-ietf-httpapi-ratelimit-headers-09/-10).
    RateLimit,
    /// `RateLimit-Limit` (the drafts up to -06).
    Limit,
    /// `RateLimit-Remaining` (the drafts up to -06).
    Remaining,
    /// `RateLimit-Reset`, in seconds (the drafts up to -06).
    Reset,
    /// `Retry-After`, in whole seconds (RFC 9110 §10.2.3).
    RetryAfter,
}

impl HeaderField {
    /// The field name as the specification writes it (`RateLimit-Policy`, …, `Retry-After`).
    /// Field names are case-insensitive (RFC 9110 §5.1).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Policy => "RateLimit-Policy",
            Self::RateLimit => "RateLimit",
            Self::Limit => "RateLimit-Limit",
            Self::Remaining => "RateLimit-Remaining",
            Self::Reset => "RateLimit-Reset",
            Self::RetryAfter => "Retry-After",
        }
    }
}
