//! The stores on a Redis Cluster: the conformance suites through [`connect_cluster`], and the
//! key layout's hash tags (each namespace on one slot, namespaces spread over every master).
//!
//! The cluster is `PALISADE_REDIS_CLUSTER_URL`, comma-separated seed nodes (default
//! `redis://127.0.0.1:7001/,redis://127.0.0.1:7002/,redis://127.0.0.1:7003/`, the 3 masters
//! that `.ci/services` starts). These tests fail, never skip, when it does not answer. Every
//! run uses its own random key prefix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use palisade_redis::redis::{self, aio::MultiplexedConnection, cluster_async::ClusterConnection};
use palisade_redis::{DEFAULT_TIMEOUT, RedisNonceStore, RedisStoreError, connect_cluster};
use palisade_replay::{Freshness, NonceStore, testing};

const DEFAULT_URLS: &str =
    "redis://127.0.0.1:7001/,redis://127.0.0.1:7002/,redis://127.0.0.1:7003/";

fn urls() -> Vec<String> {
    std::env::var("PALISADE_REDIS_CLUSTER_URL")
        .unwrap_or_else(|_| DEFAULT_URLS.to_owned())
        .split(',')
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect()
}

/// A connection to the test cluster; panics when it does not answer.
async fn cluster() -> ClusterConnection {
    let urls = urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    connect_cluster(&urls, DEFAULT_TIMEOUT)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "the Redis Cluster (PALISADE_REDIS_CLUSTER_URL) must answer for these tests; \
                 `.ci/services` starts one on 127.0.0.1:7001-7003: {e}"
            )
        })
}

/// A nonce store on the cluster under a prefix of its own.
async fn nonce_store() -> RedisNonceStore<ClusterConnection> {
    let prefix = format!("{}:", testing::unique_namespace("palisade-redis-cluster"));
    RedisNonceStore::new(cluster().await)
        .with_prefix(prefix)
        .unwrap()
}

/// Direct connections to every master of the cluster, by `host:port`, with the credentials of
/// the first seed URL.
async fn masters() -> BTreeMap<String, MultiplexedConnection> {
    let seed = url::Url::parse(&urls()[0]).unwrap();
    let mut seed_conn = redis::Client::open(seed.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut seed_conn)
        .await
        .unwrap();
    let mut masters = BTreeMap::new();
    for line in nodes.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // <id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <state> <slots…>
        if fields.len() < 8 || !fields[2].split(',').any(|f| f == "master") {
            continue;
        }
        if fields[2].contains("fail") || fields.len() == 8 {
            continue; // failed, or a master without slots
        }
        let addr = fields[1].split(['@', ',']).next().unwrap().to_owned();
        let (host, port) = addr.rsplit_once(':').unwrap();
        let mut url = seed.clone();
        url.set_host(Some(host)).unwrap();
        url.set_port(Some(port.parse().unwrap())).unwrap();
        let conn = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        masters.insert(addr, conn);
    }
    masters
}

/// Every key of `conn`'s node that starts with `prefix` (SCAN only sees the node's own keys).
async fn keys_on(conn: &mut MultiplexedConnection, prefix: &str) -> Vec<String> {
    let mut cursor = 0u64;
    let mut keys = Vec::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

async fn keyslot(conn: &mut MultiplexedConnection, key: &str) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nonce_store_passes_the_suite_on_the_cluster() {
    testing::run_all(Arc::new(nonce_store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nonce_store_passes_the_suite_on_the_cluster_as_a_trait_object() {
    let store: Arc<dyn NonceStore> = Arc::new(nonce_store().await);
    testing::run_all(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn namespaces_spread_over_every_master_and_each_keeps_one_slot() {
    const NAMESPACES: usize = 60;
    const IDS: usize = 5;
    let store = nonce_store().await;
    let mut masters = masters().await;
    assert!(
        masters.len() >= 3,
        "expected at least 3 masters with slots, found {:?}",
        masters.keys().collect::<Vec<_>>()
    );

    // Namespaces with braces too: the escaping keeps one tag per namespace.
    let namespaces: Vec<String> = (0..NAMESPACES)
        .map(|i| match i % 3 {
            0 => format!("tenant-{i}"),
            1 => format!("stripe:{{acct}}-{i}"),
            _ => format!("%7B{i}}}"),
        })
        .collect();
    for ns in &namespaces {
        for id in 0..IDS {
            let id = format!("evt_{id}");
            assert_eq!(
                store
                    .insert_if_absent(ns, id.as_bytes(), Duration::from_secs(60))
                    .await
                    .unwrap(),
                Freshness::Fresh
            );
        }
    }

    // Each namespace's keys share one slot (asked of the server: CLUSTER KEYSLOT).
    let any = masters.values_mut().next().unwrap();
    let mut slot_of_namespace = BTreeMap::new();
    for ns in &namespaces {
        let mut slots = BTreeSet::new();
        for id in 0..IDS {
            slots.insert(keyslot(any, &store.key(ns, format!("evt_{id}").as_bytes())).await);
        }
        assert_eq!(slots.len(), 1, "namespace {ns}: keys on slots {slots:?}");
        slot_of_namespace.insert(store.key(ns, b""), *slots.first().unwrap());
    }
    let distinct_slots: BTreeSet<u16> = slot_of_namespace.values().copied().collect();
    assert!(
        distinct_slots.len() > NAMESPACES / 2,
        "{} distinct slots for {NAMESPACES} namespaces",
        distinct_slots.len()
    );

    // Every master holds some namespaces, each one whole.
    let mut total = 0;
    let mut per_node = BTreeMap::new();
    for (addr, conn) in &mut masters {
        let keys = keys_on(conn, store.prefix()).await;
        total += keys.len();
        per_node.insert(addr.clone(), keys.len());
        assert!(!keys.is_empty(), "master {addr} holds none of the keys");
        assert_eq!(
            keys.len() % IDS,
            0,
            "master {addr}: a namespace split over nodes"
        );
        for key in &keys {
            let (tagged, _) = key.rsplit_once(':').unwrap();
            let namespace_keys = keys
                .iter()
                .filter(|k| k.rsplit_once(':').unwrap().0 == tagged)
                .count();
            assert_eq!(
                namespace_keys, IDS,
                "master {addr}: {tagged} split over nodes"
            );
        }
    }
    eprintln!("keys per master: {per_node:?}");
    assert_eq!(total, NAMESPACES * IDS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_cluster_refuses_credentials_without_quoting_them() {
    let mut url = url::Url::parse(&urls()[0]).unwrap();
    url.set_username("palisade-nobody").unwrap();
    url.set_password(Some("hunter2-s3cret")).unwrap();
    let e = connect_cluster(&[url.as_str()], DEFAULT_TIMEOUT)
        .await
        .err()
        .expect("unknown user");
    eprintln!("wrong credentials: {e:?}");
    assert!(matches!(e, RedisStoreError::Unavailable { .. }), "{e:?}");
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("hunter2-s3cret") && !shown.contains("palisade-nobody"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_mistakes_are_refused_and_one_live_seed_is_enough() {
    assert!(matches!(
        connect_cluster(&[], DEFAULT_TIMEOUT).await,
        Err(RedisStoreError::InvalidConfig { .. })
    ));
    assert!(matches!(
        connect_cluster(&["not a url"], DEFAULT_TIMEOUT).await,
        Err(RedisStoreError::InvalidConfig { .. })
    ));
    // A standalone server (cluster support disabled) is not a cluster.
    let standalone = std::env::var("PALISADE_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned());
    let e = connect_cluster(&[standalone.as_str()], DEFAULT_TIMEOUT)
        .await
        .err()
        .expect("not a cluster");
    eprintln!("standalone seed: {e:?}");
    assert!(matches!(e, RedisStoreError::Unavailable { .. }), "{e:?}");
    // One dead seed among live ones is enough to connect.
    let mut urls = urls();
    urls.insert(0, "redis://127.0.0.1:1/".to_owned());
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let conn = connect_cluster(&urls, DEFAULT_TIMEOUT).await.unwrap();
    let store = RedisNonceStore::new(conn)
        .with_prefix(format!("{}:", testing::unique_namespace("seeds")))
        .unwrap();
    assert_eq!(
        store
            .insert_if_absent("ns", b"id", Duration::from_secs(10))
            .await
            .unwrap(),
        Freshness::Fresh
    );
}

/// `RedisRateLimitStore` on the cluster: the conformance suite, exact admission under
/// concurrency, and hash tags (a key's state and block on one slot, keys over every master).
#[cfg(feature = "ratelimit")]
mod ratelimit {
    use std::sync::atomic::{AtomicU64, Ordering};

    use async_trait::async_trait;
    use palisade_ratelimit::testing::Harness;
    use palisade_ratelimit::{Key, KeyBuilder, Limit, Policy, Quota, RateLimitStore};
    use palisade_redis::{Coalescing, RedisRateLimitStore};

    use super::*;

    /// The suite's harness: a store on the cluster under a prefix of its own; time is real
    /// (the scripts read the server's clock), so advancing is sleeping.
    struct ClusterHarness {
        store: Arc<RedisRateLimitStore<ClusterConnection>>,
    }

    async fn store() -> RedisRateLimitStore<ClusterConnection> {
        let prefix = format!(
            "{}:",
            testing::unique_namespace("palisade-redis-cluster-rl")
        );
        RedisRateLimitStore::new(cluster().await)
            .with_prefix(prefix)
            .unwrap()
    }

    async fn harness() -> ClusterHarness {
        ClusterHarness {
            store: Arc::new(store().await),
        }
    }

    /// A store coalescing waiting decisions per slot ([`Coalescing::PerSlot`]).
    async fn per_slot_harness() -> ClusterHarness {
        ClusterHarness {
            store: Arc::new(store().await.with_coalescing(Coalescing::PerSlot)),
        }
    }

    /// The conformance suite, its concurrent cases included, with per-slot coalescing: no
    /// call crosses a slot.
    mod per_slot {
        use super::per_slot_harness;
        palisade_ratelimit::conformance_suite!(per_slot_harness);
    }

    #[async_trait]
    impl Harness for ClusterHarness {
        async fn store(&self) -> Arc<dyn RateLimitStore> {
            self.store.clone()
        }

        async fn advance(&self, d: Duration) {
            tokio::time::sleep(d).await;
        }

        fn tick(&self) -> Duration {
            Duration::from_millis(100)
        }
    }

    palisade_ratelimit::conformance_suite!(harness);

    #[async_trait]
    impl palisade_ratelimit::testing::quarantine::PenaltyBoxHarness for ClusterHarness {
        async fn penalty_box(&self) -> Arc<dyn palisade_ratelimit::PenaltyBox> {
            self.store.clone()
        }
    }

    /// The penalty-box suite on the Cluster: blocks and the index of blocks live in different
    /// slots, and every call touches one slot at a time.
    mod quarantine {
        use super::harness;
        palisade_ratelimit::penalty_box_suite!(harness);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn eight_tasks_admit_exactly_the_quota_of_each_of_100_keys() {
        exact_admission(Coalescing::Off).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn eight_tasks_admit_exactly_the_quota_with_per_slot_coalescing() {
        exact_admission(Coalescing::PerSlot).await;
    }

    async fn exact_admission(coalescing: Coalescing) {
        const TASKS: usize = 8;
        const CALLS: usize = 2_500;
        const KEYS: usize = 100;
        const QUOTA: u64 = 100;
        let store = Arc::new(store().await.with_coalescing(coalescing));
        // 100 per day with a burst of 100: nothing refills during the test.
        let policy = Arc::new(
            Policy::single(
                Limit::gcra(
                    "cluster",
                    Quota::per_day(QUOTA).unwrap().with_burst(QUOTA).unwrap(),
                )
                .unwrap(),
            )
            .unwrap(),
        );
        let run = testing::unique_namespace("exact");
        let keys: Arc<Vec<Key>> = Arc::new(
            (0..KEYS)
                .map(|i| {
                    KeyBuilder::new("cluster-exact")
                        .str(&run)
                        .u64(i as u64)
                        .build()
                })
                .collect(),
        );
        let admitted: Arc<Vec<AtomicU64>> =
            Arc::new((0..KEYS).map(|_| AtomicU64::new(0)).collect());
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let (store, policy, keys, admitted) = (
                    store.clone(),
                    policy.clone(),
                    keys.clone(),
                    admitted.clone(),
                );
                tokio::spawn(async move {
                    for i in 0..CALLS {
                        // Each task walks the keys from its own offset: 200 calls per key.
                        let k = (task * 13 + i) % KEYS;
                        let verdict = store.apply(&keys[k], &policy, 1).await.unwrap();
                        if verdict.is_allowed() {
                            admitted[k].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        for (k, n) in admitted.iter().enumerate() {
            assert_eq!(n.load(Ordering::Relaxed), QUOTA, "key {k}");
        }

        // A key's state and block share a slot; the keys spread over every master.
        let mut masters = masters().await;
        let any = masters.values_mut().next().unwrap();
        for key in keys.iter().take(10) {
            assert_eq!(
                keyslot(any, &store.state_key(key, &policy)).await,
                keyslot(any, &store.block_key(key)).await
            );
        }
        let mut total = 0;
        for (addr, conn) in &mut masters {
            let n = keys_on(conn, store.prefix()).await.len();
            assert!(n > 0, "master {addr} holds none of the rate-limit keys");
            total += n;
        }
        assert_eq!(total, KEYS, "one state key per key");
    }
}
