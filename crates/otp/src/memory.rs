//! The in-memory store: one mutex over the tables, every operation one critical section.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use palisade_ratelimit::{Clock, SystemClock, Timestamp};

use crate::challenge::{
    Challenge, ChallengeState, CheckOutcome, NewChallenge, RecoveryOutcome, SubjectKey,
};
use crate::error::OtpError;
use crate::pepper::CodeHash;
use crate::store::ChallengeStore;

/// Sweep expired challenges once every this many issues.
const SWEEP_EVERY: u64 = 1024;

struct Entry {
    challenge: Challenge,
    hash: CodeHash,
    /// No new challenge for this key before then.
    cooldown_until: Timestamp,
}

#[derive(Default)]
struct Tables {
    challenges: HashMap<SubjectKey, Entry>,
    steps: HashMap<SubjectKey, u64>,
    recovery: HashMap<SubjectKey, Vec<CodeHash>>,
    issued: u64,
}

/// A [`ChallengeStore`] in this process's memory, for one instance or tests: every operation
/// runs under one mutex, so check-and-count is atomic. Expired challenges are swept every
/// 1,024 issues and by [`sweep`](Self::sweep). Time comes from an injectable
/// [`Clock`] (the system clock by default).
pub struct MemoryChallengeStore {
    tables: Mutex<Tables>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryChallengeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryChallengeStore")
            .finish_non_exhaustive()
    }
}

impl Default for MemoryChallengeStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryChallengeStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store on `clock` (e.g. a [`ManualClock`](palisade_ratelimit::ManualClock) in
    /// tests).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            tables: Mutex::new(Tables::default()),
            clock,
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Tables>, OtpError> {
        self.tables
            .lock()
            .map_err(|_| OtpError::StoreUnavailable("memory store mutex poisoned".into()))
    }

    /// Forgets challenges past both their expiry and their cooldown; returns how many.
    ///
    /// # Errors
    ///
    /// [`OtpError::StoreUnavailable`] when the mutex is poisoned.
    pub fn sweep(&self) -> Result<usize, OtpError> {
        let now = self.clock.now();
        let mut t = self.lock()?;
        Ok(sweep_at(&mut t, now))
    }

    /// [`ChallengeStore::check_and_count`] without an async runtime.
    ///
    /// # Errors
    ///
    /// As [`ChallengeStore::check_and_count`].
    pub fn check_and_count_now(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<CheckOutcome, OtpError> {
        let now = self.clock.now();
        let mut t = self.lock()?;
        let Some(entry) = t.challenges.get_mut(key) else {
            return Ok(CheckOutcome::NotFound);
        };
        let c = &mut entry.challenge;
        match c.state {
            ChallengeState::Consumed => return Ok(CheckOutcome::Consumed),
            ChallengeState::Locked => return Ok(CheckOutcome::Locked),
            ChallengeState::Expired => return Ok(CheckOutcome::Expired),
            ChallengeState::Pending => {}
        }
        if now >= c.expires_at {
            c.state = ChallengeState::Expired;
            return Ok(CheckOutcome::Expired);
        }
        if c.attempts_used >= c.max_attempts {
            c.state = ChallengeState::Locked;
            return Ok(CheckOutcome::Locked);
        }
        // Count first, then compare: both inside this critical section.
        c.attempts_used += 1;
        if entry.hash.matches(candidates) {
            c.state = ChallengeState::Consumed;
            return Ok(CheckOutcome::Verified);
        }
        let attempts_left = c.max_attempts.saturating_sub(c.attempts_used);
        if attempts_left == 0 {
            c.state = ChallengeState::Locked;
        }
        Ok(CheckOutcome::Wrong { attempts_left })
    }
}

fn sweep_at(t: &mut Tables, now: Timestamp) -> usize {
    let before = t.challenges.len();
    t.challenges
        .retain(|_, e| now < e.challenge.expires_at || now < e.cooldown_until);
    before - t.challenges.len()
}

fn state_at(c: &Challenge, now: Timestamp) -> ChallengeState {
    if c.state == ChallengeState::Pending && now >= c.expires_at {
        ChallengeState::Expired
    } else {
        c.state
    }
}

#[async_trait]
impl ChallengeStore for MemoryChallengeStore {
    async fn issue(
        &self,
        challenge: NewChallenge,
        cooldown: Duration,
    ) -> Result<Challenge, OtpError> {
        let now = self.clock.now();
        let mut t = self.lock()?;
        if let Some(old) = t.challenges.get(&challenge.key)
            && now < old.cooldown_until
        {
            return Err(OtpError::Cooldown {
                retry_after: old.cooldown_until.saturating_duration_since(now),
            });
        }
        t.issued = t.issued.wrapping_add(1);
        if t.issued % SWEEP_EVERY == 0 {
            sweep_at(&mut t, now);
        }
        let report = Challenge {
            id: challenge.id,
            key: challenge.key.clone(),
            issued_at: now,
            expires_at: now.saturating_add(challenge.ttl),
            attempts_used: 0,
            max_attempts: challenge.max_attempts,
            state: ChallengeState::Pending,
        };
        t.challenges.insert(
            challenge.key,
            Entry {
                challenge: report.clone(),
                hash: challenge.hash,
                cooldown_until: now.saturating_add(cooldown),
            },
        );
        Ok(report)
    }

    async fn check_and_count(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<CheckOutcome, OtpError> {
        self.check_and_count_now(key, candidates)
    }

    async fn get(&self, key: &SubjectKey) -> Result<Option<Challenge>, OtpError> {
        let now = self.clock.now();
        let t = self.lock()?;
        Ok(t.challenges.get(key).map(|e| {
            let mut c = e.challenge.clone();
            c.state = state_at(&c, now);
            c
        }))
    }

    async fn accept_step(&self, key: &SubjectKey, step: u64) -> Result<bool, OtpError> {
        let mut t = self.lock()?;
        match t.steps.get_mut(key) {
            Some(last) if *last >= step => Ok(false),
            Some(last) => {
                *last = step;
                Ok(true)
            }
            None => {
                t.steps.insert(key.clone(), step);
                Ok(true)
            }
        }
    }

    async fn last_step(&self, key: &SubjectKey) -> Result<Option<u64>, OtpError> {
        Ok(self.lock()?.steps.get(key).copied())
    }

    async fn replace_recovery_codes(
        &self,
        key: &SubjectKey,
        hashes: Vec<CodeHash>,
    ) -> Result<(), OtpError> {
        let mut t = self.lock()?;
        t.recovery.insert(key.clone(), hashes);
        Ok(())
    }

    async fn consume_recovery_code(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<RecoveryOutcome, OtpError> {
        let mut t = self.lock()?;
        let Some(codes) = t.recovery.get_mut(key) else {
            return Ok(RecoveryOutcome::NoMatch);
        };
        // Compare with every stored code (no early exit), then remove the match.
        let mut found = None;
        for (i, h) in codes.iter().enumerate() {
            if h.matches(candidates) && found.is_none() {
                found = Some(i);
            }
        }
        match found {
            Some(i) => {
                codes.swap_remove(i);
                Ok(RecoveryOutcome::Consumed {
                    remaining: codes.len(),
                })
            }
            None => Ok(RecoveryOutcome::NoMatch),
        }
    }
}
