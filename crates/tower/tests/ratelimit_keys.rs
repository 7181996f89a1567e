//! Rate-limit keys a client cannot escape: proxy headers with bad bytes, IPv6 prefixes,
//! spellings of one path, axum's `ConnectInfo` and `MatchedPath`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use palisade_ratelimit::{Limit, MemoryStore, Policy, Quota};
use palisade_tower::{ClientIp, ForwardedHeader, RateLimitLayer};
use tower::ServiceExt;

fn policy() -> Policy {
    Policy::single(Limit::gcra("test", Quota::per_minute(1).unwrap()).unwrap()).unwrap()
}

fn app(layer: RateLimitLayer) -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/reset/{user}", get(|| async { "reset" }))
        .layer(layer)
}

fn request(peer: &str, path: &str, headers: &[(&str, &[u8])]) -> Request<Body> {
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    for (name, value) in headers {
        req.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        );
    }
    req.extensions_mut()
        .insert(peer.parse::<SocketAddr>().unwrap());
    req
}

async fn status(app: &Router, req: Request<Body>) -> StatusCode {
    app.clone().oneshot(req).await.unwrap().status()
}

fn behind_proxy(header: ForwardedHeader) -> Router {
    app(RateLimitLayer::new("api", MemoryStore::new(), policy())
        .client_ip(ClientIp::new().trust(["10.0.0.0/8".parse().unwrap()], header)))
}

/// nginx appends `, $remote_addr` to the client's `X-Forwarded-For`: a non-ASCII byte in the
/// client's part used to key every such request as the proxy (one bucket for all).
#[tokio::test]
async fn a_non_ascii_byte_in_x_forwarded_for_does_not_key_the_proxy() {
    let app = behind_proxy(ForwardedHeader::XForwardedFor);
    for client in ["203.0.113.9", "203.0.113.10", "198.51.100.4"] {
        let xff = [b"\xff, ".as_slice(), client.as_bytes()].concat();
        assert_eq!(
            status(
                &app,
                request("10.0.0.1:1", "/", &[("x-forwarded-for", &xff)])
            )
            .await,
            StatusCode::OK,
            "{client}"
        );
    }
    // Each client keeps its own budget.
    assert_eq!(
        status(
            &app,
            request("10.0.0.1:1", "/", &[("x-forwarded-for", b"203.0.113.9")])
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// The same with `Forwarded`, a quoted bracketed IPv6 node and a client-sent unbalanced quote.
#[tokio::test]
async fn forwarded_bad_bytes_and_quotes_do_not_key_the_proxy() {
    let app = behind_proxy(ForwardedHeader::Forwarded);
    let sent: [&[u8]; 4] = [
        b"for=\"\xff\", for=\"[2001:db8:1::1]:443\"",
        b"for=\xfe, for=\"[2001:db8:3::1]:443\"",
        b"for=\", for=\"[2001:db8:2::1]:443\";proto=https",
        b"for=192.0.2.1;by=\"x", // its own line, then the proxy's
    ];
    for (i, value) in sent.iter().enumerate() {
        let mut headers: Vec<(&str, &[u8])> = vec![("forwarded", value)];
        if i == 3 {
            headers.push(("forwarded", b"for=203.0.113.77"));
        }
        assert_eq!(
            status(&app, request("10.0.0.1:1", "/", &headers)).await,
            StatusCode::OK,
            "{i}"
        );
    }
    assert_eq!(
        status(
            &app,
            request("10.0.0.1:1", "/", &[("forwarded", b"for=203.0.113.77")])
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Addresses of one /64 share a budget; another /64 has its own; an IPv4-mapped IPv6 peer is
/// its IPv4 address.
#[tokio::test]
async fn ipv6_clients_are_keyed_by_their_64() {
    let v6 = app(RateLimitLayer::new("api", MemoryStore::new(), policy()));
    assert_eq!(
        status(&v6, request("[2001:db8:1:2::1]:1", "/", &[])).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&v6, request("[2001:db8:1:2:dead:beef:0:7]:1", "/", &[])).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status(&v6, request("[2001:db8:1:3::1]:1", "/", &[])).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&v6, request("192.0.2.8:1", "/", &[])).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&v6, request("[::ffff:192.0.2.8]:1", "/", &[])).await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // A /56 for residential ISPs.
    let app56 = app(RateLimitLayer::new("api", MemoryStore::new(), policy())
        .client_ip(ClientIp::new().ipv6_prefix(56).unwrap()));
    assert_eq!(
        status(&app56, request("[2001:db8:1:200::1]:1", "/", &[])).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&app56, request("[2001:db8:1:2ff::1]:1", "/", &[])).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Spellings of one path are one bucket, without a route template too.
#[tokio::test]
async fn per_route_keys_on_the_normalized_path() {
    let layer = RateLimitLayer::new("api", MemoryStore::new(), policy()).per_route(true);
    let svc = tower::service_fn(|_req: Request<Body>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(Body::empty()))
    });
    let svc = tower::Layer::layer(&layer, svc);
    let get = |path: &str| {
        let svc = svc.clone();
        let req = request("192.0.2.1:1", path, &[]);
        async move { svc.oneshot(req).await.unwrap().status() }
    };
    assert_eq!(get("/reset/alice").await, StatusCode::OK);
    for spelling in [
        "/reset/%61lice",
        "/reset//alice",
        "/reset/./alice/",
        "/x/../reset/alice",
        "/reset%2Falice",
    ] {
        assert_eq!(
            get(spelling).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{spelling}"
        );
    }
    assert_eq!(get("/reset/bob").await, StatusCode::OK);
}

/// With feature `axum`, the key holds the matched route template: every user of
/// `/reset/{user}` shares the route's budget, however the path is spelled.
#[cfg(feature = "axum")]
#[tokio::test]
async fn per_route_keys_on_axum_matched_path() {
    let app = app(RateLimitLayer::new("api", MemoryStore::new(), policy()).per_route(true));
    assert_eq!(
        status(&app, request("192.0.2.1:1", "/reset/alice", &[])).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&app, request("192.0.2.1:1", "/reset/%61lice", &[])).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status(&app, request("192.0.2.1:1", "/reset/bob", &[])).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status(&app, request("192.0.2.1:1", "/", &[])).await,
        StatusCode::OK
    );
}

/// With feature `axum`, `ClientIp::new()` reads axum's `ConnectInfo<SocketAddr>`: clients get
/// their own budgets instead of one shared key (or a 500).
#[cfg(feature = "axum")]
#[tokio::test]
async fn axum_connect_info_is_the_peer() {
    use axum::extract::ConnectInfo;
    let app = app(RateLimitLayer::new("api", MemoryStore::new(), policy()));
    let from = |peer: &str| {
        let mut req = Request::get("/").body(Body::empty()).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        req
    };
    assert_eq!(status(&app, from("203.0.113.1:1")).await, StatusCode::OK);
    assert_eq!(status(&app, from("203.0.113.2:1")).await, StatusCode::OK);
    assert_eq!(
        status(&app, from("203.0.113.1:2")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
