//! `RedisNonceStore` against a real Redis: the `palisade_replay` conformance suite, key layout,
//! TTLs, and typed errors when the server is unreachable or silent.
//!
//! The server is `PALISADE_REDIS_URL` (default `redis://127.0.0.1:6379/`; CI starts one with
//! `.ci/services`). These tests fail, never skip, when it does not answer. Every run uses its
//! own random key prefix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use palisade_redis::redis::{self, aio::ConnectionManager};
use palisade_redis::{DEFAULT_PREFIX, DEFAULT_TIMEOUT, RedisNonceStore, RedisStoreError};
use palisade_replay::{ClaimOutcome, Freshness, LeaseToken, NonceStore, ReplayError, testing};

const TTL: Duration = Duration::from_secs(60);

fn url() -> String {
    std::env::var("PALISADE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned())
}

/// A store on the test server under a prefix of its own; panics when Redis does not answer.
async fn store() -> RedisNonceStore {
    let store = RedisNonceStore::connect(&url(), DEFAULT_TIMEOUT)
        .await
        .unwrap_or_else(|e| {
            panic!("Redis (PALISADE_REDIS_URL) must answer for these tests (.ci/services): {e}")
        });
    let prefix = format!("{}:", testing::unique_namespace("palisade-redis"));
    store.with_prefix(prefix).unwrap()
}

async fn raw() -> ConnectionManager {
    store().await.connection().clone()
}

fn is_store_failure(e: &ReplayError) -> bool {
    matches!(
        e,
        ReplayError::StoreUnavailable { .. } | ReplayError::StoreTimeout { .. }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_store_passes_the_suite() {
    testing::run_all(Arc::new(store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_store_passes_the_suite_as_a_trait_object() {
    let store: Arc<dyn NonceStore> = Arc::new(store().await);
    testing::run_all(store).await;
}

/// palisade-replay's `Outbox` across instances sharing Redis: each message sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outbox_sends_each_message_once_across_instances() {
    testing::outbox_sends_once(Arc::new(store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_racers_through_one_manager_get_one_fresh_every_round() {
    let store = Arc::new(store().await);
    for _ in 0..10 {
        testing::concurrent_single_key(store.clone()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_put_the_escaped_namespace_in_a_hash_tag() {
    let store = store().await;
    let p = store.prefix().to_owned();
    assert_eq!(
        store.key("stripe", b"evt_1"),
        format!("{p}{{stripe}}:6576745f31")
    );
    assert_eq!(
        store.key("a{b}c", b"\x00\xff"),
        format!("{p}{{a%7Bb%7Dc}}:00ff")
    );
    assert_eq!(store.key("100%", b""), format!("{p}{{100%25}}:"));
    assert_eq!(
        RedisNonceStore::new(store.connection().clone()).key("n", b"\x01"),
        format!("{DEFAULT_PREFIX}{{n}}:01")
    );
    // The cluster hash tag (between the first '{' and the next '}') is the whole namespace.
    for ns in ["}", "{", "a}b{c", "{x}", "%7D", "t:{tenant}"] {
        let key = store.key(ns, b"id");
        let open = key.find('{').unwrap();
        let close = open + key[open..].find('}').unwrap();
        let tag = &key[open + 1..close];
        assert!(!tag.contains(['{', '}']), "{key}");
        assert_eq!(&key[close..], "}:6964", "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn namespaces_with_braces_stay_distinct_on_the_server() {
    let store = store().await;
    let base = testing::unique_namespace("braces");
    // Pairs that would alias under a naive encoding, or break the hash tag.
    let namespaces = [
        format!("{base}{{a}}"),
        format!("{base}%7Ba%7D"),
        format!("{base}%257Ba%257D"),
        format!("{base}}}:x"),
        format!("{base}:x"),
        format!("{base}{{"),
        base.clone(),
    ];
    for ns in &namespaces {
        assert_eq!(
            store.insert_if_absent(ns, b"id", TTL).await.unwrap(),
            Freshness::Fresh,
            "{ns}"
        );
    }
    for ns in &namespaces {
        assert_eq!(
            store.insert_if_absent(ns, b"id", TTL).await.unwrap(),
            Freshness::Replayed,
            "{ns}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_key_carries_the_ttl_in_milliseconds() {
    let store = store().await;
    let ns = testing::unique_namespace("pttl");
    let ttl = Duration::from_millis(45_500);
    store.insert_if_absent(&ns, b"id", ttl).await.unwrap();
    let mut conn = raw().await;
    let pttl: i64 = redis::cmd("PTTL")
        .arg(store.key(&ns, b"id"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((40_000..=45_500).contains(&pttl), "PTTL {pttl}");
    let value: String = redis::cmd("GET")
        .arg(store.key(&ns, b"id"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(value, "1");
    // A replayed insert does not extend the TTL.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let again = store.insert_if_absent(&ns, b"id", TTL).await.unwrap();
    assert_eq!(again, Freshness::Replayed);
    let pttl2: i64 = redis::cmd("PTTL")
        .arg(store.key(&ns, b"id"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pttl2 < pttl, "{pttl2} < {pttl}");
    // The longest TTLs are accepted too.
    assert_eq!(
        store
            .insert_if_absent(&ns, b"max", Duration::MAX)
            .await
            .unwrap(),
        Freshness::Fresh
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn configuration_mistakes_are_refused() {
    let store = store().await;
    assert!(matches!(
        store.clone().with_prefix("app:{x}:"),
        Err(RedisStoreError::InvalidConfig { .. })
    ));
    assert!(matches!(
        store.clone().with_prefix("app}"),
        Err(RedisStoreError::InvalidConfig { .. })
    ));
    assert!(matches!(
        store.clone().with_timeout(Duration::ZERO),
        Err(RedisStoreError::InvalidConfig { .. })
    ));
    assert!(matches!(
        store.remove("", b"x").await,
        Err(ReplayError::InvalidConfig { .. })
    ));
    assert!(matches!(
        RedisNonceStore::connect("not a url", DEFAULT_TIMEOUT).await,
        Err(RedisStoreError::InvalidConfig { .. })
    ));
    assert!(matches!(
        RedisNonceStore::connect_lazy(&url(), Duration::ZERO),
        Err(RedisStoreError::InvalidConfig { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_gives_a_typed_error_quickly() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let url = "redis://alice:hunter2@127.0.0.1:1/";
    let started = Instant::now();
    let e = RedisNonceStore::connect(url, Duration::from_millis(500))
        .await
        .expect_err("connecting to a closed port fails");
    eprintln!("connect: {e:?} after {:?}", started.elapsed());
    assert!(matches!(e, RedisStoreError::Unavailable { .. }), "{e:?}");
    assert!(
        !e.to_string().contains("hunter2") && !e.to_string().contains("alice"),
        "{e}"
    );

    let store = RedisNonceStore::connect_lazy(url, Duration::from_millis(500)).unwrap();
    let e = store
        .insert_if_absent("ns", b"id", TTL)
        .await
        .expect_err("no server");
    assert!(is_store_failure(&e), "{e:?}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
    eprintln!("insert: {e:?}");
    let e = store.remove("ns", b"id").await.expect_err("no server");
    assert!(is_store_failure(&e), "{e:?}");
    // Delivery claims fail closed the same way (scripts included).
    let token = LeaseToken::from_bytes([1; 16]);
    let e = store
        .claim("ns", b"id", token, TTL)
        .await
        .expect_err("no server");
    assert!(is_store_failure(&e), "claim: {e:?}");
    let e = store
        .complete("ns", b"id", token, TTL)
        .await
        .expect_err("no server");
    assert!(is_store_failure(&e), "complete: {e:?}");
    let e = store
        .release("ns", b"id", token)
        .await
        .expect_err("no server");
    assert!(is_store_failure(&e), "release: {e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_not_quoted() {
    let mut url = url::Url::parse(&url()).unwrap();
    url.set_username("palisade-nobody").unwrap();
    url.set_password(Some("hunter2-s3cret")).unwrap();
    let e = RedisNonceStore::connect(url.as_str(), DEFAULT_TIMEOUT)
        .await
        .expect_err("unknown user");
    eprintln!("wrong credentials: {e:?}");
    assert!(matches!(e, RedisStoreError::Unavailable { .. }), "{e:?}");
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("hunter2-s3cret") && !shown.contains("palisade-nobody"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(AtomicUsize::new(0));
    let counter = held.clone();
    let server = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            sockets.push(socket);
        }
    });
    let timeout = Duration::from_millis(300);
    let url = format!("redis://127.0.0.1:{port}/");
    let started = Instant::now();
    let connect = RedisNonceStore::connect(&url, timeout).await;
    assert!(
        matches!(connect, Err(RedisStoreError::Timeout { millis: 300 })),
        "{connect:?}"
    );
    let store = RedisNonceStore::connect_lazy(&url, timeout).unwrap();
    let e = store
        .insert_if_absent("ns", b"id", TTL)
        .await
        .expect_err("silent server");
    assert!(
        matches!(e, ReplayError::StoreTimeout { millis: 300 }),
        "{e:?}"
    );
    let e = store
        .claim("ns", b"id", LeaseToken::from_bytes([1; 16]), TTL)
        .await
        .expect_err("silent server");
    assert!(
        matches!(e, ReplayError::StoreTimeout { millis: 300 }),
        "claim: {e:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(held.load(Ordering::SeqCst) >= 1);
    server.abort();
}

async fn get_and_pttl(conn: &mut ConnectionManager, key: &str) -> (Option<String>, i64) {
    let value: Option<String> = redis::cmd("GET").arg(key).query_async(conn).await.unwrap();
    let pttl: i64 = redis::cmd("PTTL").arg(key).query_async(conn).await.unwrap();
    (value, pttl)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claim_is_the_token_for_the_lease_and_a_completion_is_1_for_the_ttl() {
    let store = store().await;
    let ns = testing::unique_namespace("claim-keys");
    let key = store.key(&ns, b"id");
    let token = LeaseToken::from_bytes([0xab; 16]);
    let mut conn = raw().await;
    assert_eq!(
        store
            .claim(&ns, b"id", token, Duration::from_millis(30_500))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    let (value, pttl) = get_and_pttl(&mut conn, &key).await;
    assert_eq!(value.as_deref(), Some(&*format!("p:{}", "ab".repeat(16))));
    assert!((25_000..=30_500).contains(&pttl), "lease PTTL {pttl}");
    assert!(
        store
            .complete(&ns, b"id", token, Duration::from_millis(45_500))
            .await
            .unwrap()
    );
    let (value, pttl) = get_and_pttl(&mut conn, &key).await;
    assert_eq!(
        value.as_deref(),
        Some("1"),
        "the value insert_if_absent writes"
    );
    assert!((40_000..=45_500).contains(&pttl), "completed PTTL {pttl}");
    assert!(store.remove(&ns, b"id").await.unwrap());
    // A released claim leaves no key behind.
    store.claim(&ns, b"id", token, TTL).await.unwrap();
    assert!(store.release(&ns, b"id", token).await.unwrap());
    assert_eq!(get_and_pttl(&mut conn, &key).await, (None, -2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn any_value_other_than_a_claim_is_a_completed_id() {
    // Ids recorded before delivery claims existed, or by another writer, are completed.
    let store = store().await;
    let ns = testing::unique_namespace("legacy");
    let mut conn = raw().await;
    let token = LeaseToken::from_bytes([7; 16]);
    for (id, value) in [
        (&b"one"[..], "1"),
        (b"other", "x"),
        (b"p", "p"),
        (b"d", "d"),
    ] {
        let _: () = redis::cmd("SET")
            .arg(store.key(&ns, id))
            .arg(value)
            .arg("PX")
            .arg(60_000)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            store.claim(&ns, id, token, TTL).await.unwrap(),
            ClaimOutcome::Completed,
            "{value}"
        );
        assert!(!store.release(&ns, id, token).await.unwrap(), "{value}");
        assert_eq!(
            store.insert_if_absent(&ns, id, TTL).await.unwrap(),
            Freshness::Replayed
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claim_scripts_are_loaded_again_after_script_flush() {
    let store = store().await;
    let ns = testing::unique_namespace("claim-noscript");
    let token = LeaseToken::from_bytes([9; 16]);
    let mut conn = raw().await;
    assert_eq!(
        store.claim(&ns, b"a", token, TTL).await.unwrap(),
        ClaimOutcome::Claimed
    );
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        store.claim(&ns, b"a", token, TTL).await.unwrap(),
        ClaimOutcome::InProgress
    );
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(store.release(&ns, b"a", token).await.unwrap());
}
