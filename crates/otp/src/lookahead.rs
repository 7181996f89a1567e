//! HOTP verification against a store: the look-ahead window of RFC 4226 § 7.4, no reuse of
//! an accepted counter, and the attempt throttle of § 7.3.

use std::ops::RangeInclusive;
use std::time::Duration;

use crate::challenge::SubjectKey;
use crate::error::OtpError;
use crate::hotp::Hotp;
use crate::store::ChallengeStore;
use crate::throttle::AttemptLimit;

/// Default look-ahead window: the next 10 counters after the last accepted one.
///
/// RFC 4226 § 7.4 gives no number ("s SHOULD be set as low as possible, while still
/// ensuring that usability is not impacted"). 10 covers a token pressed a few times without
/// logging in, the common cause of a counter running ahead, and keeps a guess's chance at
/// 10 / 10⁶ for 6 digits (RFC 4226 § 6: `s · v / 10^digits` over `v` attempts); it is the
/// value most HOTP servers ship.
pub const DEFAULT_LOOK_AHEAD: u64 = 10;
/// Largest look-ahead window accepted: 100 counters (100 HMACs per verification; a token
/// further ahead than that needs a resynchronization, not a wider window).
pub const MAX_LOOK_AHEAD: u64 = 100;

/// The answer of [`HotpVerifier::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HotpOutcome {
    /// The code is the one of `counter`, in the look-ahead window: accepted, and `counter` is
    /// now the last accepted one (no code for it or an earlier counter works again).
    Accepted {
        /// The counter that matched.
        counter: u64,
    },
    /// The code is the one of the last accepted counter (sent again), or it matched the
    /// window but a concurrent verification accepted that counter or a later one first:
    /// refused.
    Reused,
    /// The code matched no counter of the window.
    Wrong,
    /// The attempt limit refused the attempt before anything was compared.
    Throttled {
        /// Time before the limit admits another attempt.
        retry_after: Duration,
    },
}

/// RFC 4226 HOTP verification with a look-ahead window and no reuse.
///
/// With `last` the last counter accepted for the key (read with
/// [`ChallengeStore::last_step`]), a code is accepted for a counter `c` with
/// `last < c ≤ last + look_ahead` (for a key with no counter yet: `0 ≤ c < look_ahead`), and
/// `c` is recorded by the atomic [`ChallengeStore::accept_step`], which refuses it unless it
/// is above the recorded counter. So:
///
/// - **no reuse**: once `c` is accepted, no code for `c` or an earlier counter is accepted;
/// - **one winner**: of concurrent submissions of one valid code, exactly one is accepted
///   (the others read [`HotpOutcome::Reused`]);
/// - **a bounded window**: a stale read of `last` only places the window lower, never
///   beyond the fresh `last + look_ahead`.
///
/// Every counter of the window is computed and compared in constant time, with no early
/// exit. A token provisioned at a counter `n > 0` is enrolled with
/// `store.accept_step(key, n - 1)`. Keep HOTP keys apart from TOTP ones (another purpose):
/// both record their last step through `accept_step`.
///
/// Throttle the attempts ([`with_attempt_limit`](Self::with_attempt_limit), RFC 4226 § 7.3):
/// without it, each attempt has a `look_ahead / 10^digits` chance.
#[derive(Debug, Clone)]
pub struct HotpVerifier {
    hotp: Hotp,
    look_ahead: u64,
    limit: Option<AttemptLimit>,
}

impl HotpVerifier {
    /// Verification of `hotp` codes with the [`DEFAULT_LOOK_AHEAD`] window and no attempt
    /// limit.
    pub fn new(hotp: Hotp) -> Self {
        Self {
            hotp,
            look_ahead: DEFAULT_LOOK_AHEAD,
            limit: None,
        }
    }

    /// A window of `look_ahead` counters after the last accepted one (1 accepts only the
    /// next counter).
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidOtpParameter`] for 0 or more than [`MAX_LOOK_AHEAD`].
    pub fn with_look_ahead(mut self, look_ahead: u64) -> Result<Self, OtpError> {
        if !(1..=MAX_LOOK_AHEAD).contains(&look_ahead) {
            return Err(OtpError::InvalidOtpParameter(
                "the look-ahead window must be 1 to 100 counters",
            ));
        }
        self.look_ahead = look_ahead;
        Ok(self)
    }

    /// Charges each verification to `limit` before anything is compared (RFC 4226 § 7.3).
    pub fn with_attempt_limit(mut self, limit: AttemptLimit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The HOTP underneath.
    pub fn hotp(&self) -> &Hotp {
        &self.hotp
    }

    /// The number of counters in the window.
    pub fn look_ahead(&self) -> u64 {
        self.look_ahead
    }

    /// The counters a code is accepted for when `last` is the last accepted one: `last + 1
    /// ..= last + look_ahead`, or `0 ..= look_ahead − 1` when none was (empty when `last` is
    /// `u64::MAX`).
    pub fn window(&self, last: Option<u64>) -> RangeInclusive<u64> {
        match last {
            None => 0..=self.look_ahead.saturating_sub(1),
            #[allow(clippy::reversed_empty_ranges, reason = "no counter after u64::MAX")]
            Some(u64::MAX) => 1..=0,
            Some(last) => last + 1..=last.saturating_add(self.look_ahead),
        }
    }

    /// What `code` is, given the last accepted counter `last`: the lowest counter of the
    /// window it matches ([`HotpOutcome::Accepted`], not yet recorded),
    /// [`HotpOutcome::Reused`] for the code of `last` itself, or [`HotpOutcome::Wrong`]. Every
    /// counter of the window (and `last`) is compared, in constant time.
    pub fn classify(&self, code: &str, last: Option<u64>) -> HotpOutcome {
        let mut found = None;
        for c in self.window(last) {
            if self.hotp.check(code, c) && found.is_none() {
                found = Some(c);
            }
        }
        let reused = last.is_some_and(|l| self.hotp.check(code, l));
        match (found, reused) {
            (Some(counter), _) => HotpOutcome::Accepted { counter },
            (None, true) => HotpOutcome::Reused,
            (None, false) => HotpOutcome::Wrong,
        }
    }

    /// Verifies `code` for `key`: charges the attempt limit (if any), reads the last accepted
    /// counter, looks for `code` in the window, and records the matching counter with the
    /// atomic [`ChallengeStore::accept_step`] (see the type's docs).
    ///
    /// # Errors
    ///
    /// Store failures only (the challenge store's, or the rate-limit store's as
    /// [`OtpError::StoreUnavailable`]); every refusal is a [`HotpOutcome`].
    pub async fn verify(
        &self,
        store: &dyn ChallengeStore,
        key: &SubjectKey,
        code: &str,
    ) -> Result<HotpOutcome, OtpError> {
        if let Some(limit) = &self.limit
            && let Some(retry_after) = limit.charge_verify(key).await?
        {
            return Ok(HotpOutcome::Throttled { retry_after });
        }
        let last = store.last_step(key).await?;
        match self.classify(code, last) {
            HotpOutcome::Accepted { counter } => {
                if store.accept_step(key, counter).await? {
                    Ok(HotpOutcome::Accepted { counter })
                } else {
                    Ok(HotpOutcome::Reused)
                }
            }
            other => Ok(other),
        }
    }
}
