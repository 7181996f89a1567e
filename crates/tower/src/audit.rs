//! Recording access to designated routes in a `palisade-audit` sink.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::HeaderName;
use http::{Method, Request, Response, StatusCode};
use palisade_audit::{
    Action, Actor, AuditSink, ClientAddress, EventDraft, Outcome, Principal, Reason, Resource,
    ResourceId, ResourceType,
};
use tower::{Layer, Service};
use tracing::Level;

use crate::BoxFuture;
use crate::client_ip::ClientIp;
use crate::response::{plain, take_ready};
use crate::telemetry::{self, emit};

/// The default header a request states its reason in: `x-audit-reason`.
pub const DEFAULT_REASON_HEADER: &str = "x-audit-reason";

/// Why an [`AuditRoute`] template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditRouteError {
    /// The template does not start with `/`.
    #[error("an audit route template starts with /")]
    NotAbsolute,
    /// The template names `{id}` more than once.
    #[error("an audit route template has at most one {{id}}")]
    SeveralIds,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Id,
    Any,
}

/// A route whose requests are recorded: a method, a path template, and the resource type
/// and action of the event.
///
/// The template is `/`-separated segments: literals, `{id}` (the segment is the resource
/// id) and any other `{name}` (matches any one segment). Without `{id}` the resource id is
/// `*` (a list, a search).
///
/// ```
/// use http::Method;
/// use palisade_audit::{Action, ResourceType};
/// use palisade_tower::AuditRoute;
///
/// let route = AuditRoute::new(
///     Method::GET,
///     "/tenants/{tenant}/recordings/{id}",
///     ResourceType::new("recording")?,
///     Action::READ,
/// )?;
/// assert_eq!(route.resource_id("/tenants/acme/recordings/rec-9"), Some("rec-9"));
/// assert_eq!(route.resource_id("/tenants/acme/recordings"), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRoute {
    method: Method,
    segments: Vec<Segment>,
    kind: ResourceType,
    action: Action,
}

impl AuditRoute {
    /// Records `method` requests whose path matches `template` as `action` on a resource
    /// of type `kind`.
    ///
    /// # Errors
    ///
    /// [`AuditRouteError`] for a template that does not start with `/`, or has `{id}`
    /// twice.
    pub fn new(
        method: Method,
        template: &str,
        kind: ResourceType,
        action: Action,
    ) -> Result<Self, AuditRouteError> {
        let Some(rest) = template.strip_prefix('/') else {
            return Err(AuditRouteError::NotAbsolute);
        };
        let segments: Vec<Segment> = rest
            .split('/')
            .map(|s| match s {
                "{id}" => Segment::Id,
                s if s.starts_with('{') && s.ends_with('}') => Segment::Any,
                s => Segment::Literal(s.to_owned()),
            })
            .collect();
        if segments.iter().filter(|s| **s == Segment::Id).count() > 1 {
            return Err(AuditRouteError::SeveralIds);
        }
        Ok(Self {
            method,
            segments,
            kind,
            action,
        })
    }

    /// When `path` matches: the resource id it names (`*` without `{id}`).
    pub fn resource_id<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix('/')?;
        let mut parts = rest.split('/');
        let mut id = "*";
        for seg in &self.segments {
            let part = parts.next()?;
            match seg {
                Segment::Literal(l) if l != part => return None,
                Segment::Id if part.is_empty() => return None,
                Segment::Id => id = part,
                Segment::Literal(_) | Segment::Any => {}
            }
        }
        parts.next().is_none().then_some(id)
    }
}

/// A [`Layer`] that records every request to its [`AuditRoute`]s in an [`AuditSink`], with
/// the `Principal` that authentication put in the request's extensions (`palisade-rbac`'s
/// [`Principal`]: its tenant, its subject and first role as the actor).
///
/// For a designated route, before the handler:
///
/// - no `Principal` in the extensions: **401**, the handler is not called (place this layer
///   inside the authentication layer);
/// - the reason header (default [`DEFAULT_REASON_HEADER`]) is read; a reason that is not
///   valid (personal data in clear, too long) or missing where the sink's
///   [`ReasonPolicy`](palisade_audit::ReasonPolicy) requires one (`export`, `anonymize`,
///   resource type `recording`): **400**, the handler is not called;
///
/// then, after the handler, one event is appended: outcome `success` for 1xx–3xx, `denied`
/// for 401, 403 and 404, `failure` otherwise; the client address, when a [`ClientIp`] is
/// configured, truncated (`/24`, `/48`). The append is fail-closed: when the sink fails, the
/// handler's response is dropped and **503** is answered, so no data leaves without its
/// record. Refusals emit [`AUDIT_REFUSED`](telemetry::AUDIT_REFUSED).
#[derive(Clone)]
pub struct AuditLayer {
    sink: Arc<dyn AuditSink>,
    routes: Arc<[AuditRoute]>,
    reason_header: HeaderName,
    client_ip: Option<Arc<ClientIp>>,
}

impl std::fmt::Debug for AuditLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLayer")
            .field("routes", &self.routes)
            .field("reason_header", &self.reason_header)
            .finish_non_exhaustive()
    }
}

impl AuditLayer {
    /// Records the requests to `routes` in `sink`.
    pub fn new(sink: Arc<dyn AuditSink>, routes: impl IntoIterator<Item = AuditRoute>) -> Self {
        Self {
            sink,
            routes: routes.into_iter().collect(),
            reason_header: HeaderName::from_static(DEFAULT_REASON_HEADER),
            client_ip: None,
        }
    }

    /// Reads the reason from `header` instead of [`DEFAULT_REASON_HEADER`].
    #[must_use]
    pub fn reason_header(mut self, header: HeaderName) -> Self {
        self.reason_header = header;
        self
    }

    /// Records the client's network, found by `client_ip`, truncated.
    #[must_use]
    pub fn client_ip(mut self, client_ip: ClientIp) -> Self {
        self.client_ip = Some(Arc::new(client_ip));
        self
    }

    /// The draft of the event for `req`, `Ok(None)` when no route matches it, or the
    /// refusal.
    fn draft<B>(&self, req: Request<B>) -> (Request<B>, Result<Option<EventDraft>, Refusal>) {
        let path = req.uri().path().to_owned();
        let Some((route, id)) = self
            .routes
            .iter()
            .filter(|r| r.method == *req.method())
            .find_map(|r| r.resource_id(&path).map(|id| (r, id)))
        else {
            return (req, Ok(None));
        };
        let (parts, body) = req.into_parts();
        let result = (|| {
            let principal = parts
                .extensions
                .get::<Principal>()
                .ok_or(Refusal::Unauthenticated)?;
            let actor = Actor::from_principal(principal).map_err(|_| Refusal::BadRequest)?;
            let resource_id = ResourceId::new(id).map_err(|_| Refusal::BadRequest)?;
            let mut draft = EventDraft::new(
                principal.tenant().clone(),
                actor,
                route.action.clone(),
                Resource::new(route.kind.clone(), resource_id),
            );
            match parts.headers.get(&self.reason_header) {
                Some(v) => {
                    let text = v.to_str().map_err(|_| Refusal::BadReason)?;
                    draft = draft.with_reason(Reason::new(text).map_err(|_| Refusal::BadReason)?);
                }
                None if self.sink.policy().requires(&route.action, &route.kind) => {
                    return Err(Refusal::ReasonRequired);
                }
                None => {}
            }
            if let Some(ip) = self.client_ip.as_ref().and_then(|c| c.resolve(&parts)) {
                draft = draft.with_client(ClientAddress::truncated(ip));
            }
            Ok(Some(draft))
        })();
        (Request::from_parts(parts, body), result)
    }
}

#[derive(Debug, Clone, Copy)]
enum Refusal {
    Unauthenticated,
    BadRequest,
    BadReason,
    ReasonRequired,
    SinkFailed,
}

impl Refusal {
    fn respond<R: From<Bytes>>(self) -> Response<R> {
        let (status, cause, message) = match self {
            Self::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "no_principal",
                "authentication required",
            ),
            Self::BadRequest => (
                StatusCode::BAD_REQUEST,
                "invalid_field",
                "the resource or actor cannot be recorded",
            ),
            Self::BadReason => (
                StatusCode::BAD_REQUEST,
                "invalid_reason",
                "the reason is not valid (personal data, too long, control characters)",
            ),
            Self::ReasonRequired => (
                StatusCode::BAD_REQUEST,
                "reason_required",
                "a reason is required for this request",
            ),
            Self::SinkFailed => (
                StatusCode::SERVICE_UNAVAILABLE,
                "sink_failed",
                "the audit log is unavailable",
            ),
        };
        emit!(
            Level::WARN,
            telemetry::AUDIT_REFUSED,
            status = status.as_u16(),
            cause = cause,
        );
        plain(status, message)
    }
}

fn outcome(status: StatusCode) -> Outcome {
    match status.as_u16() {
        100..=399 => Outcome::Success,
        401 | 403 | 404 => Outcome::Denied,
        _ => Outcome::Failure,
    }
}

impl<I> Layer<I> for AuditLayer {
    type Service = AuditService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        AuditService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The [`Service`] of an [`AuditLayer`]: see there.
#[derive(Debug, Clone)]
pub struct AuditService<I> {
    inner: I,
    layer: AuditLayer,
}

impl<I, B, R> Service<Request<B>> for AuditService<I>
where
    I: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    I::Future: Send + 'static,
    I::Error: Send + 'static,
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
        let (req, draft) = self.layer.draft(req);
        let mut inner = take_ready(&mut self.inner);
        let sink = Arc::clone(&self.layer.sink);
        Box::pin(async move {
            let draft = match draft {
                Ok(None) => return inner.call(req).await,
                Ok(Some(draft)) => draft,
                Err(refusal) => return Ok(refusal.respond()),
            };
            let res = inner.call(req).await?;
            let draft = draft.with_outcome(outcome(res.status()));
            match sink.append(draft).await {
                Ok(_) => Ok(res),
                Err(_) => Ok(Refusal::SinkFailed.respond()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::convert::Infallible;
    use std::net::SocketAddr;

    use http_body_util::Full;
    use palisade_audit::{
        AuditError, Head, MemorySink, Query, RoleName, SubjectId, TenantId, testing, verify,
    };
    use tower::{ServiceBuilder, ServiceExt, service_fn};

    use super::*;

    fn routes() -> Vec<AuditRoute> {
        vec![
            AuditRoute::new(
                Method::GET,
                "/leads/{id}",
                ResourceType::new("lead").unwrap(),
                Action::READ,
            )
            .unwrap(),
            AuditRoute::new(
                Method::POST,
                "/leads/{id}/export",
                ResourceType::new("lead").unwrap(),
                Action::EXPORT,
            )
            .unwrap(),
        ]
    }

    fn principal() -> Principal {
        Principal::new(
            TenantId::new("acme").unwrap(),
            SubjectId::new("u-7").unwrap(),
        )
        .with_roles([RoleName::new("agent").unwrap()])
    }

    async fn call(
        layer: &AuditLayer,
        method: Method,
        path: &str,
        reason: Option<&str>,
        principal: Option<Principal>,
        status: StatusCode,
    ) -> StatusCode {
        let svc = ServiceBuilder::new()
            .layer(layer.clone())
            .service(service_fn(move |_req: Request<Full<Bytes>>| async move {
                let mut res = Response::new(Full::new(Bytes::from_static(b"lead data")));
                *res.status_mut() = status;
                Ok::<_, Infallible>(res)
            }));
        let mut req = Request::builder().method(method).uri(path);
        if let Some(r) = reason {
            req = req.header(DEFAULT_REASON_HEADER, r);
        }
        let mut req = req.body(Full::new(Bytes::new())).unwrap();
        if let Some(p) = principal {
            req.extensions_mut().insert(p);
        }
        req.extensions_mut()
            .insert("203.0.113.77:4000".parse::<SocketAddr>().unwrap());
        svc.oneshot(req).await.unwrap().status()
    }

    #[test]
    fn templates_match_whole_paths() {
        let r = &routes()[1];
        assert_eq!(r.resource_id("/leads/17/export"), Some("17"));
        assert_eq!(r.resource_id("/leads/17"), None);
        assert_eq!(r.resource_id("/leads/17/export/x"), None);
        assert_eq!(r.resource_id("/leads//export"), None);
        let list = AuditRoute::new(
            Method::GET,
            "/leads",
            ResourceType::new("lead").unwrap(),
            Action::READ,
        )
        .unwrap();
        assert_eq!(list.resource_id("/leads"), Some("*"));
        let bad = |t| {
            AuditRoute::new(
                Method::GET,
                t,
                ResourceType::new("lead").unwrap(),
                Action::READ,
            )
        };
        assert_eq!(bad("leads/{id}"), Err(AuditRouteError::NotAbsolute));
        assert_eq!(bad("/{id}/{id}"), Err(AuditRouteError::SeveralIds));
    }

    #[tokio::test]
    async fn designated_routes_are_recorded_with_the_principal() {
        let sink = Arc::new(MemorySink::new(testing::test_sealer()));
        let layer = AuditLayer::new(sink.clone(), routes()).client_ip(ClientIp::new());
        let tenant = TenantId::new("acme").unwrap();
        let ok = StatusCode::OK;
        assert_eq!(
            call(
                &layer,
                Method::GET,
                "/leads/17",
                None,
                Some(principal()),
                ok
            )
            .await,
            ok
        );
        assert_eq!(
            call(
                &layer,
                Method::GET,
                "/leads/18",
                None,
                Some(principal()),
                StatusCode::NOT_FOUND
            )
            .await,
            StatusCode::NOT_FOUND
        );
        // Not designated: passes, not recorded.
        assert_eq!(
            call(&layer, Method::GET, "/health", None, None, ok).await,
            ok
        );
        assert_eq!(
            call(&layer, Method::DELETE, "/leads/17", None, None, ok).await,
            ok
        );
        let events = sink.query(&tenant, &Query::new()).await.unwrap();
        assert_eq!(events.len(), 2);
        let (denied, read) = (&events[0], &events[1]);
        assert_eq!(read.actor.subject().as_str(), "u-7");
        assert_eq!(read.actor.role().unwrap().as_str(), "agent");
        assert_eq!(read.resource.to_string(), "lead:17");
        assert_eq!(read.action, Action::READ);
        assert_eq!(read.outcome, Outcome::Success);
        assert_eq!(
            read.client.as_ref().unwrap().to_string(),
            "net:203.0.113.0/24"
        );
        assert_eq!(denied.outcome, Outcome::Denied);
        let all = testing::read_all(&*sink, &tenant).await;
        verify(&testing::test_keys(), &tenant, Head::GENESIS, &all).unwrap();
    }

    #[tokio::test]
    async fn missing_principal_or_reason_refuse_before_the_handler() {
        let sink = Arc::new(MemorySink::new(testing::test_sealer()));
        let layer = AuditLayer::new(sink.clone(), routes());
        let ok = StatusCode::OK;
        let export = "/leads/17/export";
        assert_eq!(
            call(&layer, Method::GET, "/leads/17", None, None, ok).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            call(&layer, Method::POST, export, None, Some(principal()), ok).await,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            call(
                &layer,
                Method::POST,
                export,
                Some("mail jean@example.com"),
                Some(principal()),
                ok
            )
            .await,
            StatusCode::BAD_REQUEST
        );
        let tenant = TenantId::new("acme").unwrap();
        assert!(testing::read_all(&*sink, &tenant).await.is_empty());
        assert_eq!(
            call(
                &layer,
                Method::POST,
                export,
                Some("customer asked"),
                Some(principal()),
                ok
            )
            .await,
            ok
        );
        let events = testing::read_all(&*sink, &tenant).await;
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].reason.as_ref().unwrap().as_str(),
            "customer asked"
        );
    }

    /// A sink that always fails: the handler's answer is replaced by 503.
    struct Down(palisade_audit::ReasonPolicy);

    #[async_trait::async_trait]
    impl AuditSink for Down {
        async fn append(&self, _: EventDraft) -> Result<palisade_audit::Event, AuditError> {
            Err(AuditError::SinkUnavailable("down".into()))
        }
        async fn read(
            &self,
            _: &TenantId,
            _: u64,
            _: usize,
        ) -> Result<Vec<palisade_audit::Event>, AuditError> {
            Err(AuditError::SinkUnavailable("down".into()))
        }
        async fn head(&self, _: &TenantId) -> Result<Head, AuditError> {
            Err(AuditError::SinkUnavailable("down".into()))
        }
        async fn query(
            &self,
            _: &TenantId,
            _: &Query,
        ) -> Result<Vec<palisade_audit::Event>, AuditError> {
            Err(AuditError::SinkUnavailable("down".into()))
        }
        async fn anchor(
            &self,
            _: &TenantId,
        ) -> Result<Option<palisade_audit::Checkpoint>, AuditError> {
            Err(AuditError::SinkUnavailable("down".into()))
        }
        async fn purge(
            &self,
            _: &TenantId,
            _: &palisade_audit::Checkpoint,
        ) -> Result<u64, AuditError> {
            Err(AuditError::SinkUnavailable("down".into()))
        }
        fn policy(&self) -> &palisade_audit::ReasonPolicy {
            &self.0
        }
    }

    #[tokio::test]
    async fn a_failing_sink_fails_closed() {
        let layer = AuditLayer::new(Arc::new(Down(Default::default())), routes());
        assert_eq!(
            call(
                &layer,
                Method::GET,
                "/leads/17",
                None,
                Some(principal()),
                StatusCode::OK
            )
            .await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            call(&layer, Method::GET, "/other", None, None, StatusCode::OK).await,
            StatusCode::OK
        );
    }
}
