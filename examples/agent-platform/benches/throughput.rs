//! Requests per second of `GET /calls?phone=…` through the whole service against the same
//! handler with no Palisade layer, in one process, side by side in one run.
//!
//! * A, guarded: `agent_platform::build`'s router. Each request carries a session JWT (HS256,
//!   verified in process) and goes through the origin guard and security headers, the
//!   authentication layer, the tier quota (a tenant on `enterprise`: its tier read from
//!   Postgres, no quota kept), the per-principal API limit (GCRA on the Postgres store, set
//!   far above what the run reaches: one `ratelimit_apply` call per request), the audit layer
//!   (not a designated route: passes), the authorization layer (route permission through the
//!   role policy), then the handler.
//! * B, bare: `Platform::bare_calls_router` (feature `bench-hooks`): the same handler and
//!   state, no layer, the principal put in the extensions.
//!
//! The handler normalizes the phone to E.164 (palisade-sanitize), computes its blind index
//! (palisade-pii) and selects the page of calls by it (one Postgres query; the page holds the
//! stored masks, so nothing is decrypted). Requests go through `tower::ServiceExt::oneshot`
//! (no sockets) from `WORKERS` tasks; each phase is `WARM_UP` then `MEASURE`, alternating A,
//! B for `ROUNDS` rounds. CPU per request is the process's user+system time
//! (`/proc/self/stat`) over the requests of the phase, Postgres's own CPU not included.
//!
//! `cargo bench -p agent-platform --features bench-hooks --bench throughput`
//! (PostgreSQL at `PALISADE_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agent_platform::{Config, DEMO_PASSWORD, NewUser, build};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use http::{Request, StatusCode};
use palisade_rbac::{Principal, RoleName, SubjectId, TenantId};
use serde_json::json;
use tower::ServiceExt;

const WORKERS: usize = 16;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(4);
const ROUNDS: usize = 3;
const CALLS: usize = 20;
/// `getconf CLK_TCK` on Linux.
const TICKS_PER_SEC: f64 = 100.0;

fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

struct Phase {
    rps: f64,
    cpu_us: Option<f64>,
}

async fn phase(router: &Router, token: Option<Arc<str>>, duration: Duration) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let peer: SocketAddr = "198.51.100.7:40000".parse().unwrap();
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let (router, token, stop, count) =
            (router.clone(), token.clone(), stop.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let mut req = Request::get("/calls?phone=(415)%20555-0199");
                if let Some(t) = &token {
                    req = req.header("authorization", format!("Bearer {t}"));
                }
                let mut req = req.body(Body::empty()).unwrap();
                req.extensions_mut().insert(ConnectInfo(peer));
                let res = router.clone().oneshot(req).await.unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                let body = to_bytes(res.into_body(), 1 << 20).await.unwrap();
                assert!(body.len() > 100, "a page of calls");
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = count.load(Ordering::Relaxed) as f64;
    Phase {
        rps: n / elapsed,
        cpu_us: cpu0.zip(cpu_seconds()).map(|(a, b)| (b - a) / n * 1e6),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = std::env::var("PALISADE_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let schema = format!("ap_bench_{}", std::process::id());
        let mut config = Config::demo();
        config.schema = schema.clone();
        config.limits.api_per_minute = 1_000_000_000;
        let platform = build(&config, &url).await.unwrap();
        platform
            .create_tenant("acme", "Acme", "enterprise")
            .await
            .unwrap();
        let id = platform
            .create_user(&NewUser {
                tenant: "acme",
                role: "agent",
                email: "agent@acme.test",
                phone: None,
                password: Some(DEMO_PASSWORD),
            })
            .await
            .unwrap();
        let mut sign_in = Request::post("/auth/password")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"tenant": "acme", "email": "agent@acme.test", "password": DEMO_PASSWORD})
                    .to_string(),
            ))
            .unwrap();
        sign_in
            .extensions_mut()
            .insert(ConnectInfo("198.51.100.8:1".parse::<SocketAddr>().unwrap()));
        let res = platform.router.clone().oneshot(sign_in).await.unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(&to_bytes(res.into_body(), 1 << 16).await.unwrap()).unwrap();
        let token: Arc<str> = Arc::from(body["token"].as_str().unwrap());
        for _ in 0..CALLS {
            let mut req = Request::post("/calls")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"caller_phone": "+14155550199"}).to_string(),
                ))
                .unwrap();
            req.extensions_mut()
                .insert(ConnectInfo("198.51.100.8:1".parse::<SocketAddr>().unwrap()));
            assert_eq!(
                platform.router.clone().oneshot(req).await.unwrap().status(),
                StatusCode::CREATED
            );
        }
        let principal = Principal::new(
            TenantId::new("acme").unwrap(),
            SubjectId::new(format!("u-{id}")).unwrap(),
        )
        .with_roles([RoleName::new("agent").unwrap()]);
        let bare = platform.bare_calls_router(principal);

        println!(
            "GET /calls?phone=… ({CALLS} calls in the page), {WORKERS} workers, {} s per phase",
            MEASURE.as_secs()
        );
        println!(
            "| round | A guarded (req/s) | A CPU/req (µs) | B bare (req/s) | B CPU/req (µs) | B/A |"
        );
        println!("|---|---|---|---|---|---|");
        let fmt = |c: Option<f64>| c.map_or("-".to_owned(), |c| format!("{c:.0}"));
        let mut ratios = Vec::new();
        for round in 1..=ROUNDS {
            phase(&platform.router, Some(token.clone()), WARM_UP).await;
            let a = phase(&platform.router, Some(token.clone()), MEASURE).await;
            phase(&bare, None, WARM_UP).await;
            let b = phase(&bare, None, MEASURE).await;
            ratios.push(b.rps / a.rps);
            println!(
                "| {round} | {:.0} | {} | {:.0} | {} | {:.2} |",
                a.rps,
                fmt(a.cpu_us),
                b.rps,
                fmt(b.cpu_us),
                b.rps / a.rps
            );
        }
        println!(
            "mean B/A: {:.2}",
            ratios.iter().sum::<f64>() / ratios.len() as f64
        );
        use palisade_postgres::sqlx::{self, AssertSqlSafe};
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
            .execute(&pool)
            .await
            .unwrap();
    });
}
