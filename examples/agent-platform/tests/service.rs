//! The service around the routes: the Vapi webhook (signatures, replays), tier quotas with
//! `RateLimit` headers, the per-principal API limit, origins and security headers, health and
//! metrics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use common::Harness;
use http::{Method, Request, StatusCode};
use palisade_webhook::{Message, SecretString, Vapi, Verifier};
use serde_json::json;
use tower::ServiceExt;

/// The demo configuration's Vapi secret.
const VAPI_SECRET: &str = "palisade-demo-vapi-secret";

async fn deliver(
    h: &Harness,
    body: &[u8],
    headers: &http::HeaderMap,
) -> (StatusCode, http::HeaderMap, serde_json::Value) {
    let mut req = Request::post("/webhooks/vapi")
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
        .unwrap();
    req.headers_mut().extend(headers.clone());
    req.extensions_mut().insert(ConnectInfo(h.peer));
    let res = h.platform.router.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let raw = to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&raw).unwrap_or_default(),
    )
}

#[tokio::test]
async fn vapi_reports_create_calls_once() {
    let mut h = Harness::new("vapi").await;
    let t = h.tokens().await;
    let vapi = Verifier::new(
        Vapi::hmac(Vapi::default_hmac_plan()),
        [SecretString::from(VAPI_SECRET)],
    )
    .unwrap();
    let body = json!({"message": {"type": "end-of-call-report", "call": {"id": "call-1", "metadata": {"tenant": "acme"}, "customer": {"number": "+14155550177"}}, "artifact": {"recordingUrl": "http://169.254.169.254/x.wav"}}}).to_string();
    let signed = vapi
        .sign(&Message::new(body.as_bytes()))
        .unwrap()
        .to_header_map()
        .unwrap();
    let (status, _, answer) = deliver(&h, body.as_bytes(), &signed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        answer["recording"], false,
        "the metadata URL is refused by the SSRF guard"
    );
    let (status, headers, _) = deliver(&h, body.as_bytes(), &signed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["palisade-webhook-duplicate"], "completed");
    let found = h.get("/calls?phone=%2B14155550177", &t.a_agent).await;
    assert_eq!(
        found.body["calls"].as_array().unwrap().len(),
        1,
        "created once"
    );
    assert_eq!(found.body["calls"][0]["source"], "vapi");
    assert!(
        h.get("/calls?phone=%2B14155550177", &t.b_admin).await.body["calls"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Tampered, or signed with another secret: 401, nothing created.
    let tampered = body.replace("acme", "globex");
    assert_eq!(
        deliver(&h, tampered.as_bytes(), &signed).await.0,
        StatusCode::UNAUTHORIZED
    );
    let other = Verifier::new(
        Vapi::hmac(Vapi::default_hmac_plan()),
        [SecretString::from("another-secret-0123456789")],
    )
    .unwrap();
    let forged = other
        .sign(&Message::new(body.as_bytes()))
        .unwrap()
        .to_header_map()
        .unwrap();
    assert_eq!(
        deliver(&h, body.as_bytes(), &forged).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A signed report for a tenant that does not exist.
    let unknown = body.replace("acme", "nobody");
    let signed = vapi
        .sign(&Message::new(unknown.as_bytes()))
        .unwrap()
        .to_header_map()
        .unwrap();
    assert_eq!(
        deliver(&h, unknown.as_bytes(), &signed).await.0,
        StatusCode::NOT_FOUND
    );
    h.drop_schema().await;
}

#[tokio::test]
async fn webhook_floods_are_refused_per_client() {
    let h = Harness::new("hookflood").await;
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(deliver(&h, b"{}", &http::HeaderMap::new()).await.0);
    }
    // Unsigned: 400 (no signature headers), until the limit answers first.
    assert!(
        statuses[..10].iter().all(|s| *s == StatusCode::BAD_REQUEST),
        "{statuses:?}"
    );
    assert_eq!(
        statuses[10],
        StatusCode::TOO_MANY_REQUESTS,
        "webhook: 10/min per IP"
    );
    h.drop_schema().await;
}

#[tokio::test]
async fn tier_quotas_and_route_limits_answer_429_with_ratelimit_headers() {
    let mut h = Harness::new("tier").await;
    let t = h.tokens().await;
    // globex is on the free tier: 10 requests a day for the whole tenant.
    let first = h.get("/me", &t.b_admin).await;
    assert_eq!(first.status, StatusCode::OK);
    let policies: Vec<&str> = first
        .headers
        .get_all("ratelimit-policy")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        policies
            .iter()
            .any(|p| p.starts_with("\"free\";q=10;w=86400")),
        "{policies:?}"
    );
    assert!(
        policies.iter().any(|p| p.starts_with("\"api\";q=100;w=60")),
        "{policies:?}"
    );
    let mut last = first.status;
    for _ in 0..9 {
        last = h.get("/me", &t.carol).await.status;
    }
    assert_eq!(last, StatusCode::OK, "10 requests of the tenant admitted");
    let refused = h.get("/me", &t.carol).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.contains_key("retry-after"));
    // acme (pro) is not affected.
    assert_eq!(h.get("/me", &t.a_agent).await.status, StatusCode::OK);
    h.drop_schema().await;
}

#[tokio::test]
async fn the_api_limit_is_per_principal() {
    let mut h = Harness::with_config("apilimit", |c| c.limits.api_per_minute = 3).await;
    let t = h.tokens().await;
    for _ in 0..3 {
        assert_eq!(h.get("/me", &t.a_agent).await.status, StatusCode::OK);
    }
    assert_eq!(
        h.get("/me", &t.a_agent).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        h.get("/me", &t.a_admin).await.status,
        StatusCode::OK,
        "another principal"
    );
    h.drop_schema().await;
}

#[tokio::test]
async fn origins_headers_health_and_metrics() {
    let mut h = Harness::new("edge").await;
    let t = h.tokens().await;
    let body = Some(json!({"caller_phone": "+14155550123"}));
    let evil = h
        .send(
            Method::POST,
            "/calls",
            Some(&t.a_agent),
            body.clone(),
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    assert_eq!(evil.headers["x-frame-options"], "DENY");
    let app = h
        .send(
            Method::POST,
            "/calls",
            Some(&t.a_agent),
            body,
            &[("origin", "http://localhost:5173")],
        )
        .await;
    assert_eq!(app.status, StatusCode::CREATED);
    assert_eq!(
        app.headers["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let health = h.send(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(
        health.headers["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    h.get("/calls", "not-a-token").await;
    let metrics = h.send(Method::GET, "/metrics", None, None, &[]).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&metrics.raw).contains("palisade_auth_failures_total"));
    // Unknown routes are 404 before any credential is asked for.
    assert_eq!(
        h.send(Method::GET, "/nowhere", None, None, &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    h.drop_schema().await;
}
