//! `RedisChallengeStore` against a real Redis and the Redis Cluster: the `palisade_otp`
//! conformance suite (its concurrency cases included), key layout and TTLs, `NOSCRIPT`
//! recovery, typed errors, and a throughput figure (ignored by default).
//!
//! The server is `PALISADE_REDIS_URL` (default `redis://127.0.0.1:6379/`), the cluster
//! `PALISADE_REDIS_CLUSTER_URL` (default the 3 masters on 127.0.0.1:7001-7003 that
//! `.ci/services` starts). These tests fail, never skip, when they do not answer. Every test
//! uses its own random key prefix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_otp::{ChallengeStore, CheckOutcome, NewChallenge, OtpError, testing};
use palisade_redis::redis::{self, aio::ConnectionManager};
use palisade_redis::{RedisChallengeStore, connect_cluster};

fn url() -> String {
    std::env::var("PALISADE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

fn cluster_urls() -> Vec<String> {
    std::env::var("PALISADE_REDIS_CLUSTER_URL")
        .unwrap_or_else(|_| {
            "redis://127.0.0.1:7001/,redis://127.0.0.1:7002/,redis://127.0.0.1:7003/".to_owned()
        })
        .split(',')
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect()
}

fn prefix() -> String {
    format!(
        "{}:",
        palisade_replay::testing::unique_namespace("palisade-redis-otp")
    )
}

/// Generous: the test machine may be busy building.
const TEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A store on the test server under a prefix of its own; panics when Redis does not answer.
async fn store() -> RedisChallengeStore {
    RedisChallengeStore::connect(&url(), TEST_TIMEOUT)
        .await
        .unwrap_or_else(|e| {
            panic!("Redis (PALISADE_REDIS_URL) must answer for these tests (.ci/services): {e}")
        })
        .with_prefix(prefix())
        .unwrap()
}

async fn conn(store: &RedisChallengeStore) -> ConnectionManager {
    store.connection().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_challenge_store_passes_the_suite() {
    testing::run_all(Arc::new(store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_challenge_store_passes_the_suite_on_the_cluster() {
    let urls = cluster_urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let conn = connect_cluster(&urls, TEST_TIMEOUT)
        .await
        .unwrap_or_else(|e| {
            panic!("the Redis Cluster (PALISADE_REDIS_CLUSTER_URL) must answer: {e}")
        });
    let store = RedisChallengeStore::new(conn)
        .with_prefix(prefix())
        .unwrap()
        .with_timeout(TEST_TIMEOUT)
        .unwrap();
    testing::run_all(Arc::new(store)).await;
}

/// Every key carries a TTL (the challenge: past expiry and cooldown; steps and recovery
/// sets: the retention), and a subject's three keys share one hash tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_has_a_ttl_and_a_subject_keeps_one_hash_tag() {
    let store = store()
        .await
        .with_retention(Duration::from_secs(7 * 86_400))
        .unwrap();
    let p = testing::test_peppers();
    let key = testing::unique_key("ttl", "login");
    let new = NewChallenge::new(
        key.clone(),
        p.hash(&key, b"123456"),
        Duration::from_secs(600),
        3,
    )
    .unwrap();
    store.issue(new, Duration::from_secs(60)).await.unwrap();
    assert!(store.accept_step(&key, 42).await.unwrap());
    store
        .replace_recovery_codes(&key, vec![p.hash(&key, b"AAAA")])
        .await
        .unwrap();

    let mut c = conn(&store).await;
    let mut pttl =
        async |k: &str| -> i64 { redis::cmd("PTTL").arg(k).query_async(&mut c).await.unwrap() };
    let challenge = pttl(&store.challenge_key(&key)).await;
    // Expiry 600 s + retention 3,600 s.
    assert!(
        (4_190_000..=4_201_000).contains(&challenge),
        "challenge PTTL {challenge}"
    );
    let week = 7 * 86_400_000;
    for k in [store.step_key(&key), store.recovery_key(&key)] {
        let t = pttl(&k).await;
        assert!((week - 10_000..=week).contains(&t), "{k}: PTTL {t}");
    }
    let tag = |k: String| {
        let open = k.find('{').unwrap();
        let close = k.find('}').unwrap();
        k[open..=close].to_owned()
    };
    let tags = [
        tag(store.challenge_key(&key)),
        tag(store.step_key(&key)),
        tag(store.recovery_key(&key)),
    ];
    assert!(tags.iter().all(|t| *t == tags[0]), "{tags:?}");
    // The subject is length-prefixed: moving a byte between parts changes the key.
    let a = palisade_otp::SubjectKey::new("ab", "c", "d");
    let b = palisade_otp::SubjectKey::new("a", "bc", "d");
    assert_ne!(store.challenge_key(&a), store.challenge_key(&b));
}

/// After `SCRIPT FLUSH` every operation still works (the script is sent again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_survive_script_flush() {
    let store = store().await;
    let mut c = conn(&store).await;
    let p = testing::test_peppers();
    let key = testing::unique_key("flush", "login");
    let flush = async |c: &mut ConnectionManager| {
        let _: () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(c)
            .await
            .unwrap();
    };
    flush(&mut c).await;
    let new = NewChallenge::new(
        key.clone(),
        p.hash(&key, b"123456"),
        Duration::from_secs(60),
        3,
    )
    .unwrap();
    store.issue(new, Duration::ZERO).await.unwrap();
    flush(&mut c).await;
    assert_eq!(
        store
            .check_and_count(&key, &p.candidates(&key, b"000000"))
            .await
            .unwrap(),
        CheckOutcome::Wrong { attempts_left: 2 }
    );
    flush(&mut c).await;
    assert_eq!(store.get(&key).await.unwrap().unwrap().attempts_used, 1);
    flush(&mut c).await;
    assert!(store.accept_step(&key, 1).await.unwrap());
    flush(&mut c).await;
    store
        .replace_recovery_codes(&key, vec![p.hash(&key, b"R1")])
        .await
        .unwrap();
    flush(&mut c).await;
    assert!(matches!(
        store
            .consume_recovery_code(&key, &p.candidates(&key, b"R1"))
            .await
            .unwrap(),
        palisade_otp::RecoveryOutcome::Consumed { remaining: 0 }
    ));
}

/// A hash field of the wrong type (another application wrote the key) is a typed store
/// error, never a verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_value_is_a_store_error() {
    let store = store().await;
    let mut c = conn(&store).await;
    let p = testing::test_peppers();
    let key = testing::unique_key("foreign", "login");
    let _: () = redis::cmd("SET")
        .arg(store.challenge_key(&key))
        .arg("not a hash")
        .arg("EX")
        .arg(60)
        .query_async(&mut c)
        .await
        .unwrap();
    match store
        .check_and_count(&key, &p.candidates(&key, b"123456"))
        .await
    {
        Err(OtpError::StoreUnavailable(reason)) => {
            assert!(reason.starts_with("redis:"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

/// An unreachable server: every operation is `OtpError::StoreUnavailable` within the
/// timeout, never a success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_store_error_never_a_success() {
    let timeout = Duration::from_millis(300);
    let store = RedisChallengeStore::connect_lazy("redis://127.0.0.1:1/", timeout).unwrap();
    let p = testing::test_peppers();
    let key = testing::unique_key("down", "login");
    let cands = p.candidates(&key, b"123456");
    let started = Instant::now();
    let new = NewChallenge::new(key.clone(), p.hash(&key, b"123456"), timeout, 3).unwrap();
    let errors = [
        store.issue(new, Duration::ZERO).await.err(),
        store.check_and_count(&key, &cands).await.err(),
        store.get(&key).await.err(),
        store.accept_step(&key, 1).await.err(),
        store.replace_recovery_codes(&key, Vec::new()).await.err(),
        store.consume_recovery_code(&key, &cands).await.err(),
    ];
    for e in errors {
        match e {
            Some(OtpError::StoreUnavailable(reason)) => {
                assert!(reason.starts_with("redis:"), "{reason}");
                assert!(!reason.contains("+1555"), "{reason}");
            }
            other => panic!("expected a store error, got {other:?}"),
        }
    }
    assert!(started.elapsed() < timeout * 6 + Duration::from_secs(2));
}
