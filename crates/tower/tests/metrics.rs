//! Counter names and labels, recorded by a local `metrics` recorder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use palisade_ratelimit::{Limit, MemoryStore, Policy, Quota};
use palisade_replay::{MemoryNonceStore, ReplayGuard};
use palisade_tower::{
    AllowedOrigins, ContentTypeLayer, QueryCredentialLayer, RateLimitLayer, WebhookLayer,
};
use palisade_webhook::{Message, SecretString, Stripe, Verifier};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

/// Every increment, as `name{label=value,…}`.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

struct Handle {
    line: String,
    log: Log,
}

impl CounterFn for Handle {
    fn increment(&self, value: u64) {
        for _ in 0..value {
            self.log.0.lock().unwrap().push(self.line.clone());
        }
    }
    fn absolute(&self, _: u64) {}
}

impl HistogramFn for Handle {
    /// Logs `name{labels} observed` for a finite, non-negative observation.
    fn record(&self, value: f64) {
        if value.is_finite() && value >= 0.0 {
            self.log
                .0
                .lock()
                .unwrap()
                .push(format!("{} observed", self.line));
        }
    }
}

fn line(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for Log {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Handle {
            line: line(key),
            log: self.clone(),
        }))
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Handle {
            line: line(key),
            log: self.clone(),
        }))
    }
}

/// Runs `f` on a current-thread runtime with a local recorder; returns what it counted.
fn record<F: std::future::Future<Output = ()>>(f: F) -> Vec<String> {
    let log = Log::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    metrics::with_local_recorder(&log, || rt.block_on(f));
    log.0.lock().unwrap().clone()
}

#[test]
fn counters_have_stable_names_and_labels() {
    let lines = record(async {
        let verifier =
            Verifier::new(Stripe, [SecretString::from("whsec_metrics_0123456789")]).unwrap();
        let body = b"{}";
        let signed = verifier
            .sign(&Message::new(body))
            .unwrap()
            .to_header_map()
            .unwrap();
        let policy =
            Policy::single(Limit::gcra("m", Quota::per_minute(2).unwrap()).unwrap()).unwrap();
        let mut svc = ServiceBuilder::new()
            .layer(RateLimitLayer::new("m", MemoryStore::new(), policy))
            .layer(QueryCredentialLayer::new())
            .layer(ContentTypeLayer::json())
            .layer(
                WebhookLayer::new(verifier).replay_guard(ReplayGuard::new(MemoryNonceStore::new())),
            )
            .service(service_fn(|_req: Request<Full<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
            }));
        let req = |uri: &str, ct: &str| {
            let mut r = Request::post(uri)
                .header("content-type", ct)
                .body(Full::new(Bytes::from_static(body)))
                .unwrap();
            r.headers_mut().extend(signed.clone());
            r.extensions_mut()
                .insert("192.0.2.1:1".parse::<SocketAddr>().unwrap());
            r
        };
        for r in [
            req("/", "application/json"),
            req("/", "application/json"),
            req("/?token=x", "application/json"),
        ] {
            ServiceExt::<Request<Full<Bytes>>>::ready(&mut svc)
                .await
                .unwrap()
                .call(r)
                .await
                .unwrap();
        }
        let mut other = req("/", "text/plain");
        other
            .extensions_mut()
            .insert("192.0.2.2:1".parse::<SocketAddr>().unwrap());
        ServiceExt::<Request<Full<Bytes>>>::ready(&mut svc)
            .await
            .unwrap()
            .call(other)
            .await
            .unwrap();
    });
    let expected = [
        "palisade_ratelimit_decisions_total{outcome=admitted}",
        "palisade_webhook_requests_total{provider=stripe,outcome=verified}",
        "palisade_webhook_deliveries_total{provider=stripe,outcome=completed}",
        "palisade_webhook_requests_total{provider=stripe,outcome=replay}",
        "palisade_ratelimit_decisions_total{outcome=refused}",
        "palisade_unsupported_media_type_total{}",
    ];
    for e in expected {
        assert!(lines.iter().any(|l| l == e), "{e} not in {lines:#?}");
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("palisade_ratelimit_decisions_total"))
            .count(),
        4
    );
}

#[test]
fn query_credential_counter() {
    let lines = record(async {
        let svc = ServiceBuilder::new()
            .layer(QueryCredentialLayer::new())
            .service(service_fn(|_req: Request<()>| async {
                Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
            }));
        let res = svc
            .oneshot(Request::get("/?access_token=1").body(()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
    });
    assert_eq!(
        lines.as_slice(),
        ["palisade_query_credential_refusals_total{}"]
    );
}

#[test]
fn origin_refusals_report_only_and_signature_latency() {
    let lines = record(async {
        let origins = AllowedOrigins::new(["https://app.example.com"]).unwrap();
        let svc = ServiceBuilder::new()
            .layer(origins.guard())
            .service(service_fn(|_req: Request<()>| async {
                Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
            }));
        let foreign = Request::post("/")
            .header("origin", "https://evil.example.com")
            .body(())
            .unwrap();
        assert_eq!(svc.oneshot(foreign).await.unwrap().status(), 403);

        let verifier =
            Verifier::new(Stripe, [SecretString::from("whsec_metrics_0123456789")]).unwrap();
        let svc = ServiceBuilder::new()
            .layer(WebhookLayer::new(verifier).report_only())
            .service(service_fn(|_req: Request<Full<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
            }));
        let unsigned = Request::post("/")
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        assert_eq!(svc.oneshot(unsigned).await.unwrap().status(), 200);
    });
    for e in [
        "palisade_http_origin_refusals_total{}",
        "palisade_webhook_signature_check_seconds{provider=stripe} observed",
        "palisade_webhook_requests_total{provider=stripe,outcome=report_only}",
        "palisade_webhook_report_only_total{provider=stripe,outcome=malformed}",
    ] {
        assert!(lines.iter().any(|l| l == e), "{e} not in {lines:#?}");
    }
}
