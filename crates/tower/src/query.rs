//! Refusal of credentials in the query string.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use tower::{Layer, Service};
use tracing::Level;

use crate::BoxFuture;
use crate::response::{plain, refuse_or_call};
use crate::telemetry::{self, emit};

/// The parameter names refused by default: `token`, `access_token`, `api_key` (defined once,
/// in `palisade-sanitize`).
pub use palisade_sanitize::credential::DEFAULT_CREDENTIAL_PARAMS;
use palisade_sanitize::credential::find_credential_param;

/// A [`Layer`] that answers **400** to requests whose query string carries a credential.
///
/// Tokens in URLs leak: into access logs of proxies, load balancers and the server itself,
/// browser history and `Referer` headers (RFC 6750 §5.3 and §2.3 discourage `access_token`
/// in the URI). Parameter names are matched after `application/x-www-form-urlencoded`
/// decoding (so `api%5Fkey` and `API_KEY` are caught) and without regard to ASCII case; values
/// are never looked at or logged. The `auth.query_token_refused` event names the parameter.
///
/// ```
/// use palisade_tower::QueryCredentialLayer;
///
/// let layer = QueryCredentialLayer::new().names(["token", "access_token", "api_key", "key"]);
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct QueryCredentialLayer {
    names: Arc<[String]>,
}

impl fmt::Debug for QueryCredentialLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryCredentialLayer")
            .field("names", &self.names)
            .finish()
    }
}

impl Default for QueryCredentialLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl QueryCredentialLayer {
    /// Refuses [`DEFAULT_CREDENTIAL_PARAMS`].
    pub fn new() -> Self {
        Self::default_names()
    }

    fn default_names() -> Self {
        Self {
            names: DEFAULT_CREDENTIAL_PARAMS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }

    /// Replaces the list of refused parameter names.
    #[must_use]
    pub fn names<I, N>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        self.names = names.into_iter().map(Into::into).collect();
        self
    }

    /// The 400 answer for a query string that carries a refused parameter, if it does.
    fn refusal<R: From<Bytes>>(&self, query: &str) -> Option<Response<R>> {
        let param = self.offending(query)?;
        emit!(
            Level::WARN,
            telemetry::AUTH_QUERY_TOKEN_REFUSED,
            param,
            status = 400u16
        );
        metrics::counter!(telemetry::METRIC_QUERY_CREDENTIAL_REFUSALS).increment(1);
        Some(plain(
            StatusCode::BAD_REQUEST,
            "credentials must not be sent in the URL; use the Authorization header",
        ))
    }

    /// The first refused parameter name in `query`, as configured (palisade-sanitize's
    /// detector: names form-decoded, compared without regard to ASCII case).
    fn offending(&self, query: &str) -> Option<&str> {
        find_credential_param(query, &self.names)
    }
}

impl<I> Layer<I> for QueryCredentialLayer {
    type Service = QueryCredentialService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        QueryCredentialService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The [`Service`] of a [`QueryCredentialLayer`]: see there.
#[derive(Clone)]
pub struct QueryCredentialService<I> {
    inner: I,
    layer: QueryCredentialLayer,
}

impl<I: fmt::Debug> fmt::Debug for QueryCredentialService<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryCredentialService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

impl<I, B, R> Service<Request<B>> for QueryCredentialService<I>
where
    I: Service<Request<B>, Response = Response<R>>,
    I::Future: Send + 'static,
    I::Error: Send + 'static,
    R: From<Bytes> + Send + 'static,
{
    type Response = Response<R>;
    type Error = I::Error;
    type Future = BoxFuture<'static, Result<Response<R>, I::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let refusal = req.uri().query().and_then(|q| self.layer.refusal(q));
        refuse_or_call(&mut self.inner, req, refusal)
    }
}
