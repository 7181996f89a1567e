//! The store trait: one atomic operation per decision.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::challenge::{Challenge, CheckOutcome, NewChallenge, RecoveryOutcome, SubjectKey};
use crate::error::OtpError;
use crate::pepper::CodeHash;

/// Where challenges, last accepted HOTP counters / TOTP steps and recovery codes live: in memory
/// ([`MemoryChallengeStore`](crate::memory::MemoryChallengeStore)), or in Redis or Postgres.
///
/// # The comparison is inside the atomic step
///
/// [`check_and_count`](Self::check_and_count) receives the candidate's *keyed hash* (one per
/// pepper the caller holds, see [`Peppers::candidates`](crate::pepper::Peppers::candidates))
/// and, in one indivisible step: refuses without comparing an unknown, expired, consumed or
/// locked challenge; counts the attempt; compares in constant time; and consumes the challenge
/// on a match. The store never sees the pepper or the code.
///
/// The alternative, "reserve an attempt and return the stored hash, compare in the caller,
/// then consume if the reservation still holds", takes two round trips and leaves a window in
/// which the hash is outside the store and a crashed caller holds a reservation. With the
/// comparison inside the step, the two invariants hold by construction under any concurrency:
///
/// - **at most `max_attempts` comparisons**: each comparison follows the count of its attempt
///   in the same step, and a step that finds the count at the maximum compares nothing;
/// - **exactly one success**: the step that matches also consumes, so a second correct answer
///   finds [`CheckOutcome::Consumed`].
///
/// Comparing in the store is safe for remote stores too: the values are 32-byte HMAC outputs
/// under a pepper the server does not hold, so a timing difference in an equality test there
/// reveals nothing usable (constant-time all the same in memory).
///
/// # One round trip each, in Redis and Postgres
///
/// - Redis: one Lua script per method (`EVALSHA`), on a hash per key (`id`, `pepper_id`,
///   `mac`, `issued_at`, `expires_at`, `attempts`, `max`, `state`) with a `PEXPIREAT` at expiry
///   plus the cooldown; time from `TIME`; `accept_step` compares and sets one integer and
///   `last_step` reads it;
///   recovery codes a set of `pepper_id:mac` members (`SREM` of the matching one).
/// - Postgres: `issue` one `INSERT … ON CONFLICT (tenant, purpose, subject) DO UPDATE … WHERE
///   issued_at <= now() - cooldown RETURNING …` (no row returned: cooldown); `check_and_count`
///   one `UPDATE … SET attempts = attempts + 1, state = CASE WHEN mac = $candidate THEN
///   'consumed' WHEN attempts + 1 >= max THEN 'locked' ELSE state END WHERE key = … AND state =
///   'pending' AND expires_at > now() AND attempts < max RETURNING …` (the row lock serialises
///   concurrent answers) with a read of the row's state when no row was updated; `accept_step`
///   one upsert `… DO UPDATE SET step = $1 WHERE t.step < $1` and `last_step` one `SELECT`;
///   recovery codes one `DELETE …
///   WHERE mac = ANY(…) RETURNING` limited to one row.
///
/// # Clock
///
/// The methods take no `now`: each store decides with its own clock (the memory store's
/// injectable [`Clock`](palisade_ratelimit::Clock), a server's `TIME` / `now()`).
///
/// # Conformance
///
/// A store is correct when it passes [`testing`](crate::testing) (feature `testing`),
/// including its concurrent cases.
#[async_trait]
pub trait ChallengeStore: Send + Sync {
    /// Stores `challenge`, replacing any challenge for the same key (at most one live
    /// challenge per subject and purpose: the old code stops working), unless the previous
    /// one, whatever its state, was issued less than `cooldown` ago. Atomic.
    ///
    /// # Errors
    ///
    /// [`OtpError::Cooldown`] with the time left (nothing stored); store failures.
    async fn issue(
        &self,
        challenge: NewChallenge,
        cooldown: Duration,
    ) -> Result<Challenge, OtpError>;

    /// The check-and-count step (see the trait docs), atomic: an unknown key is
    /// [`CheckOutcome::NotFound`]; an expired, consumed or locked challenge says so and nothing
    /// is compared or counted; otherwise the attempt is counted, the stored hash is compared
    /// with the candidate naming its pepper, and the challenge becomes consumed on a match
    /// ([`CheckOutcome::Verified`]) or locked when this wrong answer used the last attempt
    /// ([`CheckOutcome::Wrong`] with `attempts_left: 0`).
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn check_and_count(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<CheckOutcome, OtpError>;

    /// The challenge for `key` as it is now (a read, for status pages and tests; no decision
    /// may be based on it).
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn get(&self, key: &SubjectKey) -> Result<Option<Challenge>, OtpError>;

    /// Records `step` as the last accepted HOTP counter / TOTP time step of `key` if it is
    /// greater than the one recorded (or none is), atomically; `false` when it is not, which
    /// is a reuse and must be refused.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn accept_step(&self, key: &SubjectKey, step: u64) -> Result<bool, OtpError>;

    /// The last HOTP counter / TOTP step of `key` recorded by
    /// [`accept_step`](Self::accept_step), `None` when none was. A read, for placing the HOTP
    /// look-ahead window ([`HotpVerifier`](crate::lookahead::HotpVerifier)); the decision
    /// stays with the atomic `accept_step`. A value made stale by a concurrent acceptance
    /// never widens the window (it only places it lower), and `accept_step` still refuses a
    /// counter not above the fresh value.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn last_step(&self, key: &SubjectKey) -> Result<Option<u64>, OtpError>;

    /// Replaces the recovery codes of `key` with `hashes` (one per code).
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn replace_recovery_codes(
        &self,
        key: &SubjectKey,
        hashes: Vec<CodeHash>,
    ) -> Result<(), OtpError>;

    /// Removes the recovery code of `key` that one of `candidates` matches (constant-time
    /// comparisons, pepper by pepper as in [`check_and_count`](Self::check_and_count)),
    /// atomically: two concurrent uses of one code, exactly one succeeds.
    ///
    /// # Errors
    ///
    /// Store failures only.
    async fn consume_recovery_code(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<RecoveryOutcome, OtpError>;
}

#[async_trait]
impl<S: ChallengeStore + ?Sized> ChallengeStore for Arc<S> {
    async fn issue(
        &self,
        challenge: NewChallenge,
        cooldown: Duration,
    ) -> Result<Challenge, OtpError> {
        (**self).issue(challenge, cooldown).await
    }

    async fn check_and_count(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<CheckOutcome, OtpError> {
        (**self).check_and_count(key, candidates).await
    }

    async fn get(&self, key: &SubjectKey) -> Result<Option<Challenge>, OtpError> {
        (**self).get(key).await
    }

    async fn accept_step(&self, key: &SubjectKey, step: u64) -> Result<bool, OtpError> {
        (**self).accept_step(key, step).await
    }

    async fn last_step(&self, key: &SubjectKey) -> Result<Option<u64>, OtpError> {
        (**self).last_step(key).await
    }

    async fn replace_recovery_codes(
        &self,
        key: &SubjectKey,
        hashes: Vec<CodeHash>,
    ) -> Result<(), OtpError> {
        (**self).replace_recovery_codes(key, hashes).await
    }

    async fn consume_recovery_code(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<RecoveryOutcome, OtpError> {
        (**self).consume_recovery_code(key, candidates).await
    }
}
