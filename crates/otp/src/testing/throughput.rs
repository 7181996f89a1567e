//! Helpers for the check-and-count throughput benches of the stores (palisade-redis's and
//! palisade-postgres's `otp_throughput`): pending challenges the run never locks, and checks
//! per second from concurrent tasks.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::SecretBox;

use crate::challenge::{CheckOutcome, NewChallenge, SubjectKey};
use crate::pepper::{CodeHash, Pepper, Peppers};
use crate::store::ChallengeStore;

/// More attempts than any run makes: every check is counted and compared, none locks.
pub const BENCH_MAX_ATTEMPTS: u32 = 1_000_000_000;

/// The code of every bench challenge (the checks answer another).
const CODE: &[u8] = b"493817";

/// The key of bench challenge `i`: tenant `bench`, purpose `login`, subject `subject-<i>`.
pub fn bench_key(i: u64) -> SubjectKey {
    SubjectKey::new("bench", "login", format!("subject-{i}"))
}

/// The benches' keyring: pepper `p1`.
pub fn bench_peppers() -> Peppers {
    Peppers::new(Pepper::new("p1", SecretBox::new(Box::from([7u8; 32].as_slice()))).unwrap())
}

/// Issues pending challenges of one hour for keys `0..keys` ([`bench_key`]), `concurrency`
/// at a time, with [`BENCH_MAX_ATTEMPTS`]; returns, per key, the candidates of a wrong
/// answer (what [`checks_per_second`] sends).
pub async fn issue_pending<S: ChallengeStore + 'static>(
    store: Arc<S>,
    keys: u64,
    concurrency: usize,
) -> Arc<Vec<Vec<CodeHash>>> {
    let peppers = bench_peppers();
    let ttl = Duration::from_secs(3_600);
    let all: Vec<u64> = (0..keys).collect();
    for chunk in all.chunks(concurrency.max(1)) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|&i| {
                let key = bench_key(i);
                let new = NewChallenge::new(
                    key.clone(),
                    peppers.hash(&key, CODE),
                    ttl,
                    BENCH_MAX_ATTEMPTS,
                )
                .unwrap();
                let store = store.clone();
                tokio::spawn(async move { store.issue(new, Duration::ZERO).await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }
    Arc::new(
        (0..keys)
            .map(|i| peppers.candidates(&bench_key(i), b"000000"))
            .collect(),
    )
}

/// Calls per second of `concurrency` tasks each awaiting `call(i)` back to back for
/// `duration`, `i` counting the calls of all tasks from 0.
pub async fn per_second<F, Fut>(concurrency: usize, duration: Duration, call: F) -> f64
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (call, next) = (call.clone(), next.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    call(next.fetch_add(1, Ordering::Relaxed)).await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Checks per second of `concurrency` tasks calling `check_and_count` back to back for
/// `duration` ([`per_second`]), on keys round-robin over the challenges of
/// [`issue_pending`] with its wrong answers (each check is counted and compared; a check
/// answering anything but `Wrong` panics).
pub async fn checks_per_second<S: ChallengeStore + 'static>(
    store: Arc<S>,
    wrong: Arc<Vec<Vec<CodeHash>>>,
    concurrency: usize,
    duration: Duration,
) -> f64 {
    let keys = wrong.len() as u64;
    per_second(concurrency, duration, move |n| {
        let (store, wrong) = (store.clone(), wrong.clone());
        async move {
            let i = n % keys;
            let out = store
                .check_and_count(&bench_key(i), &wrong[i as usize])
                .await
                .unwrap();
            assert!(matches!(out, CheckOutcome::Wrong { .. }), "{out:?}");
        }
    })
    .await
}
