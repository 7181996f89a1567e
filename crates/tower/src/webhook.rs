//! Webhook verification: buffer the body, verify its signature, refuse replays.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use palisade_replay::{NonceStore, ReplayError, ReplayGuard};
use palisade_webhook::twilio::PublicUrl;
use palisade_webhook::{Scheme, Verified, Verifier, WebhookError};
use tower::{Layer, Service};
use tracing::Level;

use crate::response::{plain, take_ready};
use crate::telemetry::{self, emit};
use crate::{BoxError, BoxFuture, TowerError};

/// The request body the inner service receives from a [`WebhookService`]: the buffered bytes,
/// exactly as received.
pub type WebhookBody = Full<Bytes>;

/// What a [`WebhookService`] hands to the handler, as a request extension: the facts of the
/// verification and the exact body bytes that were verified.
///
/// The body is also re-attached to the request ([`WebhookBody`]), so extractors that read the
/// body (axum's `Json`, `Form`, `Bytes`) work as usual; parse the signed bytes, never a
/// re-serialization. With axum, take it with `Extension<VerifiedWebhook>`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedWebhook {
    /// Which provider signed it, the signed timestamp, the replay key, which secret matched.
    pub verified: Verified,
    /// The raw body bytes, as signed.
    pub body: Bytes,
}

/// Default [`WebhookLayer::max_body`]: 1 MiB (1 048 576 bytes), above the payloads of the
/// providers `palisade-webhook` supports (GitHub caps deliveries at 25 MB but sends far less
/// for most events; raise the limit for those).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// A replay guard over any nonce store, behind a trait object.
trait ReplayCheck: Send + Sync {
    fn check<'a>(
        &'a self,
        verified: &'a Verified,
        tenant: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), ReplayError>>;
}

impl<N: NonceStore + 'static> ReplayCheck for ReplayGuard<N> {
    fn check<'a>(
        &'a self,
        verified: &'a Verified,
        tenant: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), ReplayError>> {
        Box::pin(self.check_verified(verified, tenant))
    }
}

/// The configuration shared by every clone of a service.
struct Shared<S> {
    verifier: Arc<Verifier<S>>,
    replay: Option<Arc<dyn ReplayCheck>>,
    tenant: Option<String>,
    public_url: Option<PublicUrl>,
    max_body: usize,
    replay_status: StatusCode,
}

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Self {
            verifier: Arc::clone(&self.verifier),
            replay: self.replay.clone(),
            tenant: self.tenant.clone(),
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
/// 3. **Replay.** With a [`replay_guard`](Self::replay_guard), the verified request's replay
///    key is recorded in the provider's namespace (and the [`tenant`](Self::tenant)'s); a
///    second delivery is refused with the [`replay_status`](Self::replay_status) (409 by
///    default), and a nonce store that cannot decide is answered **503** (fail closed).
/// 4. **Hand-off.** The inner service gets the request with the same head, a
///    [`VerifiedWebhook`] extension, and the buffered body as a [`WebhookBody`].
///
/// | outcome | status | event | `outcome` label |
/// |---|---|---|---|
/// | verified | inner service's | `webhook.verified` (debug) | `verified` |
/// | `NoMatchingSignature`, `TimestampOutsideTolerance`, `BodyHashMismatch`, `UnsignedBody`, a replay timestamp outside the guard's window | 401 | `webhook.signature_invalid` | `signature_invalid` |
/// | `MissingHeader`, `MalformedHeader`, `InvalidUrl`, unreadable body | 400 | `webhook.malformed` | `malformed` |
/// | body too large | 413 | `webhook.malformed` | `too_large` |
/// | replayed | 409 (configurable) | `webhook.replay` | `replay` |
/// | nonce store unavailable, timed out or full | 503 | `webhook.replay` (error) | `replay_store_failed` |
/// | `MissingUrl` (no public URL configured for a scheme that signs it), invalid secrets, bad replay configuration | 500 | `webhook.config_error` (error) | `config_error` |
///
/// Refusals carry a short `text/plain` body: for 400 and 401 the [`WebhookError`]'s
/// `Display`, which never contains a secret, signature or body; otherwise a fixed sentence.
/// No body and no secret is ever logged.
///
/// ```
/// use palisade_tower::WebhookLayer;
/// use palisade_webhook::{SecretString, Stripe, Verifier};
///
/// let verifier = Verifier::new(Stripe, [SecretString::from("whsec_test")])?;
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
            .field("replay_guard", &self.shared.replay.is_some())
            .field("tenant", &self.shared.tenant)
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
        Self {
            shared: Shared {
                verifier: verifier.into(),
                replay: None,
                tenant: None,
                public_url: None,
                max_body: DEFAULT_MAX_BODY,
                replay_status: StatusCode::CONFLICT,
            },
        }
    }

    /// Refuses replays with `guard` (a [`ReplayGuard`] or an `Arc` of one, over any
    /// [`NonceStore`]: memory, Redis, Postgres).
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

    /// Records replay keys in the namespace of this tenant (as
    /// [`ReplayGuard::check_verified`]), for one layer per tenant over a shared store.
    #[must_use]
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.shared.tenant = Some(tenant.into());
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

    /// The status of the answer to a replayed delivery (default 409 Conflict). Some
    /// providers retry on any non-2xx answer; answering duplicates with 200 stops the retries
    /// while the handler still never sees them.
    ///
    /// # Errors
    /// [`TowerError::InvalidStatus`] for a number that is not an HTTP status.
    pub fn replay_status(mut self, status: u16) -> Result<Self, TowerError> {
        self.shared.replay_status =
            StatusCode::from_u16(status).map_err(|_| TowerError::InvalidStatus { code: status })?;
        Ok(self)
    }
}

impl<S, I> Layer<I> for WebhookLayer<S> {
    type Service = WebhookService<I, S>;

    fn layer(&self, inner: I) -> Self::Service {
        WebhookService {
            inner,
            shared: Arc::new(self.shared.clone()),
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
            match shared.admit(req).await {
                Ok(req) => inner.call(req).await,
                Err(refusal) => Ok(refusal.into_response(&shared)),
            }
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
    async fn admit<B>(&self, req: Request<B>) -> Result<Request<WebhookBody>, Refusal>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let provider = self.verifier.scheme().provider().as_str();
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
        let verified = self
            .verify(&parts, &body)
            .map_err(|error| Refusal::Webhook { provider, error })?;
        if let Some(guard) = &self.replay {
            guard
                .check(&verified, self.tenant.as_deref())
                .await
                .map_err(|error| Refusal::Replay { provider, error })?;
        }
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
        Ok(req)
    }

    /// The synchronous part: URL, then signature.
    fn verify(&self, parts: &Parts, body: &[u8]) -> Result<Verified, WebhookError> {
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
        self.verifier.verify(&request)
    }
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
                    emit!(Level::ERROR, telemetry::WEBHOOK_CONFIG_ERROR, provider, status = 500u16, error = %error);
                    return plain(status, "webhook verification is misconfigured");
                }
                if event == telemetry::WEBHOOK_MALFORMED {
                    emit!(Level::WARN, telemetry::WEBHOOK_MALFORMED, provider, status = status.as_u16(), error = %error);
                } else {
                    emit!(Level::WARN, telemetry::WEBHOOK_SIGNATURE_INVALID, provider, status = status.as_u16(), error = %error);
                }
                plain(status, format!("webhook refused: {error}"))
            }
            Self::Replay { provider, error } => {
                if error.is_store_failure() {
                    emit!(Level::ERROR, telemetry::WEBHOOK_REPLAY, provider, status = 503u16, error = %error);
                    count(provider, "replay_store_failed");
                    return plain(StatusCode::SERVICE_UNAVAILABLE, "replay check unavailable");
                }
                match error {
                    ReplayError::TimestampOutsideWindow { .. } => {
                        emit!(Level::WARN, telemetry::WEBHOOK_SIGNATURE_INVALID, provider, status = 401u16, error = %error);
                        count(provider, "signature_invalid");
                        plain(
                            StatusCode::UNAUTHORIZED,
                            format!("webhook refused: {error}"),
                        )
                    }
                    ReplayError::InvalidConfig { .. } => {
                        emit!(Level::ERROR, telemetry::WEBHOOK_CONFIG_ERROR, provider, status = 500u16, error = %error);
                        count(provider, "config_error");
                        plain(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "webhook verification is misconfigured",
                        )
                    }
                    // Replayed, and any other decision: a duplicate.
                    _ => {
                        let status = shared.replay_status;
                        emit!(Level::INFO, telemetry::WEBHOOK_REPLAY, provider, status = status.as_u16(), error = %error);
                        count(provider, "replay");
                        plain(status, "duplicate webhook delivery")
                    }
                }
            }
        }
    }
}
