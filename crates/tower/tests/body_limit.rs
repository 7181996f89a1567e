//! The body-keyed rate limit behind axum, after a webhook layer: Twilio callers by their `From`
//! form field, Stripe events by a JSON Pointer, the field never logged, forged bodies costing
//! nobody's budget, refusals releasing the delivery's claim.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use palisade_ratelimit::{Limit, MemoryStore, Policy, Quota};
use palisade_replay::{MemoryNonceStore, ReplayGuard};
use palisade_tower::{BodyField, BodyRateLimitLayer, MissingField, WebhookLayer};
use palisade_webhook::twilio::PublicUrl;
use palisade_webhook::{Message, Scheme, SecretString, Stripe, Twilio, Verifier};
use tower::ServiceExt;

const TWILIO_TOKEN: &str = "twilio-auth-token-for-body-limits";
const STRIPE_SECRET: &str = "whsec_body_limit_test_secret";
const PUBLIC: &str = "https://voice.example.com";

fn per_minute(n: u64) -> Policy {
    Policy::single(Limit::gcra("caller", Quota::per_minute(n).unwrap()).unwrap()).unwrap()
}

fn twilio() -> Verifier<Twilio> {
    Verifier::new(Twilio::default(), [SecretString::from(TWILIO_TOKEN)]).unwrap()
}

fn stripe() -> Verifier<Stripe> {
    Verifier::new(Stripe, [SecretString::from(STRIPE_SECRET)]).unwrap()
}

/// `body_layer` inside `webhook`: verification first, then the body-keyed limit, then the
/// handler.
fn app<S: Scheme + 'static>(webhook: WebhookLayer<S>, body_layer: BodyRateLimitLayer) -> Router {
    Router::new()
        .route("/hook", post(|| async { "handled" }))
        .layer(body_layer)
        .layer(webhook)
}

fn request(headers: &HeaderMap, body: impl Into<Bytes>) -> Request<Body> {
    let mut req = Request::post("/hook")
        .body(Body::from(body.into()))
        .unwrap();
    req.headers_mut().extend(headers.clone());
    req
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

/// A Twilio call from `from`, signed for the public URL.
fn call(v: &Verifier<Twilio>, sid: &str, from: &str) -> Request<Body> {
    let body = format!(
        "CallSid={sid}&From={}&To=%2B14155550100",
        from.replace('+', "%2B")
    );
    let headers = v
        .sign(&Message::new(body.as_bytes()).url(&format!("{PUBLIC}/hook")))
        .unwrap()
        .to_header_map()
        .unwrap();
    request(&headers, body)
}

fn twilio_app(missing: MissingField) -> Router {
    let webhook = WebhookLayer::new(twilio())
        .public_url(PublicUrl::Configured(PUBLIC.into()))
        .replay_guard(ReplayGuard::new(MemoryNonceStore::new()));
    let per_caller = BodyRateLimitLayer::new(
        "twilio-from",
        MemoryStore::new(),
        per_minute(2),
        BodyField::form("From"),
    )
    .on_missing_field(missing);
    app(webhook, per_caller)
}

#[tokio::test]
async fn twilio_callers_are_limited_by_their_from_field() {
    let v = twilio();
    let app = twilio_app(MissingField::SharedKey);
    for sid in ["CA1", "CA2"] {
        let (status, headers, text) = send(&app, call(&v, sid, "+14155550123")).await;
        assert_eq!((status, text.as_str()), (StatusCode::OK, "handled"));
        assert!(headers.contains_key("ratelimit-policy"));
    }
    let (status, headers, _) = send(&app, call(&v, "CA3", "+14155550123")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    // The refusal released the delivery's claim: Twilio's retry of CA3 is refused by the
    // limit again, not answered as a completed duplicate.
    let (status, headers, _) = send(&app, call(&v, "CA3", "+14155550123")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!headers.contains_key("palisade-webhook-duplicate"));
    // Another caller has a budget of its own.
    let (status, _, _) = send(&app, call(&v, "CA4", "+14155550999")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn forged_bodies_are_refused_before_the_limit_and_cost_nobody() {
    let v = twilio();
    let app = twilio_app(MissingField::SharedKey);
    // A forged request naming the victim as its caller: 401, and the victim's budget intact.
    let forged = Verifier::new(
        Twilio::default(),
        [SecretString::from("a-different-auth-token!")],
    )
    .unwrap();
    for sid in ["CF1", "CF2", "CF3"] {
        let (status, _, _) = send(&app, call(&forged, sid, "+14155550123")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    for sid in ["CA1", "CA2"] {
        let (status, _, _) = send(&app, call(&v, sid, "+14155550123")).await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_missing_field_shares_a_key_or_passes_or_is_refused() {
    let v = twilio();
    let no_from = |sid: &str| {
        let body = format!("CallSid={sid}");
        let headers = v
            .sign(&Message::new(body.as_bytes()).url(&format!("{PUBLIC}/hook")))
            .unwrap()
            .to_header_map()
            .unwrap();
        request(&headers, body)
    };
    let shared = twilio_app(MissingField::SharedKey);
    let statuses: Vec<StatusCode> = {
        let mut s = Vec::new();
        for sid in ["CM1", "CM2", "CM3"] {
            s.push(send(&shared, no_from(sid)).await.0);
        }
        s
    };
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let allow = twilio_app(MissingField::Allow);
    for sid in ["CM1", "CM2", "CM3"] {
        assert_eq!(send(&allow, no_from(sid)).await.0, StatusCode::OK);
    }
    let reject = twilio_app(MissingField::Reject);
    assert_eq!(
        send(&reject, no_from("CM1")).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn json_bodies_are_limited_by_a_pointer() {
    let v = stripe();
    let event = |id: &str, driver: u64| {
        let body = format!(r#"{{"id":"{id}","data":{{"object":{{"driver_id":{driver}}}}}}}"#);
        let headers = v
            .sign(&Message::new(body.as_bytes()))
            .unwrap()
            .to_header_map()
            .unwrap();
        request(&headers, body)
    };
    let per_driver = BodyRateLimitLayer::new(
        "driver",
        MemoryStore::new(),
        per_minute(1),
        BodyField::json_pointer("/data/object/driver_id"),
    );
    let app = app(WebhookLayer::new(stripe()), per_driver);
    assert_eq!(send(&app, event("evt_1", 7)).await.0, StatusCode::OK);
    assert_eq!(
        send(&app, event("evt_2", 7)).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(send(&app, event("evt_3", 8)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn outside_a_webhook_layer_it_refuses_to_key_unverified_bodies() {
    let app = Router::new()
        .route("/hook", post(|| async { "handled" }))
        .layer(BodyRateLimitLayer::new(
            "x",
            MemoryStore::new(),
            per_minute(5),
            BodyField::form("From"),
        ));
    let (status, _, _) = send(&app, request(&HeaderMap::new(), "From=%2B14155550123")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process-wide log. Scoped subscribers race with the callsite interest cache when tests
/// run in parallel, so one global subscriber records every test of this file.
fn log() -> Buffer {
    static LOG: std::sync::OnceLock<Buffer> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buffer
    })
    .clone()
}

#[tokio::test]
async fn the_field_value_is_never_logged() {
    let buffer = log();
    let v = twilio();
    let app = twilio_app(MissingField::SharedKey);
    for sid in ["CL1", "CL2", "CL3", "CL4"] {
        send(&app, call(&v, sid, "+14155550177")).await;
    }
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("ratelimit.refused") && log.contains("scope=\"body\""),
        "{log}"
    );
    for caller in ["4155550177", "4155550123", "4155550999"] {
        assert!(!log.contains(caller), "a caller was logged: {log}");
    }
}
