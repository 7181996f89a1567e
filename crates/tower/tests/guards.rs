//! The query-credential and content-type layers, over a plain `service_fn` and an axum router.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::Full;
use palisade_tower::{ContentTypeLayer, QueryCredentialLayer};
use tower::{ServiceBuilder, ServiceExt, service_fn};

async fn query_status(layer: QueryCredentialLayer, uri: &str) -> StatusCode {
    let svc = ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(|_req: Request<()>| async {
            Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
        }));
    svc.oneshot(Request::get(uri).body(()).unwrap())
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn credentials_in_the_query_string_are_refused() {
    let l = QueryCredentialLayer::new;
    assert_eq!(
        query_status(l(), "/a?token=abc").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        query_status(l(), "/a?x=1&access_token=abc").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        query_status(l(), "/a?API_KEY=abc").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        query_status(l(), "/a?api%5Fkey=abc").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(query_status(l(), "/a?token").await, StatusCode::BAD_REQUEST);
    assert_eq!(
        query_status(l(), "/a?tokens=1&page=2").await,
        StatusCode::OK
    );
    assert_eq!(query_status(l(), "/a?q=token").await, StatusCode::OK);
    assert_eq!(query_status(l(), "/a").await, StatusCode::OK);
    let custom = QueryCredentialLayer::new().names(["key"]);
    assert_eq!(
        query_status(custom.clone(), "/a?KEY=1").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(query_status(custom, "/a?token=1").await, StatusCode::OK);
}

#[tokio::test]
async fn refusal_body_does_not_echo_the_value() {
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(QueryCredentialLayer::new());
    let res = app
        .oneshot(
            Request::get("/?token=sk_live_secret")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
    assert!(!String::from_utf8_lossy(&body).contains("sk_live_secret"));
}

async fn ct_status(
    layer: ContentTypeLayer,
    method: &str,
    content_type: Option<&str>,
) -> StatusCode {
    let body = if method == "GET" {
        Body::empty()
    } else {
        Body::from("{}")
    };
    ct_status_with(layer, method, content_type, &[], body).await
}

async fn ct_status_with(
    layer: ContentTypeLayer,
    method: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: Body,
) -> StatusCode {
    let app = Router::new()
        .route(
            "/",
            post(|| async { "ok" })
                .get(|| async { "ok" })
                .delete(|| async { "ok" })
                .options(|| async { "ok" }),
        )
        .layer(layer);
    let mut req = Request::builder().method(method).uri("/");
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.oneshot(req.body(body).unwrap()).await.unwrap().status()
}

/// A body that arrives in chunks with no declared length, as an HTTP/2 request's DATA frames
/// do when the client sends no `Content-Length`: not at its end, no size hint.
struct Chunks(VecDeque<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }
}

fn streaming(chunks: &[&'static str]) -> Body {
    Body::new(Chunks(
        chunks
            .iter()
            .map(|c| Bytes::from_static(c.as_bytes()))
            .collect(),
    ))
}

#[tokio::test]
async fn content_type_is_checked_for_every_request_with_a_body() {
    let json = ContentTypeLayer::json();
    // Methods other than POST/PUT/PATCH, no Content-Length, no Transfer-Encoding: the body
    // itself says it has data.
    for method in ["GET", "DELETE", "OPTIONS"] {
        assert_eq!(
            ct_status_with(json, method, None, &[], streaming(&["{\"a\":", "1}"])).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{method} with a streaming body and no Content-Type"
        );
        assert_eq!(
            ct_status_with(json, method, Some("text/plain"), &[], Body::from("{}")).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{method} with a full body"
        );
        assert_eq!(
            ct_status_with(
                json,
                method,
                Some("application/json"),
                &[],
                streaming(&["{}"])
            )
            .await,
            StatusCode::OK,
            "{method} with a JSON streaming body"
        );
        // An empty body passes without a Content-Type.
        assert_eq!(
            ct_status_with(json, method, None, &[], Body::empty()).await,
            StatusCode::OK,
            "{method} without a body"
        );
    }
    // A Content-Length that is not text (obs-text bytes) still declares a body.
    let app = Router::new().route("/", get(|| async { "ok" })).layer(json);
    let mut req = Request::get("/").body(Body::empty()).unwrap();
    req.headers_mut()
        .insert("content-length", HeaderValue::from_bytes(b"1\xff").unwrap());
    assert_eq!(
        app.oneshot(req).await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn content_types() {
    let json = ContentTypeLayer::json();
    assert_eq!(
        ct_status(json, "POST", Some("application/json")).await,
        StatusCode::OK
    );
    assert_eq!(
        ct_status(json, "POST", Some("Application/JSON; charset=UTF-8")).await,
        StatusCode::OK
    );
    assert_eq!(
        ct_status(json, "POST", Some("application/vnd.api+json")).await,
        StatusCode::OK
    );
    assert_eq!(
        ct_status(json, "POST", Some("application/x-www-form-urlencoded")).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        ct_status(json, "POST", Some("text/plain")).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        ct_status(json, "POST", None).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    // A GET without a body passes.
    assert_eq!(ct_status(json, "GET", None).await, StatusCode::OK);

    let form = ContentTypeLayer::form();
    assert_eq!(
        ct_status(form, "POST", Some("application/x-www-form-urlencoded")).await,
        StatusCode::OK
    );
    assert_eq!(
        ct_status(form, "POST", Some("application/json")).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let both = ContentTypeLayer::json_or_form();
    assert_eq!(
        ct_status(both, "POST", Some("application/json")).await,
        StatusCode::OK
    );
    assert_eq!(
        ct_status(both, "POST", Some("application/x-www-form-urlencoded")).await,
        StatusCode::OK
    );
}
