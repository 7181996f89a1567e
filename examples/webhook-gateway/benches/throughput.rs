//! Requests per second through the gateway's whole layer stack against a bare axum handler, in
//! one process on loopback.
//!
//! * Server A: [`webhook_gateway::build`] with one Stripe route (the demo secret, GCRA rate
//!   limit set far above anything reachable, replay guard on the memory nonce store, every
//!   layer), served with [`webhook_gateway::serve`].
//! * Server B: a bare axum router on the same path whose handler reads the POST body and answers
//!   200 `accepted`: no layers and none of the gateway's event bookkeeping (the gateway's
//!   handler is private).
//!
//! Both receive the same bytes: distinct, signed Stripe deliveries (the event `id` varies, so
//! the replay guard accepts every one of them), pre-built before each A phase and outside the
//! timing. The load generator is `CONNECTIONS` keep-alive HTTP/1.1 connections sending requests
//! back to back and reading each response by `Content-Length`; every non-200 fails the run. Each
//! phase is `WARM_UP` (not counted) then `MEASURE`, alternating A, B for `ROUNDS` rounds. Servers
//! and load generator share one tokio runtime (and the machine's cores).
//!
//! `cargo bench -p webhook-gateway --bench throughput`
//!
//! With `-- --in-process gateway|bare N` it runs N requests through the router in process
//! instead (no sockets, one thread), for a profiler: `valgrind --tool=callgrind
//! --toggle-collect='*run_in_process*' target/release/deps/throughput-* --in-process gateway
//! 2000`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

/// The gateway binary's allocator (`src/main.rs`), for both servers of this process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::post;
use bytes::Bytes;
use http::StatusCode;
use palisade_webhook::{AnyScheme, Message, Provider, SecretString, SignedHeaders, Verifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::Service;
use webhook_gateway::{Config, DEMO_SECRETS, RateLimitConfig, RouteConfig, build, serve};

const CONNECTIONS: usize = 32;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);
const ROUNDS: usize = 3;
const PATH: &str = "/webhooks/stripe";
/// Requests in the pool for the first A phase (before any rate is known).
const FIRST_POOL: usize = 600_000;
/// `getconf CLK_TCK` on Linux: the unit of `utime`/`stime` in `/proc/self/stat`.
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

fn stripe_secret() -> &'static str {
    DEMO_SECRETS
        .iter()
        .find(|(name, _)| *name == "stripe")
        .map(|(_, s)| *s)
        .unwrap()
}

fn config() -> Config {
    let route = RouteConfig {
        provider: "stripe".to_owned(),
        secrets: vec![stripe_secret().to_owned()],
        secrets_env: Vec::new(),
        public_url: None,
        rate_limit: Some(RateLimitConfig {
            algorithm: "gcra".to_owned(),
            limit: 1_000_000_000,
            period_secs: 1,
            burst: None,
        }),
        max_body: None,
    };
    let mut routes = BTreeMap::new();
    routes.insert("stripe".to_owned(), route);
    let mut config = Config::demo();
    config.routes = routes;
    // Every delivery's id stays live for 601 s, longer than the whole run: room for
    // all of them (about 2 million at 60,000 req/s; 33 bytes each). The default cap (one
    // million) refused deliveries with 503 in the third round on a quiet machine.
    config.nonce_cap = Some(8_000_000);
    config
}

/// The signed requests, each a complete HTTP/1.1 request, handed out once each.
struct Pool {
    requests: Vec<Vec<u8>>,
    next: AtomicUsize,
    /// B may reuse requests (it keeps no nonces); A may not.
    wrap: bool,
}

impl Pool {
    fn take(&self) -> Option<&[u8]> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let i = if self.wrap {
            i % self.requests.len()
        } else {
            i
        };
        self.requests.get(i).map(Vec::as_slice)
    }
}

/// `n` distinct Stripe deliveries numbered from `first_id`: the body and its signature headers.
fn sign_deliveries(n: usize, first_id: usize) -> Vec<(String, SignedHeaders)> {
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join("stripe-payment_intent.succeeded.json"),
    )
    .unwrap();
    let original = "\"id\": \"evt_3MtwBwLkdIwHu7ix28a3tqPa\"";
    assert!(template.contains(original));
    let verifier = Verifier::new(
        AnyScheme::for_provider(Provider::Stripe).unwrap(),
        [SecretString::from(stripe_secret())],
    )
    .unwrap();
    (first_id..first_id + n)
        .map(|id| {
            let body = template.replacen(original, &format!("\"id\": \"evt_bench_{id:012}\""), 1);
            let headers = verifier.sign(&Message::new(body.as_bytes())).unwrap();
            (body, headers)
        })
        .collect()
}

fn sign_pool(n: usize, first_id: usize, addr_host: &str) -> Vec<Vec<u8>> {
    sign_deliveries(n, first_id)
        .into_iter()
        .map(|(body, headers)| {
            let mut req = format!(
                "POST {PATH} HTTP/1.1\r\nHost: {addr_host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            );
            for (name, value) in headers.iter() {
                req.push_str(&format!("{name}: {value}\r\n"));
            }
            req.push_str("\r\n");
            req.push_str(&body);
            req.into_bytes()
        })
        .collect()
}

/// The same deliveries as in-process requests (with the `ConnectInfo` `serve` would attach).
fn in_process_pool(n: usize) -> Vec<http::Request<Body>> {
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    sign_deliveries(n, 0)
        .into_iter()
        .map(|(body, headers)| {
            let mut req = http::Request::post(PATH)
                .header("host", "127.0.0.1")
                .header("content-type", "application/json");
            for (name, value) in headers.iter() {
                req = req.header(name, value);
            }
            req.extension(ConnectInfo(peer))
                .body(Body::from(body))
                .unwrap()
        })
        .collect()
}

/// Every request of `pool` through `router`, in process, on `runtime` (each must answer 200).
/// Not inlined: `valgrind --tool=callgrind --toggle-collect='*run_in_process*'` counts only
/// this.
#[inline(never)]
fn run_in_process(
    runtime: &tokio::runtime::Runtime,
    router: &Router,
    pool: Vec<http::Request<Body>>,
) {
    runtime.block_on(async {
        for req in pool {
            let res = router.clone().call(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            drop(axum::body::to_bytes(res.into_body(), 1024).await.unwrap());
        }
    });
}

/// `--in-process gateway|bare N`: N requests in process, no sockets, on one thread: the
/// harness of the per-layer profile (perf, callgrind).
fn in_process(which: &str, n: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let router = match which {
        "gateway" => runtime.block_on(build(&config())).unwrap(),
        "bare" => bare_router(),
        other => panic!("--in-process gateway|bare, not {other}"),
    };
    let pool = in_process_pool(n);
    let start = Instant::now();
    run_in_process(&runtime, &router, pool);
    let elapsed = start.elapsed();
    #[allow(clippy::cast_precision_loss)]
    let per = elapsed.as_secs_f64() * 1e6 / n as f64;
    println!("{which}: {n} requests in process, {per:.2} µs each");
}

#[derive(Default, Clone, Copy)]
struct Stats {
    ok: u64,
    latency: Duration,
}

/// Reads one response (head, then `Content-Length` bytes) from `stream`; `buf` keeps what is
/// read past it. Returns the status and the body.
async fn read_response(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<(u16, Vec<u8>), String> {
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before a response".to_owned());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .ok_or_else(|| format!("no content-length in {head:?}"))?;
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed inside a body".to_owned());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Ok((status, body))
}

async fn connection(addr: SocketAddr, pool: Arc<Pool>, until: Instant) -> Result<Stats, String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(8192);
    let mut stats = Stats::default();
    while Instant::now() < until {
        let request = pool
            .take()
            .ok_or("the pool of signed requests ran out: raise its size")?;
        let start = Instant::now();
        stream.write_all(request).await.map_err(|e| e.to_string())?;
        let (status, body) = read_response(&mut stream, &mut buf).await?;
        if status != 200 {
            return Err(format!(
                "{addr}: status {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        stats.latency += start.elapsed();
        stats.ok += 1;
    }
    Ok(stats)
}

/// `CONNECTIONS` connections for `duration`: the 200 responses, their summed latency and the
/// wall time until the last connection finished.
async fn phase(addr: SocketAddr, pool: &Arc<Pool>, duration: Duration) -> (Stats, Duration) {
    let start = Instant::now();
    let until = start + duration;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| tokio::spawn(connection(addr, Arc::clone(pool), until)))
        .collect();
    let mut total = Stats::default();
    for task in tasks {
        match task.await.unwrap() {
            Ok(s) => {
                total.ok += s.ok;
                total.latency += s.latency;
            }
            Err(e) => panic!("load generator: {e}"),
        }
    }
    (total, start.elapsed())
}

/// This process's user + system CPU time (Linux `/proc/self/stat`), or `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64(
        (utime + stime) / CLOCK_TICKS_PER_SEC,
    ))
}

struct Measured {
    rps: f64,
    latency_us: f64,
    cpu_us: Option<f64>,
}

async fn measure(addr: SocketAddr, pool: &Arc<Pool>) -> Measured {
    let _ = phase(addr, pool, WARM_UP).await;
    let cpu0 = cpu_time();
    let (stats, wall) = phase(addr, pool, MEASURE).await;
    let cpu1 = cpu_time();
    assert!(stats.ok > 0, "no request completed");
    #[allow(clippy::cast_precision_loss)]
    let ok = stats.ok as f64;
    Measured {
        rps: ok / wall.as_secs_f64(),
        latency_us: stats.latency.as_secs_f64() * 1e6 / ok,
        cpu_us: cpu0
            .zip(cpu1)
            .map(|(a, b)| b.saturating_sub(a).as_secs_f64() * 1e6 / ok),
    }
}

async fn start_gateway() -> SocketAddr {
    let router = build(&config()).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, router, std::future::pending()));
    addr
}

fn bare_router() -> Router {
    Router::new().route(
        PATH,
        post(|body: Bytes| async move {
            drop(body);
            (StatusCode::OK, "accepted")
        }),
    )
}

async fn start_bare() -> SocketAddr {
    let router = bare_router();
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

fn fmt_cpu(cpu: Option<f64>) -> String {
    cpu.map_or_else(|| "-".to_owned(), |c| format!("{c:.1}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--in-process") {
        let which = args.get(i + 1).map_or("gateway", String::as_str);
        let n = args.get(i + 2).map_or(10_000, |n| n.parse().unwrap());
        in_process(which, n);
        return;
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let a = start_gateway().await;
        let b = start_bare().await;
        println!(
            "webhook-gateway throughput: {threads} worker threads (servers and load generator share them), \
             {CONNECTIONS} keep-alive connections, {}s warm-up + {}s measured per phase, {ROUNDS} rounds A,B",
            WARM_UP.as_secs(),
            MEASURE.as_secs()
        );
        let mut next_id = 0_usize;
        let mut pool_size = FIRST_POOL;
        let mut results: Vec<(Measured, Measured)> = Vec::new();
        for round in 1..=ROUNDS {
            let signing = Instant::now();
            let requests = sign_pool(pool_size, next_id, &a.to_string());
            next_id += pool_size;
            println!(
                "round {round}: signed {pool_size} distinct Stripe deliveries in {:.2}s (not timed)",
                signing.elapsed().as_secs_f64()
            );
            // Signed with the current time, just before use: well within Stripe's 300 s tolerance.
            let pool_a = Arc::new(Pool {
                requests,
                next: AtomicUsize::new(0),
                wrap: false,
            });
            let ma = measure(a, &pool_a).await;
            // B gets the same bytes (it ignores the signature and keeps nothing).
            let pool_b = Arc::new(Pool {
                requests: Arc::try_unwrap(pool_a).ok().unwrap().requests,
                next: AtomicUsize::new(0),
                wrap: true,
            });
            let mb = measure(b, &pool_b).await;
            println!(
                "round {round}: A (gateway) {:>9.0} req/s, mean latency {:>7.1} µs, CPU {} µs/req | \
                 B (bare) {:>9.0} req/s, mean latency {:>7.1} µs, CPU {} µs/req | B/A {:.2}",
                ma.rps,
                ma.latency_us,
                fmt_cpu(ma.cpu_us),
                mb.rps,
                mb.latency_us,
                fmt_cpu(mb.cpu_us),
                mb.rps / ma.rps
            );
            // Next A phase: room for twice the best A rate over warm-up + measure.
            let best_a = results.iter().map(|(x, _)| x.rps).fold(ma.rps, f64::max);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            {
                pool_size = ((best_a * (WARM_UP + MEASURE).as_secs_f64() * 2.0) as usize)
                    .max(20_000);
            }
            results.push((ma, mb));
        }
        let best_a = results.iter().map(|(x, _)| x.rps).fold(0.0, f64::max);
        let best_b = results.iter().map(|(_, y)| y.rps).fold(0.0, f64::max);
        #[allow(clippy::cast_precision_loss)]
        let n = results.len() as f64;
        let mean = |f: &dyn Fn(&(Measured, Measured)) -> f64| results.iter().map(f).sum::<f64>() / n;
        println!(
            "best: A {best_a:.0} req/s, B {best_b:.0} req/s; B/A (overhead factor) {:.2}, A/B {:.3}",
            best_b / best_a,
            best_a / best_b
        );
        println!(
            "mean latency: A {:.1} µs, B {:.1} µs; mean CPU per request (whole process): A {:.1} µs, B {:.1} µs, difference {:.1} µs",
            mean(&|r| r.0.latency_us),
            mean(&|r| r.1.latency_us),
            mean(&|r| r.0.cpu_us.unwrap_or(f64::NAN)),
            mean(&|r| r.1.cpu_us.unwrap_or(f64::NAN)),
            mean(&|r| r.0.cpu_us.unwrap_or(f64::NAN) - r.1.cpu_us.unwrap_or(f64::NAN)),
        );
    });
}
