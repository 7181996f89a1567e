//! The gateway with its replay nonces and rate limits on Redis and on Postgres: a delivery is
//! accepted once, and refused as a replay by a second gateway on the same store (another
//! instance); and two gateways on one store share one rate limit per client.
//!
//! The servers are `PALISADE_REDIS_URL` (default `redis://127.0.0.1:6379/`) and
//! `PALISADE_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`), as for the
//! store crates' conformance tests; CI starts them with `.ci/services`. These tests fail,
//! never skip, when a server does not answer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use palisade_webhook::{GitHub, Message, SecretString, Verifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use webhook_gateway::{Config, build, serve};

const SECRET: &str = "stores-test-github-secret";

async fn start(store: &str) -> SocketAddr {
    start_with(store, "").await
}

/// A gateway on `store` with one GitHub route `gh`, and `extra` appended to that route's table.
async fn start_with(store: &str, extra: &str) -> SocketAddr {
    let config = Config::from_toml(&format!(
        "store = \"{store}\"\n[routes.gh]\nprovider = \"github\"\nsecrets = [\"{SECRET}\"]\n{extra}"
    ))
    .unwrap();
    let router = build(&config)
        .await
        .unwrap_or_else(|e| panic!("the store must answer (.ci/services): {e}"));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, router, std::future::pending()));
    addr
}

async fn post(addr: SocketAddr, body: &str) -> u16 {
    post_full(addr, body).await.0
}

/// The status, and whether the answer is marked as a duplicate of a completed delivery.
async fn post_full(addr: SocketAddr, body: &str) -> (u16, bool) {
    let verifier = Verifier::new(GitHub::new(), [SecretString::from(SECRET)]).unwrap();
    let mut head = format!(
        "POST /webhooks/gh HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in verifier
        .sign(&Message::new(body.as_bytes()))
        .unwrap()
        .iter()
    {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let duplicate = raw
        .to_ascii_lowercase()
        .contains("\r\npalisade-webhook-duplicate: completed\r\n");
    (raw.split(' ').nth(1).unwrap().parse().unwrap(), duplicate)
}

/// Two gateways on one store: the second answers as a duplicate what the first handled.
async fn shared_store(store: &str) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let body = format!(r#"{{"zen":"Keep it logically awesome.","hook_id":{nanos}}}"#);
    let first = start(store).await;
    let second = start(store).await;
    assert_eq!(post_full(first, &body).await, (200, false));
    assert_eq!(post_full(second, &body).await, (200, true));
    assert_eq!(post_full(first, &body).await, (200, true));
}

/// Two gateways on one store, a limit of 3 per hour per client IP on a route of its own: the
/// limit holds across both (3 admitted in all, whichever gateway is asked), then 429.
async fn shared_rate_limit(store: &str) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // A quota no other run uses (the policy id covers the quota), so runs never share a count.
    let limit = 3;
    let period = 3_600 + (nanos % 1_000_000) as u64;
    let extra = format!(
        "[routes.gh.rate_limit]\nalgorithm = \"fixed-window\"\nlimit = {limit}\nperiod_secs = {period}\n"
    );
    let gateways = [
        start_with(store, &extra).await,
        start_with(store, &extra).await,
    ];
    let mut statuses = Vec::new();
    for i in 0..6 {
        let body = format!(r#"{{"zen":"Design for failure.","hook_id":{nanos}{i}}}"#);
        statuses.push(post(gateways[i % 2], &body).await);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429], "{store}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_shared_rate_limit() {
    let url = std::env::var("PALISADE_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned());
    shared_rate_limit(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_shared_rate_limit() {
    let url = std::env::var("PALISADE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    shared_rate_limit(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_nonce_store() {
    let url = std::env::var("PALISADE_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned());
    shared_store(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nonce_store() {
    let url = std::env::var("PALISADE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    shared_store(&url).await;
}
