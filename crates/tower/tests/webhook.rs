//! The webhook layer behind an axum router: real signed requests for Stripe, Standard Webhooks and Twilio.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Extension;
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use palisade_replay::{
    ClaimOutcome, Freshness, LeaseToken, MemoryNonceStore, NonceStore, ReplayError, ReplayGuard,
};
use palisade_tower::{VerifiedWebhook, WebhookLayer};
use palisade_webhook::twilio::PublicUrl;
use palisade_webhook::{
    AnyScheme, Message, Provider, Scheme, SecretString, StandardWebhooks, Stripe, Twilio, Verifier,
};
use tower::ServiceExt;

const STRIPE_SECRET: &str = "whsec_tower_test_secret_do_not_log";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TWILIO_TOKEN: &str = "twilio-auth-token-do-not-log";

/// A handler that echoes what it saw: the provider, and whether the extension's bytes and the
/// re-attached body are the same.
async fn handler(Extension(w): Extension<VerifiedWebhook>, body: Bytes) -> String {
    assert_eq!(w.body, body, "extension and body differ");
    format!(
        "{}:{}",
        w.verified.provider.as_str(),
        String::from_utf8_lossy(&body)
    )
}

fn router<S: Scheme + 'static>(layer: WebhookLayer<S>) -> Router {
    Router::new().route("/hook", post(handler)).layer(layer)
}

fn request(uri: &str, headers: &HeaderMap, body: impl Into<Bytes>) -> Request<Body> {
    let mut req = Request::post(uri).body(Body::from(body.into())).unwrap();
    req.headers_mut().extend(headers.clone());
    req
}

async fn send(router: &Router, req: Request<Body>) -> (StatusCode, String) {
    let res: Response<Body> = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn stripe() -> Verifier<Stripe> {
    Verifier::new(Stripe, [SecretString::from(STRIPE_SECRET)]).unwrap()
}

fn signed(verifier: &Verifier<impl Scheme>, message: &Message<'_>) -> HeaderMap {
    verifier.sign(message).unwrap().to_header_map().unwrap()
}

/// A tracing subscriber that writes every event, with its name and fields, to a buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Fields<'a>(&'a mut String);
        impl tracing::field::Visit for Fields<'_> {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                let _ = write!(self.0, " {}={v:?}", f.name());
            }
        }
        let mut out = self.0.lock().unwrap();
        out.push_str(event.metadata().name());
        event.record(&mut Fields(&mut out));
        out.push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The process-wide capture. Scoped (`set_default`) subscribers race with the callsite
/// interest cache when tests run in parallel, so one global subscriber records every test.
fn capture() -> Capture {
    static CAPTURE: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let c = Capture::default();
            tracing::subscriber::set_global_default(c.clone()).unwrap();
            c
        })
        .clone()
}

#[tokio::test]
async fn stripe_valid_tampered_missing_and_secret_free() {
    let capture = capture();
    let v = stripe();
    let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    let headers = signed(&v, &Message::new(body));
    let app = router(WebhookLayer::new(v));

    let (status, text) = send(&app, request("/hook", &headers, &body[..])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, format!("stripe:{}", String::from_utf8_lossy(body)));

    // One byte changed.
    let tampered = br#"{"id":"evt_1","type":"payment_intent.succeedeD"}"#;
    let (status, text) = send(&app, request("/hook", &headers, &tampered[..])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(text, "webhook refused: no matching signature");

    // No signature header.
    let (status, text) = send(&app, request("/hook", &HeaderMap::new(), &body[..])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("missing header"), "{text}");

    // A garbled signature header.
    let mut garbled = HeaderMap::new();
    garbled.insert("stripe-signature", "t=abc,v1=zz".parse().unwrap());
    let (status, _) = send(&app, request("/hook", &garbled, &body[..])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let log = capture.0.lock().unwrap().clone();
    assert!(log.contains("webhook.verified"), "{log}");
    assert!(log.contains("webhook.signature_invalid"), "{log}");
    assert!(log.contains("webhook.malformed"), "{log}");
    assert!(log.contains("event=\"webhook.signature_invalid\""), "{log}");
    for secret in [STRIPE_SECRET, STANDARD_SECRET, TWILIO_TOKEN] {
        assert!(!log.contains(secret), "secret in the logs");
    }
    assert!(!log.contains("payment_intent"), "body in the logs");
    assert!(!text.contains(STRIPE_SECRET));
}

#[tokio::test]
async fn standard_webhooks_with_replay_guard() {
    let v = Verifier::new(StandardWebhooks, [SecretString::from(STANDARD_SECRET)]).unwrap();
    let body = br#"{"type":"call.ended","data":{"id":"c_1"}}"#;
    let headers = signed(&v, &Message::new(body).id("msg_1"));
    let app = router(
        WebhookLayer::new(v)
            .shared_replay_guard(Arc::new(ReplayGuard::new(MemoryNonceStore::new()))),
    );
    let (status, text) = send(&app, request("/hook", &headers, &body[..])).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.starts_with("standard:"), "{text}");
    let (status, text) = send(&app, request("/hook", &headers, &body[..])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, "duplicate webhook delivery");
}

#[tokio::test]
async fn duplicates_are_answered_200_without_reaching_the_handler() {
    let v = stripe();
    let body = b"{}";
    let headers = signed(&v, &Message::new(body));
    let app = router(
        WebhookLayer::new(v)
            .replay_guard(ReplayGuard::new(MemoryNonceStore::new()))
            .tenant("acme"),
    );
    let (status, text) = send(&app, request("/hook", &headers, &body[..])).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "stripe:{}"));
    let (status, text) = send(&app, request("/hook", &headers, &body[..])).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::OK, "duplicate webhook delivery")
    );
    assert!(WebhookLayer::new(stripe()).replay_status(1000).is_err());
}

/// A nonce store that is always down.
struct DownStore;

#[async_trait]
impl NonceStore for DownStore {
    async fn insert_if_absent(
        &self,
        _: &str,
        _: &[u8],
        _: Duration,
    ) -> Result<Freshness, ReplayError> {
        Err(ReplayError::StoreUnavailable {
            reason: "connection refused".into(),
        })
    }

    async fn remove(&self, _: &str, _: &[u8]) -> Result<bool, ReplayError> {
        Err(ReplayError::StoreUnavailable {
            reason: "connection refused".into(),
        })
    }

    async fn claim(
        &self,
        _: &str,
        _: &[u8],
        _: LeaseToken,
        _: Duration,
    ) -> Result<ClaimOutcome, ReplayError> {
        Err(ReplayError::StoreUnavailable {
            reason: "connection refused".into(),
        })
    }

    async fn complete(
        &self,
        _: &str,
        _: &[u8],
        _: LeaseToken,
        _: Duration,
    ) -> Result<bool, ReplayError> {
        Err(ReplayError::StoreUnavailable {
            reason: "connection refused".into(),
        })
    }

    async fn release(&self, _: &str, _: &[u8], _: LeaseToken) -> Result<bool, ReplayError> {
        Err(ReplayError::StoreUnavailable {
            reason: "connection refused".into(),
        })
    }
}

#[tokio::test]
async fn failing_nonce_store_fails_closed() {
    let v = stripe();
    let body = b"{}";
    let headers = signed(&v, &Message::new(body));
    let app = router(WebhookLayer::new(v).replay_guard(ReplayGuard::new(DownStore)));
    let (status, text) = send(&app, request("/hook", &headers, &body[..])).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(text, "replay check unavailable");
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let v = stripe();
    let body = vec![b'a'; 101];
    let headers = signed(&v, &Message::new(&body));
    let app = router(WebhookLayer::new(v).max_body(100));
    // No Content-Length: refused while reading.
    let (status, _) = send(&app, request("/hook", &headers, body.clone())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A declared Content-Length: refused before reading.
    let mut with_len = headers.clone();
    with_len.insert("content-length", "101".parse().unwrap());
    let (status, _) = send(&app, request("/hook", &with_len, body.clone())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Exactly at the limit: accepted.
    let body = vec![b'a'; 100];
    let v = stripe();
    let headers = signed(&v, &Message::new(&body));
    let app = router(WebhookLayer::new(v).max_body(100));
    let (status, _) = send(&app, request("/hook", &headers, body)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn twilio_form_with_configured_public_url() {
    let v = Verifier::new(Twilio::default(), [SecretString::from(TWILIO_TOKEN)]).unwrap();
    let body = b"CallSid=CA123&From=%2B14155550100&To=%2B14155550199";
    let public = "https://voice.example.com/hook?tenant=acme";
    let headers = signed(&v, &Message::new(body).url(public));
    assert!(headers.contains_key("x-twilio-signature"));

    let app = router(
        WebhookLayer::new(v).public_url(PublicUrl::Configured("https://voice.example.com".into())),
    );
    let (status, text) = send(&app, request("/hook?tenant=acme", &headers, &body[..])).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.starts_with("twilio:CallSid=CA123"), "{text}");

    // Another query string is another URL: the signature does not match.
    let (status, _) = send(&app, request("/hook?tenant=evil", &headers, &body[..])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn twilio_without_public_url_is_a_configuration_error() {
    let v = Verifier::new(Twilio::default(), [SecretString::from(TWILIO_TOKEN)]).unwrap();
    let body = b"CallSid=CA123";
    let headers = signed(
        &v,
        &Message::new(body).url("https://voice.example.com/hook"),
    );
    let app = router(WebhookLayer::new(v));
    let (status, text) = send(&app, request("/hook", &headers, &body[..])).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text, "webhook verification is misconfigured");
    assert!(!text.contains(TWILIO_TOKEN));
}

#[tokio::test]
async fn any_scheme_chosen_at_run_time() {
    let scheme = AnyScheme::from(Stripe);
    let v = Verifier::new(scheme, [SecretString::from(STRIPE_SECRET)]).unwrap();
    let body = b"{\"id\":\"evt_2\"}";
    let headers = signed(&v, &Message::new(body));
    let app = router(WebhookLayer::new(Arc::new(v)));
    let (status, text) = send(&app, request("/hook", &headers, &body[..])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.starts_with(Provider::Stripe.as_str()), "{text}");
}

#[tokio::test]
async fn verified_webhook_debug_shows_the_body_length_only() {
    let v = stripe();
    let body = br#"{"customer_phone":"+14155550142"}"#;
    let headers = signed(&v, &Message::new(body));
    let app = Router::new()
        .route(
            "/hook",
            post(|Extension(w): Extension<VerifiedWebhook>| async move { format!("{w:?}") }),
        )
        .layer(WebhookLayer::new(v));
    let (status, debug) = send(&app, request("/hook", &headers, &body[..])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        debug.contains(&format!("body_len: {}", body.len())),
        "{debug}"
    );
    assert!(!debug.contains("4155550142"), "body in Debug: {debug}");
    assert!(!debug.contains("customer_phone"), "body in Debug: {debug}");
}

/// The hardening layers' events: report-only warns when the layer is built and at each pass,
/// the origin guard and the Meta handshake name their refusals; never a secret or a body.
#[tokio::test]
async fn hardening_events_use_the_telemetry_names_and_carry_no_secret() {
    const VERIFY_TOKEN: &str = "meta-verify-token-do-not-log";
    let capture = capture();
    let layer = WebhookLayer::new(stripe()).report_only();
    let built = capture.0.lock().unwrap().clone();
    assert!(
        built
            .lines()
            .any(|l| l.starts_with("webhook.report_only") && l.contains("mode=\"enabled\"")),
        "{built}"
    );
    let body = br#"{"id":"evt_report_only","type":"payment_intent.succeeded"}"#;
    let (status, _) = send(
        &router(layer),
        request("/hook", &HeaderMap::new(), &body[..]),
    )
    .await;
    // The echo handler needs a VerifiedWebhook: axum answers 500 without it; the layer passed
    // the request on.
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);

    let origins = palisade_tower::AllowedOrigins::new(["https://app.example.com"]).unwrap();
    let guarded = Router::new()
        .route("/", post(|| async { "ok" }))
        .layer(origins.guard());
    let forged = Request::post("/")
        .header("origin", "https://evil.example.com")
        .body(Body::empty())
        .unwrap();
    assert_eq!(guarded.oneshot(forged).await.unwrap().status(), 403);

    let meta = Router::new().route(
        "/meta",
        axum::routing::get(|| async { "unreachable" }).layer(
            palisade_tower::MetaHandshakeLayer::new(SecretString::from(VERIFY_TOKEN)).unwrap(),
        ),
    );
    let wrong = Request::get("/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1")
        .body(Body::empty())
        .unwrap();
    assert_eq!(meta.oneshot(wrong).await.unwrap().status(), 403);

    let log = capture.0.lock().unwrap().clone();
    assert!(
        log.lines()
            .any(|l| l.starts_with("webhook.report_only") && l.contains("would_be=\"malformed\"")),
        "{log}"
    );
    assert!(
        log.lines().any(|l| l.starts_with("http.origin_refused")
            && l.contains("origin=\"https://evil.example.com\"")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with("webhook.handshake_refused") && l.contains("reason=\"token\"")),
        "{log}"
    );
    for name in [
        palisade_tower::telemetry::WEBHOOK_REPORT_ONLY,
        palisade_tower::telemetry::HTTP_ORIGIN_REFUSED,
        palisade_tower::telemetry::WEBHOOK_HANDSHAKE_REFUSED,
    ] {
        assert!(palisade_tower::telemetry::EVENTS.contains(&name));
    }
    assert!(!log.contains(VERIFY_TOKEN), "verify token in the logs");
    assert!(!log.contains(STRIPE_SECRET), "secret in the logs");
    assert!(!log.contains("evt_report_only"), "body in the logs");
}
