//! Authorization: the request's [`Principal`] must hold a permission (feature `rbac`).

use std::collections::HashMap;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use palisade_rbac::{Permission, Principal, Refusal, SharedPolicy, TenantId, Verdict};
use tower::{Layer, Service};

use crate::BoxFuture;
use crate::response::{plain, refuse_or_call};

/// The permission each route needs: keyed by method and route template (axum's
/// [`MatchedPath`], such as `/calls/{id}`, with feature `axum`; otherwise the request's path,
/// percent-decoded and normalized as the rate limiter does).
///
/// A request whose route is not in the table is **refused** (403): a route added without its
/// permission fails closed, never open.
///
/// [`MatchedPath`]: https://docs.rs/axum/0.8/axum/extract/struct.MatchedPath.html
#[derive(Debug, Clone, Default)]
pub struct RoutePermissions {
    by_route: HashMap<(Option<Method>, String), Permission>,
}

impl RoutePermissions {
    /// An empty table (refuses everything).
    pub fn new() -> Self {
        Self::default()
    }

    /// `method` on `route` needs `permission`.
    #[must_use]
    pub fn route(mut self, method: Method, route: &str, permission: Permission) -> Self {
        self.by_route
            .insert((Some(method), route.to_owned()), permission);
        self
    }

    /// Every method on `route` needs `permission` (a method-specific entry wins).
    #[must_use]
    pub fn any_method(mut self, route: &str, permission: Permission) -> Self {
        self.by_route.insert((None, route.to_owned()), permission);
        self
    }

    /// The permission `method` on `route` needs, if listed.
    pub fn permission(&self, method: &Method, route: &str) -> Option<&Permission> {
        self.by_route
            .get(&(Some(method.clone()), route.to_owned()))
            .or_else(|| self.by_route.get(&(None, route.to_owned())))
    }

    /// Every permission of the table (to intern them when compiling the policy:
    /// `PolicyCompiler::known_permissions`).
    pub fn permissions(&self) -> impl Iterator<Item = &Permission> {
        self.by_route.values()
    }
}

#[derive(Debug, Clone)]
enum Required {
    One(Permission),
    Routes(Arc<RoutePermissions>),
}

/// A [`Layer`] that lets a request through only when its principal holds a permission: one
/// for every request ([`require`](Self::require)) or one per route
/// ([`routes`](Self::routes)).
///
/// - The principal is the [`Principal`] in the request's extensions (put there by
///   authentication); none: **401**.
/// - The tenant is a [`TenantId`] in the request's extensions when a layer before this one put
///   one there (the tenant named by the URL, say), otherwise the principal's own. A principal
///   acting in another tenant than its own holds only its global roles there.
/// - The decision is [`Policy::authorize`](palisade_rbac::Policy::authorize) on the current
///   policy of the [`SharedPolicy`] (hot reload applies to the next request): roles through
///   the policy, narrowed by the principal's scopes when it has both; scopes alone for API
///   clients. Refused: **403**, or **404** with [`hide`](Self::hide) (routes whose existence
///   must not leak), with a short fixed body; the `authz.denied` event says why.
/// - Allowed: the [`Verdict`] goes into the request's extensions for the handler.
///
/// ```
/// use palisade_rbac::{Policy, SharedPolicy};
/// use palisade_tower::{AuthorizeLayer, RoutePermissions};
/// use http::Method;
///
/// let policy = SharedPolicy::new(Policy::from_toml("[roles.agent]\ngrants = [\"calls:*\"]\n")?);
/// let table = RoutePermissions::new()
///     .route(Method::GET, "/calls/{id}", "calls:read".parse()?)
///     .route(Method::DELETE, "/calls/{id}", "calls:delete".parse()?);
/// let layer = AuthorizeLayer::routes(policy, table).hide();
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AuthorizeLayer {
    policy: SharedPolicy,
    required: Required,
    hide: bool,
}

impl AuthorizeLayer {
    /// Every request needs `permission`.
    pub fn require(policy: SharedPolicy, permission: Permission) -> Self {
        Self {
            policy,
            required: Required::One(permission),
            hide: false,
        }
    }

    /// Each route needs the permission `table` lists for it; unlisted routes are refused.
    pub fn routes(policy: SharedPolicy, table: RoutePermissions) -> Self {
        Self {
            policy,
            required: Required::Routes(Arc::new(table)),
            hide: false,
        }
    }

    /// Answers refusals with 404 Not Found instead of 403, so that a caller without the
    /// permission cannot tell the route (or the record behind it) exists.
    #[must_use]
    pub fn hide(mut self) -> Self {
        self.hide = true;
        self
    }

    /// The verdict for `req`, or the refusal to answer with.
    fn decide<B, R: From<Bytes>>(&self, req: &Request<B>) -> Result<Verdict, Response<R>> {
        let refused = |status: StatusCode| {
            let status = if self.hide && status == StatusCode::FORBIDDEN {
                StatusCode::NOT_FOUND
            } else {
                status
            };
            let message = match status {
                StatusCode::UNAUTHORIZED => "unauthorized",
                StatusCode::NOT_FOUND => "not found",
                _ => "forbidden",
            };
            plain(status, message)
        };
        let Some(principal) = req.extensions().get::<Principal>() else {
            return Err(refused(StatusCode::UNAUTHORIZED));
        };
        let permission = match &self.required {
            Required::One(p) => p,
            Required::Routes(table) => {
                let route = route_of(req);
                match table.permission(req.method(), &route) {
                    Some(p) => p,
                    None => return Err(refused(StatusCode::FORBIDDEN)),
                }
            }
        };
        let tenant = req
            .extensions()
            .get::<TenantId>()
            .unwrap_or_else(|| principal.tenant());
        let verdict = self
            .policy
            .current()
            .authorize(tenant, principal, permission);
        match verdict.refusal() {
            None => Ok(verdict),
            Some(Refusal::NotFound) => Err(refused(StatusCode::NOT_FOUND)),
            Some(_) => Err(refused(StatusCode::FORBIDDEN)),
        }
    }
}

/// The request's route: axum's matched template when there is one, else its normalized path.
fn route_of<B>(req: &Request<B>) -> String {
    #[cfg(feature = "axum")]
    if let Some(matched) = req.extensions().get::<axum::extract::MatchedPath>() {
        return matched.as_str().to_owned();
    }
    String::from_utf8_lossy(&crate::ratelimit::normalize_path(req.uri().path())).into_owned()
}

impl<I> Layer<I> for AuthorizeLayer {
    type Service = AuthorizeService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        AuthorizeService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The [`Service`] of an [`AuthorizeLayer`]: see there.
#[derive(Debug, Clone)]
pub struct AuthorizeService<I> {
    inner: I,
    layer: AuthorizeLayer,
}

impl<I, B, R> Service<Request<B>> for AuthorizeService<I>
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

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let refusal = match self.layer.decide(&req) {
            Ok(verdict) => {
                req.extensions_mut().insert(verdict);
                None
            }
            Err(response) => Some(response),
        };
        refuse_or_call(&mut self.inner, req, refusal)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::convert::Infallible;

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http::{Request, Response, StatusCode};
    use palisade_rbac::{Policy, Principal, RoleName, ScopeSet, SharedPolicy, SubjectId, TenantId};
    use tower::{ServiceBuilder, ServiceExt, service_fn};

    use super::*;

    const POLICY: &str = r#"
[roles.admin]
inherits = ["agent"]
grants = ["admin:*"]
[roles.agent]
inherits = ["customer"]
grants = ["bookings:read", "bookings:write", "calls:*"]
denies = ["bookings:delete"]
[roles.customer]
grants = ["bookings:read"]
[roles.operator]
global = true
grants = ["calls:read"]
"#;

    fn policy() -> SharedPolicy {
        SharedPolicy::new(Policy::from_toml(POLICY).unwrap())
    }

    fn user(tenant: &str, roles: &[&str]) -> Principal {
        Principal::new(
            TenantId::new(tenant).unwrap(),
            SubjectId::new("u1").unwrap(),
        )
        .with_roles(roles.iter().map(|r| RoleName::new(r).unwrap()))
    }

    fn table() -> RoutePermissions {
        RoutePermissions::new()
            .route(Method::GET, "/calls/{id}", "calls:read".parse().unwrap())
            .route(
                Method::DELETE,
                "/calls/{id}",
                "calls:delete".parse().unwrap(),
            )
            .any_method("/bookings/{id}", "bookings:delete".parse().unwrap())
    }

    fn app(layer: AuthorizeLayer) -> Router {
        // The handler says what the layer left it: the verdict's explanation.
        let handler = |req: Request<Body>| async move {
            req.extensions()
                .get::<Verdict>()
                .map(|v| v.explanation().to_string())
                .unwrap_or_default()
        };
        Router::new()
            .route("/calls/{id}", get(handler).delete(handler).post(handler))
            .route("/bookings/{id}", get(handler))
            .route("/unlisted", get(handler))
            .layer(layer)
    }

    async fn send(
        app: &Router,
        method: Method,
        uri: &str,
        principal: Option<Principal>,
    ) -> (StatusCode, String) {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        if let Some(p) = principal {
            req.extensions_mut().insert(p);
        }
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn routes_need_their_permission() {
        let app = app(AuthorizeLayer::routes(policy(), table()));
        let agent = || Some(user("a", &["agent"]));
        let (status, body) = send(&app, Method::GET, "/calls/17", agent()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "role agent grants `calls:*`");
        assert_eq!(
            send(&app, Method::DELETE, "/calls/17", agent()).await.0,
            StatusCode::OK
        );
        let customer = || Some(user("a", &["customer"]));
        assert_eq!(
            send(&app, Method::GET, "/calls/17", customer()).await,
            (StatusCode::FORBIDDEN, "forbidden".into())
        );
        // Deny wins, through inheritance.
        let admin = Some(user("a", &["admin"]));
        assert_eq!(
            send(&app, Method::GET, "/bookings/1", admin).await.0,
            StatusCode::FORBIDDEN
        );
        // Unlisted: a method the table does not name, a route it does not list.
        assert_eq!(
            send(&app, Method::POST, "/calls/17", agent()).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(&app, Method::GET, "/unlisted", agent()).await.0,
            StatusCode::FORBIDDEN
        );
        // No principal: 401.
        assert_eq!(
            send(&app, Method::GET, "/calls/17", None).await.0,
            StatusCode::UNAUTHORIZED
        );
    }

    #[tokio::test]
    async fn hidden_routes_answer_404_and_tenants_are_enforced() {
        let app = app(AuthorizeLayer::routes(policy(), table()).hide());
        assert_eq!(
            send(
                &app,
                Method::GET,
                "/calls/1",
                Some(user("a", &["customer"]))
            )
            .await,
            (StatusCode::NOT_FOUND, "not found".into())
        );
        // A tenant named by the request (a layer before this one put it there).
        let mut req = Request::get("/calls/1").body(Body::empty()).unwrap();
        req.extensions_mut().insert(user("a", &["agent"]));
        req.extensions_mut().insert(TenantId::new("b").unwrap());
        assert_eq!(
            app.clone().oneshot(req).await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        // A global operator reads calls of any tenant.
        let operator = Principal::new(TenantId::new("ops").unwrap(), SubjectId::new("op").unwrap())
            .with_global_roles([RoleName::new("operator").unwrap()]);
        let mut req = Request::get("/calls/1").body(Body::empty()).unwrap();
        req.extensions_mut().insert(operator);
        req.extensions_mut().insert(TenantId::new("b").unwrap());
        assert_eq!(
            app.clone().oneshot(req).await.unwrap().status(),
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn one_permission_for_every_request_with_scopes_and_reload() {
        let shared = policy();
        let layer = AuthorizeLayer::require(shared.clone(), "admin:read".parse().unwrap());
        let svc =
            ServiceBuilder::new()
                .layer(layer)
                .service(service_fn(|_req: Request<()>| async {
                    Ok::<_, Infallible>(Response::new(Body::empty()))
                }));
        let call = |p: Principal| {
            let mut req = Request::get("/anything").body(()).unwrap();
            req.extensions_mut().insert(p);
            svc.clone().oneshot(req)
        };
        let client = |scopes: &str| {
            Principal::new(TenantId::new("a").unwrap(), SubjectId::new("key").unwrap())
                .with_scopes(ScopeSet::parse_list(scopes).unwrap())
        };
        assert_eq!(
            call(client("admin:*")).await.unwrap().status(),
            StatusCode::OK
        );
        assert_eq!(
            call(client("administrator:*")).await.unwrap().status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            call(user("a", &["agent"])).await.unwrap().status(),
            StatusCode::FORBIDDEN
        );
        // Hot reload: the next request sees the new policy.
        shared.replace(Policy::from_toml("[roles.agent]\ngrants = [\"admin:read\"]\n").unwrap());
        assert_eq!(
            call(user("a", &["agent"])).await.unwrap().status(),
            StatusCode::OK
        );
    }

    #[test]
    fn without_a_matched_path_the_normalized_path_is_the_route() {
        let req = Request::get("/calls//x/../17").body(()).unwrap();
        assert_eq!(route_of(&req), "/calls/17");
        let t = table();
        assert_eq!(t.permissions().count(), 3);
        assert!(t.permission(&Method::PUT, "/bookings/{id}").is_some());
        assert!(t.permission(&Method::PUT, "/calls/{id}").is_none());
    }
}
