//! Fault injection on a private PostgreSQL: the stores make decisions, the server is killed
//! (`pg_ctl stop -m immediate`) mid-run, every call then fails with a typed store failure
//! within its timeout (no hang, no panic), `FallbackStore` does what its mode says, and once
//! the server is back the same stores (same pools) decide again.
//!
//! The server is created for the test with `initdb` into a temporary directory and started
//! with `pg_ctl` on a free loopback port (trust authentication), as the `postgres` user when
//! the test runs as root. It needs the PostgreSQL server binaries (`initdb`, `pg_ctl`) on
//! `PATH` or in `/usr/lib/postgresql/<version>/bin`; the test fails when they are missing. The
//! server is stopped and its directory deleted at the end, whatever happens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use palisade_postgres::sqlx::postgres::PgPoolOptions;
use palisade_postgres::{PostgresNonceStore, PostgresRateLimitStore};
use palisade_ratelimit::{
    AlgorithmKind, Cause, FallbackMode, FallbackStore, Key, Limit, MemoryStore, Policy, Quota,
    RateLimitError, RateLimitStore,
};
use palisade_replay::{Freshness, NonceStore};

/// The store's call timeout, and what a failing call may take beyond it.
const TIMEOUT: Duration = Duration::from_millis(1_500);
const SLACK: Duration = Duration::from_millis(1_000);

/// A PostgreSQL server of our own, stopped and deleted on drop.
struct PrivatePostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// The directory holding `initdb` and `pg_ctl`.
fn server_binaries() -> PathBuf {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return dir;
            }
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "these tests need the PostgreSQL server binaries (initdb, pg_ctl) on PATH or in \
             /usr/lib/postgresql/<version>/bin: install postgresql"
        )
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn has_runuser() -> bool {
    Command::new("runuser").arg("--version").output().is_ok()
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PrivatePostgres {
    /// `initdb` into a fresh temporary directory, then start.
    fn start() -> Self {
        let bin = server_binaries();
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "palisade-pg-faults-{}-{nanos:x}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let as_postgres = running_as_root();
        let server = Self {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        if as_postgres {
            // initdb and postgres refuse to run as root.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&server.dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown the data directory to postgres");
        }
        let data = server.data();
        let out = server.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        assert!(out.status.success(), "initdb failed: {}", show(&out));
        server.pg_start();
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs one of the server binaries, as `postgres` when we are root.
    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres && has_runuser() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else if self.as_postgres {
            // No runuser: su, with the command line quoted for sh.
            let line = std::iter::once(exe.to_str().unwrap())
                .chain(args.iter().copied())
                .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
                .collect::<Vec<_>>()
                .join(" ");
            let out = Command::new("su")
                .args(["postgres", "-s", "/bin/sh", "-c", &line])
                .current_dir(&self.dir)
                .output()
                .unwrap_or_else(|e| panic!("cannot run su: {e}"));
            return out;
        } else {
            Command::new(&exe)
        };
        cmd.args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()))
    }

    fn pg_start(&self) {
        let data = self.data();
        let log = self.dir.join("server.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            show(&out),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Kills the server the hard way: no shutdown checkpoint, connections dropped.
    fn pg_stop_immediate(&self) {
        let data = self.data();
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        assert!(out.status.success(), "pg_ctl stop failed: {}", show(&out));
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        if data.join("postmaster.pid").exists() {
            let _ = self.run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap_or_default(),
                    "-m",
                    "immediate",
                    "stop",
                ],
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn show(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn policy() -> Policy {
    Policy::new([
        Limit::gcra("gcra", Quota::per_hour(1_000).unwrap()).unwrap(),
        Limit::new(
            "log",
            AlgorithmKind::SlidingWindowLog,
            Quota::per_hour(1_000).unwrap(),
        )
        .unwrap(),
    ])
    .unwrap()
}

/// Runs `call`, asserting it ends within the timeout and the slack.
async fn timed<T>(what: &str, call: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = call.await;
    let took = started.elapsed();
    eprintln!("{what}: {took:?}");
    assert!(took < TIMEOUT + SLACK, "{what} took {took:?}");
    out
}

fn assert_store_failure(what: &str, e: &RateLimitError) {
    assert!(
        matches!(
            e,
            RateLimitError::Unavailable {
                store: "postgres",
                ..
            } | RateLimitError::Timeout {
                store: "postgres",
                ..
            }
        ),
        "{what}: {e:?}"
    );
}

/// Retries `apply` until it succeeds again (the pool reconnecting), for at most 20 s.
async fn until_back(store: &PostgresRateLimitStore, key: &Key, policy: &Policy) {
    let started = Instant::now();
    loop {
        match store.apply(key, policy, 1).await {
            Ok(v) => {
                assert!(v.is_allowed(), "{v:?}");
                eprintln!("back after {:?}", started.elapsed());
                return;
            }
            Err(e) => {
                assert!(e.is_store_failure(), "{e:?}");
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "still failing: {e:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_fail_typed_and_quickly_when_the_server_dies_and_recover_when_it_returns() {
    let server = PrivatePostgres::start();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(1))
        .connect(&server.url())
        .await
        .unwrap();
    let store = PostgresRateLimitStore::new(pool.clone())
        .with_timeout(TIMEOUT)
        .unwrap();
    store.migrate().await.unwrap();
    let nonces = PostgresNonceStore::new(pool).with_timeout(TIMEOUT).unwrap();
    nonces.migrate().await.unwrap();
    let store = Arc::new(store);
    let fail_open = FallbackStore::new(
        Arc::clone(&store),
        MemoryStore::new(),
        FallbackMode::FailOpen,
    );
    let fail_closed = FallbackStore::new(
        Arc::clone(&store),
        MemoryStore::new(),
        FallbackMode::FailClosed,
    )
    .with_fail_closed_retry(Duration::from_secs(2));
    let secondary = FallbackStore::new(
        Arc::clone(&store),
        MemoryStore::new(),
        FallbackMode::Secondary,
    );
    let policy = policy();
    let key = Key::from("client-7");
    let ttl = Duration::from_secs(60);

    // Up: every path answers from Postgres.
    for _ in 0..5 {
        let v = store.apply(&key, &policy, 1).await.unwrap();
        assert_eq!(v.cause(), Cause::Admitted);
    }
    for fallback in [&fail_open, &fail_closed, &secondary] {
        assert_eq!(
            fallback.check(&key, &policy, 1).await.unwrap().cause(),
            Cause::Admitted
        );
    }
    assert_eq!(
        store.apply(&key, &policy, 1).await.unwrap().decisions()[1].remaining(),
        1_000 - 9
    );
    assert_eq!(
        nonces
            .insert_if_absent("faults", b"evt_1", ttl)
            .await
            .unwrap(),
        Freshness::Fresh
    );
    // Decisions in flight while the server dies.
    let inflight: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            let policy = policy.clone();
            tokio::spawn(async move {
                let key = Key::from(1_000 + i as u64);
                let started = Instant::now();
                let mut outcomes = Vec::new();
                while started.elapsed() < Duration::from_millis(1_500) {
                    let t = Instant::now();
                    let r = store.apply(&key, &policy, 1).await;
                    outcomes.push((r.map(|v| v.cause()), t.elapsed()));
                }
                outcomes
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Down.
    server.pg_stop_immediate();
    let mut failed_inflight = 0;
    for t in inflight {
        for (outcome, took) in t.await.unwrap() {
            assert!(took < TIMEOUT + SLACK, "in flight: {took:?}");
            match outcome {
                Ok(cause) => assert_eq!(cause, Cause::Admitted),
                Err(e) => {
                    assert_store_failure("in flight", &e);
                    failed_inflight += 1;
                }
            }
        }
    }
    assert!(
        failed_inflight > 0,
        "some calls ran while the server was down"
    );

    for round in 0..2 {
        let e = timed("apply", store.apply(&key, &policy, 1))
            .await
            .unwrap_err();
        eprintln!("down, round {round}: {e}");
        assert_store_failure("apply", &e);
        let e = timed("block", store.block(&key, Duration::from_secs(1)))
            .await
            .unwrap_err();
        assert_store_failure("block", &e);
        let e = timed("unblock", store.unblock(&key)).await.unwrap_err();
        assert_store_failure("unblock", &e);
        assert!(timed("cleanup", store.cleanup(100)).await.is_err());

        let v = timed("fail open", fail_open.check(&key, &policy, 1))
            .await
            .unwrap();
        assert_eq!(v.cause(), Cause::FailedOpen);
        assert!(v.is_allowed());
        let v = timed("fail closed", fail_closed.check(&key, &policy, 1))
            .await
            .unwrap();
        assert_eq!(v.cause(), Cause::FailedClosed);
        assert_eq!(v.retry_after(), Some(Duration::from_secs(2)));
        let v = timed("secondary", secondary.check(&key, &policy, 1))
            .await
            .unwrap();
        assert_eq!(v.cause(), Cause::Admitted, "the memory store answers");
        assert_eq!(
            v.decisions()[1].remaining(),
            1_000 - 1 - round,
            "counted by the secondary alone"
        );
        // Caller errors stay caller errors, even when the server is down.
        assert!(matches!(
            timed("bad cost", store.apply(&key, &policy, 0)).await,
            Err(RateLimitError::InvalidCost { .. })
        ));

        let e = timed(
            "nonce insert",
            nonces.insert_if_absent("faults", b"evt_2", ttl),
        )
        .await
        .unwrap_err();
        eprintln!("nonce store down: {e}");
        assert!(e.is_store_failure(), "{e:?}");
        assert!(
            timed("nonce remove", nonces.remove("faults", b"evt_1"))
                .await
                .unwrap_err()
                .is_store_failure()
        );
    }

    // Back: the same stores, the same pool, reconnecting.
    server.pg_start();
    until_back(&store, &key, &policy).await;
    let v = store.apply(&key, &policy, 1).await.unwrap();
    assert_eq!(v.cause(), Cause::Admitted);
    assert!(
        v.decisions()[1].remaining() < 1_000 - 9,
        "the state committed before the crash survived: {v:?}"
    );
    for fallback in [&fail_open, &fail_closed, &secondary] {
        assert_eq!(
            fallback.check(&key, &policy, 1).await.unwrap().cause(),
            Cause::Admitted
        );
    }
    store.block(&key, Duration::from_secs(60)).await.unwrap();
    assert_eq!(
        store.apply(&key, &policy, 1).await.unwrap().cause(),
        Cause::Blocked
    );
    store.unblock(&key).await.unwrap();
    assert_eq!(
        nonces
            .insert_if_absent("faults", b"evt_1", ttl)
            .await
            .unwrap(),
        Freshness::Replayed,
        "the nonce inserted before the crash survived"
    );
    assert_eq!(
        nonces
            .insert_if_absent("faults", b"evt_3", ttl)
            .await
            .unwrap(),
        Freshness::Fresh
    );
    drop(server);
}

#[test]
fn the_server_directory_is_removed() {
    // A guard that is dropped removes its directory even when the test fails early.
    let server = PrivatePostgres::start();
    let dir: PathBuf = server.dir.clone();
    assert!(Path::new(&dir).join("data").join("PG_VERSION").is_file());
    drop(server);
    assert!(!dir.exists(), "{}", dir.display());
}
