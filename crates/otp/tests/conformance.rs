//! The conformance suite against the memory store, on a multi-threaded runtime so the
//! concurrent cases really race.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use palisade_otp::{MemoryChallengeStore, testing};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_suite() {
    testing::run_all(Arc::new(MemoryChallengeStore::new())).await;
}

/// The suite has teeth: a store that reads the counter, compares, then writes (the
/// hand-rolled "max 3 attempts" the issue describes, with the gap of a network round trip
/// between the read and the write) fails both concurrency cases; one that records HOTP
/// counters the same way accepts one code twice.
mod read_then_write {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use async_trait::async_trait;
    use palisade_otp::{
        Challenge, ChallengeState, ChallengeStore, CheckOutcome, CodeHash, NewChallenge, OtpError,
        RecoveryOutcome, SubjectKey, testing,
    };
    use palisade_ratelimit::Timestamp;

    #[derive(Default)]
    struct Racy(
        Mutex<HashMap<SubjectKey, (Challenge, CodeHash)>>,
        Mutex<HashMap<SubjectKey, u64>>,
    );

    const ONLY_CHALLENGES: &str = "this test store models challenges and steps only";

    #[async_trait]
    impl ChallengeStore for Racy {
        async fn issue(&self, c: NewChallenge, _cooldown: Duration) -> Result<Challenge, OtpError> {
            let report = Challenge {
                id: c.id,
                key: c.key.clone(),
                issued_at: Timestamp::from_unix_secs(0),
                expires_at: Timestamp::from_unix_secs(u64::MAX / 2_000_000_000),
                attempts_used: 0,
                max_attempts: c.max_attempts,
                state: ChallengeState::Pending,
            };
            self.0
                .lock()
                .unwrap()
                .insert(c.key, (report.clone(), c.hash));
            Ok(report)
        }

        async fn check_and_count(
            &self,
            key: &SubjectKey,
            candidates: &[CodeHash],
        ) -> Result<CheckOutcome, OtpError> {
            // Read …
            let Some((c, hash)) = self.0.lock().unwrap().get(key).cloned() else {
                return Ok(CheckOutcome::NotFound);
            };
            match c.state {
                ChallengeState::Consumed => return Ok(CheckOutcome::Consumed),
                ChallengeState::Locked => return Ok(CheckOutcome::Locked),
                _ => {}
            }
            if c.attempts_used >= c.max_attempts {
                return Ok(CheckOutcome::Locked);
            }
            // … compare, a round trip later …
            tokio::time::sleep(Duration::from_millis(2)).await;
            let ok = hash.matches(candidates);
            // … then write what was read, plus one.
            let mut t = self.0.lock().unwrap();
            let entry = &mut t.get_mut(key).unwrap().0;
            entry.attempts_used = c.attempts_used + 1;
            let left = c.max_attempts.saturating_sub(entry.attempts_used);
            entry.state = if ok {
                ChallengeState::Consumed
            } else if left == 0 {
                ChallengeState::Locked
            } else {
                ChallengeState::Pending
            };
            Ok(if ok {
                CheckOutcome::Verified
            } else {
                CheckOutcome::Wrong {
                    attempts_left: left,
                }
            })
        }

        async fn get(&self, key: &SubjectKey) -> Result<Option<Challenge>, OtpError> {
            Ok(self.0.lock().unwrap().get(key).map(|e| e.0.clone()))
        }

        async fn accept_step(&self, key: &SubjectKey, step: u64) -> Result<bool, OtpError> {
            // Read the last step, compare a round trip later, then write.
            let last = self.1.lock().unwrap().get(key).copied();
            tokio::time::sleep(Duration::from_millis(2)).await;
            if last.is_some_and(|l| l >= step) {
                return Ok(false);
            }
            self.1.lock().unwrap().insert(key.clone(), step);
            Ok(true)
        }

        async fn last_step(&self, key: &SubjectKey) -> Result<Option<u64>, OtpError> {
            Ok(self.1.lock().unwrap().get(key).copied())
        }

        async fn replace_recovery_codes(
            &self,
            _: &SubjectKey,
            _: Vec<CodeHash>,
        ) -> Result<(), OtpError> {
            Err(OtpError::StoreUnavailable(ONLY_CHALLENGES.into()))
        }

        async fn consume_recovery_code(
            &self,
            _: &SubjectKey,
            _: &[CodeHash],
        ) -> Result<RecoveryOutcome, OtpError> {
            Err(OtpError::StoreUnavailable(ONLY_CHALLENGES.into()))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_read_then_write_store_fails_the_concurrency_cases() {
        let store = Arc::new(Racy::default());
        // Alone, it answers like a store should.
        testing::right_answer_consumes(&*store).await;
        testing::wrong_answers_lock(&*store).await;
        // Raced, it compares far more than 3 guesses, and lets several right answers through.
        let wrong = tokio::spawn(testing::concurrent_wrong_guesses(store.clone())).await;
        assert!(
            wrong.is_err_and(|e| e.is_panic()),
            "100 concurrent wrong guesses"
        );
        let right = tokio::spawn(testing::concurrent_right_answers(store)).await;
        assert!(
            right.is_err_and(|e| e.is_panic()),
            "20 concurrent right answers"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_read_then_write_step_store_accepts_one_hotp_code_twice() {
        let store = Arc::new(Racy::default());
        // Alone, its steps behave.
        testing::last_step_reads_accepted_steps(&*store).await;
        testing::hotp_look_ahead(&*store).await;
        // Raced, two submissions of one code are both accepted.
        let raced = tokio::spawn(testing::concurrent_hotp_submissions(store)).await;
        assert!(
            raced.is_err_and(|e| e.is_panic()),
            "concurrent submissions of one HOTP code"
        );
    }
}
