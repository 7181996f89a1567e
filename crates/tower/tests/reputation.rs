//! The rate-limit layer's reputation option behind axum: bad addresses blocked in the shared
//! store (so another instance refuses them without a lookup), clean ones through, lookups
//! failing open or closed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode};
use palisade_ratelimit::{
    CachedReputation, Limit, MemoryStore, PenaltyBox, Policy, Quota, ReputationError,
    ReputationFailure, ReputationFn, StaticReputation,
};
use palisade_tower::RateLimitLayer;
use tower::ServiceExt;

fn policy() -> Policy {
    Policy::single(Limit::gcra("api", Quota::per_minute(100).unwrap()).unwrap()).unwrap()
}

fn app(layer: RateLimitLayer) -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(layer)
}

fn from(peer: &str) -> Request<Body> {
    let mut req = Request::get("/").body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(peer.parse::<SocketAddr>().unwrap());
    req
}

/// A list scoring 203.0.113.7 at 90 (bad) and 198.51.100.1 at 75 (clean: not above 75),
/// counting lookups.
fn counted_list(lookups: Arc<AtomicUsize>) -> CachedReputation {
    let list = StaticReputation::parse("203.0.113.7 90\n198.51.100.1 75").unwrap();
    let list = Arc::new(list);
    CachedReputation::new(ReputationFn::new(move |ip: IpAddr| {
        lookups.fetch_add(1, Ordering::Relaxed);
        let list = Arc::clone(&list);
        async move {
            use palisade_ratelimit::Reputation;
            list.score(ip).await
        }
    }))
}

#[tokio::test]
async fn bad_addresses_are_blocked_in_the_shared_store() {
    let store = Arc::new(MemoryStore::new());
    let lookups = Arc::new(AtomicUsize::new(0));
    let one = app(RateLimitLayer::new("api", store.clone(), policy())
        .reputation(counted_list(lookups.clone())));
    let res = one.clone().oneshot(from("203.0.113.7:4000")).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 86_000 && retry <= 86_400, "{retry}");
    for peer in ["198.51.100.1:4000", "192.0.2.1:4000"] {
        assert_eq!(
            one.clone().oneshot(from(peer)).await.unwrap().status(),
            StatusCode::OK
        );
    }
    assert_eq!(lookups.load(Ordering::Relaxed), 3);

    // The block is in the store: listed by the penalty box, and another instance (its own,
    // empty cache) refuses the address at the limit check without looking it up.
    assert_eq!(store.blocks(None, 10).await.unwrap().entries.len(), 1);
    let other_lookups = Arc::new(AtomicUsize::new(0));
    let two = app(RateLimitLayer::new("api", store.clone(), policy())
        .reputation(counted_list(other_lookups.clone())));
    let res = two.clone().oneshot(from("203.0.113.7:4001")).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(other_lookups.load(Ordering::Relaxed), 0);
    // Clean verdicts are cached: no new lookup for a known clean address.
    assert_eq!(
        one.clone()
            .oneshot(from("198.51.100.1:4001"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(lookups.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn failed_lookups_fail_open_or_closed() {
    let down = || {
        ReputationFn::new(|_| async {
            Err(ReputationError::Lookup {
                reason: "HTTP 503".into(),
            })
        })
    };
    for (mode, want) in [
        (ReputationFailure::FailOpen, StatusCode::OK),
        (
            ReputationFailure::FailClosed,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    ] {
        let layer = RateLimitLayer::new("api", MemoryStore::new(), policy())
            .reputation(CachedReputation::new(down()).on_failure(mode));
        let status = app(layer)
            .oneshot(from("192.0.2.9:4000"))
            .await
            .unwrap()
            .status();
        assert_eq!(status, want, "{mode:?}");
    }
}

#[tokio::test]
async fn without_client_ip_nothing_is_screened() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let layer = RateLimitLayer::new("api", MemoryStore::new(), policy())
        .without_client_ip()
        .reputation(counted_list(lookups.clone()));
    let status = app(layer)
        .oneshot(from("203.0.113.7:4000"))
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lookups.load(Ordering::Relaxed), 0);
}
