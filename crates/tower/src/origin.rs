//! Strict origins: an exact allowlist of web origins, enforced by [`OriginGuard`] and turned
//! into `tower-http`'s [`CorsLayer`] from the same list.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, ORIGIN};
use http::{Method, Request, Response, StatusCode};
use tower::Layer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Level;

use crate::guard::{Guard, GuardService, Sealed};
use crate::response::plain;
use crate::telemetry::{self, emit};

/// Why an origin given to [`AllowedOrigins::new`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    /// `*` (any origin): an allowlist must name its origins.
    #[error("`*` is not an origin: list each allowed origin (scheme://host[:port])")]
    Wildcard,
    /// The entry is not a serialized origin (`scheme://host[:port]`, `http` or `https`, no
    /// user, path, query or fragment), or is `null`.
    #[error("invalid origin `{origin}`: {reason}")]
    Invalid {
        /// The entry as given (an origin is public: never a secret).
        origin: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The list is empty: nothing would be allowed (use no guard, or name an origin).
    #[error("the origin allowlist is empty")]
    Empty,
}

/// An exact allowlist of web origins (RFC 6454): scheme, host and port, compared byte for
/// byte with the request's `Origin` header.
///
/// Entries are parsed and serialized as browsers serialize an origin (RFC 6454 §6.2, the
/// WHATWG URL standard's ASCII serialization): scheme and host in lower case, an IDN host in
/// punycode, the scheme's default port left out (`https://app.example.com:443` is
/// `https://app.example.com`), no trailing slash. `https://app.example.com` and
/// `http://app.example.com` are two origins, and so are `http://localhost:3000` and
/// `http://localhost:5173`. There is no wildcard: `*` and patterns (`https://*.example.com`)
/// are refused, and so is `null` (the opaque origin of sandboxed frames, `file:` pages and
/// cross-origin redirects, which any page can produce).
///
/// The same list feeds [`guard`](Self::guard) (403 for a foreign `Origin`) and
/// [`cors`](Self::cors) (`tower-http`'s CORS answers and preflights).
///
/// ```
/// use palisade_tower::AllowedOrigins;
///
/// let origins = AllowedOrigins::new(["https://app.example.com", "http://localhost:3000"])?;
/// assert!(origins.allows("https://app.example.com"));
/// assert!(!origins.allows("https://evil.example.com"));
/// assert!(AllowedOrigins::new(["*"]).is_err());
/// # Ok::<(), palisade_tower::OriginError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AllowedOrigins {
    /// The serialized origins, as header values.
    origins: Arc<[HeaderValue]>,
}

impl fmt::Debug for AllowedOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.origins.iter()).finish()
    }
}

impl AllowedOrigins {
    /// The allowlist of `origins`, each `scheme://host[:port]` with scheme `http` or `https`.
    ///
    /// # Errors
    /// [`OriginError::Wildcard`] for `*`, [`OriginError::Invalid`] for an entry that is not an
    /// origin (a path, a query, a user, another scheme, `null`, a pattern), and
    /// [`OriginError::Empty`] for an empty list.
    pub fn new<I, O>(origins: I) -> Result<Self, OriginError>
    where
        I: IntoIterator<Item = O>,
        O: AsRef<str>,
    {
        let mut list: Vec<HeaderValue> = Vec::new();
        for origin in origins {
            let value = serialize(origin.as_ref())?;
            if !list.contains(&value) {
                list.push(value);
            }
        }
        if list.is_empty() {
            return Err(OriginError::Empty);
        }
        Ok(Self {
            origins: list.into(),
        })
    }

    /// Whether `origin` (an `Origin` header's value) is on the list, byte for byte.
    pub fn allows(&self, origin: impl AsRef<[u8]>) -> bool {
        let origin = origin.as_ref();
        self.origins.iter().any(|o| o.as_bytes() == origin)
    }

    /// The serialized origins, in the order given (duplicates removed).
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.origins.iter().filter_map(|o| o.to_str().ok())
    }

    /// An [`OriginGuard`] over this list (state-changing methods only; see
    /// [`OriginGuard::all_methods`]).
    pub fn guard(&self) -> OriginGuard {
        OriginGuard::new(self.clone())
    }

    /// `tower-http`'s [`CorsLayer`] allowing exactly these origins, with methods `GET`,
    /// `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`, request headers `Content-Type` and
    /// `Authorization`, preflight answers cached 10 minutes (`Access-Control-Max-Age: 600`)
    /// and no credentials. Its builder methods adjust the rest
    /// (`.allow_credentials(true)` for cookies, `.expose_headers(…)`, `.allow_headers(…)`);
    /// keep the origins: they are the allowlist's.
    ///
    /// The layer answers preflights itself (`OPTIONS` with `Access-Control-Request-Method`):
    /// 200 with the CORS headers for a listed origin, 200 without them for any other (the
    /// browser then refuses to send the request). `Vary: origin` and the preflight's `Vary`
    /// fields are set by `tower-http`.
    pub fn cors(&self) -> CorsLayer {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(self.origins.iter().cloned()))
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([CONTENT_TYPE, AUTHORIZATION])
            .max_age(Duration::from_secs(600))
    }
}

/// The ASCII serialization of the origin `entry`, as a header value.
fn serialize(entry: &str) -> Result<HeaderValue, OriginError> {
    let invalid = |reason| OriginError::Invalid {
        origin: entry.to_owned(),
        reason,
    };
    let entry_trimmed = entry.trim();
    if entry_trimmed == "*" {
        return Err(OriginError::Wildcard);
    }
    if entry_trimmed.eq_ignore_ascii_case("null") {
        return Err(invalid(
            "`null` is the opaque origin any sandboxed page can send",
        ));
    }
    if entry_trimmed.contains('*') {
        return Err(invalid("patterns are not supported: list each origin"));
    }
    let not_a_url = || invalid("not an absolute URL of the form scheme://host[:port]");
    // The URL parser also takes `https:/host` and `https:host`: an origin is written out.
    if !entry_trimmed.contains("://") {
        return Err(not_a_url());
    }
    let url = url::Url::parse(entry_trimmed).map_err(|_| not_a_url())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("an origin has no user or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("an origin has no query or fragment"));
    }
    // `Url` gives every http(s) URL the path `/`: anything after the authority but a single
    // trailing slash is a path.
    let after_scheme = entry_trimmed
        .split_once("://")
        .map_or("", |(_, rest)| rest)
        .trim_end_matches('/');
    if url.path() != "/" || after_scheme.contains('/') {
        return Err(invalid("an origin has no path"));
    }
    let serialized = url.origin().ascii_serialization();
    // A percent-encoded `*` (`%2a`) in the host decodes to one.
    if serialized.contains('*') {
        return Err(invalid("patterns are not supported: list each origin"));
    }
    HeaderValue::from_str(&serialized).map_err(|_| invalid("not a valid header value"))
}

/// A [`Layer`] that answers **403** to a request whose `Origin` header is present and not on
/// its [`AllowedOrigins`].
///
/// - **Which requests**: by default those with a state-changing method (anything but `GET`,
///   `HEAD`, `OPTIONS` and `TRACE`, the safe methods of RFC 9110 §9.2.1), which a foreign
///   page can make a browser send with the user's cookies (CSRF; a CORS refusal only hides
///   the *answer* from the page, after the request ran). [`all_methods`](Self::all_methods)
///   refuses foreign origins on every method, preflights included.
/// - **Without an `Origin` header** the request passes: servers, webhooks, `curl` and
///   same-origin `GET`s send none. Browsers send `Origin` on every cross-origin request and
///   on same-origin requests with a state-changing method.
/// - **Exact comparison**: the header's bytes against the serialized origins; a header
///   spelled otherwise (upper case, a default port) is foreign. `Origin: null` is always
///   foreign.
///
/// Each refusal emits `http.origin_refused` (warn; fields `method`, `origin`: an origin is
/// public, never a credential, and is cut at 128 bytes) and counts
/// [`palisade_http_origin_refusals_total`](telemetry::METRIC_HTTP_ORIGIN_REFUSALS). The body
/// is `text/plain` `origin not allowed`.
///
/// ```
/// use palisade_tower::AllowedOrigins;
///
/// let origins = AllowedOrigins::new(["https://app.example.com"])?;
/// // Foreign origins refused on GET too.
/// let guard = origins.guard().all_methods();
/// # let _ = guard;
/// # Ok::<(), palisade_tower::OriginError>(())
/// ```
#[derive(Clone, Debug)]
pub struct OriginGuard {
    origins: AllowedOrigins,
    all_methods: bool,
}

impl OriginGuard {
    /// A guard over `origins`, for state-changing methods.
    pub fn new(origins: AllowedOrigins) -> Self {
        Self {
            origins,
            all_methods: false,
        }
    }

    /// Refuses a foreign `Origin` on every method, `GET`, `HEAD` and preflight `OPTIONS`
    /// included (an API that a browser page of another origin has no reason to call).
    #[must_use]
    pub fn all_methods(mut self) -> Self {
        self.all_methods = true;
        self
    }

    /// The 403 answer for `req`, when it is refused.
    fn refusal<B, R: From<Bytes>>(&self, req: &Request<B>) -> Option<Response<R>> {
        let origin = req.headers().get(ORIGIN)?;
        if !self.all_methods && is_safe(req.method()) {
            return None;
        }
        if self.origins.allows(origin.as_bytes()) {
            return None;
        }
        let shown = origin.to_str().unwrap_or("<not visible ASCII>");
        let shown = shown.get(..128).unwrap_or(shown);
        emit!(
            Level::WARN,
            telemetry::HTTP_ORIGIN_REFUSED,
            method = req.method().as_str(),
            origin = shown,
            status = 403u16,
        );
        metrics::counter!(telemetry::METRIC_HTTP_ORIGIN_REFUSALS).increment(1);
        Some(plain(StatusCode::FORBIDDEN, "origin not allowed"))
    }
}

/// The safe methods of RFC 9110 §9.2.1.
fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

impl Sealed for OriginGuard {}

impl Guard for OriginGuard {
    fn answer<B, R: From<Bytes>>(&self, req: &Request<B>) -> Option<Response<R>> {
        self.refusal(req)
    }
}

impl<I> Layer<I> for OriginGuard {
    type Service = OriginGuardService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        GuardService::new(inner, self.clone())
    }
}

/// The [`Service`](tower::Service) of an [`OriginGuard`]: see there.
pub type OriginGuardService<I> = GuardService<I, OriginGuard>;

#[cfg(test)]
mod tests {
    use super::{AllowedOrigins, OriginError};

    #[test]
    fn entries_are_serialized_as_browsers_send_them() {
        let o = AllowedOrigins::new([
            "HTTPS://App.Example.com:443/",
            "http://localhost:3000",
            "https://bücher.example",
        ])
        .unwrap();
        let listed: Vec<&str> = o.iter().collect();
        assert_eq!(
            listed,
            [
                "https://app.example.com",
                "http://localhost:3000",
                "https://xn--bcher-kva.example"
            ]
        );
        assert!(o.allows("http://localhost:3000"));
        assert!(!o.allows("http://localhost:3001"));
        assert!(!o.allows("http://app.example.com"));
        assert!(!o.allows("https://app.example.com:443"));
    }

    #[test]
    fn wildcards_paths_and_null_are_refused() {
        assert_eq!(AllowedOrigins::new(["*"]), Err(OriginError::Wildcard));
        assert_eq!(
            AllowedOrigins::new(Vec::<String>::new()),
            Err(OriginError::Empty)
        );
        for bad in [
            "null",
            "https://*.example.com",
            "https://app.example.com/path",
            "https://app.example.com/?q",
            "https://user@app.example.com",
            "ftp://app.example.com",
            "app.example.com",
            "https://app.example.com//",
            // Found by the fuzzing campaign (`fuzz/seeds/tower_handshake/regress-encoded-star`):
            // the URL parser takes one slash, and decodes `%2a` in a host to `*`.
            "https:/c%2amttps:",
            "https://c%2a.example.com",
            "https:/app.example.com",
            "https:app.example.com",
        ] {
            assert!(
                matches!(AllowedOrigins::new([bad]), Err(OriginError::Invalid { .. })),
                "{bad}"
            );
        }
    }
}
