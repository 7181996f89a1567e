//! Short plain-text refusals and the service plumbing shared by the layers.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Request, Response, StatusCode};
use tower::Service;

use crate::BoxFuture;

/// A response of `status` whose body is `message` as `text/plain; charset=utf-8`.
///
/// Messages are fixed strings or the `Display` of an error type documented as secret-free.
pub(crate) fn plain<B: From<Bytes>>(status: StatusCode, message: impl Into<String>) -> Response<B> {
    let mut res = Response::new(B::from(Bytes::from(message.into())));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// Answers with `refusal` when there is one, otherwise forwards `req` to `inner`.
pub(crate) fn refuse_or_call<I, B, R>(
    inner: &mut I,
    req: Request<B>,
    refusal: Option<Response<R>>,
) -> BoxFuture<'static, Result<Response<R>, I::Error>>
where
    I: Service<Request<B>, Response = Response<R>>,
    I::Future: Send + 'static,
    I::Error: Send + 'static,
    R: Send + 'static,
{
    match refusal {
        Some(res) => Box::pin(std::future::ready(Ok(res))),
        None => Box::pin(inner.call(req)),
    }
}

/// The inner service to call from a boxed future: the one `poll_ready` drove to readiness,
/// leaving a fresh clone in its place (the usual tower idiom).
pub(crate) fn take_ready<I: Clone>(inner: &mut I) -> I {
    let clone = inner.clone();
    std::mem::replace(inner, clone)
}
