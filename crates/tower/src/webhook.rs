//! Webhook verification: buffer the body, verify its signature, claim the delivery, and
//! complete or release the claim when the handler answers.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use arc_swap::ArcSwap;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderValue};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use palisade_replay::{Lease, Namespace, NonceStore, ReplayError, ReplayGuard};
use palisade_webhook::twilio::PublicUrl;
use palisade_webhook::{Provider, Scheme, Verified, Verifier, WebhookError};
use tower::{Layer, Service};
use tracing::Level;

use crate::response::{plain, take_ready};
use crate::telemetry::{self, emit};
use crate::{BoxError, BoxFuture, TowerError};

/// The response header that marks an answer given for a duplicate delivery, without running
/// the handler: `Palisade-Webhook-Duplicate: completed` (the delivery was handled before, see
/// [`WebhookLayer::replay_status`]) or `Palisade-Webhook-Duplicate: in-progress` (another copy
/// is being handled now: 409, retry later).
pub const DUPLICATE_HEADER: &str = "palisade-webhook-duplicate";

/// The request body the inner service receives from a [`WebhookService`]: the buffered bytes,
/// exactly as received.
pub type WebhookBody = Full<Bytes>;

/// What a [`WebhookService`] hands to the handler, as a request extension: the facts of the
/// verification and the exact body bytes that were verified.
///
/// The body is also re-attached to the request ([`WebhookBody`]), so extractors that read the
/// body (axum's `Json`, `Form`, `Bytes`) work as usual; parse the signed bytes, never a
/// re-serialization. With axum, take it with `Extension<VerifiedWebhook>`.
///
/// Its `Debug` shows the verification facts and the body's length, never the body.
#[derive(Clone)]
#[non_exhaustive]
pub struct VerifiedWebhook {
    /// Which provider signed it, the signed timestamp, the replay key, which secret matched.
    pub verified: Verified,
    /// The raw body bytes, as signed.
    pub body: Bytes,
}

impl fmt::Debug for VerifiedWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedWebhook")
            .field("verified", &self.verified)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What a [`WebhookService`] in [report-only mode](WebhookLayer::report_only) hands to the
/// handler, as a request extension, for a request that did **not** verify (instead of a
/// [`VerifiedWebhook`], which a verified request still gets).
///
/// Its `Debug` shows the error and the body's length, never the body.
#[derive(Clone)]
#[non_exhaustive]
pub struct UnverifiedWebhook {
    /// Why it did not verify (its `Display` never contains a secret, signature or body).
    pub error: WebhookError,
    /// What enforce mode would have answered: 401, 400 or 500.
    pub status: StatusCode,
    /// The raw body bytes, as received (unauthenticated: anyone could have sent them).
    pub body: Bytes,
}

impl fmt::Debug for UnverifiedWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnverifiedWebhook")
            .field("error", &self.error)
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Default [`WebhookLayer::max_body`]: 1 MiB (1 048 576 bytes), above the payloads of the
/// providers `palisade-webhook` supports (GitHub caps deliveries at 25 MB but sends far less
/// for most events; raise the limit for those).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// What happens to a claimed delivery once the handler has answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// Remember it as handled: a duplicate is answered without the handler.
    Complete,
    /// Forget the claim: the provider's retry runs the handler again.
    Release,
}

impl Settle {
    /// The settlement of a handler's answer: released for 5xx, 408 and 429 (the provider
    /// retries, and the retry must run the handler again); completed for every other status
    /// (2xx; and 1xx, 3xx, 4xx, which the handler would give again for the same bytes).
    fn of(status: StatusCode) -> Self {
        if status.is_server_error()
            || status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
        {
            Self::Release
        } else {
            Self::Complete
        }
    }
}

/// A replay guard over any nonce store, behind a trait object.
trait Deliveries: Send + Sync {
    fn claim<'a>(
        &'a self,
        verified: &'a Verified,
        namespace: &'a Namespace,
    ) -> BoxFuture<'a, Result<Lease, ReplayError>>;

    fn settle<'a>(
        &'a self,
        settle: Settle,
        lease: &'a Lease,
    ) -> BoxFuture<'a, Result<bool, ReplayError>>;
}

impl<N: NonceStore + 'static> Deliveries for ReplayGuard<N> {
    fn claim<'a>(
        &'a self,
        verified: &'a Verified,
        namespace: &'a Namespace,
    ) -> BoxFuture<'a, Result<Lease, ReplayError>> {
        Box::pin(self.claim_verified(verified, namespace))
    }

    fn settle<'a>(
        &'a self,
        settle: Settle,
        lease: &'a Lease,
    ) -> BoxFuture<'a, Result<bool, ReplayError>> {
        match settle {
            Settle::Complete => Box::pin(self.complete(lease)),
            Settle::Release => Box::pin(self.release(lease)),
        }
    }
}

/// Why a claim is settled, for the `cause` field of the `webhook.delivery` event.
#[derive(Debug, Clone, Copy)]
enum Cause {
    /// The handler answered (its status decides).
    Answered,
    /// The handler's future returned an error.
    Error,
    /// The response future was dropped before the handler answered (client gone, timeout,
    /// panic unwinding through it).
    Dropped,
}

impl Cause {
    fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Error => "error",
            Self::Dropped => "dropped",
        }
    }
}

/// A claimed delivery, held while the handler runs. Settled explicitly when the handler's
/// future finishes; when it is dropped first, its `Drop` settles it on the current tokio
/// runtime (released, unless the handler had already answered for completion), or, without a
/// runtime, leaves the lease to expire.
struct Claim {
    deliveries: Arc<dyn Deliveries>,
    /// `None` once settled.
    lease: Option<Lease>,
    provider: &'static str,
    /// What `Drop` does with an unsettled lease.
    on_drop: Settle,
}

impl Claim {
    async fn settle(mut self, settle: Settle, cause: Cause) {
        // Dropped during the store call below: `Drop` makes the same call again (completing
        // or releasing twice is harmless; the store only acts on this claim's token).
        self.on_drop = settle;
        if let Some(lease) = &self.lease {
            let result = self.deliveries.settle(settle, lease).await;
            report(self.provider, settle, cause, result);
        }
        self.lease = None;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take() else {
            return;
        };
        let (settle, provider) = (self.on_drop, self.provider);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let deliveries = Arc::clone(&self.deliveries);
                drop(runtime.spawn(async move {
                    let result = deliveries.settle(settle, &lease).await;
                    report(provider, settle, Cause::Dropped, result);
                }));
            }
            Err(_) => {
                emit!(
                    Level::WARN,
                    telemetry::WEBHOOK_DELIVERY,
                    provider,
                    outcome = "lease_expiring",
                    cause = Cause::Dropped.as_str(),
                );
                count_delivery(provider, "lease_expiring");
            }
        }
    }
}

/// The `webhook.delivery` event and counter of a settled claim. Never changes the response.
fn report(provider: &'static str, settle: Settle, cause: Cause, result: Result<bool, ReplayError>) {
    let cause = cause.as_str();
    let outcome = match (settle, &result) {
        (Settle::Complete, Ok(true)) => "completed",
        (Settle::Release, Ok(true)) => "released",
        (_, Ok(false)) => "lease_lost",
        (Settle::Complete, Err(_)) => "complete_failed",
        (Settle::Release, Err(_)) => "release_failed",
    };
    match result {
        Ok(true) if settle == Settle::Complete => {
            emit!(
                Level::DEBUG,
                telemetry::WEBHOOK_DELIVERY,
                provider,
                outcome,
                cause
            );
        }
        Ok(true) => {
            emit!(
                Level::INFO,
                telemetry::WEBHOOK_DELIVERY,
                provider,
                outcome,
                cause
            );
        }
        Ok(false) => {
            emit!(
                Level::WARN,
                telemetry::WEBHOOK_DELIVERY,
                provider,
                outcome,
                cause
            );
        }
        Err(error) => {
            emit!(Level::ERROR, telemetry::WEBHOOK_DELIVERY, provider, outcome, cause, error = %error);
        }
    }
    count_delivery(provider, outcome);
}

fn count_delivery(provider: &'static str, outcome: &'static str) {
    metrics::counter!(
        telemetry::METRIC_WEBHOOK_DELIVERIES,
        "provider" => provider,
        "outcome" => outcome
    )
    .increment(1);
}

/// The configuration shared by every clone of a service.
struct Shared<S> {
    /// Loaded for each signature check, which finishes on the verifier it loaded, whatever is
    /// swapped in meanwhile.
    verifier: Arc<ArcSwap<Verifier<S>>>,
    report_only: bool,
    replay: Option<Arc<dyn Deliveries>>,
    tenant: Option<String>,
    route: Option<String>,
    /// The namespace of a configured route, for the provider the verifier had when the service
    /// was built: built once rather than formatted for every delivery.
    route_namespace: Option<(Provider, Namespace)>,
    public_url: Option<PublicUrl>,
    max_body: usize,
    replay_status: StatusCode,
}

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Self {
            verifier: Arc::clone(&self.verifier),
            report_only: self.report_only,
            replay: self.replay.clone(),
            tenant: self.tenant.clone(),
            route: self.route.clone(),
            route_namespace: self.route_namespace.clone(),
            public_url: self.public_url.clone(),
            max_body: self.max_body,
            replay_status: self.replay_status,
        }
    }
}

/// A [`Layer`] that verifies webhook requests before the inner service sees them.
///
/// For each request, in order:
///
/// 1. **Body limit.** A `Content-Length` above [`max_body`](Self::max_body) bytes, or a body
///    that grows past it while being read, is refused with **413**; a body that cannot be read
///    (connection reset) with **400**.
/// 2. **Signature.** The buffered bytes are verified by the [`Verifier`] (any [`Scheme`],
///    including [`AnyScheme`](palisade_webhook::AnyScheme)), with the request's headers and
///    method, and, when [`public_url`](Self::public_url) is set, the public URL resolved from
///    the request's path and query (Twilio, HMAC schemes whose template holds `{url}`).
/// 3. **Claim.** With a [`replay_guard`](Self::replay_guard), the delivery (its replay key,
///    derived from the signed content, and its signed timestamp) is **claimed** in the
///    namespace of the provider, the route and the [`tenant`](Self::tenant) (see
///    [`route`](Self::route)) for the guard's lease (60 s by default). A duplicate of a
///    *completed* delivery is answered with the [`replay_status`](Self::replay_status) (**200**
///    by default) and `Palisade-Webhook-Duplicate: completed`; a copy that arrives while
///    another holds the claim gets **409** and `Palisade-Webhook-Duplicate: in-progress`
///    (retryable: the provider retries later); in neither case does the handler run. A
///    nonce store that cannot decide is answered **503** (fail closed).
/// 4. **Hand-off.** The inner service gets the request with the same head, a
///    [`VerifiedWebhook`] extension, and the buffered body as a [`WebhookBody`].
/// 5. **Settle.** When the handler answers, the claim is **completed** (a later duplicate is
///    answered as above) or **released** (the provider's retry runs the handler again):
///
///    | handler | claim | why |
///    |---|---|---|
///    | 2xx | completed | handled |
///    | 5xx, 408, 429 | released | the provider retries; the retry must run the handler |
///    | other 4xx, 3xx, 1xx | completed | the handler would answer the same bytes the same way; the provider is then told 200 and stops retrying |
///    | its future returns `Err` | released | |
///    | the response future is dropped (client gone, a timeout layer, a panic unwinding) | released on the current tokio runtime (spawned); without a runtime, left to expire with its lease | |
///
///    The store call is awaited before the handler's answer is returned (so a duplicate sent
///    right after it is answered as completed). A store that fails to complete or release
///    never changes the handler's answer: the failure is logged and counted, and the claim
///    expires with its lease. Delivery is *at least once*: a handler that fails after doing
///    part of its work, or outlives its lease, may run again for the same delivery.
///
/// | outcome | status | event | `outcome` label |
/// |---|---|---|---|
/// | verified (and claimed) | inner service's | `webhook.verified` (debug) | `verified` |
/// | `NoMatchingSignature`, `TimestampOutsideTolerance`, `BodyHashMismatch`, `UnsignedBody`, a replay timestamp outside the guard's tolerance | 401 | `webhook.signature_invalid` | `signature_invalid` |
/// | `MissingHeader`, `MalformedHeader`, `InvalidUrl`, unreadable body | 400 | `webhook.malformed` | `malformed` |
/// | body too large | 413 | `webhook.malformed` | `too_large` |
/// | duplicate of a completed delivery | 200 (configurable), `Palisade-Webhook-Duplicate: completed` | `webhook.replay` | `replay` |
/// | duplicate of a delivery in progress | 409, `Palisade-Webhook-Duplicate: in-progress` | `webhook.replay` | `in_progress` |
/// | nonce store unavailable, timed out or full | 503 | `webhook.replay` (error) | `replay_store_failed` |
/// | `MissingUrl` (no public URL configured for a scheme that signs it), invalid secrets, bad replay configuration, a nonce store without claims | 500 | `webhook.config_error` (error) | `config_error` |
/// | in [report-only mode](WebhookLayer::report_only): any of the 401, 400 and 500 outcomes above | the inner service's, with an [`UnverifiedWebhook`] extension | `webhook.report_only` (warn) | `report_only` |
///
/// Every signature check is timed in the histogram
/// [`palisade_webhook_signature_check_seconds{provider}`](telemetry::METRIC_WEBHOOK_SIGNATURE_SECONDS)
/// (seconds).
///
/// Settling a claim emits `webhook.delivery` (field `outcome`, and `cause`: `answered`,
/// `error` or `dropped`) and counts
/// [`palisade_webhook_deliveries_total`](telemetry::METRIC_WEBHOOK_DELIVERIES):
///
/// | `outcome` | level | meaning |
/// |---|---|---|
/// | `completed` | debug | remembered as handled |
/// | `released` | info | forgotten: the retry runs the handler |
/// | `lease_lost` | warn | the lease had expired (and may have been taken by a retry) before the handler answered: raise the guard's lease |
/// | `complete_failed`, `release_failed` | error | the store failed; the claim expires with its lease (a retry within it gets 409 in progress) |
/// | `lease_expiring` | warn | dropped outside a tokio runtime: the claim expires with its lease |
///
/// Refusals carry a short `text/plain` body: for 400 and 401 the [`WebhookError`]'s
/// `Display`, which never contains a secret, signature or body, nor the server's clock or
/// tolerance (a stale timestamp reads "too old" or "in the future"); otherwise a fixed
/// sentence. The `tracing` event carries the error's `Debug` form, with the skew and tolerance
/// in seconds for the operator. No body and no secret is ever logged.
///
/// ```
/// use palisade_tower::WebhookLayer;
/// use palisade_webhook::{SecretString, Stripe, Verifier};
///
/// let verifier = Verifier::new(Stripe, [SecretString::from("whsec_test_0123456789abcdef")])?;
/// let layer = WebhookLayer::new(verifier).max_body(64 * 1024);
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WebhookLayer<S> {
    shared: Shared<S>,
}

impl<S> Clone for WebhookLayer<S> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<S> fmt::Debug for WebhookLayer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookLayer")
            .field("report_only", &self.shared.report_only)
            .field("replay_guard", &self.shared.replay.is_some())
            .field("tenant", &self.shared.tenant)
            .field("route", &self.shared.route)
            .field("public_url", &self.shared.public_url)
            .field("max_body", &self.shared.max_body)
            .field("replay_status", &self.shared.replay_status)
            .finish_non_exhaustive()
    }
}

impl<S: Scheme + 'static> WebhookLayer<S> {
    /// A layer verifying with `verifier` (a [`Verifier`] or an `Arc` of one), without replay
    /// check, with a body limit of [`DEFAULT_MAX_BODY`] bytes.
    pub fn new(verifier: impl Into<Arc<Verifier<S>>>) -> Self {
        Self::rotating(Arc::new(ArcSwap::new(verifier.into())))
    }

    /// A layer verifying with whatever verifier `verifiers` holds when a request is checked:
    /// store a new [`Verifier`] in it (new secrets: `ArcSwap::store`, or a
    /// `palisade_secrets::Rotation`) and the next requests verify with it, without a restart.
    /// Each signature check loads the verifier once: a request being verified finishes on the one it
    /// loaded. Keep the old secret in the new verifier (secrets are tried in order, newest
    /// first) until the provider signs with the new one only.
    pub fn rotating(verifiers: Arc<ArcSwap<Verifier<S>>>) -> Self {
        Self {
            shared: Shared {
                verifier: verifiers,
                report_only: false,
                replay: None,
                tenant: None,
                route: None,
                route_namespace: None,
                public_url: None,
                max_body: DEFAULT_MAX_BODY,
                replay_status: StatusCode::OK,
            },
        }
    }

    /// **Report-only mode**: a request that does not verify (a signature, timestamp or body
    /// hash that does not check, a missing or malformed signature header, a configuration
    /// error) is passed to the handler instead of refused, with an [`UnverifiedWebhook`]
    /// extension (and no [`VerifiedWebhook`]); it is not claimed by the replay guard (it has
    /// no verified replay key). Each one emits `webhook.report_only` (warn, with the error
    /// and the status enforce mode would answer), counts `outcome="report_only"` in
    /// [`palisade_webhook_requests_total`](telemetry::METRIC_WEBHOOK_REQUESTS) and the would-be
    /// outcome in
    /// [`palisade_webhook_report_only_total`](telemetry::METRIC_WEBHOOK_REPORT_ONLY). Bodies
    /// over the limit (413) and unreadable ones (400) are still refused, and verified requests
    /// are handled as in enforce mode.
    ///
    /// For rolling signature checks out: watch the counter, fix the senders and secrets, then
    /// remove this call. Enforce is the default; this call logs a warning (event
    /// `webhook.report_only`, `mode = "enabled"`) when the layer is configured, at startup.
    /// The handler must not trust an [`UnverifiedWebhook`]'s body.
    #[must_use]
    pub fn report_only(mut self) -> Self {
        let verifier = self.shared.verifier.load();
        emit!(
            Level::WARN,
            telemetry::WEBHOOK_REPORT_ONLY,
            provider = verifier.scheme().provider().as_str(),
            mode = "enabled",
            "webhook signatures in REPORT-ONLY mode: requests that do not verify reach the handler"
        );
        self.shared.report_only = true;
        self
    }

    /// Claims each verified delivery with `guard` (a [`ReplayGuard`] over any
    /// [`NonceStore`] that supports claims: memory, Redis, Postgres) before the handler runs,
    /// and completes or releases the claim when it answers: see the layer's docs. The lease of
    /// a claim is the guard's ([`ReplayGuard::with_lease`], 60 s by default): keep it above
    /// the handler's slowest answer.
    #[must_use]
    pub fn replay_guard<N: NonceStore + 'static>(mut self, guard: ReplayGuard<N>) -> Self {
        self.shared.replay = Some(Arc::new(guard));
        self
    }

    /// As [`replay_guard`](Self::replay_guard), for a guard shared with other code.
    #[must_use]
    pub fn shared_replay_guard<N: NonceStore + 'static>(
        mut self,
        guard: Arc<ReplayGuard<N>>,
    ) -> Self {
        self.shared.replay = Some(guard);
        self
    }

    /// Claims deliveries in the namespace of this tenant as well (the last part of
    /// [`Namespace::route`], or [`Namespace::tenant`] when the layer has no route identity),
    /// for one layer per tenant, or per deployment, over a shared store.
    #[must_use]
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.shared.tenant = Some(tenant.into());
        self
    }

    /// The route identity of the replay namespace ([`Namespace::route`]): deliveries are
    /// claimed per provider, route (and [`tenant`](Self::tenant)), so a sender that holds
    /// another route's secret cannot claim, ahead of time, the ids or bodies this route will
    /// receive.
    ///
    /// When unset, the route is the request's axum [`MatchedPath`] (the route template, such
    /// as `/webhooks/{tenant}`; with the `axum` feature, on by default, and axum 0.8). Without
    /// either, the namespace is the provider's (and the tenant's) alone: the raw URI path is
    /// not used, because a service that answers every path would then count a captured
    /// delivery once per spelling of the path. Set it when the layer is not behind an axum
    /// router, or when several routers share a store.
    ///
    /// [`MatchedPath`]: https://docs.rs/axum/0.8/axum/extract/struct.MatchedPath.html
    #[must_use]
    pub fn route(mut self, route: impl Into<String>) -> Self {
        self.shared.route = Some(route.into());
        self
    }

    /// Where the public URL comes from, for schemes that sign it (Twilio, `{url}` templates):
    /// resolved with [`PublicUrl::resolve`] against the request's path and query.
    #[must_use]
    pub fn public_url(mut self, public_url: PublicUrl) -> Self {
        self.shared.public_url = Some(public_url);
        self
    }

    /// The largest body accepted, in bytes (default [`DEFAULT_MAX_BODY`]); larger ones get 413.
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.shared.max_body = bytes;
        self
    }

    /// The status of the answer to a duplicate of a **completed** delivery (default **200**,
    /// or 409 Conflict; any valid status is accepted). The answer carries
    /// [`DUPLICATE_HEADER`] set to `completed` and the body `duplicate webhook delivery`, and the
    /// handler does not run. 200 is what Stripe, Svix and GitHub document: the provider
    /// records the delivery as successful and stops retrying; 409 tells a sender that checks
    /// it that nothing was done, at the cost of retries for providers that retry any non-2xx.
    /// A delivery *in progress* is always answered 409 (see the layer).
    ///
    /// # Errors
    /// [`TowerError::InvalidStatus`] for a number that is not an HTTP status.
    pub fn replay_status(mut self, status: u16) -> Result<Self, TowerError> {
        self.shared.replay_status =
            StatusCode::from_u16(status).map_err(|_| TowerError::InvalidStatus { code: status })?;
        Ok(self)
    }
}

impl<S: Scheme, I> Layer<I> for WebhookLayer<S> {
    type Service = WebhookService<I, S>;

    fn layer(&self, inner: I) -> Self::Service {
        let mut shared = self.shared.clone();
        shared.route_namespace = shared.route.as_deref().map(|route| {
            let provider = shared.verifier.load().scheme().provider();
            let tenant = shared.tenant.as_deref();
            (provider, Namespace::route(provider, route, tenant))
        });
        WebhookService {
            inner,
            shared: Arc::new(shared),
        }
    }
}

/// The [`Service`] of a [`WebhookLayer`]: see there.
pub struct WebhookService<I, S> {
    inner: I,
    shared: Arc<Shared<S>>,
}

impl<I: Clone, S> Clone for WebhookService<I, S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<I: fmt::Debug, S> fmt::Debug for WebhookService<I, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<I, S, B, R> Service<Request<B>> for WebhookService<I, S>
where
    I: Service<Request<WebhookBody>, Response = Response<R>> + Clone + Send + 'static,
    I::Future: Send,
    I::Error: Send,
    S: Scheme + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
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
        Box::pin(async move {
            let (req, claim) = match shared.admit(req).await {
                Ok(admitted) => admitted,
                Err(refusal) => return Ok(refusal.into_response(&shared)),
            };
            // Dropped with this future before the handler answers: released by `Claim::drop`.
            let result = inner.call(req).await;
            if let Some(claim) = claim {
                match &result {
                    Ok(res) => {
                        claim
                            .settle(Settle::of(res.status()), Cause::Answered)
                            .await
                    }
                    Err(_) => claim.settle(Settle::Release, Cause::Error).await,
                }
            }
            result
        })
    }
}

/// Why a request was refused, before it becomes a response.
enum Refusal {
    /// Too large (413), or unreadable (400).
    Body {
        provider: &'static str,
        too_large: bool,
    },
    Webhook {
        provider: &'static str,
        error: WebhookError,
    },
    Replay {
        provider: &'static str,
        error: ReplayError,
    },
}

impl<S: Scheme + 'static> Shared<S> {
    /// Body, signature and claim: the request for the handler, with the claim to settle
    /// when it answers (none without a replay guard).
    async fn admit<B>(
        &self,
        req: Request<B>,
    ) -> Result<(Request<WebhookBody>, Option<Claim>), Refusal>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        // A guard, not an `Arc` clone (`load_full`): no reference count bounced between cores
        // on every request. Guards are not held across an `await`: the provider is read now,
        // the verifier loaded again for the synchronous check below.
        let provider = self.verifier.load().scheme().provider().as_str();
        let (parts, body) = req.into_parts();
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return Err(Refusal::Body {
                provider,
                too_large: true,
            });
        }
        let body = match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(Refusal::Body {
                    provider,
                    too_large: true,
                });
            }
            Err(_) => {
                return Err(Refusal::Body {
                    provider,
                    too_large: false,
                });
            }
        };
        let started = Instant::now();
        let outcome = self.verify(&self.verifier.load(), &parts, &body);
        metrics::histogram!(telemetry::METRIC_WEBHOOK_SIGNATURE_SECONDS, "provider" => provider)
            .record(started.elapsed().as_secs_f64());
        let verified = match outcome {
            Ok(verified) => verified,
            Err(error) if self.report_only => {
                return Ok((report_only(provider, parts, body, error), None));
            }
            Err(error) => return Err(Refusal::Webhook { provider, error }),
        };
        let claim = match &self.replay {
            Some(deliveries) => {
                let namespace = self.namespace(&parts, &verified);
                let lease = deliveries
                    .claim(&verified, &namespace)
                    .await
                    .map_err(|error| Refusal::Replay { provider, error })?;
                Some(Claim {
                    deliveries: Arc::clone(deliveries),
                    lease: Some(lease),
                    provider,
                    on_drop: Settle::Release,
                })
            }
            None => None,
        };
        emit!(
            Level::DEBUG,
            telemetry::WEBHOOK_VERIFIED,
            provider,
            secret_index = verified.secret_index,
            timestamp = verified.timestamp,
        );
        count(provider, "verified");
        let mut req = Request::from_parts(parts, Full::new(body.clone()));
        req.extensions_mut()
            .insert(VerifiedWebhook { verified, body });
        Ok((req, claim))
    }

    /// The replay namespace of a verified request: provider, route identity (configured, or
    /// axum's matched route template) and tenant.
    fn namespace(&self, parts: &Parts, verified: &Verified) -> Cow<'_, Namespace> {
        if let Some((provider, namespace)) = &self.route_namespace
            && *provider == verified.provider
        {
            return Cow::Borrowed(namespace);
        }
        let tenant = self.tenant.as_deref();
        Cow::Owned(
            match self.route.as_deref().or_else(|| matched_path(parts)) {
                Some(route) => Namespace::route(verified.provider, route, tenant),
                None => match tenant {
                    Some(tenant) => Namespace::tenant(verified.provider, tenant),
                    None => Namespace::provider(verified.provider),
                },
            },
        )
    }

    /// The synchronous part: URL, then signature.
    fn verify(
        &self,
        verifier: &Verifier<S>,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Verified, WebhookError> {
        let url = match &self.public_url {
            Some(public) => {
                let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
                Some(public.resolve(path, &parts.headers)?)
            }
            None => None,
        };
        let mut request =
            palisade_webhook::Request::new(&parts.headers, body).with_method(parts.method.as_str());
        if let Some(url) = &url {
            request = request.with_url(url);
        }
        verifier.verify(&request)
    }
}

/// The request handed on by report-only mode for a request that did not verify: logged,
/// counted, with an [`UnverifiedWebhook`] extension.
fn report_only(
    provider: &'static str,
    parts: Parts,
    body: Bytes,
    error: WebhookError,
) -> Request<WebhookBody> {
    let (status, outcome, _) = classify(&error);
    emit!(
        Level::WARN,
        telemetry::WEBHOOK_REPORT_ONLY,
        provider,
        would_be = outcome,
        status = status.as_u16(),
        error = ?error,
    );
    count(provider, "report_only");
    metrics::counter!(
        telemetry::METRIC_WEBHOOK_REPORT_ONLY,
        "provider" => provider,
        "outcome" => outcome
    )
    .increment(1);
    let mut req = Request::from_parts(parts, Full::new(body.clone()));
    req.extensions_mut().insert(UnverifiedWebhook {
        error,
        status,
        body,
    });
    req
}

/// The route template axum matched (`/webhooks/{name}`), when the request went through an
/// axum 0.8 router with its `matched-path` feature (which the `axum` feature enables).
#[cfg(feature = "axum")]
fn matched_path(parts: &Parts) -> Option<&str> {
    parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(axum::extract::MatchedPath::as_str)
}

/// Without the `axum` feature, no route template is known.
#[cfg(not(feature = "axum"))]
fn matched_path(_: &Parts) -> Option<&str> {
    None
}

fn count(provider: &'static str, outcome: &'static str) {
    metrics::counter!(
        telemetry::METRIC_WEBHOOK_REQUESTS,
        "provider" => provider,
        "outcome" => outcome
    )
    .increment(1);
}

/// Status, `outcome` label and event name for a [`WebhookError`].
fn classify(error: &WebhookError) -> (StatusCode, &'static str, &'static str) {
    use WebhookError as E;
    match error {
        E::MissingHeader { .. } | E::MalformedHeader { .. } | E::InvalidUrl { .. } => (
            StatusCode::BAD_REQUEST,
            "malformed",
            telemetry::WEBHOOK_MALFORMED,
        ),
        E::MissingUrl
        | E::MissingMethod
        | E::InvalidSecret { .. }
        | E::NoSecrets
        | E::InvalidConfig { .. } => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "config_error",
            telemetry::WEBHOOK_CONFIG_ERROR,
        ),
        // NoMatchingSignature, TimestampOutsideTolerance, BodyHashMismatch, UnsignedBody, and
        // any variant added later: not authenticated.
        _ => (
            StatusCode::UNAUTHORIZED,
            "signature_invalid",
            telemetry::WEBHOOK_SIGNATURE_INVALID,
        ),
    }
}

impl Refusal {
    fn into_response<R: From<Bytes>, S>(self, shared: &Shared<S>) -> Response<R> {
        match self {
            Self::Body {
                provider,
                too_large,
            } => {
                let (status, outcome, reason) = if too_large {
                    (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "request body too large",
                    )
                } else {
                    (
                        StatusCode::BAD_REQUEST,
                        "malformed",
                        "request body could not be read",
                    )
                };
                emit!(
                    Level::WARN,
                    telemetry::WEBHOOK_MALFORMED,
                    provider,
                    status = status.as_u16(),
                    error = reason
                );
                count(provider, outcome);
                plain(status, reason)
            }
            Self::Webhook { provider, error } => {
                let (status, outcome, event) = classify(&error);
                count(provider, outcome);
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    emit!(Level::ERROR, telemetry::WEBHOOK_CONFIG_ERROR, provider, status = 500u16, error = ?error);
                    return plain(status, "webhook verification is misconfigured");
                }
                if event == telemetry::WEBHOOK_MALFORMED {
                    emit!(Level::WARN, telemetry::WEBHOOK_MALFORMED, provider, status = status.as_u16(), error = ?error);
                } else {
                    emit!(Level::WARN, telemetry::WEBHOOK_SIGNATURE_INVALID, provider, status = status.as_u16(), error = ?error);
                }
                plain(status, format!("webhook refused: {error}"))
            }
            Self::Replay { provider, error } => {
                if error.is_store_failure() {
                    emit!(Level::ERROR, telemetry::WEBHOOK_REPLAY, provider, status = 503u16, error = ?error);
                    count(provider, "replay_store_failed");
                    return plain(StatusCode::SERVICE_UNAVAILABLE, "replay check unavailable");
                }
                match error {
                    ReplayError::TimestampOutsideTolerance { .. } => {
                        emit!(Level::WARN, telemetry::WEBHOOK_SIGNATURE_INVALID, provider, status = 401u16, error = ?error);
                        count(provider, "signature_invalid");
                        plain(
                            StatusCode::UNAUTHORIZED,
                            format!("webhook refused: {error}"),
                        )
                    }
                    ReplayError::InvalidConfig { .. } => {
                        emit!(Level::ERROR, telemetry::WEBHOOK_CONFIG_ERROR, provider, status = 500u16, error = ?error);
                        count(provider, "config_error");
                        plain(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "webhook verification is misconfigured",
                        )
                    }
                    ReplayError::InProgress => {
                        emit!(Level::INFO, telemetry::WEBHOOK_REPLAY, provider, status = 409u16, error = ?error);
                        count(provider, "in_progress");
                        duplicate(
                            StatusCode::CONFLICT,
                            "webhook delivery in progress",
                            "in-progress",
                        )
                    }
                    // Replayed (a completed delivery), and any other decision: a duplicate.
                    _ => {
                        let status = shared.replay_status;
                        emit!(Level::INFO, telemetry::WEBHOOK_REPLAY, provider, status = status.as_u16(), error = ?error);
                        count(provider, "replay");
                        duplicate(status, "duplicate webhook delivery", "completed")
                    }
                }
            }
        }
    }
}

/// The answer to a duplicate delivery: `message`, with [`DUPLICATE_HEADER`] set to `state`.
fn duplicate<R: From<Bytes>>(
    status: StatusCode,
    message: &'static str,
    state: &'static str,
) -> Response<R> {
    let mut res = plain(status, message);
    res.headers_mut()
        .insert(DUPLICATE_HEADER, HeaderValue::from_static(state));
    res
}
