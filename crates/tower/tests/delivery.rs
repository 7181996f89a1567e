//! Delivery semantics of the webhook layer: a delivery is claimed before the handler, completed
//! when it succeeds, released when it fails (5xx, an error, a dropped future), so that the
//! provider's retry runs the handler again and a duplicate of a handled delivery does not; and
//! replay namespaces per route.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::Full;
use palisade_replay::{
    ClaimOutcome, Freshness, LeaseToken, MemoryNonceStore, NonceStore, ReplayError, ReplayGuard,
};
use palisade_tower::{DUPLICATE_HEADER, WebhookBody, WebhookLayer};
use palisade_webhook::{GitHub, Message, Scheme, SecretString, StandardWebhooks, Stripe, Verifier};
use tokio::sync::Notify;
use tower::{ServiceExt, service_fn};

const STRIPE_SECRET: &str = "whsec_delivery_test_secret";
const ROUTE_A_SECRET: &str = "whsec_cm91dGUtYS1zZWNyZXQtMzItYnl0ZXMtbG9uZy0h";
const ROUTE_B_SECRET: &str = "whsec_cm91dGUtYi1zZWNyZXQtMzItYnl0ZXMtbG9uZy0h";

type Reply = Pin<Box<dyn Future<Output = (StatusCode, &'static str)> + Send>>;

/// A handler that counts its calls and answers what `answer` says for call number `n` (from 0).
#[derive(Clone)]
struct Counted {
    calls: Arc<AtomicUsize>,
    answer: Arc<dyn Fn(usize) -> Reply + Send + Sync>,
}

impl Counted {
    fn new(answer: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Self {
        Self {
            calls: Arc::new(AtomicUsize::new(0)),
            answer: Arc::new(answer),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// `/hook` behind `layer`, answered by this handler.
    fn router<S: Scheme + 'static>(&self, layer: WebhookLayer<S>) -> Router {
        let this = self.clone();
        Router::new()
            .route(
                "/hook",
                post(move || {
                    let n = this.calls.fetch_add(1, Ordering::SeqCst);
                    (this.answer)(n)
                }),
            )
            .layer(layer)
    }
}

fn ok() -> Reply {
    Box::pin(async { (StatusCode::OK, "handled") })
}

fn stripe() -> Verifier<Stripe> {
    Verifier::new(Stripe, [SecretString::from(STRIPE_SECRET)]).unwrap()
}

fn signed(verifier: &Verifier<impl Scheme>, message: &Message<'_>) -> HeaderMap {
    verifier.sign(message).unwrap().to_header_map().unwrap()
}

fn request(uri: &str, headers: &HeaderMap, body: &'static [u8]) -> Request<Body> {
    let mut req = Request::post(uri).body(Body::from(body)).unwrap();
    req.headers_mut().extend(headers.clone());
    req
}

/// Status, duplicate header (if any) and body of the answer.
async fn send(router: &Router, req: Request<Body>) -> (StatusCode, Option<String>, String) {
    let res: Response<Body> = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let duplicate = res
        .headers()
        .get(DUPLICATE_HEADER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
    (status, duplicate, String::from_utf8(body.to_vec()).unwrap())
}

fn guard() -> ReplayGuard<Arc<MemoryNonceStore>> {
    ReplayGuard::new(Arc::new(MemoryNonceStore::new()))
}

const BODY: &[u8] = br#"{"id":"evt_delivery","type":"invoice.paid"}"#;

#[tokio::test]
async fn a_handler_failure_is_released_and_the_retry_runs_the_handler() {
    let handler = Counted::new(|n| {
        Box::pin(async move {
            if n == 0 {
                (StatusCode::INTERNAL_SERVER_ERROR, "database down")
            } else {
                (StatusCode::OK, "handled")
            }
        })
    });
    let v = stripe();
    let headers = signed(&v, &Message::new(BODY));
    let app = handler.router(WebhookLayer::new(v).replay_guard(guard()));

    let (status, dup, text) = send(&app, request("/hook", &headers, BODY)).await;
    assert_eq!(
        (status, dup, text.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, None, "database down")
    );
    // The provider's retry: the same bytes, the same signature.
    let (status, dup, text) = send(&app, request("/hook", &headers, BODY)).await;
    assert_eq!(
        (status, dup, text.as_str()),
        (StatusCode::OK, None, "handled")
    );
    assert_eq!(handler.calls(), 2);
    // Handled now: one more copy does not run the handler.
    let (status, dup, _) = send(&app, request("/hook", &headers, BODY)).await;
    assert_eq!(
        (status, dup.as_deref()),
        (StatusCode::OK, Some("completed"))
    );
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn statuses_decide_completion_or_release() {
    // (first answer, whether a retry of the identical delivery runs the handler again)
    let cases = [
        (StatusCode::OK, false),
        (StatusCode::ACCEPTED, false),
        (StatusCode::BAD_REQUEST, false),
        (StatusCode::UNPROCESSABLE_ENTITY, false),
        (StatusCode::REQUEST_TIMEOUT, true),
        (StatusCode::TOO_MANY_REQUESTS, true),
        (StatusCode::BAD_GATEWAY, true),
        (StatusCode::SERVICE_UNAVAILABLE, true),
    ];
    for (first, runs_again) in cases {
        let handler = Counted::new(move |n| {
            Box::pin(async move {
                if n == 0 {
                    (first, "first")
                } else {
                    (StatusCode::OK, "again")
                }
            })
        });
        let v = stripe();
        let headers = signed(&v, &Message::new(BODY));
        let app = handler.router(WebhookLayer::new(v).replay_guard(guard()));
        let (status, _, _) = send(&app, request("/hook", &headers, BODY)).await;
        assert_eq!(status, first);
        let (status, dup, text) = send(&app, request("/hook", &headers, BODY)).await;
        if runs_again {
            assert_eq!(
                (status, dup, text.as_str()),
                (StatusCode::OK, None, "again"),
                "{first}"
            );
            assert_eq!(handler.calls(), 2, "{first}");
        } else {
            assert_eq!(
                (status, dup.as_deref()),
                (StatusCode::OK, Some("completed")),
                "{first}"
            );
            assert_eq!(handler.calls(), 1, "{first}");
        }
    }
}

#[tokio::test]
async fn a_handler_error_is_released() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let v = stripe();
    let headers = signed(&v, &Message::new(BODY));
    let svc = tower::ServiceBuilder::new()
        .layer(WebhookLayer::new(v).replay_guard(guard()))
        .service(service_fn(move |_req: Request<WebhookBody>| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err::<Response<Full<Bytes>>, &str>("handler failed")
                } else {
                    Ok(Response::new(Full::new(Bytes::from_static(b"handled"))))
                }
            }
        }));
    let req = || {
        let mut req = Request::post("/hook")
            .body(Full::new(Bytes::from_static(BODY)))
            .unwrap();
        req.headers_mut().extend(headers.clone());
        req
    };
    assert_eq!(
        svc.clone().oneshot(req()).await.unwrap_err(),
        "handler failed"
    );
    let res = svc.clone().oneshot(req()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get(DUPLICATE_HEADER).is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let res = svc.clone().oneshot(req()).await.unwrap();
    assert_eq!(res.headers()[DUPLICATE_HEADER], "completed");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_dropped_response_future_is_released_and_the_retry_runs() {
    let handler = Counted::new(|n| {
        Box::pin(async move {
            if n == 0 {
                // Hangs until the caller gives up.
                std::future::pending::<()>().await;
            }
            (StatusCode::OK, "handled")
        })
    });
    let v = stripe();
    let headers = signed(&v, &Message::new(BODY));
    let app = handler.router(WebhookLayer::new(v).replay_guard(guard()));

    let first = tokio::time::timeout(
        Duration::from_millis(50),
        app.clone().oneshot(request("/hook", &headers, BODY)),
    )
    .await;
    assert!(first.is_err(), "the hanging handler answered");
    assert_eq!(handler.calls(), 1);
    // The release is spawned on this runtime when the future is dropped: give it its turn.
    let mut answer = None;
    for _ in 0..100 {
        let (status, dup, text) = send(&app, request("/hook", &headers, BODY)).await;
        if dup.as_deref() != Some("in-progress") {
            answer = Some((status, dup, text));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, dup, text) = answer.expect("the claim was never released");
    assert_eq!(
        (status, dup, text.as_str()),
        (StatusCode::OK, None, "handled")
    );
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn a_completed_delivery_sent_again_gets_200_duplicate_without_the_handler() {
    let handler = Counted::new(|_| ok());
    let v = stripe();
    let headers = signed(&v, &Message::new(BODY));
    let app = handler.router(WebhookLayer::new(v).replay_guard(guard()));
    let (status, dup, text) = send(&app, request("/hook", &headers, BODY)).await;
    assert_eq!(
        (status, dup, text.as_str()),
        (StatusCode::OK, None, "handled")
    );
    for _ in 0..3 {
        let (status, dup, text) = send(&app, request("/hook", &headers, BODY)).await;
        assert_eq!(
            (status, dup.as_deref(), text.as_str()),
            (
                StatusCode::OK,
                Some("completed"),
                "duplicate webhook delivery"
            )
        );
    }
    assert_eq!(handler.calls(), 1);
}

#[tokio::test]
async fn replay_status_409_for_completed_duplicates() {
    let handler = Counted::new(|_| ok());
    let v = stripe();
    let headers = signed(&v, &Message::new(BODY));
    let app = handler.router(
        WebhookLayer::new(v)
            .replay_guard(guard())
            .replay_status(409)
            .unwrap(),
    );
    assert_eq!(
        send(&app, request("/hook", &headers, BODY)).await.0,
        StatusCode::OK
    );
    let (status, dup, text) = send(&app, request("/hook", &headers, BODY)).await;
    assert_eq!(
        (status, dup.as_deref(), text.as_str()),
        (
            StatusCode::CONFLICT,
            Some("completed"),
            "duplicate webhook delivery"
        )
    );
    assert_eq!(handler.calls(), 1);
    assert!(WebhookLayer::new(stripe()).replay_status(1000).is_err());
}

#[tokio::test]
async fn a_copy_sent_while_the_first_is_handled_gets_409_in_progress() {
    let entered = Arc::new(Notify::new());
    let finish = Arc::new(Notify::new());
    let (e, f) = (Arc::clone(&entered), Arc::clone(&finish));
    let handler = Counted::new(move |_| {
        let (e, f) = (Arc::clone(&e), Arc::clone(&f));
        Box::pin(async move {
            e.notify_one();
            f.notified().await;
            (StatusCode::OK, "handled")
        })
    });
    let v = stripe();
    let headers = signed(&v, &Message::new(BODY));
    let app = handler.router(WebhookLayer::new(v).replay_guard(guard()));

    let first = tokio::spawn({
        let (app, headers) = (app.clone(), headers.clone());
        async move { send(&app, request("/hook", &headers, BODY)).await }
    });
    entered.notified().await;
    let (status, dup, text) = send(&app, request("/hook", &headers, BODY)).await;
    assert_eq!(
        (status, dup.as_deref(), text.as_str()),
        (
            StatusCode::CONFLICT,
            Some("in-progress"),
            "webhook delivery in progress"
        )
    );
    finish.notify_one();
    let (status, dup, text) = first.await.unwrap();
    assert_eq!(
        (status, dup, text.as_str()),
        (StatusCode::OK, None, "handled")
    );
    let (status, dup, _) = send(&app, request("/hook", &headers, BODY)).await;
    assert_eq!(
        (status, dup.as_deref()),
        (StatusCode::OK, Some("completed"))
    );
    assert_eq!(handler.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_deliveries_at_once_run_the_handler_exactly_once() {
    let handler = Counted::new(|_| {
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            (StatusCode::OK, "handled")
        })
    });
    let v = stripe();
    let headers = signed(&v, &Message::new(BODY));
    let app = handler.router(WebhookLayer::new(v).replay_guard(guard()));
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (app, headers, barrier) = (app.clone(), headers.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                send(&app, request("/hook", &headers, BODY)).await
            })
        })
        .collect();
    let mut handled = 0;
    for task in tasks {
        match task.await.unwrap() {
            (StatusCode::OK, None, text) if text == "handled" => handled += 1,
            (StatusCode::CONFLICT, Some(dup), _) if dup == "in-progress" => {}
            // A copy that arrived after the first completed.
            (StatusCode::OK, Some(dup), _) if dup == "completed" => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(handled, 1);
    assert_eq!(handler.calls(), 1);
}

/// Two routes of the same provider with their own secrets, on one shared store, behind one
/// router: the layers take the route identity from axum's matched path.
#[tokio::test]
async fn a_sender_on_route_b_cannot_preclaim_what_route_a_receives() {
    let store = Arc::new(MemoryNonceStore::new());
    let a = Counted::new(|_| ok());
    let b = Counted::new(|_| ok());
    let va = Verifier::new(StandardWebhooks, [SecretString::from(ROUTE_A_SECRET)]).unwrap();
    let vb = Verifier::new(StandardWebhooks, [SecretString::from(ROUTE_B_SECRET)]).unwrap();
    let message = Message::new(BODY).id("msg_shared");
    let (ha, hb) = (signed(&va, &message), signed(&vb, &message));
    let route = |handler: &Counted, verifier| {
        let h = handler.clone();
        post(move || {
            h.calls.fetch_add(1, Ordering::SeqCst);
            ok()
        })
        .layer(WebhookLayer::new(verifier).replay_guard(ReplayGuard::new(Arc::clone(&store))))
    };
    let app = Router::new()
        .route("/hooks/a", route(&a, va))
        .route("/hooks/b", route(&b, vb));

    // The sender of route B sends, with B's secret, the id and body route A will receive.
    let (status, dup, _) = send(&app, request("/hooks/b", &hb, BODY)).await;
    assert_eq!((status, dup), (StatusCode::OK, None));
    // Route A's own delivery is still handled.
    let (status, dup, _) = send(&app, request("/hooks/a", &ha, BODY)).await;
    assert_eq!((status, dup), (StatusCode::OK, None));
    assert_eq!((a.calls(), b.calls()), (1, 1));
    // Each route still refuses its own duplicates.
    for (path, headers) in [("/hooks/a", &ha), ("/hooks/b", &hb)] {
        let (status, dup, _) = send(&app, request(path, headers, BODY)).await;
        assert_eq!(
            (status, dup.as_deref()),
            (StatusCode::OK, Some("completed"))
        );
    }
    assert_eq!((a.calls(), b.calls()), (1, 1));
}

/// The same without a router: the route identity configured with `WebhookLayer::route`, for
/// a provider that signs no id (GitHub: the replay key comes from the signed bytes).
#[tokio::test]
async fn configured_route_names_separate_namespaces() {
    let store = Arc::new(MemoryNonceStore::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let service = |secret: &str, route: &str| {
        let counter = Arc::clone(&calls);
        tower::ServiceBuilder::new()
            .layer(
                WebhookLayer::new(
                    Verifier::new(GitHub::new(), [SecretString::from(secret)]).unwrap(),
                )
                .replay_guard(ReplayGuard::new(Arc::clone(&store)))
                .route(route),
            )
            .service(service_fn(move |_req: Request<WebhookBody>| {
                counter.fetch_add(1, Ordering::SeqCst);
                async { Ok::<_, std::convert::Infallible>(Response::new(Full::<Bytes>::default())) }
            }))
    };
    let (svc_a, svc_b) = (
        service("route-a-github-secret", "a"),
        service("route-b-github-secret", "b"),
    );
    let sign = |secret: &str| {
        let v = Verifier::new(GitHub::new(), [SecretString::from(secret)]).unwrap();
        let mut req = Request::post("/hook")
            .body(Full::new(Bytes::from_static(BODY)))
            .unwrap();
        req.headers_mut().extend(signed(&v, &Message::new(BODY)));
        req
    };
    let res = svc_b
        .clone()
        .oneshot(sign("route-b-github-secret"))
        .await
        .unwrap();
    assert!(res.headers().get(DUPLICATE_HEADER).is_none());
    let res = svc_a
        .clone()
        .oneshot(sign("route-a-github-secret"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers().get(DUPLICATE_HEADER).is_none(),
        "route A's delivery was pre-claimed"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let res = svc_a
        .clone()
        .oneshot(sign("route-a-github-secret"))
        .await
        .unwrap();
    assert_eq!(res.headers()[DUPLICATE_HEADER], "completed");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// A memory store whose `complete` and `release` always fail.
struct SettleFails(MemoryNonceStore);

#[async_trait]
impl NonceStore for SettleFails {
    async fn insert_if_absent(
        &self,
        namespace: &str,
        id: &[u8],
        ttl: Duration,
    ) -> Result<Freshness, ReplayError> {
        self.0.insert_if_absent(namespace, id, ttl).await
    }

    async fn remove(&self, namespace: &str, id: &[u8]) -> Result<bool, ReplayError> {
        self.0.remove(namespace, id).await
    }

    async fn claim(
        &self,
        namespace: &str,
        id: &[u8],
        token: LeaseToken,
        lease: Duration,
    ) -> Result<ClaimOutcome, ReplayError> {
        self.0.claim(namespace, id, token, lease).await
    }

    async fn complete(
        &self,
        _: &str,
        _: &[u8],
        _: LeaseToken,
        _: Duration,
    ) -> Result<bool, ReplayError> {
        Err(ReplayError::StoreTimeout { millis: 250 })
    }

    async fn release(&self, _: &str, _: &[u8], _: LeaseToken) -> Result<bool, ReplayError> {
        Err(ReplayError::StoreTimeout { millis: 250 })
    }
}

#[tokio::test]
async fn a_store_failing_to_settle_never_changes_the_handlers_answer() {
    for answer in [StatusCode::OK, StatusCode::INTERNAL_SERVER_ERROR] {
        let handler = Counted::new(move |_| Box::pin(async move { (answer, "from the handler") }));
        let v = stripe();
        let headers = signed(&v, &Message::new(BODY));
        let app = handler.router(
            WebhookLayer::new(v)
                .replay_guard(ReplayGuard::new(SettleFails(MemoryNonceStore::new()))),
        );
        let (status, dup, text) = send(&app, request("/hook", &headers, BODY)).await;
        assert_eq!(
            (status, dup, text.as_str()),
            (answer, None, "from the handler")
        );
        // Neither completed nor released: the claim holds until its lease expires.
        let (status, dup, _) = send(&app, request("/hook", &headers, BODY)).await;
        assert_eq!(
            (status, dup.as_deref()),
            (StatusCode::CONFLICT, Some("in-progress"))
        );
        assert_eq!(handler.calls(), 1);
    }
}
