//! Deliveries end to end: a delivery whose storage fails is stored by the provider's retry,
//! once; a delivery stored and sent again is answered 200 as a duplicate and not stored again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use palisade_webhook::{AnyScheme, Message, Provider, SecretString, Verifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use webhook_gateway::test_hooks::build_failing_writes;
use webhook_gateway::{Config, DEMO_EVENTS_TOKEN, DEMO_SECRETS, build, serve};

async fn start(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, router, std::future::pending()));
    addr
}

struct Reply {
    status: u16,
    /// The `Palisade-Webhook-Duplicate` header, when present.
    duplicate: Option<String>,
    body: String,
}

/// One HTTP/1.1 request on its own connection, read to the end.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Reply {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let duplicate = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("palisade-webhook-duplicate")
            .then(|| value.trim().to_owned())
    });
    Reply {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        duplicate,
        body: body.to_owned(),
    }
}

/// A delivery to the demo route `route`, signed with its demo secret as the provider would.
fn delivery(route: &str, message: Message<'_>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let provider: Provider = route.parse().unwrap();
    let secret = DEMO_SECRETS
        .iter()
        .find(|(name, _)| *name == route)
        .unwrap()
        .1;
    let verifier = Verifier::new(
        AnyScheme::for_provider(provider).unwrap(),
        [SecretString::from(secret)],
    )
    .unwrap();
    let mut headers: Vec<(String, String)> = verifier
        .sign(&message)
        .unwrap()
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    headers.extend(
        extra
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    headers
}

fn sample(file: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(file),
    )
    .unwrap()
}

/// How many stored events `GET /events` lists for `route`.
async fn stored(addr: SocketAddr, route: &str) -> usize {
    let bearer = [(
        "Authorization".to_owned(),
        format!("Bearer {DEMO_EVENTS_TOKEN}"),
    )];
    let res = http(addr, "GET", "/events", &bearer, b"").await;
    assert_eq!(res.status, 200);
    let events: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["route"] == route)
        .count()
}

/// GitHub retries with the same bytes; Standard Webhooks with the same `webhook-id`. The first
/// attempt fails to be stored (500); the retry is stored, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_store_is_stored_by_the_retry_once() {
    let github = sample("github-push.json");
    let standard = sample("standard-webhooks-message.json");
    let cases = [
        (
            "github",
            delivery(
                "github",
                Message::new(&github),
                &[
                    ("X-GitHub-Event", "push"),
                    ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
                ],
            ),
            &github,
        ),
        (
            "standard",
            delivery(
                "standard",
                Message::new(&standard).id("msg_delivery_retry"),
                &[],
            ),
            &standard,
        ),
    ];
    for (route, headers, body) in cases {
        // A gateway whose next event write fails, as a database outage would.
        let addr = start(build_failing_writes(&Config::demo(), 1).await.unwrap()).await;
        let path = format!("/webhooks/{route}");

        let res = http(addr, "POST", &path, &headers, body).await;
        assert_eq!(
            (res.status, res.body.as_str()),
            (500, "event store unavailable"),
            "{route}"
        );
        assert_eq!(stored(addr, route).await, 0, "{route}");

        // The provider's retry: the same delivery.
        let res = http(addr, "POST", &path, &headers, body).await;
        assert_eq!(
            (res.status, res.duplicate, res.body.as_str()),
            (200, None, "accepted"),
            "{route}"
        );
        assert_eq!(stored(addr, route).await, 1, "{route}");

        // A late copy of the same delivery: answered, not stored again.
        let res = http(addr, "POST", &path, &headers, body).await;
        assert_eq!(
            (res.status, res.duplicate.as_deref()),
            (200, Some("completed")),
            "{route}"
        );
        assert_eq!(stored(addr, route).await, 1, "{route}");
    }
}

/// A stored delivery sent again (the provider did not see the answer): 200, marked as a
/// duplicate, so the provider stops retrying; stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_delivery_sent_again_gets_200_and_is_stored_once() {
    let addr = start(build(&Config::demo()).await.unwrap()).await;
    let body = sample("stripe-payment_intent.succeeded.json");
    let headers = delivery("stripe", Message::new(&body), &[]);

    let res = http(addr, "POST", "/webhooks/stripe", &headers, &body).await;
    assert_eq!(
        (res.status, res.duplicate, res.body.as_str()),
        (200, None, "accepted")
    );
    for _ in 0..2 {
        let res = http(addr, "POST", "/webhooks/stripe", &headers, &body).await;
        assert_eq!(
            (res.status, res.duplicate.as_deref(), res.body.as_str()),
            (200, Some("completed"), "duplicate webhook delivery")
        );
    }
    assert_eq!(stored(addr, "stripe").await, 1);
}
