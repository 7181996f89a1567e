//! The rate-limit layer behind an axum router: socket IPs, trusted proxies, failing stores.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use palisade_ratelimit::testing::FailingStore;
use palisade_ratelimit::{HeaderStyle, Limit, MemoryStore, Policy, Quota, RateLimitStore};
use palisade_tower::{ClientIp, ForwardedHeader, OnStoreFailure, RateLimitLayer};
use tower::ServiceExt;

fn policy(per_minute: u64) -> Policy {
    Policy::single(Limit::gcra("test", Quota::per_minute(per_minute).unwrap()).unwrap()).unwrap()
}

fn app(layer: RateLimitLayer) -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/other", get(|| async { "other" }))
        .layer(layer)
}

fn from(peer: &str, path: &str, xff: Option<&str>) -> Request<Body> {
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    if let Some(xff) = xff {
        req.headers_mut()
            .insert("x-forwarded-for", xff.parse().unwrap());
    }
    req.extensions_mut()
        .insert(peer.parse::<SocketAddr>().unwrap());
    req
}

async fn status(app: &Router, req: Request<Body>) -> StatusCode {
    app.clone().oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn n_plus_one_requests_from_one_ip() {
    let app =
        app(RateLimitLayer::new("api", MemoryStore::new(), policy(3))
            .header_style(HeaderStyle::Both));
    for _ in 0..3 {
        let res = app
            .clone()
            .oneshot(from("203.0.113.1:5000", "/", None))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().contains_key("ratelimit-policy"));
        assert!(res.headers().contains_key("ratelimit"));
        assert!(res.headers().contains_key("ratelimit-remaining"));
        assert!(!res.headers().contains_key("retry-after"));
    }
    let res = app
        .clone()
        .oneshot(from("203.0.113.1:5001", "/", None))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(res.headers()["ratelimit-remaining"], "0");
    assert!(res.headers().contains_key("ratelimit-policy"));
    // Another client is not affected.
    assert_eq!(
        status(&app, from("203.0.113.2:5000", "/", None)).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn forwarded_for_only_from_trusted_proxies() {
    let layer =
        RateLimitLayer::new("api", MemoryStore::new(), policy(1)).client_ip(ClientIp::new().trust(
            ["10.0.0.0/8".parse().unwrap()],
            ForwardedHeader::XForwardedFor,
        ));
    let app = app(layer);

    // Untrusted peer: its X-Forwarded-For is ignored, so rotating it does not help.
    assert_eq!(
        status(&app, from("198.51.100.7:1", "/", Some("1.1.1.1"))).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&app, from("198.51.100.7:1", "/", Some("2.2.2.2"))).await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Trusted proxy: each forwarded client has its own budget.
    assert_eq!(
        status(&app, from("10.0.0.1:1", "/", Some("1.1.1.1"))).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&app, from("10.0.0.1:1", "/", Some("2.2.2.2"))).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&app, from("10.0.0.2:1", "/", Some("1.1.1.1"))).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client-supplied left part cannot pick the key: the rightmost untrusted hop counts.
    assert_eq!(
        status(&app, from("10.0.0.1:1", "/", Some("9.9.9.9, 2.2.2.2"))).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn identity_route_and_custom_peer() {
    #[derive(Clone)]
    struct Peer(SocketAddr); // as axum's ConnectInfo<SocketAddr>
    let layer = RateLimitLayer::new("api", MemoryStore::new(), policy(1))
        .client_ip(ClientIp::new().with_peer(|p| p.extensions.get::<Peer>().map(|c| c.0.ip())))
        .identity(|p| {
            p.headers
                .get("x-account")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .per_route(true);
    let app = app(layer);
    let req = |path: &str, account: &str| {
        let mut r = Request::get(path)
            .header("x-account", account)
            .body(Body::empty())
            .unwrap();
        r.extensions_mut()
            .insert(Peer("192.0.2.1:1".parse().unwrap()));
        r
    };
    assert_eq!(status(&app, req("/", "a")).await, StatusCode::OK);
    assert_eq!(status(&app, req("/", "b")).await, StatusCode::OK);
    assert_eq!(status(&app, req("/other", "a")).await, StatusCode::OK);
    assert_eq!(
        status(&app, req("/", "a")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn failing_store_fail_open_and_fail_closed() {
    let store: Arc<dyn RateLimitStore> = Arc::new(FailingStore);
    let open = app(RateLimitLayer::new("api", Arc::clone(&store), policy(1))
        .on_store_failure(OnStoreFailure::FailOpen));
    let res = open
        .clone()
        .oneshot(from("203.0.113.1:1", "/", None))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("ratelimit"));

    // Fail closed is the default.
    let closed = app(RateLimitLayer::new("api", store, policy(1)));
    let res = closed
        .oneshot(from("203.0.113.1:1", "/", None))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "1");
}

/// Without a peer address the layer answers 500 (every client would share one key); the
/// opt-in puts such requests in one bucket.
#[tokio::test]
async fn unknown_peers_are_refused_unless_one_bucket_is_opted_into() {
    let bare = || Request::get("/").body(Body::empty()).unwrap();
    let refusing = app(RateLimitLayer::new("api", MemoryStore::new(), policy(1)));
    assert_eq!(
        status(&refusing, bare()).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        status(&refusing, bare()).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let shared = app(RateLimitLayer::new("api", MemoryStore::new(), policy(1))
        .allow_shared_bucket_without_peer());
    assert_eq!(status(&shared, bare()).await, StatusCode::OK);
    assert_eq!(status(&shared, bare()).await, StatusCode::TOO_MANY_REQUESTS);
    // Without the client IP in the key, no peer is needed.
    let by_route = app(RateLimitLayer::new("api", MemoryStore::new(), policy(1))
        .without_client_ip()
        .per_route(true));
    assert_eq!(status(&by_route, bare()).await, StatusCode::OK);
}
