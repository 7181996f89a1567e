//! Secrets rotated in a running gateway (in-process, on 127.0.0.1:0), read from a secrets
//! directory (`[secrets] source = "dir"`, as Docker and Kubernetes mount them): a `SIGHUP`
//! swaps the webhook secret without a restart, and no request fails while secrets are swapped
//! under concurrent load.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use palisade_webhook::{Message, SecretString, Stripe, Verifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use webhook_gateway::{Config, Gateway, build_gateway, serve};

const OLD: &str = "whsec_rotation_old_0123456789";
const NEW: &str = "whsec_rotation_new_0123456789";

/// Writes the secret file atomically, as Kubernetes and `mv` do.
fn put(dir: &Path, value: &str) {
    let tmp = dir.join(".stripe_webhook_secret.tmp");
    std::fs::write(&tmp, value).unwrap();
    std::fs::rename(tmp, dir.join("stripe_webhook_secret")).unwrap();
}

fn config(dir: &Path) -> Config {
    Config::from_toml(&format!(
        "[secrets]\nsource = \"dir\"\ndir = {:?}\n\n\
         [routes.stripe]\nprovider = \"stripe\"\nsecret_names = [\"stripe_webhook_secret\"]\n",
        dir.display().to_string()
    ))
    .unwrap()
}

async fn start(dir: &Path) -> (SocketAddr, Gateway) {
    let gateway = build_gateway(&config(dir)).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(
        listener,
        gateway.router.clone(),
        std::future::pending(),
    ));
    (addr, gateway)
}

/// A fresh delivery id for every request: no two are replays of each other.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// POSTs a Stripe delivery signed with `secret`; the status code.
async fn deliver(addr: SocketAddr, secret: &str) -> u16 {
    let id = NEXT.fetch_add(1, Ordering::SeqCst);
    let body = format!(r#"{{"id":"evt_rot_{id}","type":"ping"}}"#);
    let signer = Verifier::new(Stripe, [SecretString::from(secret)]).unwrap();
    let signed = signer.sign(&Message::new(body.as_bytes())).unwrap();
    let mut head = format!(
        "POST /webhooks/stripe HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in signed.iter() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rotates_the_webhook_secret_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), OLD);
    let (addr, gateway) = start(dir.path()).await;
    let _sighup = webhook_gateway::reload_on_sighup(gateway.reloader.clone()).unwrap();
    assert_eq!(deliver(addr, OLD).await, 200);
    assert_eq!(deliver(addr, NEW).await, 401);

    // The secret is replaced (no overlap: the provider switched), then the process gets
    // SIGHUP, as `kill -HUP <pid>` sends it.
    put(dir.path(), NEW);
    // Before the signal, the running gateway still verifies with what it loaded.
    assert_eq!(deliver(addr, NEW).await, 401);
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The reload runs in the gateway's task: wait (bounded) until it has happened.
    let mut rotated = false;
    for _ in 0..200 {
        if deliver(addr, NEW).await == 200 {
            rotated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(rotated, "the new secret was not accepted after SIGHUP");
    assert_eq!(deliver(addr, OLD).await, 401);
    assert_eq!(deliver(addr, NEW).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_request_fails_while_secrets_are_swapped_under_load() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), OLD);
    let (addr, gateway) = start(dir.path()).await;

    // Senders that sign with the old secret, as the provider does until it switches.
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for _ in 0..6 {
        let stop = Arc::clone(&stop);
        senders.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                statuses.push(deliver(addr, OLD).await);
            }
            statuses
        }));
    }
    // Rotations while they send: each new secret is deployed with the old one kept, newest
    // first, as a rotation is done; every reload swaps a new verifier in.
    for round in 0..20 {
        let next = format!("whsec_rotation_round_{round:02}_0123456789");
        put(dir.path(), &format!("{next}\n{OLD}\n"));
        let reloaded = gateway.reloader.reload().await;
        assert_eq!(reloaded.swapped, ["stripe"], "round {round}");
        assert!(reloaded.failed.is_empty());
        assert_eq!(deliver(addr, &next).await, 200, "round {round}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let mut sent = 0;
    for sender in senders {
        let statuses = sender.await.unwrap();
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        sent += statuses.len();
    }
    assert!(sent > 0);

    // The rotation ends: the old secret is removed, and refused from the next reload on.
    put(dir.path(), NEW);
    assert_eq!(gateway.reloader.reload().await.swapped, ["stripe"]);
    assert_eq!(deliver(addr, OLD).await, 401);
    assert_eq!(deliver(addr, NEW).await, 200);
    // Nothing changed: nothing swapped.
    assert!(gateway.reloader.reload().await.swapped.is_empty());
}

#[tokio::test]
async fn a_bad_reload_keeps_the_working_secrets() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), OLD);
    let (addr, gateway) = start(dir.path()).await;
    std::fs::remove_file(dir.path().join("stripe_webhook_secret")).unwrap();
    let reloaded = gateway.reloader.reload().await;
    assert!(reloaded.swapped.is_empty());
    assert_eq!(reloaded.failed.len(), 1);
    assert!(
        reloaded.failed[0].1.contains("stripe_webhook_secret"),
        "{:?}",
        reloaded.failed
    );
    assert_eq!(deliver(addr, OLD).await, 200);
}

#[tokio::test]
async fn startup_names_every_missing_secret() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "events_token_env = \"events_token\"\n\
         [secrets]\nsource = \"dir\"\ndir = {:?}\n\n\
         [routes.stripe]\nprovider = \"stripe\"\nsecret_names = [\"stripe_webhook_secret\"]\n\
         [routes.github]\nprovider = \"github\"\nsecret_names = [\"github_webhook_secret\"]\n",
        dir.path().display().to_string()
    );
    let error = build_gateway(&Config::from_toml(&text).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(
            "missing required secrets: events_token, github_webhook_secret, stripe_webhook_secret"
        ),
        "{error}"
    );
    // Once they are there, the gateway starts, its GET /events token read from the directory.
    std::fs::write(
        dir.path().join("events_token"),
        "events-token-from-a-secret-file\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("github_webhook_secret"),
        "github-secret-0123456789",
    )
    .unwrap();
    std::fs::write(dir.path().join("stripe_webhook_secret"), OLD).unwrap();
    let gateway = build_gateway(&Config::from_toml(&text).unwrap())
        .await
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, gateway.router, std::future::pending()));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /events HTTP/1.1\r\nhost: gateway\r\nconnection: close\r\n\
              authorization: Bearer events-token-from-a-secret-file\r\n\r\n",
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    assert!(
        raw.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    // An unknown source is refused at start.
    let unknown = Config::from_toml(
        "[secrets]\nsource = \"vault\"\n[routes.s]\nprovider = \"stripe\"\nsecret_names = [\"s\"]\n",
    )
    .unwrap();
    let error = build_gateway(&unknown).await.unwrap_err().to_string();
    assert!(error.contains("`[secrets]` source `vault`"), "{error}");
}
