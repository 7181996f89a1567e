//! Fault injection: each test starts its own `redis-server` on a free loopback port, makes
//! decisions through the stores, SIGKILLs the server while tasks are calling, checks that
//! every call fails with a typed store error within the timeout (no hang, no panic), then
//! restarts the server on the same port and shows the same store objects deciding again. One
//! test does the same to a master of a private 3-master Redis Cluster of its own.
//!
//! Needs the `redis-server` binary (`PALISADE_REDIS_SERVER`, default `redis-server` on the
//! `PATH`; `.ci/services` installs it; Redis 7 or later for the cluster test). These tests fail,
//! never skip, without it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use palisade_redis::RedisNonceStore;
use palisade_redis::redis;
use palisade_replay::{Freshness, NonceStore, ReplayError};

/// The timeout the stores are built with.
const TIMEOUT: Duration = Duration::from_millis(300);
/// The longest any one call may take: the timeout plus slack for a loaded machine.
const CALL_BOUND: Duration = Duration::from_secs(1);
/// Concurrent callers while the server dies.
const TASKS: usize = 8;
const TTL: Duration = Duration::from_secs(60);

/// A `redis-server` child process, killed when dropped (also when a test panics).
struct Server {
    child: Option<Child>,
    port: u16,
}

impl Server {
    /// Starts a server on a free loopback port and waits until it answers.
    async fn start() -> Self {
        // Port 0 makes the OS pick a free port; release it for the server.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        Self::start_on(port).await
    }

    /// Starts a server on `port` and waits until it answers `PING`.
    async fn start_on(port: u16) -> Self {
        Self::start_with(port, &[]).await
    }

    /// Starts a server on `port` with `extra` arguments and waits until it answers `PING`.
    async fn start_with(port: u16, extra: &[String]) -> Self {
        let binary =
            std::env::var("PALISADE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
        let child = Command::new(&binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("these tests need `{binary}` (PALISADE_REDIS_SERVER; .ci/services installs it): {e}")
            });
        let mut server = Self {
            child: Some(child),
            port,
        };
        server.wait_ready().await;
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    async fn wait_ready(&mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("redis-server on port {} exited: {status}", self.port);
            }
            if ping(self.port).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server on port {} did not answer in 10 s", self.port);
    }

    /// SIGKILL, and reap the process: when this returns, the server is gone.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `n` distinct free loopback ports (all held open together while picking, then released).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// Whether a Redis answers `PING` on `port`.
async fn ping(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        socket.write_all(b"PING\r\n").await.ok()?;
        let mut reply = [0u8; 7];
        socket.read_exact(&mut reply).await.ok()?;
        Some(&reply == b"+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_millis(500), attempt).await,
        Ok(Some(true))
    )
}

/// One call as seen by a task: when it started, how long it took, what it answered.
struct Call<T> {
    started: Instant,
    elapsed: Duration,
    outcome: T,
}

/// Runs `TASKS` tasks calling `f(task, i)` back to back until `stop` is set, and returns every
/// call of every task.
async fn hammer<T, F, Fut>(stop: Arc<AtomicBool>, f: F) -> Vec<Vec<Call<T>>>
where
    T: Send + 'static,
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let f = f.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut calls = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let outcome = f(task, i).await;
                    calls.push(Call {
                        started,
                        elapsed: started.elapsed(),
                        outcome,
                    });
                    i += 1;
                    // Keep the loop from spinning on instant failures.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                calls
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        // A panicking task fails the test here.
        all.push(task.await.unwrap());
    }
    all
}

/// Kills `server` after `before`, lets the tasks run `after` more, then stops them. Returns
/// the instant the server was gone.
async fn kill_mid_run(
    server: &mut Server,
    stop: &AtomicBool,
    before: Duration,
    after: Duration,
) -> Instant {
    tokio::time::sleep(before).await;
    server.kill();
    let killed = Instant::now();
    tokio::time::sleep(after).await;
    stop.store(true, Ordering::SeqCst);
    killed
}

/// Polls `f` until it returns `true` or `within` passes.
async fn eventually<F, Fut>(within: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if f().await {
            return true;
        }
        if started.elapsed() > within {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn is_replay_store_failure(e: &ReplayError) -> bool {
    matches!(
        e,
        ReplayError::StoreUnavailable { .. } | ReplayError::StoreTimeout { .. }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nonce_store_fails_typed_and_fast_when_redis_dies_then_recovers() {
    let mut server = Server::start().await;
    let port = server.port;
    let store = Arc::new(
        RedisNonceStore::connect(&server.url(), TIMEOUT)
            .await
            .unwrap(),
    );
    let ns = palisade_replay::testing::unique_namespace("faults");
    assert_eq!(
        store.insert_if_absent(&ns, b"before", TTL).await.unwrap(),
        Freshness::Fresh
    );
    assert_eq!(
        store.insert_if_absent(&ns, b"before", TTL).await.unwrap(),
        Freshness::Replayed
    );

    let stop = Arc::new(AtomicBool::new(false));
    let calls = {
        let store = store.clone();
        let ns = ns.clone();
        tokio::spawn(hammer(stop.clone(), move |task, i| {
            let store = store.clone();
            let ns = ns.clone();
            async move {
                let id = format!("task-{task}-call-{i}");
                store.insert_if_absent(&ns, id.as_bytes(), TTL).await
            }
        }))
    };
    let killed = kill_mid_run(
        &mut server,
        &stop,
        Duration::from_millis(300),
        Duration::from_millis(2_500),
    )
    .await;
    let calls = calls.await.unwrap();

    for (task, calls) in calls.iter().enumerate() {
        let ok_before = calls.iter().filter(|c| c.outcome.is_ok()).count();
        let failed_after = calls
            .iter()
            .filter(|c| c.started > killed && c.outcome.is_err())
            .count();
        assert!(ok_before > 0, "task {task}: no decision before the kill");
        assert!(failed_after > 0, "task {task}: no failure after the kill");
        for call in calls {
            assert!(
                call.elapsed < CALL_BOUND,
                "task {task}: a call took {:?}",
                call.elapsed
            );
            match &call.outcome {
                Ok(freshness) => {
                    assert_eq!(*freshness, Freshness::Fresh, "task {task}");
                    assert!(
                        call.started < killed,
                        "task {task}: a decision with the server gone"
                    );
                }
                Err(e) => assert!(is_replay_store_failure(e), "task {task}: {e:?}"),
            }
        }
    }
    let failures: Vec<String> = calls
        .iter()
        .flatten()
        .filter_map(|c| c.outcome.as_ref().err().map(|e| format!("{e:?}")))
        .take(3)
        .collect();
    eprintln!("failures while down, e.g. {failures:?}");

    // Down: a lone call fails too, in time.
    let started = Instant::now();
    let e = store.insert_if_absent(&ns, b"down", TTL).await.unwrap_err();
    assert!(is_replay_store_failure(&e), "{e:?}");
    assert!(started.elapsed() < CALL_BOUND, "{:?}", started.elapsed());

    // Back on the same port (empty: no persistence): the same store object decides again.
    let _server = Server::start_on(port).await;
    let started = Instant::now();
    let recovered = eventually(Duration::from_secs(10), || {
        let store = store.clone();
        let ns = ns.clone();
        async move {
            let call = Instant::now();
            let r = store.insert_if_absent(&ns, b"after", TTL).await;
            assert!(call.elapsed() < CALL_BOUND, "{:?}", call.elapsed());
            match r {
                Ok(f) => {
                    assert_eq!(f, Freshness::Fresh);
                    true
                }
                Err(e) => {
                    assert!(is_replay_store_failure(&e), "{e:?}");
                    false
                }
            }
        }
    })
    .await;
    assert!(recovered, "no decision 10 s after the restart");
    eprintln!("reconnected {:?} after the restart", started.elapsed());
    assert_eq!(
        store.insert_if_absent(&ns, b"after", TTL).await.unwrap(),
        Freshness::Replayed
    );
    // The restarted server has forgotten everything (no persistence).
    assert_eq!(
        store.insert_if_absent(&ns, b"before", TTL).await.unwrap(),
        Freshness::Fresh
    );
    assert!(store.remove(&ns, b"after").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lazy_store_started_before_its_server_decides_once_it_is_up() {
    let server = Server::start().await;
    let port = server.port;
    let url = server.url();
    drop(server);
    let store = RedisNonceStore::connect_lazy(&url, TIMEOUT).unwrap();
    let started = Instant::now();
    let e = store.insert_if_absent("ns", b"id", TTL).await.unwrap_err();
    assert!(is_replay_store_failure(&e), "{e:?}");
    assert!(started.elapsed() < CALL_BOUND, "{:?}", started.elapsed());

    let _server = Server::start_on(port).await;
    let ns = palisade_replay::testing::unique_namespace("lazy");
    let recovered = eventually(Duration::from_secs(10), || {
        let store = store.clone();
        let ns = ns.clone();
        async move { store.insert_if_absent(&ns, b"id", TTL).await.is_ok() }
    })
    .await;
    assert!(recovered, "no decision 10 s after the server came up");
}

/// A private 3-master Redis Cluster: nodes on free ports, its own directory for the
/// `nodes-<port>.conf` files (removed on drop; the nodes are killed on drop by their guards).
struct PrivateCluster {
    dir: std::path::PathBuf,
    ports: Vec<u16>,
    bus_ports: Vec<u16>,
    nodes: Vec<Server>,
}

impl PrivateCluster {
    /// The arguments of node `i`: cluster mode, 1 s node timeout, config in the directory.
    fn args(&self, i: usize) -> Vec<String> {
        let port = self.ports[i];
        [
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            &self.bus_ports[i].to_string(),
            "--cluster-node-timeout",
            "1000",
            "--cluster-config-file",
            &self
                .dir
                .join(format!("nodes-{port}.conf"))
                .to_string_lossy(),
            "--dir",
            &self.dir.to_string_lossy(),
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// Starts 3 nodes and forms the cluster (slots split in three, distinct config epochs),
    /// then waits until every node reports `cluster_state:ok`.
    async fn start() -> Self {
        let ports = free_ports(6);
        let unique = palisade_replay::testing::unique_namespace("palisade-faults-cluster")
            .replace([':', '/'], "-");
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).unwrap();
        let mut cluster = Self {
            dir,
            ports: ports[..3].to_vec(),
            bus_ports: ports[3..].to_vec(),
            nodes: Vec::new(),
        };
        for i in 0..3 {
            let args = cluster.args(i);
            cluster
                .nodes
                .push(Server::start_with(cluster.ports[i], &args).await);
        }
        let mut conns = Vec::new();
        for port in &cluster.ports {
            conns.push(node(*port).await);
        }
        let ranges = [(0u16, 5460u16), (5461, 10922), (10923, 16383)];
        for (i, conn) in conns.iter_mut().enumerate() {
            let _: () = redis::cmd("CLUSTER")
                .arg("SET-CONFIG-EPOCH")
                .arg(i + 1)
                .query_async(conn)
                .await
                .unwrap();
            let (from, to) = ranges[i];
            let _: () = redis::cmd("CLUSTER")
                .arg("ADDSLOTS")
                .arg((from..=to).collect::<Vec<u16>>())
                .query_async(conn)
                .await
                .unwrap();
        }
        for i in 1..3 {
            let _: () = redis::cmd("CLUSTER")
                .arg("MEET")
                .arg("127.0.0.1")
                .arg(cluster.ports[i])
                .arg(cluster.bus_ports[i])
                .query_async(&mut conns[0])
                .await
                .unwrap();
        }
        cluster.wait_ok().await;
        cluster
    }

    /// Waits (up to 20 s) until every running node sees the whole cluster ok.
    async fn wait_ok(&self) {
        let ok = eventually(Duration::from_secs(20), || async {
            for port in &self.ports {
                let mut conn = node(*port).await;
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                if !(info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3")) {
                    return false;
                }
            }
            true
        })
        .await;
        assert!(ok, "the private cluster did not form in 20 s");
    }

    fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}/"))
            .collect()
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A direct connection to the node on `port`.
async fn node(port: u16) -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_nonce_store_fails_typed_when_a_master_dies_then_recovers() {
    const NAMESPACES: usize = 30;
    let mut cluster = PrivateCluster::start().await;
    let urls = cluster.urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let conn = palisade_redis::connect_cluster(&urls, TIMEOUT)
        .await
        .unwrap();
    let store = Arc::new(
        RedisNonceStore::new(conn)
            .with_timeout(TIMEOUT)
            .unwrap()
            .with_prefix("faults:")
            .unwrap(),
    );
    let namespaces: Arc<Vec<String>> =
        Arc::new((0..NAMESPACES).map(|i| format!("ns-{i}")).collect());
    for ns in namespaces.iter() {
        assert_eq!(
            store.insert_if_absent(ns, b"before", TTL).await.unwrap(),
            Freshness::Fresh
        );
    }
    // The namespaces whose slot the victim (the second node: slots 5461-10922) serves.
    let victim = 1;
    let mut victim_conn = node(cluster.ports[victim]).await;
    let mut on_victim = Vec::new();
    for (i, ns) in namespaces.iter().enumerate() {
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(store.key(ns, b"before"))
            .query_async(&mut victim_conn)
            .await
            .unwrap();
        if (5461..=10922).contains(&slot) {
            on_victim.push(i);
        }
    }
    drop(victim_conn);
    assert!(
        !on_victim.is_empty() && on_victim.len() < NAMESPACES,
        "{on_victim:?}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let calls = {
        let (store, namespaces) = (store.clone(), namespaces.clone());
        tokio::spawn(hammer(stop.clone(), move |task, i| {
            let (store, namespaces) = (store.clone(), namespaces.clone());
            async move {
                let n = (task + i as usize * TASKS) % NAMESPACES;
                let id = format!("task-{task}-call-{i}");
                (
                    n,
                    store
                        .insert_if_absent(&namespaces[n], id.as_bytes(), TTL)
                        .await,
                )
            }
        }))
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.nodes[victim].kill();
    let killed = Instant::now();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    stop.store(true, Ordering::SeqCst);
    let calls = calls.await.unwrap();

    let mut failed_on_victim = 0;
    for (task, calls) in calls.iter().enumerate() {
        for call in calls {
            let (n, outcome) = &call.outcome;
            assert!(
                call.elapsed < CALL_BOUND,
                "task {task}: a call took {:?}",
                call.elapsed
            );
            match outcome {
                Ok(freshness) => {
                    assert_eq!(*freshness, Freshness::Fresh);
                    assert!(
                        call.started < killed || !on_victim.contains(n),
                        "task {task}: namespace {n} decided with its master gone"
                    );
                }
                Err(e) => {
                    assert!(is_replay_store_failure(e), "task {task}: {e:?}");
                    if call.started > killed && on_victim.contains(n) {
                        failed_on_victim += 1;
                    }
                }
            }
        }
    }
    assert!(
        failed_on_victim > 0,
        "no call failed on the dead master's slots"
    );
    let sample: Vec<String> = calls
        .iter()
        .flatten()
        .filter_map(|c| c.outcome.1.as_ref().err().map(|e| format!("{e:?}")))
        .take(3)
        .collect();
    eprintln!("cluster failures while a master is down, e.g. {sample:?}");

    // The victim comes back on its port with its nodes.conf (same id, same slots): the same
    // store object decides on every namespace again.
    let args = cluster.args(victim);
    let port = cluster.ports[victim];
    cluster.nodes[victim] = Server::start_with(port, &args).await;
    cluster.wait_ok().await;
    let started = Instant::now();
    let recovered = eventually(Duration::from_secs(15), || {
        let (store, namespaces) = (store.clone(), namespaces.clone());
        async move {
            for ns in namespaces.iter() {
                let call = Instant::now();
                let r = store.insert_if_absent(ns, b"after", TTL).await;
                assert!(call.elapsed() < CALL_BOUND, "{:?}", call.elapsed());
                match r {
                    Ok(_) => {}
                    Err(e) => {
                        assert!(is_replay_store_failure(&e), "{e:?}");
                        return false;
                    }
                }
            }
            true
        }
    })
    .await;
    assert!(
        recovered,
        "no decision on every namespace 15 s after the restart"
    );
    eprintln!(
        "cluster reconnected {:?} after the restart",
        started.elapsed()
    );
    for ns in namespaces.iter() {
        assert_eq!(
            store.insert_if_absent(ns, b"after", TTL).await.unwrap(),
            Freshness::Replayed
        );
    }
}

/// `RedisRateLimitStore` when Redis dies: typed store failures in time, each
/// `FallbackMode` acting on them, and recovery on the same store objects.
#[cfg(feature = "ratelimit")]
mod ratelimit {
    use palisade_ratelimit::{
        Cause, FallbackMode, FallbackStore, Key, KeyBuilder, Limit, MemoryStore, Policy, Quota,
        RateLimitError, RateLimitStore, Verdict,
    };
    use palisade_redis::RedisRateLimitStore;

    use super::*;

    type Fallback = FallbackStore<RedisRateLimitStore, MemoryStore>;

    /// The four ways a task asks: the Redis store itself, and behind each fallback mode.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Via {
        Redis,
        FailOpen,
        FailClosed,
        Secondary,
    }

    const VIAS: [Via; 4] = [Via::Redis, Via::FailOpen, Via::FailClosed, Via::Secondary];

    struct Stores {
        redis: RedisRateLimitStore,
        fail_open: Fallback,
        fail_closed: Fallback,
        secondary: Fallback,
    }

    impl Stores {
        fn new(redis: RedisRateLimitStore) -> Self {
            let with = |mode| FallbackStore::new(redis.clone(), MemoryStore::new(), mode);
            Self {
                fail_open: with(FallbackMode::FailOpen),
                fail_closed: with(FallbackMode::FailClosed),
                secondary: with(FallbackMode::Secondary),
                redis,
            }
        }

        async fn apply(
            &self,
            via: Via,
            key: &Key,
            policy: &Policy,
        ) -> Result<Verdict, RateLimitError> {
            match via {
                Via::Redis => self.redis.apply(key, policy, 1).await,
                Via::FailOpen => self.fail_open.apply(key, policy, 1).await,
                Via::FailClosed => self.fail_closed.apply(key, policy, 1).await,
                Via::Secondary => self.secondary.apply(key, policy, 1).await,
            }
        }
    }

    fn key(run: &str, label: &str, n: u64) -> Key {
        KeyBuilder::new("faults").str(run).str(label).u64(n).build()
    }

    /// Plenty for the whole test: every call is admitted by whichever store answers.
    fn roomy() -> Policy {
        Policy::single(Limit::gcra("roomy", Quota::per_second(1_000_000).unwrap()).unwrap())
            .unwrap()
    }

    /// 3 per day: the 4th call on a key is refused.
    fn tight() -> Policy {
        Policy::single(
            Limit::gcra("tight", Quota::per_day(3).unwrap().with_burst(3).unwrap()).unwrap(),
        )
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn rate_limit_store_fails_typed_and_fast_and_fallbacks_act_then_recovers() {
        let mut server = Server::start().await;
        let port = server.port;
        let redis = RedisRateLimitStore::connect(&server.url(), TIMEOUT)
            .await
            .unwrap();
        let stores = Arc::new(Stores::new(redis));
        let run = palisade_replay::testing::unique_namespace("faults-rl");
        let policy = Arc::new(roomy());
        let tight = tight();

        // Up: every way answers from Redis.
        for via in VIAS {
            let v = stores
                .apply(via, &key(&run, "up", 0), &policy)
                .await
                .unwrap();
            assert_eq!(v.cause(), Cause::Admitted, "{via:?}");
        }
        let up_key = key(&run, "tight-up", 0);
        for n in 0..4 {
            let v = stores
                .apply(Via::FailClosed, &up_key, &tight)
                .await
                .unwrap();
            assert_eq!(v.is_allowed(), n < 3, "call {n}");
        }

        let stop = Arc::new(AtomicBool::new(false));
        let calls = {
            let (stores, policy, run) = (stores.clone(), policy.clone(), run.clone());
            tokio::spawn(hammer(stop.clone(), move |task, i| {
                let (stores, policy, run) = (stores.clone(), policy.clone(), run.clone());
                async move {
                    let via = VIAS[(task + i as usize) % VIAS.len()];
                    let k = key(&run, "hammer", task as u64);
                    (via, stores.apply(via, &k, &policy).await)
                }
            }))
        };
        let killed = kill_mid_run(
            &mut server,
            &stop,
            Duration::from_millis(300),
            Duration::from_millis(2_500),
        )
        .await;
        let calls = calls.await.unwrap();

        let mut seen_after = std::collections::BTreeSet::new();
        for (task, calls) in calls.iter().enumerate() {
            assert!(
                calls
                    .iter()
                    .any(|c| c.started < killed && c.outcome.1.is_ok()),
                "task {task}: no decision before the kill"
            );
            for call in calls {
                let (via, outcome) = &call.outcome;
                assert!(
                    call.elapsed < CALL_BOUND,
                    "task {task} via {via:?}: a call took {:?}",
                    call.elapsed
                );
                let after = call.started > killed;
                match (via, outcome) {
                    (_, Ok(v)) if v.cause() == Cause::Admitted => {
                        // Redis before the kill, or the memory secondary after it.
                        assert!(
                            !after || *via == Via::Secondary,
                            "task {task} via {via:?}: admitted by Redis after the kill"
                        );
                    }
                    (Via::Redis, Err(e)) => {
                        assert!(e.is_store_failure(), "task {task}: {e:?}");
                        assert!(
                            matches!(
                                e,
                                RateLimitError::Unavailable { store: "redis", .. }
                                    | RateLimitError::Timeout { store: "redis", .. }
                            ),
                            "task {task}: {e:?}"
                        );
                    }
                    (Via::FailOpen, Ok(v)) => {
                        assert_eq!(v.cause(), Cause::FailedOpen, "task {task}");
                        assert!(v.is_allowed());
                    }
                    (Via::FailClosed, Ok(v)) => {
                        assert_eq!(v.cause(), Cause::FailedClosed, "task {task}");
                        assert!(!v.is_allowed());
                        assert!(v.retry_after().is_some());
                    }
                    (via, other) => panic!("task {task} via {via:?}: {other:?}"),
                }
                if after {
                    let cause = outcome.as_ref().map(Verdict::cause).ok();
                    seen_after.insert(format!("{via:?} {cause:?}"));
                }
            }
        }
        eprintln!("answers after the kill: {seen_after:?}");
        for expected in [
            "Redis None",
            "FailOpen Some(FailedOpen)",
            "FailClosed Some(FailedClosed)",
            "Secondary Some(Admitted)",
        ] {
            assert!(
                seen_after.contains(expected),
                "never saw {expected}: {seen_after:?}"
            );
        }

        // Down, one call at a time: each mode on a tight policy.
        let down = key(&run, "tight-down", 0);
        for n in 0..5 {
            let started = Instant::now();
            let e = stores.apply(Via::Redis, &down, &tight).await.unwrap_err();
            assert!(e.is_store_failure(), "{e:?}");
            let open = stores.apply(Via::FailOpen, &down, &tight).await.unwrap();
            assert_eq!(open.cause(), Cause::FailedOpen);
            let closed = stores.apply(Via::FailClosed, &down, &tight).await.unwrap();
            assert_eq!(closed.cause(), Cause::FailedClosed);
            // The secondary (memory) store enforces the quota by itself: 3 admitted, then refused.
            let secondary = stores.apply(Via::Secondary, &down, &tight).await.unwrap();
            let expected = if n < 3 {
                Cause::Admitted
            } else {
                Cause::Limited
            };
            assert_eq!(secondary.cause(), expected, "call {n}");
            assert!(
                started.elapsed() < 4 * CALL_BOUND,
                "4 calls took {:?}",
                started.elapsed()
            );
        }
        // The secondary's answers are the memory store's own state.
        let v = stores
            .secondary
            .secondary()
            .apply(&down, &tight, 1)
            .await
            .unwrap();
        assert_eq!(v.cause(), Cause::Limited);

        // Back on the same port (empty): the same store objects decide with Redis again.
        let _server = Server::start_on(port).await;
        let started = Instant::now();
        let probe = key(&run, "after", 0);
        let recovered = eventually(Duration::from_secs(10), || {
            let (stores, policy) = (stores.clone(), policy.clone());
            async move {
                let call = Instant::now();
                let r = stores.apply(Via::Redis, &probe, &policy).await;
                assert!(call.elapsed() < CALL_BOUND, "{:?}", call.elapsed());
                match r {
                    Ok(v) => {
                        assert_eq!(v.cause(), Cause::Admitted);
                        true
                    }
                    Err(e) => {
                        assert!(e.is_store_failure(), "{e:?}");
                        false
                    }
                }
            }
        })
        .await;
        assert!(recovered, "no decision 10 s after the restart");
        eprintln!("reconnected {:?} after the restart", started.elapsed());
        // Every mode answers from Redis again (the scripts are loaded anew: NOSCRIPT → EVAL).
        let fresh = key(&run, "tight-after", 0);
        for n in 0..4 {
            for via in [Via::FailOpen, Via::FailClosed] {
                let v = stores
                    .apply(via, &key(&run, "after-modes", n), &policy)
                    .await
                    .unwrap();
                assert_eq!(v.cause(), Cause::Admitted, "{via:?}");
            }
            let v = stores.apply(Via::Secondary, &fresh, &tight).await.unwrap();
            let expected = if n < 3 {
                Cause::Admitted
            } else {
                Cause::Limited
            };
            assert_eq!(v.cause(), expected, "call {n}");
        }
        // The restarted Redis forgot the state the secondary held while it was down.
        let v = stores.apply(Via::Redis, &down, &tight).await.unwrap();
        assert_eq!(v.cause(), Cause::Admitted);
    }
}
