//! Authentication of requests with palisade-auth (feature `auth`): [`AuthLayer`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use ipnet::IpNet;
use palisade_auth::{AuthError, Authenticator};
use palisade_core::{Clock, SystemClock};
use tower::{Layer, Service};

use crate::BoxFuture;
use crate::client_ip::ClientIp;
use crate::response::{plain, take_ready};

use crate::telemetry::{METRIC_AUTH_FAILURES, METRIC_AUTH_SUCCESSES};

/// A refused attempt, handed to the [`on_failure`](AuthLayer::on_failure) hook.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FailedAttempt {
    /// The client's network ([`ClientIp::key_network`]: an IPv4 address or an IPv6 /64),
    /// when its address is known.
    pub client: Option<IpNet>,
    /// [`AuthError::reason`] of the refusal.
    pub reason: &'static str,
}

type FailureHook = Arc<dyn Fn(FailedAttempt) -> BoxFuture<'static, ()> + Send + Sync>;

#[derive(Clone)]
struct Shared {
    auth: Authenticator,
    header: Option<HeaderName>,
    realm: Option<String>,
    on_failure: Option<(ClientIp, FailureHook)>,
    clock: Arc<dyn Clock>,
}

/// A [`Layer`] that authenticates every request with an [`Authenticator`] (API keys, JWT
/// bearer tokens, the legacy-token kill switch) and puts the [`Principal`](palisade_auth::Principal)
/// (and the [`Method`](palisade_auth::Method)) into the request's extensions, where
/// authorization layers and handlers read it.
///
/// **Where credentials are read:** `Authorization: Bearer <token>` (RFC 6750 §2.1), or the
/// configured header ([`credential_header`](Self::credential_header), e.g. `X-API-Key`,
/// holding the raw key). Never the query string (RFC 6750 §2.3 discourages it; pair this
/// layer with [`QueryCredentialLayer`](crate::QueryCredentialLayer) to refuse such requests
/// outright). Two `Authorization` headers, or both headers at once, are refused.
///
/// **Answers** (bodies are fixed strings; nothing says which check failed):
/// - no credential: **401** with `WWW-Authenticate: Bearer realm="…"` and no error code
///   (RFC 6750 §3.1);
/// - a malformed header or an unsupported credential: **400** with `error="invalid_request"`
///   (RFC 6750 §3.1);
/// - any other refusal (unknown, revoked or expired key, bad signature, expired token, wrong
///   audience, retired shared token, …): **401** with `error="invalid_token"`;
/// - the key store or the JWKS source failing: **503**.
///
/// Each refusal counts [`METRIC_AUTH_FAILURES`] by reason, and palisade-auth emits
/// `auth.failed` / `auth.legacy_token_blocked` (target `palisade_auth`).
///
/// **Failed attempts per client → palisade-ratelimit:** [`on_failure`](Self::on_failure)
/// hands each refusal's client network to a hook; count it with a
/// [`RateLimitStore`](palisade_ratelimit::RateLimitStore) under a policy with a penalty box,
/// and put a [`RateLimitLayer`](crate::RateLimitLayer) in the same namespace and store in
/// front of this layer: blocks are per key across policies, so a client that failed too
/// often is answered 429 before its credentials are even looked at (the recipe is on
/// [`on_failure`](Self::on_failure)).
#[derive(Clone)]
pub struct AuthLayer {
    shared: Arc<Shared>,
}

impl fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthLayer")
            .field("auth", &self.shared.auth)
            .field("header", &self.shared.header)
            .field("realm", &self.shared.realm)
            .finish_non_exhaustive()
    }
}

impl AuthLayer {
    /// A layer authenticating with `auth`, reading `Authorization: Bearer` only.
    pub fn new(auth: Authenticator) -> Self {
        Self {
            shared: Arc::new(Shared {
                auth,
                header: None,
                realm: None,
                on_failure: None,
                clock: Arc::new(SystemClock),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Shared)) -> Self {
        // Copy-on-write: a clone of the layer taken earlier keeps its own settings.
        f(Arc::make_mut(&mut self.shared));
        self
    }

    /// The clock that JWT `exp`, `nbf` and `iat` claims, and the end of a retired shared
    /// token's grace period ([`LegacyTokens::allow_until`](palisade_auth::LegacyTokens::allow_until)),
    /// are checked against (default [`SystemClock`]). API keys expire on their store's clock.
    #[must_use]
    pub fn clock(self, clock: Arc<dyn Clock>) -> Self {
        self.edit(|s| s.clock = clock)
    }

    /// Also reads a raw credential from `header` (`X-API-Key`).
    #[must_use]
    pub fn credential_header(self, header: HeaderName) -> Self {
        self.edit(|s| s.header = Some(header))
    }

    /// The `realm` of `WWW-Authenticate` answers. Characters outside printable ASCII, `"`
    /// and `\` are dropped.
    #[must_use]
    pub fn realm(self, realm: &str) -> Self {
        let clean: String = realm
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .filter(|c| *c != '"' && *c != '\\')
            .collect();
        self.edit(|s| s.realm = Some(clean))
    }

    /// Calls `hook` with each refused attempt (its client network resolved with
    /// `client_ip`) and awaits it before answering.
    ///
    /// The recipe that feeds failed attempts per client into palisade-ratelimit: count each
    /// failure under a policy with a penalty box, keyed as a [`RateLimitLayer`](crate::RateLimitLayer)
    /// in front keys its requests (its namespace, then the client network); blocks are per
    /// key across policies, so once a client has failed too often that layer answers 429
    /// before this one looks at any credential.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use palisade_auth::Authenticator;
    /// use palisade_ratelimit::{KeyBuilder, Limit, MemoryStore, Policy, Quota, RateLimitStore};
    /// use palisade_tower::{AuthLayer, ClientIp, RateLimitLayer};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Arc::new(MemoryStore::new());
    /// // 5 failures a minute per client network; the 6th blocks it for 15 minutes.
    /// let failures = Arc::new(
    ///     Policy::single(Limit::gcra("auth-failures", Quota::per_minute(5)?)?)?
    ///         .with_block(Duration::from_secs(15 * 60)),
    /// );
    /// let requests = Policy::single(Limit::gcra("requests", Quota::per_second(100)?)?)?;
    ///
    /// let limit = RateLimitLayer::new("auth", store.clone(), requests);
    /// let auth = AuthLayer::new(Authenticator::new()).on_failure(ClientIp::new(), move |attempt| {
    ///     let (store, failures) = (store.clone(), failures.clone());
    ///     async move {
    ///         if let Some(net) = attempt.client {
    ///             let key = KeyBuilder::new("auth").ip(net.network()).build();
    ///             let _ = store.apply(&key, &failures, 1).await;
    ///         }
    ///     }
    /// });
    /// // ServiceBuilder::new().layer(limit).layer(auth).service(app)
    /// # let _ = (limit, auth);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn on_failure<F, Fut>(self, client_ip: ClientIp, hook: F) -> Self
    where
        F: Fn(FailedAttempt) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let hook: FailureHook = Arc::new(move |a| Box::pin(hook(a)));
        self.edit(|s| s.on_failure = Some((client_ip, hook)))
    }
}

impl<I> Layer<I> for AuthLayer {
    type Service = AuthService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        AuthService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The [`Service`] of an [`AuthLayer`]: see there.
#[derive(Clone)]
pub struct AuthService<I> {
    inner: I,
    shared: Arc<Shared>,
}

impl<I: fmt::Debug> fmt::Debug for AuthService<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// The one value of header `name`; `Err` when it appears more than once.
fn single<'a>(parts: &'a Parts, name: &HeaderName) -> Result<Option<&'a [u8]>, AuthError> {
    let mut values = parts.headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => Ok(Some(v.as_bytes())),
        (Some(_), Some(_)) => Err(AuthError::MalformedHeader),
    }
}

impl Shared {
    async fn authenticate(&self, parts: &mut Parts) -> Result<(), AuthError> {
        let authorization = single(parts, &AUTHORIZATION)?;
        let custom = match &self.header {
            Some(name) => single(parts, name)?,
            None => None,
        };
        let (principal, method) = self
            .auth
            .authenticate(authorization, custom, self.clock.now().as_unix_secs())
            .await?;
        metrics::counter!(METRIC_AUTH_SUCCESSES, "method" => method.as_str()).increment(1);
        parts.extensions.insert(principal);
        parts.extensions.insert(method);
        Ok(())
    }

    fn refusal<R: From<Bytes>>(&self, error: &AuthError) -> Response<R> {
        if error.is_server_error() {
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "authentication unavailable",
            );
        }
        let (status, code, body) = match error {
            AuthError::MissingCredential => (StatusCode::UNAUTHORIZED, None, "unauthorized"),
            AuthError::MalformedHeader | AuthError::UnsupportedCredential => (
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                "malformed credentials",
            ),
            _ => (
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "unauthorized",
            ),
        };
        let mut challenge = String::from("Bearer");
        let mut sep = " ";
        if let Some(realm) = &self.realm {
            challenge.push_str(&format!("{sep}realm=\"{realm}\""));
            sep = ", ";
        }
        if let Some(code) = code {
            challenge.push_str(&format!("{sep}error=\"{code}\""));
        }
        let mut res = plain(status, body);
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            res.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        res
    }
}

impl<I, B, R> Service<Request<B>> for AuthService<I>
where
    I: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    I::Future: Send,
    B: Send + 'static,
    R: From<Bytes> + Send + 'static,
{
    type Response = Response<R>;
    type Error = I::Error;
    type Future = BoxFuture<'static, Result<Response<R>, I::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let mut inner = take_ready(&mut self.inner);
        let shared = Arc::clone(&self.shared);
        let (mut parts, body) = req.into_parts();
        Box::pin(async move {
            match shared.authenticate(&mut parts).await {
                Ok(()) => inner.call(Request::from_parts(parts, body)).await,
                Err(e) => {
                    metrics::counter!(METRIC_AUTH_FAILURES, "reason" => e.reason()).increment(1);
                    if let Some((client_ip, hook)) = &shared.on_failure {
                        let attempt = FailedAttempt {
                            client: client_ip.key_network(&parts),
                            reason: e.reason(),
                        };
                        hook(attempt).await;
                    }
                    Ok(shared.refusal(&e))
                }
            }
        })
    }
}
