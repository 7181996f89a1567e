//! What the palisade-tower layers of a webhook route cost over a bare axum handler, each layer
//! alone and all four together (rate limit, query credential, content type, verify + replay on
//! the memory nonce store), measured two ways in one run:
//!
//! * `layers-loopback`: each stack served by `axum::serve` on 127.0.0.1 (with `ConnectInfo`),
//!   `CONNECTIONS` keep-alive HTTP/1.1 connections sending requests back to back, one criterion
//!   iteration = one request (the time per iteration is 1 / requests per second). This is the
//!   method of `examples/webhook-gateway/benches/throughput.rs`: the bare handler's time
//!   includes hyper, the kernel's loopback and the load generator, which share the machine's
//!   cores with the server (one tokio runtime).
//! * `layers-oneshot`: the same routers called in process with `tower::ServiceExt::oneshot`,
//!   one request after another on one thread: the layers' own CPU, without sockets (the
//!   per-layer breakdown; `valgrind --tool=callgrind` counts the same path's instructions).
//!
//! **Time is CPU time**: each iteration reports the CPU the whole process (server, client, every
//! thread) spent per request, summed from `/proc/self/task/*/schedstat` (nanoseconds, Linux),
//! not wall time: on a machine shared with other builds, wall time measures the queue for the
//! cores, while CPU per request does not depend on it. When every core is busy with this
//! process, requests per second is the reciprocal of this figure times the cores, so the ratio
//! of two entries is the ratio of their throughputs (as the gateway bench's `CPU µs/req`).
//!
//! Every request is a distinct Stripe delivery (a 1.2 kB JSON event whose `id` varies), signed
//! at the current time before the timed part; any status but 200 fails the run. A Prometheus
//! recorder is installed, as in a deployed service, so the layers' metrics are recorded.
//!
//! `cargo bench -p palisade-tower --bench layers -- --warm-up-time 1 --measurement-time 3`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::{MethodRouter, post};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, StatusCode};
use palisade_ratelimit::{Limit, MemoryStore, Policy, Quota};
use palisade_replay::{MemoryNonceStore, ReplayGuard};
use palisade_tower::{ContentTypeLayer, QueryCredentialLayer, RateLimitLayer, WebhookLayer};
use palisade_webhook::{Message, SecretString, Stripe, Verifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tower::{ServiceBuilder, ServiceExt};

const PATH: &str = "/webhooks/stripe";
const SECRET: &str = "whsec_bench_0123456789abcdef0123456789";
const CONNECTIONS: usize = 32;

/// A Stripe `payment_intent.succeeded` event of about 1.2 kB, `id` filled in per request.
fn body(id: u64) -> String {
    format!(
        r#"{{"id":"evt_bench_{id:012}","object":"event","api_version":"2024-06-20","created":1680064028,"data":{{"object":{{"id":"pi_3MtwBwLkdIwHu7ix28a3tqPa","object":"payment_intent","amount":2000,"amount_capturable":0,"amount_received":2000,"capture_method":"automatic","currency":"usd","customer":"cus_NffrFeUfNV2Hib","description":"Order #1042","latest_charge":"ch_3MtwBwLkdIwHu7ix28a3tqPa","livemode":false,"payment_method":"pm_1MtwBwLkdIwHu7ixrK4b1LLr","payment_method_types":["card"],"receipt_email":"jenny.rosen@example.com","shipping":{{"name":"Jenny Rosen","phone":"+12025550143","address":{{"line1":"510 Townsend St","city":"San Francisco","state":"CA","postal_code":"94103","country":"US"}}}},"status":"succeeded","metadata":{{"order_id":"1042","channel":"web","note":"leave at the door, ring twice, thank you very much"}}}}}},"livemode":false,"pending_webhooks":1,"request":{{"id":"req_lmKtxA3xYA9qYs","idempotency_key":"a4ba0e53-6a09-4e0c-8f3b-2c5d8ab0a1e6"}},"type":"payment_intent.succeeded"}}"#
    )
}

fn verifier() -> Verifier<Stripe> {
    Verifier::new(Stripe, [SecretString::from(SECRET)]).unwrap()
}

/// The layer stacks compared, each over the same bare handler.
#[derive(Clone, Copy)]
enum Stack {
    Bare,
    RateLimit,
    QueryCredential,
    ContentType,
    WebhookReplay,
    All,
}

impl Stack {
    const EVERY: [Self; 6] = [
        Self::Bare,
        Self::RateLimit,
        Self::QueryCredential,
        Self::ContentType,
        Self::WebhookReplay,
        Self::All,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Bare => "bare handler",
            Self::RateLimit => "rate limit (GCRA, memory)",
            Self::QueryCredential => "query credential",
            Self::ContentType => "content type",
            Self::WebhookReplay => "verify + replay (memory)",
            Self::All => "all four layers",
        }
    }

    fn router(self) -> Router {
        // The gateway bench's bare handler: reads the body, answers 200 `accepted`.
        let handler: MethodRouter = post(|body: Bytes| async move {
            drop(body);
            (StatusCode::OK, "accepted")
        });
        let rate = || {
            let policy = Policy::single(
                Limit::gcra(
                    "bench",
                    Quota::new(1_000_000_000, Duration::from_secs(1)).unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
            RateLimitLayer::new("bench", MemoryStore::new(), policy)
        };
        let webhook = || {
            WebhookLayer::new(verifier())
                .replay_guard(ReplayGuard::new(nonce_store()))
                .route("stripe")
                .max_body(64 * 1024)
        };
        let handler = match self {
            Self::Bare => handler,
            Self::RateLimit => handler.layer(rate()),
            Self::QueryCredential => handler.layer(QueryCredentialLayer::new()),
            Self::ContentType => handler.layer(ContentTypeLayer::json()),
            Self::WebhookReplay => handler.layer(webhook()),
            // Outermost first, as the gateway orders them.
            Self::All => handler.layer(
                ServiceBuilder::new()
                    .layer(rate())
                    .layer(QueryCredentialLayer::new())
                    .layer(ContentTypeLayer::json())
                    .layer(webhook()),
            ),
        };
        Router::new().route(PATH, handler)
    }
}

/// The verify + replay stacks' nonce store. A long run (`--measurement-time 10 --sample-size
/// 30`) sends several million distinct deliveries within Stripe's 300 s tolerance, each kept
/// that long: with the default 1,000,000 entries the store would fill and, failing closed,
/// answer 503.
fn nonce_store() -> MemoryNonceStore {
    MemoryNonceStore::builder().cap(16_000_000).build().unwrap()
}

/// Distinct signed deliveries, numbered from a counter shared by every stack.
struct Deliveries {
    verifier: Verifier<Stripe>,
    next: AtomicU64,
}

impl Deliveries {
    /// `n` requests: (body, the signature headers).
    fn take(&self, n: u64) -> Vec<(String, Vec<(String, String)>)> {
        let first = self.next.fetch_add(n, Ordering::Relaxed);
        (first..first + n)
            .map(|id| {
                let body = body(id);
                let headers = self.verifier.sign(&Message::new(body.as_bytes())).unwrap();
                let headers = headers
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                (body, headers)
            })
            .collect()
    }

    /// `n` complete HTTP/1.1 requests.
    fn wire(&self, n: u64) -> Vec<Vec<u8>> {
        self.take(n)
            .into_iter()
            .map(|(body, headers)| {
                let mut req = format!(
                    "POST {PATH} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    req.push_str(&format!("{name}: {value}\r\n"));
                }
                req.push_str("\r\n");
                req.push_str(&body);
                req.into_bytes()
            })
            .collect()
    }

    /// `n` in-process requests, with the peer address `axum::serve` would attach.
    fn requests(&self, n: u64) -> Vec<Request<Body>> {
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        self.take(n)
            .into_iter()
            .map(|(body, headers)| {
                let mut req = Request::post(PATH).header("content-type", "application/json");
                for (name, value) in headers {
                    req = req.header(name, value);
                }
                req.extension(ConnectInfo(peer))
                    .body(Body::from(body))
                    .unwrap()
            })
            .collect()
    }
}

/// One keep-alive connection: sends each request, waits for its 200 (the response's length is
/// read from its `content-length`).
async fn drive(addr: SocketAddr, requests: Vec<Vec<u8>>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut buf = Vec::with_capacity(4096);
    for request in requests {
        stream.write_all(&request).await.unwrap();
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&buf[..end])
                    .unwrap()
                    .to_ascii_lowercase();
                assert!(head.starts_with("http/1.1 200 "), "{head}");
                let len: usize = head
                    .split("\r\n")
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap();
                if buf.len() >= end + 4 + len {
                    buf.drain(..end + 4 + len);
                    break;
                }
            }
            let mut chunk = [0_u8; 2048];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed");
            buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The CPU time of every thread of this process so far (Linux `schedstat`: its first field is
/// the time on a CPU, in nanoseconds).
fn cpu_now() -> Duration {
    let tasks = std::fs::read_dir("/proc/self/task").expect("Linux /proc (CPU time per thread)");
    let nanos: u64 = tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

fn runtime() -> Runtime {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap()
}

fn install_recorder() {
    // Ignored when another bench of this binary installed it first.
    let _ = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder();
}

fn loopback(c: &mut Criterion) {
    install_recorder();
    let rt = runtime();
    let deliveries = Arc::new(Deliveries {
        verifier: verifier(),
        next: AtomicU64::new(0),
    });
    let mut g = c.benchmark_group("layers-loopback");
    for stack in Stack::EVERY {
        let addr = rt.block_on(serve(stack.router()));
        g.bench_function(stack.name(), |b| {
            b.iter_custom(|iters| {
                // Signed before the clock starts; dealt round-robin to the connections.
                let mut per_conn: Vec<Vec<Vec<u8>>> = vec![Vec::new(); CONNECTIONS];
                for (i, r) in deliveries.wire(iters).into_iter().enumerate() {
                    per_conn[i % CONNECTIONS].push(r);
                }
                rt.block_on(async {
                    let start = cpu_now();
                    let tasks: Vec<_> = per_conn
                        .into_iter()
                        .filter(|r| !r.is_empty())
                        .map(|r| tokio::spawn(drive(addr, r)))
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                    cpu_now().saturating_sub(start)
                })
            });
        });
    }
    g.finish();
}

fn oneshot(c: &mut Criterion) {
    install_recorder();
    let rt = runtime();
    let deliveries = Deliveries {
        verifier: verifier(),
        next: AtomicU64::new(1 << 40),
    };
    let mut g = c.benchmark_group("layers-oneshot");
    for stack in Stack::EVERY {
        let router = stack.router();
        g.bench_function(stack.name(), |b| {
            b.iter_custom(|iters| {
                let requests = deliveries.requests(iters);
                rt.block_on(async {
                    let start = cpu_now();
                    for req in requests {
                        let res = router.clone().oneshot(req).await.unwrap();
                        assert_eq!(res.status(), StatusCode::OK);
                        let body = axum::body::to_bytes(res.into_body(), 64).await.unwrap();
                        std::hint::black_box(body);
                    }
                    cpu_now().saturating_sub(start)
                })
            });
        });
    }
    g.finish();
}

criterion_group!(benches, oneshot, loopback);
criterion_main!(benches);
