//! Rate limiting by client IP, identity and route.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use std::net::IpAddr;

use palisade_ratelimit::{
    CachedReputation, Cause, HeaderField, HeaderStyle, Key, KeyBuilder, Policy, RateLimitHeaders,
    RateLimitStore, ReputationVerdict, Verdict,
};
use tower::{Layer, Service};
use tracing::Level;

use crate::response::{plain, take_ready};
use crate::telemetry::{self, emit};
use crate::{BoxFuture, ClientIp};

/// What a [`RateLimitLayer`] does when its store fails ([`RateLimitError::is_store_failure`](palisade_ratelimit::RateLimitError::is_store_failure):
/// unreachable, timed out).
///
/// This is the last resort. Real fallback belongs in the store: wrap the primary (Redis,
/// Postgres) in a [`FallbackStore`](palisade_ratelimit::FallbackStore) whose
/// [`FallbackMode::Secondary`](palisade_ratelimit::FallbackMode::Secondary) keeps limits
/// holding per server on a memory store while the primary is down; its verdicts then reach
/// this layer as ordinary answers (`FailedOpen` admitted, `FailedClosed` answered 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OnStoreFailure {
    /// Let the request through, without rate-limit headers: availability over protection,
    /// for limits that shape traffic.
    FailOpen,
    /// Answer **503** with `Retry-After: 1`: protection over availability, for limits that
    /// stop brute force (login, OTP). The default.
    #[default]
    FailClosed,
}

type IdentityFn = dyn Fn(&Parts) -> Option<String> + Send + Sync;

/// The decision half of a rate-limit layer: a store, a policy, and how to answer. Shared by
/// [`RateLimitLayer`] and [`BodyRateLimitLayer`](crate::BodyRateLimitLayer).
#[derive(Clone)]
pub(crate) struct Limiter {
    pub(crate) store: Arc<dyn RateLimitStore>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) style: HeaderStyle,
    pub(crate) on_failure: OnStoreFailure,
    pub(crate) cost: u32,
    /// Screens admitted requests by their client IP's abuse score.
    pub(crate) reputation: Option<Arc<CachedReputation>>,
    /// `RateLimit-Policy`, the same for every response: built once ([`Policy::policy_field`]).
    policy_value: Option<HeaderValue>,
}

/// The configuration shared by every clone of a service.
#[derive(Clone)]
struct Shared {
    limiter: Limiter,
    namespace: Arc<str>,
    client_ip: Option<ClientIp>,
    identity: Option<Arc<IdentityFn>>,
    route: bool,
    shared_without_peer: bool,
}

/// A [`Layer`] that rate-limits requests with a [`RateLimitStore`] and a [`Policy`].
///
/// **The key** is built with [`KeyBuilder`] in the layer's namespace from, in order:
///
/// - the **client IP** ([`ClientIp`]: the socket peer, or a proxy header only when the peer is
///   a configured trusted proxy), as [`ClientIp::key_network`]: an IPv4 address, or the `/64`
///   of an IPv6 address (configurable, [`ClientIp::ipv6_prefix`]); on by default, off with
///   [`without_client_ip`](Self::without_client_ip). A request whose peer address cannot be
///   found is answered **500** (with the fix in the `ratelimit.refused` event): that is axum's
///   `serve(listener, app)` without `into_make_service_with_connect_info::<SocketAddr>()`, or
///   palisade-tower without its `axum` feature, and keying such requests by one shared key
///   would put every client in one bucket. [`allow_shared_bucket_without_peer`](Self::allow_shared_bucket_without_peer)
///   opts into that one bucket instead;
/// - an **identity** ([`identity`](Self::identity)): a closure over the request head returning
///   an account, API-key id or tenant (`None` for anonymous requests, which share the
///   anonymous part);
/// - the **route** ([`per_route`](Self::per_route)), so each endpoint has its own budget: the
///   matched route template when the router recorded one (axum's `MatchedPath`, feature
///   `axum`: `/reset/{user}`, one budget for the route), otherwise the path percent-decoded and
///   normalized (dot segments resolved, empty segments and a trailing slash dropped), so
///   `/reset/alice`, `/reset/%61lice` and `//reset/./alice/` are one bucket.
///
/// **Answers:**
///
/// | verdict | status | headers | event | `outcome` label |
/// |---|---|---|---|---|
/// | admitted (also allow-listed, `FailedOpen` from a `FallbackStore`) | inner service's | `RateLimit-Policy`, `RateLimit` (per [`HeaderStyle`]) | — | `admitted` / `failed_open` |
/// | refused by a limit, blocked, deny-listed | 429 | the same, and `Retry-After` (seconds) | `ratelimit.refused` | `refused` |
/// | `FailedClosed` from a `FallbackStore` | 503 | `Retry-After` | `ratelimit.refused` | `failed_closed` |
/// | store failure, [`OnStoreFailure::FailOpen`] | inner service's | none | `ratelimit.store_failed` (error) | `failed_open` |
/// | store failure, [`OnStoreFailure::FailClosed`] (default) | 503 | `Retry-After: 1` | `ratelimit.refused` (error) | `failed_closed` |
/// | other errors (invalid cost, memory store key cap) | 503 | `Retry-After: 1` | `ratelimit.refused` (error) | `error` |
/// | no peer address (see above) | 500 | none | `ratelimit.refused` (error, `cause = "no_peer_address"`) | `error` |
/// | admitted, client IP's abuse score above the threshold ([`reputation`](Self::reputation)) | 429, key blocked | `Retry-After` (the rest of the bad verdict) | `ratelimit.reputation_refused` (warn, `cause = "bad_reputation"`) | `refused` |
/// | admitted, reputation lookup failed, fail-closed | 503 | `Retry-After: 1` | `ratelimit.reputation_refused` (error, `cause = "reputation_failed"`) | `failed_closed` |
///
/// Keys are never logged (they may hold addresses or account ids).
///
/// ```
/// use palisade_ratelimit::{Limit, MemoryStore, Policy, Quota};
/// use palisade_tower::{ClientIp, ForwardedHeader, RateLimitLayer};
///
/// let policy = Policy::single(Limit::gcra("api", Quota::per_minute(100)?)?)?;
/// let layer = RateLimitLayer::new("api", MemoryStore::new(), policy)
///     .client_ip(ClientIp::new().trust(["10.0.0.0/8".parse()?], ForwardedHeader::XForwardedFor))
///     .per_route(true);
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RateLimitLayer {
    shared: Shared,
}

impl fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("namespace", &self.shared.namespace)
            .field("policy", &self.shared.limiter.policy)
            .field("client_ip", &self.shared.client_ip)
            .field("identity", &self.shared.identity.is_some())
            .field("route", &self.shared.route)
            .field("style", &self.shared.limiter.style)
            .field("on_failure", &self.shared.limiter.on_failure)
            .finish_non_exhaustive()
    }
}

impl RateLimitLayer {
    /// A layer limiting by client IP (the socket peer, no proxy trusted) in `namespace`, with
    /// `store` (any store, including an `Arc<dyn RateLimitStore>`) and `policy`, each request
    /// costing 1, draft headers, failing closed. The peer is a `SocketAddr` extension or, with
    /// feature `axum` (default), axum's `ConnectInfo<SocketAddr>` (serve with
    /// `into_make_service_with_connect_info::<SocketAddr>()`); a request without one is
    /// answered 500, never put in a bucket shared by every client, unless
    /// [`allow_shared_bucket_without_peer`](Self::allow_shared_bucket_without_peer).
    pub fn new(namespace: &str, store: impl RateLimitStore + 'static, policy: Policy) -> Self {
        Self {
            shared: Shared {
                limiter: Limiter::new(Arc::new(store), policy),
                namespace: Arc::from(namespace),
                client_ip: Some(ClientIp::new()),
                identity: None,
                route: false,
                shared_without_peer: false,
            },
        }
    }

    /// How to find the client IP (trusted proxies, the peer extension).
    #[must_use]
    pub fn client_ip(mut self, client_ip: ClientIp) -> Self {
        self.shared.client_ip = Some(client_ip);
        self
    }

    /// Puts every request whose peer address cannot be found under one shared key (one global
    /// budget for all of them) instead of answering 500: for a service that knowingly runs
    /// where no peer address exists (tests, a Unix socket behind a proxy that sets no header).
    #[must_use]
    pub fn allow_shared_bucket_without_peer(mut self) -> Self {
        self.shared.shared_without_peer = true;
        self
    }

    /// Leaves the client IP out of the key (limit per identity or route only).
    #[must_use]
    pub fn without_client_ip(mut self) -> Self {
        self.shared.client_ip = None;
        self
    }

    /// Adds an identity to the key: `identity` reads it from the request head (an
    /// authenticated account id an earlier layer put in the extensions, an API-key id).
    #[must_use]
    pub fn identity<F>(mut self, identity: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.shared.identity = Some(Arc::new(identity));
        self
    }

    /// Whether the route is part of the key (default `false`): the matched route template
    /// (axum's `MatchedPath`, feature `axum`) or the percent-decoded, normalized path.
    #[must_use]
    pub fn per_route(mut self, route: bool) -> Self {
        self.shared.route = route;
        self
    }

    /// Which rate-limit response fields to send (default [`HeaderStyle::Draft`]).
    #[must_use]
    pub fn header_style(mut self, style: HeaderStyle) -> Self {
        self.shared.limiter.style = style;
        self
    }

    /// What to do when the store fails (default [`OnStoreFailure::FailClosed`]).
    #[must_use]
    pub fn on_store_failure(mut self, mode: OnStoreFailure) -> Self {
        self.shared.limiter.on_failure = mode;
        self
    }

    /// Screens every request the limits admit by its client IP's abuse score ([`CachedReputation`]:
    /// a threshold, cached bad and clean verdicts, fail open or closed). An address above the
    /// threshold is **blocked** in the store under the request's key for the rest of its bad
    /// verdict ([`RateLimitStore::block`]: every instance sharing the store then refuses it at
    /// the limit check, without a lookup, and the block shows in
    /// [`PenaltyBox::blocks`](palisade_ratelimit::PenaltyBox::blocks)), and the request is
    /// answered **429** with `Retry-After`; a failed lookup in fail-closed mode is answered
    /// **503**. Both emit `ratelimit.reputation_refused` (`cause`: `bad_reputation` with the
    /// `score`, or `reputation_failed`; never the address). A failed lookup in fail-open mode
    /// emits `ratelimit.store_failed` (`cause = "reputation"`) and lets the request through.
    ///
    /// The address is the client IP ([`ClientIp::resolve`]), looked up as it is (not its IPv6
    /// `/64`); a layer [`without_client_ip`](Self::without_client_ip) screens nothing. The
    /// lookup comes after the limit check, so a flood refused by the limits costs no lookups.
    #[must_use]
    pub fn reputation(mut self, reputation: CachedReputation) -> Self {
        self.shared.limiter.reputation = Some(Arc::new(reputation));
        self
    }

    /// The cost of one request, in units of the policy's limits (default 1; must be between 1
    /// and the smallest limit's capacity, or every request is answered 503).
    #[must_use]
    pub fn cost(mut self, cost: u32) -> Self {
        self.shared.limiter.cost = cost;
        self
    }
}

impl<I> Layer<I> for RateLimitLayer {
    type Service = RateLimitService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        RateLimitService {
            inner,
            shared: Arc::new(self.shared.clone()),
        }
    }
}

/// The [`Service`] of a [`RateLimitLayer`]: see there.
#[derive(Clone)]
pub struct RateLimitService<I> {
    inner: I,
    shared: Arc<Shared>,
}

impl<I: fmt::Debug> fmt::Debug for RateLimitService<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The key of a request; `None` when its peer address is unknown and no shared bucket was
    /// opted into.
    fn key(&self, parts: &Parts) -> Option<Key> {
        let mut b = KeyBuilder::new(&self.namespace);
        if let Some(client_ip) = &self.client_ip {
            b = match client_ip.key_network(parts) {
                // The network's first address: an IPv4 key is the address itself, as before.
                Some(net) => b.ip(net.network()),
                None if self.shared_without_peer => b.str("unknown-peer"),
                None => return None,
            };
        }
        if let Some(identity) = &self.identity {
            b = match identity(parts) {
                Some(id) => b.str(&id),
                None => b.bytes(&[]),
            };
        }
        if self.route {
            b = route_part(b, parts);
        }
        Some(b.build())
    }
}

impl Limiter {
    /// `store` and `policy`, each request costing 1, draft headers, failing closed.
    pub(crate) fn new(store: Arc<dyn RateLimitStore>, policy: Policy) -> Self {
        Self {
            store,
            policy_value: HeaderValue::from_str(policy.policy_field()).ok(),
            policy: Arc::new(policy),
            style: HeaderStyle::Draft,
            on_failure: OnStoreFailure::FailClosed,
            cost: 1,
            reputation: None,
        }
    }

    fn headers(&self, verdict: &Verdict, into: &mut HeaderMap) {
        for (field, value) in RateLimitHeaders::new(&self.policy, verdict).to_fields(self.style) {
            // The policy's value is built once; the others are numbers of this verdict.
            // `try_from(String)` keeps the string's buffer (`from_str` would copy it).
            let value = match field {
                HeaderField::Policy => self.policy_value.clone(),
                _ => HeaderValue::try_from(value.into_owned()).ok(),
            };
            if let (Some(name), Some(value)) = (header_name(field), value) {
                into.insert(name, value);
            }
        }
    }
}

/// The `HeaderName` of a field, without parsing its name for every response.
fn header_name(field: HeaderField) -> Option<HeaderName> {
    Some(match field {
        HeaderField::Policy => HeaderName::from_static("ratelimit-policy"),
        HeaderField::RateLimit => HeaderName::from_static("ratelimit"),
        HeaderField::Limit => HeaderName::from_static("ratelimit-limit"),
        HeaderField::Remaining => HeaderName::from_static("ratelimit-remaining"),
        HeaderField::Reset => HeaderName::from_static("ratelimit-reset"),
        HeaderField::RetryAfter => RETRY_AFTER,
        other => return HeaderName::from_bytes(other.name().as_bytes()).ok(),
    })
}

/// The route part of a key: the matched route template, or the normalized path, each tagged
/// so that neither can be made to equal the other.
fn route_part(b: KeyBuilder, parts: &Parts) -> KeyBuilder {
    #[cfg(feature = "axum")]
    if let Some(matched) = parts.extensions.get::<axum::extract::MatchedPath>() {
        return b.str("route").str(matched.as_str());
    }
    b.str("path").bytes(&normalize_path(parts.uri.path()))
}

/// `path` percent-decoded (RFC 3986 §2.1), then split on `/` with empty and `.` segments
/// dropped and `..` removing the previous segment (RFC 3986 §5.2.4), joined with single
/// slashes, without a trailing slash: the resource a server would most likely serve, so that
/// spellings of one path share one bucket.
pub(crate) fn normalize_path(path: &str) -> Vec<u8> {
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
    let mut segments: Vec<&[u8]> = Vec::new();
    for segment in decoded.split(|&b| b == b'/') {
        match segment {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = Vec::with_capacity(decoded.len() + 1);
    for s in &segments {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// The tracing message of a request refused for want of a peer address.
const NO_PEER_FIX: &str = "no peer address for the rate-limit key: serve the app with \
    `axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())` and enable \
    palisade-tower's `axum` feature (or insert a `SocketAddr` extension, or give \
    `ClientIp::with_peer` a closure); `RateLimitLayer::allow_shared_bucket_without_peer()` \
    puts all such requests in one bucket instead";

fn count(outcome: &'static str) {
    metrics::counter!(telemetry::METRIC_RATELIMIT_DECISIONS, "outcome" => outcome).increment(1);
}

pub(crate) fn unavailable<R: From<Bytes>>() -> Response<R> {
    let mut res = plain(StatusCode::SERVICE_UNAVAILABLE, "rate limiter unavailable");
    res.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

impl<I, B, R> Service<Request<B>> for RateLimitService<I>
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
        let inner = take_ready(&mut self.inner);
        let shared = Arc::clone(&self.shared);
        let (parts, body) = req.into_parts();
        let Some(key) = shared.key(&parts) else {
            emit!(
                Level::ERROR,
                telemetry::RATELIMIT_REFUSED,
                status = 500u16,
                cause = "no_peer_address",
                fix = NO_PEER_FIX,
            );
            count("error");
            return Box::pin(async {
                Ok(plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "rate limiter misconfigured: no client address",
                ))
            });
        };
        let ip = match (&shared.limiter.reputation, &shared.client_ip) {
            (Some(_), Some(client_ip)) => client_ip.resolve(&parts),
            _ => None,
        };
        let req = Request::from_parts(parts, body);
        Box::pin(async move { shared.limiter.decide(key, ip, "request", inner, req).await })
    }
}

impl Limiter {
    /// The reputation check of an admitted request from `ip`: `None` to go on, or the
    /// refusal. A bad address is blocked under `key` for the rest of its verdict.
    async fn screen<R: From<Bytes>>(
        &self,
        reputation: &CachedReputation,
        ip: IpAddr,
        key: &Key,
    ) -> Option<Response<R>> {
        match reputation.check(ip).await {
            ReputationVerdict::Bad { score, remaining } => {
                // Refused whether or not the block is recorded: the verdict stays cached here.
                let blocked = self.store.block(key, remaining).await;
                emit!(
                    Level::WARN,
                    telemetry::RATELIMIT_REPUTATION_REFUSED,
                    status = 429u16,
                    cause = "bad_reputation",
                    score,
                    blocked = blocked.is_ok(),
                );
                count("refused");
                let mut res = plain(StatusCode::TOO_MANY_REQUESTS, "too many requests");
                self.headers(&Verdict::blocked(remaining), res.headers_mut());
                Some(res)
            }
            ReputationVerdict::FailedClosed(e) => {
                emit!(Level::ERROR, telemetry::RATELIMIT_REPUTATION_REFUSED, status = 503u16, cause = "reputation_failed", error = %e);
                count("failed_closed");
                Some(unavailable())
            }
            ReputationVerdict::FailedOpen(e) => {
                emit!(Level::ERROR, telemetry::RATELIMIT_STORE_FAILED, mode = "fail_open", cause = "reputation", error = %e);
                None
            }
            _ => None,
        }
    }

    /// Checks `key` and answers: the inner service's response with the rate-limit headers, or
    /// a refusal (see [`RateLimitLayer`]'s table). `scope` names the layer in events
    /// (`request`: [`RateLimitLayer`]; `body`: [`BodyRateLimitLayer`](crate::BodyRateLimitLayer)).
    pub(crate) async fn decide<I, B, R>(
        &self,
        key: Key,
        ip: Option<IpAddr>,
        scope: &'static str,
        mut inner: I,
        req: Request<B>,
    ) -> Result<Response<R>, I::Error>
    where
        I: Service<Request<B>, Response = Response<R>>,
        R: From<Bytes>,
    {
        let verdict = self.store.check(&key, &self.policy, self.cost).await;
        match verdict {
            Ok(v) if v.is_allowed() => {
                if let (Some(reputation), Some(ip)) = (&self.reputation, ip)
                    && let Some(refusal) = self.screen(reputation, ip, &key).await
                {
                    return Ok(refusal);
                }
                count(if v.cause() == Cause::FailedOpen {
                    "failed_open"
                } else {
                    "admitted"
                });
                let mut res = inner.call(req).await?;
                self.headers(&v, res.headers_mut());
                Ok(res)
            }
            Ok(v) if v.cause() == Cause::FailedClosed => {
                emit!(
                    Level::WARN,
                    telemetry::RATELIMIT_REFUSED,
                    status = 503u16,
                    cause = "failed_closed",
                    scope,
                );
                count("failed_closed");
                let mut res = unavailable();
                self.headers(&v, res.headers_mut());
                Ok(res)
            }
            Ok(v) => {
                emit!(
                    Level::INFO,
                    telemetry::RATELIMIT_REFUSED,
                    status = 429u16,
                    cause = ?v.cause(),
                    retry_after_secs = v.retry_after_secs(),
                    scope,
                );
                count("refused");
                let mut res = plain(StatusCode::TOO_MANY_REQUESTS, "too many requests");
                self.headers(&v, res.headers_mut());
                Ok(res)
            }
            Err(e) if e.is_store_failure() => match self.on_failure {
                OnStoreFailure::FailOpen => {
                    emit!(Level::ERROR, telemetry::RATELIMIT_STORE_FAILED, mode = "fail_open", error = %e, scope);
                    count("failed_open");
                    inner.call(req).await
                }
                OnStoreFailure::FailClosed => {
                    emit!(Level::ERROR, telemetry::RATELIMIT_REFUSED, status = 503u16, cause = "store_failed", error = %e, scope);
                    count("failed_closed");
                    Ok(unavailable())
                }
            },
            Err(e) => {
                emit!(Level::ERROR, telemetry::RATELIMIT_REFUSED, status = 503u16, cause = "error", error = %e, scope);
                count("error");
                Ok(unavailable())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::normalize_path;
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    use proptest::prelude::*;

    #[test]
    fn paths_normalize() {
        for (path, want) in [
            ("/", "/"),
            ("", "/"),
            ("/reset/alice", "/reset/alice"),
            ("/reset/%61lice", "/reset/alice"),
            ("//reset///alice//", "/reset/alice"),
            ("/reset/./alice", "/reset/alice"),
            ("/a/b/../../reset/alice", "/reset/alice"),
            ("/../../reset/alice", "/reset/alice"),
            ("/reset/%2e%2E/x", "/x"),
            ("/%zz/%", "/%zz/%"),
        ] {
            assert_eq!(normalize_path(path), want.as_bytes(), "{path}");
        }
    }

    proptest! {
        /// Percent-encoding any segment, doubling slashes or adding `.` segments changes
        /// nothing; normalizing twice is normalizing once.
        #[test]
        fn spellings_of_one_path_are_one_key(
            segments in proptest::collection::vec("[a-zA-Z0-9_~-]{1,8}", 0..6),
            encode in proptest::collection::vec(any::<bool>(), 6),
            noise in proptest::collection::vec(0u8..3, 6),
        ) {
            let plain: String = segments.iter().map(|s| format!("/{s}")).collect();
            let mut spelled = String::new();
            for (i, s) in segments.iter().enumerate() {
                match noise[i] {
                    1 => spelled.push_str("//"),
                    2 => spelled.push_str("/./"),
                    _ => spelled.push('/'),
                }
                if encode[i] {
                    spelled.extend(utf8_percent_encode(s, NON_ALPHANUMERIC));
                } else {
                    spelled.push_str(s);
                }
            }
            let want = normalize_path(&plain);
            prop_assert_eq!(&normalize_path(&spelled), &want);
            let once = String::from_utf8(want.clone()).unwrap();
            prop_assert_eq!(normalize_path(&once), want);
        }
    }
}
