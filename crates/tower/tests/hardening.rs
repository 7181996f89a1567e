//! The HTTP hardening layers over real HTTP: an axum app served on 127.0.0.1:0 and a minimal
//! HTTP/1.1 client. CORS preflights (tower-http's `CorsLayer` built from the allowlist), 403
//! for foreign origins (`OriginGuard`), the security headers preset (and a handler's own header
//! kept), Meta's verification handshake, report-only webhooks and a verifier swapped while
//! the server runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Extension, Router};
use palisade_tower::{
    AllowedOrigins, ArcSwap, MetaHandshakeLayer, SecurityHeaders, UnverifiedWebhook,
    VerifiedWebhook, WebhookLayer,
};
use palisade_webhook::{Message, Meta, SecretString, Stripe, Verifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceBuilder;

const APP: &str = "https://app.example.com";
const DEV: &str = "http://localhost:3000";

/// An answer: status, headers (names in lower case), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Sends one HTTP/1.1 request (`Connection: close`) and reads the whole answer.
async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    Answer {
        status: status.parse().unwrap(),
        headers,
        body: body.to_owned(),
    }
}

/// An API with the allowlist's guard and CORS, and the security headers: `GET /items`,
/// `POST /items`, and `GET /page`, whose handler sets its own CSP.
fn api() -> Router {
    let origins = AllowedOrigins::new([APP, DEV]).unwrap();
    Router::new()
        .route(
            "/items",
            get(|| async { "list" }).post(|| async { "created" }),
        )
        .route(
            "/page",
            get(|| async {
                (
                    [("content-security-policy", "default-src 'self'")],
                    "<p>page</p>",
                )
            }),
        )
        .layer(
            ServiceBuilder::new()
                .layer(SecurityHeaders::new())
                .layer(origins.cors())
                .layer(origins.guard()),
        )
}

#[tokio::test]
async fn preflight_from_a_listed_origin_gets_the_cors_answer() {
    let addr = serve(api()).await;
    let res = send(
        addr,
        "OPTIONS",
        "/items",
        &[
            ("origin", APP),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        b"",
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), Some(APP));
    let methods = res.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = res.header("access-control-allow-headers").unwrap();
    assert!(headers.contains("content-type"), "{headers}");
    assert_eq!(res.header("access-control-max-age"), Some("600"));
    assert!(res.header("vary").is_some());
    // The preflight is answered by the CORS layer: the handler did not run.
    assert_eq!(res.body, "");
    // The other listed origin (a development server's port) is allowed as well.
    let dev = send(
        addr,
        "OPTIONS",
        "/items",
        &[("origin", DEV), ("access-control-request-method", "POST")],
        b"",
    )
    .await;
    assert_eq!(dev.header("access-control-allow-origin"), Some(DEV));
}

#[tokio::test]
async fn preflight_from_a_foreign_origin_gets_no_cors_headers() {
    let addr = serve(api()).await;
    for origin in [
        "https://evil.example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "http://localhost:3001",
        "null",
    ] {
        let res = send(
            addr,
            "OPTIONS",
            "/items",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
            ],
            b"",
        )
        .await;
        assert_eq!(res.header("access-control-allow-origin"), None, "{origin}");
    }
}

#[tokio::test]
async fn a_foreign_origin_cannot_change_state() {
    let addr = serve(api()).await;
    let refused = send(
        addr,
        "POST",
        "/items",
        &[("origin", "https://evil.example.com")],
        b"{}",
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body, "origin not allowed");
    assert_eq!(refused.header("access-control-allow-origin"), None);
    // The refusal carries the security headers too.
    assert_eq!(refused.header("x-content-type-options"), Some("nosniff"));
    for method in ["PUT", "PATCH", "DELETE"] {
        let res = send(addr, method, "/items", &[("origin", "null")], b"").await;
        assert_eq!(res.status, 403, "{method}");
    }
    // Listed origin: handled, with the CORS answer.
    let ok = send(addr, "POST", "/items", &[("origin", APP)], b"{}").await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body, "created");
    assert_eq!(ok.header("access-control-allow-origin"), Some(APP));
    // No Origin (a server, curl): handled.
    let server = send(addr, "POST", "/items", &[], b"{}").await;
    assert_eq!(server.status, 200);
    // A safe method from a foreign origin passes the default guard (the browser hides the
    // answer: no CORS header).
    let read = send(
        addr,
        "GET",
        "/items",
        &[("origin", "https://evil.example.com")],
        b"",
    )
    .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn all_methods_refuses_foreign_reads_and_preflights() {
    let origins = AllowedOrigins::new([APP]).unwrap();
    let app = Router::new()
        .route("/items", get(|| async { "list" }))
        .layer(
            ServiceBuilder::new()
                .layer(origins.guard().all_methods())
                .layer(origins.cors()),
        );
    let addr = serve(app).await;
    let evil = [("origin", "https://evil.example.com")];
    assert_eq!(send(addr, "GET", "/items", &evil, b"").await.status, 403);
    let preflight = send(
        addr,
        "OPTIONS",
        "/items",
        &[
            ("origin", "https://evil.example.com"),
            ("access-control-request-method", "GET"),
        ],
        b"",
    )
    .await;
    assert_eq!(preflight.status, 403);
    let ok = send(addr, "GET", "/items", &[("origin", APP)], b"").await;
    assert_eq!((ok.status, ok.body.as_str()), (200, "list"));
}

#[tokio::test]
async fn security_headers_are_set_and_a_handlers_own_are_kept() {
    let addr = serve(api()).await;
    let res = send(addr, "GET", "/items", &[], b"").await;
    assert_eq!(res.status, 200);
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        (
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        ),
    ] {
        assert_eq!(res.header(name), Some(value), "{name}");
    }
    assert!(
        res.header("permissions-policy")
            .unwrap()
            .contains("camera=()")
    );
    // The handler's CSP is kept; the others are still added.
    let page = send(addr, "GET", "/page", &[], b"").await;
    assert_eq!(
        page.header("content-security-policy"),
        Some("default-src 'self'")
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    // Unknown route (axum's 404) gets them too: the preset wraps the whole router.
    let missing = send(addr, "GET", "/nowhere", &[], b"").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn configured_csp_and_preload() {
    let headers = SecurityHeaders::new()
        .content_security_policy("default-src 'self'; img-src https:")
        .unwrap()
        .hsts_preload();
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(headers);
    let res = send(serve(app).await, "GET", "/", &[], b"").await;
    assert_eq!(
        res.header("content-security-policy"),
        Some("default-src 'self'; img-src https:")
    );
    assert_eq!(
        res.header("strict-transport-security"),
        Some("max-age=31536000; includeSubDomains; preload")
    );
}

const META_SECRET: &str = "meta-app-secret-0123456789";

fn meta_app() -> Router {
    let verifier = Verifier::new(Meta, [SecretString::from(META_SECRET)]).unwrap();
    Router::new().route(
        "/webhooks/meta",
        post(|Extension(w): Extension<VerifiedWebhook>| async move {
            format!("delivery from {}", w.verified.provider.as_str())
        })
        .layer(
            ServiceBuilder::new()
                .layer(MetaHandshakeLayer::new(SecretString::from("verify-me")).unwrap())
                .layer(WebhookLayer::new(verifier)),
        ),
    )
}

#[tokio::test]
async fn meta_handshake_echoes_the_challenge_for_the_right_token_only() {
    let addr = serve(meta_app()).await;
    let ok = send(
        addr,
        "GET",
        "/webhooks/meta?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444",
        &[],
        b"",
    )
    .await;
    assert_eq!((ok.status, ok.body.as_str()), (200, "1158201444"));
    assert!(ok.header("content-type").unwrap().starts_with("text/plain"));
    for query in [
        "hub.mode=subscribe&hub.verify_token=verify-you&hub.challenge=1",
        "hub.mode=subscribe&hub.verify_token=verify-m&hub.challenge=1",
        "hub.mode=subscribe&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1",
        "hub.mode=subscribe&hub.verify_token=verify-me",
        "hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=%3Cscript%3E",
        "hub.mode=subscribe&hub.verify_token=verify-me&hub.verify_token=x&hub.challenge=1",
        "",
    ] {
        let res = send(addr, "GET", &format!("/webhooks/meta?{query}"), &[], b"").await;
        assert_eq!(res.status, 403, "{query}");
        assert_eq!(res.body, "verification refused");
    }
    // The signed POST deliveries still reach the webhook layer.
    let verifier = Verifier::new(Meta, [SecretString::from(META_SECRET)]).unwrap();
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    let signed = verifier.sign(&Message::new(body)).unwrap();
    let headers: Vec<(&str, &str)> = signed.iter().collect();
    let delivery = send(addr, "POST", "/webhooks/meta", &headers, body).await;
    assert_eq!(
        (delivery.status, delivery.body.as_str()),
        (200, "delivery from meta")
    );
    let unsigned = send(addr, "POST", "/webhooks/meta", &[], body).await;
    assert_eq!(unsigned.status, 400);
}

fn stripe(secrets: &[&str]) -> Verifier<Stripe> {
    Verifier::new(Stripe, secrets.iter().map(|s| SecretString::from(*s))).unwrap()
}

fn stripe_headers(secret: &str, body: &[u8]) -> Vec<(String, String)> {
    let signed = stripe(&[secret]).sign(&Message::new(body)).unwrap();
    signed
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn pairs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

#[tokio::test]
async fn report_only_passes_unverified_requests_with_their_outcome() {
    let layer = WebhookLayer::new(stripe(&["whsec_report_only_0123456789"])).report_only();
    let handler = |verified: Option<Extension<VerifiedWebhook>>,
                   unverified: Option<Extension<UnverifiedWebhook>>| async move {
        match (verified, unverified) {
            (Some(_), None) => "verified".to_owned(),
            (None, Some(Extension(u))) => format!("unverified {} {}", u.status.as_u16(), u.error),
            _ => "neither".to_owned(),
        }
    };
    let app = Router::new().route("/hook", post(handler).layer(layer));
    let addr = serve(app).await;
    let body = br#"{"id":"evt_1"}"#;
    let good = stripe_headers("whsec_report_only_0123456789", body);
    let res = send(addr, "POST", "/hook", &pairs(&good), body).await;
    assert_eq!((res.status, res.body.as_str()), (200, "verified"));
    let forged = stripe_headers("whsec_someone_else_0123456789", body);
    let res = send(addr, "POST", "/hook", &pairs(&forged), body).await;
    assert_eq!(res.status, 200);
    assert!(res.body.starts_with("unverified 401 "), "{}", res.body);
    let res = send(addr, "POST", "/hook", &[], body).await;
    assert!(res.body.starts_with("unverified 400 "), "{}", res.body);
    // Enforce (the default) refuses the same request.
    let enforce = Router::new().route(
        "/hook",
        post(|| async { "handled" })
            .layer(WebhookLayer::new(stripe(&["whsec_report_only_0123456789"]))),
    );
    let res = send(serve(enforce).await, "POST", "/hook", &pairs(&forged), body).await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn a_swapped_verifier_applies_to_the_next_requests() {
    let old = "whsec_rotation_old_0123456789";
    let new = "whsec_rotation_new_0123456789";
    let verifiers = Arc::new(ArcSwap::from_pointee(stripe(&[old])));
    let app = Router::new().route(
        "/hook",
        post(|| async { "ok" }).layer(WebhookLayer::rotating(Arc::clone(&verifiers))),
    );
    let addr = serve(app).await;
    let body = br#"{"id":"evt_rot"}"#;
    let (old_h, new_h) = (stripe_headers(old, body), stripe_headers(new, body));
    // The statuses of a delivery signed with the old secret, then with the new one.
    let statuses = || async {
        let old = send(addr, "POST", "/hook", &pairs(&old_h), body).await;
        let new = send(addr, "POST", "/hook", &pairs(&new_h), body).await;
        (old.status, new.status)
    };
    assert_eq!(statuses().await, (200, 401));
    // During the rotation both verify (newest first), then the old one is dropped.
    verifiers.store(Arc::new(stripe(&[new, old])));
    assert_eq!(statuses().await, (200, 200));
    verifiers.store(Arc::new(stripe(&[new])));
    assert_eq!(statuses().await, (401, 200));
}
