//! A second rate limit, after webhook verification, keyed by a field of the verified body.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use palisade_ratelimit::{HeaderStyle, Key, KeyBuilder, Policy, RateLimitStore};
use tower::{Layer, Service};
use tracing::Level;

use crate::BoxFuture;
use crate::ratelimit::{Limiter, OnStoreFailure};
use crate::response::{plain, take_ready};
use crate::telemetry::{self, emit};
use crate::webhook::VerifiedWebhook;

/// Which field of a verified webhook body keys a [`BodyRateLimitLayer`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyField {
    /// The first value of a field of an `application/x-www-form-urlencoded` body
    /// (WHATWG URL standard §5.1 parsing: `+` is a space, percent-decoded): Twilio's `From`,
    /// `To`, `CallSid`.
    Form(String),
    /// The value at a JSON Pointer (RFC 6901: `/message/from`, `/data/driver_id`) of a JSON
    /// body: a string as it is, a number or a boolean as its JSON text. Objects, arrays and
    /// `null` count as absent.
    JsonPointer(String),
}

impl BodyField {
    /// A form field (`From` for Twilio's caller).
    pub fn form(name: impl Into<String>) -> Self {
        Self::Form(name.into())
    }

    /// A JSON Pointer (RFC 6901), such as `/message/from`.
    pub fn json_pointer(pointer: impl Into<String>) -> Self {
        Self::JsonPointer(pointer.into())
    }

    /// The field's value in `body`, or `None` when the body does not parse or has no such
    /// field (or it is empty).
    pub fn extract(&self, body: &[u8]) -> Option<String> {
        let value = match self {
            Self::Form(name) => form_urlencoded::parse(body)
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned()),
            Self::JsonPointer(pointer) => {
                let json: serde_json::Value = serde_json::from_slice(body).ok()?;
                match json.pointer(pointer)? {
                    serde_json::Value::String(s) => Some(s.clone()),
                    v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => {
                        Some(v.to_string())
                    }
                    _ => None,
                }
            }
        };
        value.filter(|v| !v.is_empty())
    }
}

/// What a [`BodyRateLimitLayer`] does with a verified body that lacks its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum MissingField {
    /// Count every such request under one shared key of the layer's namespace: leaving the
    /// field out buys no separate budget. The default.
    #[default]
    SharedKey,
    /// Let it through without this limit (the layer before it still applied).
    Allow,
    /// Answer **400** (`webhook body lacks the rate-limit field`).
    Reject,
}

/// The configuration shared by every clone of a service.
#[derive(Clone)]
struct Shared {
    limiter: Limiter,
    namespace: Arc<str>,
    field: BodyField,
    missing: MissingField,
}

/// A [`Layer`] that rate-limits verified webhooks by a value of their body: per caller (Twilio's
/// `From` form field), per driver, per conversation (a JSON Pointer).
///
/// **Where it goes.** Inside a [`WebhookLayer`](crate::WebhookLayer) (layered *before* it, so
/// that it wraps the handler and runs after verification), with a
/// [`RateLimitLayer`](crate::RateLimitLayer) outside both to refuse floods by IP before any
/// body is buffered:
///
/// ```text
/// request → RateLimitLayer (IP) → WebhookLayer (buffer, verify, claim) → BodyRateLimitLayer (From) → handler
/// ```
///
/// It reads the [`VerifiedWebhook`] extension the webhook layer puts on the request, never
/// the request body, so the value it keys by is one the provider signed. A request without
/// that extension (the layer placed outside the webhook layer, or on a route without one) is
/// answered **500** (`ratelimit.refused`, `cause = "not_verified"`): an unverified body would
/// let a client choose its own key.
///
/// **The key** is [`KeyBuilder`]`::new(namespace).str("body").str(value)`; values longer than
/// the key's inline bytes are hashed (SHA-256) into it, as every key is, and stores name their
/// records from the key's encoding. The value is never logged: events carry the outcome only.
///
/// **Answers** are those of [`RateLimitLayer`](crate::RateLimitLayer) (429 with
/// `Retry-After` and the rate-limit headers, 503 when the store fails and the layer fails
/// closed), with `scope = "body"` in the `ratelimit.refused` event. Inside a webhook layer
/// with a replay guard, a 429 or 503 **releases** the delivery's claim, so a provider retry
/// is handled again once the sender is under its limit; nothing is marked as handled.
///
/// ```
/// use palisade_ratelimit::{Limit, MemoryStore, Policy, Quota};
/// use palisade_tower::{BodyField, BodyRateLimitLayer};
///
/// // 20 calls a minute per caller.
/// let policy = Policy::single(Limit::gcra("caller", Quota::per_minute(20)?)?)?;
/// let per_caller = BodyRateLimitLayer::new("twilio-from", MemoryStore::new(), policy, BodyField::form("From"));
/// # let _ = per_caller;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct BodyRateLimitLayer {
    shared: Shared,
}

impl fmt::Debug for BodyRateLimitLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyRateLimitLayer")
            .field("namespace", &self.shared.namespace)
            .field("policy", &self.shared.limiter.policy)
            .field("field", &self.shared.field)
            .field("missing", &self.shared.missing)
            .finish_non_exhaustive()
    }
}

impl BodyRateLimitLayer {
    /// A layer limiting verified webhooks by `field` of their body in `namespace`, with
    /// `store` (any store, an `Arc<dyn RateLimitStore>` too) and `policy`; each request costs
    /// 1, draft headers, failing closed, a missing field counted under one shared key.
    pub fn new(
        namespace: &str,
        store: impl RateLimitStore + 'static,
        policy: Policy,
        field: BodyField,
    ) -> Self {
        Self {
            shared: Shared {
                limiter: Limiter::new(Arc::new(store), policy),
                namespace: Arc::from(namespace),
                field,
                missing: MissingField::SharedKey,
            },
        }
    }

    /// What to do when the verified body lacks the field (default [`MissingField::SharedKey`]).
    #[must_use]
    pub fn on_missing_field(mut self, missing: MissingField) -> Self {
        self.shared.missing = missing;
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

    /// The cost of one request (default 1).
    #[must_use]
    pub fn cost(mut self, cost: u32) -> Self {
        self.shared.limiter.cost = cost;
        self
    }
}

impl<I> Layer<I> for BodyRateLimitLayer {
    type Service = BodyRateLimitService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        BodyRateLimitService {
            inner,
            shared: Arc::new(self.shared.clone()),
        }
    }
}

/// The [`Service`] of a [`BodyRateLimitLayer`]: see there.
#[derive(Clone)]
pub struct BodyRateLimitService<I> {
    inner: I,
    shared: Arc<Shared>,
}

impl<I: fmt::Debug> fmt::Debug for BodyRateLimitService<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyRateLimitService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// What the layer does with one request before the store is asked.
enum Keyed {
    Key(Key),
    Pass,
    Refuse(StatusCode, &'static str, &'static str),
}

impl Shared {
    fn key(&self, verified: Option<&VerifiedWebhook>) -> Keyed {
        let Some(verified) = verified else {
            return Keyed::Refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "not_verified",
                "rate limiter misconfigured: body not verified",
            );
        };
        let b = KeyBuilder::new(&self.namespace);
        match (self.field.extract(&verified.body), self.missing) {
            (Some(value), _) => Keyed::Key(b.str("body").str(&value).build()),
            (None, MissingField::SharedKey) => Keyed::Key(b.str("missing").build()),
            (None, MissingField::Allow) => Keyed::Pass,
            (None, MissingField::Reject) => Keyed::Refuse(
                StatusCode::BAD_REQUEST,
                "missing_field",
                "webhook body lacks the rate-limit field",
            ),
        }
    }
}

impl<I, B, R> Service<Request<B>> for BodyRateLimitService<I>
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
        match shared.key(req.extensions().get::<VerifiedWebhook>()) {
            Keyed::Key(key) => {
                Box::pin(async move { shared.limiter.decide(key, None, "body", inner, req).await })
            }
            Keyed::Pass => {
                let mut inner = inner;
                Box::pin(async move { inner.call(req).await })
            }
            Keyed::Refuse(status, cause, message) => {
                emit!(
                    Level::ERROR,
                    telemetry::RATELIMIT_REFUSED,
                    status = status.as_u16(),
                    cause,
                    scope = "body",
                );
                Box::pin(async move { Ok(plain(status, message)) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::BodyField;

    #[test]
    fn fields_are_extracted_from_forms_and_json() {
        let form = b"CallSid=CA1&From=%2B14155550123&To=%2B14155550100&From=%2B1999";
        assert_eq!(
            BodyField::form("From").extract(form).as_deref(),
            Some("+14155550123")
        );
        assert_eq!(
            BodyField::form("from").extract(form),
            None,
            "names are case-sensitive"
        );
        assert_eq!(
            BodyField::form("Body").extract(b"Body=&From=x"),
            None,
            "empty is absent"
        );
        let json =
            br#"{"data":{"driver":{"id":42,"name":"A B"},"tags":["x"],"ok":true,"none":null}}"#;
        let at = |p: &str| BodyField::json_pointer(p).extract(json);
        assert_eq!(at("/data/driver/id").as_deref(), Some("42"));
        assert_eq!(at("/data/driver/name").as_deref(), Some("A B"));
        assert_eq!(at("/data/ok").as_deref(), Some("true"));
        assert_eq!(at("/data/tags/0").as_deref(), Some("x"));
        for absent in ["/data/tags", "/data/none", "/data/driver", "/nope", "data"] {
            assert_eq!(at(absent), None, "{absent}");
        }
        assert_eq!(BodyField::json_pointer("/a").extract(b"not json"), None);
    }
}
