//! The service of the layers that look at a request's head and either answer it themselves or
//! hand it on unchanged ([`OriginGuard`](crate::OriginGuard),
//! [`MetaHandshakeLayer`](crate::MetaHandshakeLayer)).

use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower::Service;

use crate::BoxFuture;
use crate::response::refuse_or_call;

mod sealed {
    /// Only this crate's layers are guards.
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A layer that answers some requests from their head alone (a refusal, a handshake) and
/// hands the others to the inner service. Implemented by this crate's layers only.
pub trait Guard: Clone + sealed::Sealed {
    /// The answer that replaces the inner service's, if `req` gets one.
    #[doc(hidden)]
    fn answer<B, R: From<Bytes>>(&self, req: &Request<B>) -> Option<Response<R>>;
}

/// The [`Service`] of a [`Guard`] layer: the guard's answer, or the inner service's.
#[derive(Clone, Debug)]
pub struct GuardService<I, G> {
    inner: I,
    guard: G,
}

impl<I, G> GuardService<I, G> {
    pub(crate) fn new(inner: I, guard: G) -> Self {
        Self { inner, guard }
    }
}

impl<I, G, B, R> Service<Request<B>> for GuardService<I, G>
where
    I: Service<Request<B>, Response = Response<R>>,
    I::Future: Send + 'static,
    I::Error: Send + 'static,
    G: Guard,
    R: From<Bytes> + Send + 'static,
{
    type Response = Response<R>;
    type Error = I::Error;
    type Future = BoxFuture<'static, Result<Response<R>, I::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let answer = self.guard.answer(&req);
        refuse_or_call(&mut self.inner, req, answer)
    }
}
