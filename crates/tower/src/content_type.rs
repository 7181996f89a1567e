//! Content-type enforcement.

use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Body;
use tower::{Layer, Service};
use tracing::Level;

use crate::BoxFuture;
use crate::response::{plain, refuse_or_call};
use crate::telemetry::{self, emit};

/// A [`Layer`] that answers **415 Unsupported Media Type** unless the request body is of an
/// accepted media type: JSON, form-encoded, or either.
///
/// - **JSON**: `application/json`, and any `application/*+json` (RFC 6839 structured
///   syntax suffix: `application/problem+json`, `application/vnd.api+json`).
/// - **Form**: `application/x-www-form-urlencoded` (what Twilio and Slack send).
///
/// The media type is compared after removing parameters (`; charset=utf-8`) and surrounding
/// whitespace, without regard to ASCII case (RFC 9110 §8.3.1). A missing or unparsable
/// `Content-Type` is refused.
///
/// The check applies to every request that carries a body: `POST`, `PUT` and `PATCH` always;
/// other methods when they declare one (`Content-Length` other than `0`, or
/// `Transfer-Encoding`) **or when the body itself is not known to be empty**
/// ([`http_body::Body::is_end_stream`] false and no [`size_hint`](http_body::Body::size_hint)
/// upper bound of 0). The last case is an HTTP/2 (or HTTP/3) request whose HEADERS frame does
/// not end the stream: its DATA frames follow with no `Content-Length` at all. A `GET` whose
/// body is empty passes.
///
/// ```
/// use palisade_tower::ContentTypeLayer;
///
/// let json_only = ContentTypeLayer::json();
/// let webhooks = ContentTypeLayer::json_or_form();
/// # let _ = (json_only, webhooks);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentTypeLayer {
    json: bool,
    form: bool,
}

impl ContentTypeLayer {
    /// Accepts JSON bodies only.
    pub const fn json() -> Self {
        Self {
            json: true,
            form: false,
        }
    }

    /// Accepts form-encoded bodies only.
    pub const fn form() -> Self {
        Self {
            json: false,
            form: true,
        }
    }

    /// Accepts JSON and form-encoded bodies.
    pub const fn json_or_form() -> Self {
        Self {
            json: true,
            form: true,
        }
    }

    /// Whether a `Content-Type` value is accepted.
    pub fn accepts(&self, content_type: &str) -> bool {
        match media_type(content_type) {
            Some(MediaType::Json) => self.json,
            Some(MediaType::Form) => self.form,
            None => false,
        }
    }

    /// The 415 answer for a request whose body is not of an accepted type, if it is not.
    fn refusal<R: From<Bytes>>(
        &self,
        method: &Method,
        headers: &HeaderMap,
        body_may_have_data: bool,
    ) -> Option<Response<R>> {
        if self.allows(method, headers, body_may_have_data) {
            return None;
        }
        emit!(
            Level::INFO,
            telemetry::HTTP_UNSUPPORTED_MEDIA_TYPE,
            status = 415u16,
            method = %method,
        );
        metrics::counter!(telemetry::METRIC_UNSUPPORTED_MEDIA_TYPE).increment(1);
        Some(plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
        ))
    }

    fn allows(&self, method: &Method, headers: &HeaderMap, body_may_have_data: bool) -> bool {
        if !has_body(method, headers, body_may_have_data) {
            return true;
        }
        let mut values = headers.get_all(CONTENT_TYPE).iter();
        match (values.next(), values.next()) {
            (Some(v), None) => v.to_str().is_ok_and(|v| self.accepts(v)),
            // Absent, or repeated (ambiguous).
            _ => false,
        }
    }
}

enum MediaType {
    Json,
    Form,
}

fn media_type(value: &str) -> Option<MediaType> {
    let essence = value.split(';').next()?.trim();
    let (ty, subtype) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !token(ty) || !token(subtype) || !ty.eq_ignore_ascii_case("application") {
        return None;
    }
    let subtype = subtype.to_ascii_lowercase();
    if subtype == "json" || subtype.ends_with("+json") {
        Some(MediaType::Json)
    } else if subtype == "x-www-form-urlencoded" {
        Some(MediaType::Form)
    } else {
        None
    }
}

/// Whether the request carries (or may carry) a body. `body_may_have_data` is what the body
/// says of itself: not at its end and without a size bound of 0.
fn has_body(method: &Method, headers: &HeaderMap, body_may_have_data: bool) -> bool {
    if matches!(*method, Method::POST | Method::PUT | Method::PATCH) || body_may_have_data {
        return true;
    }
    if headers.contains_key(TRANSFER_ENCODING) {
        return true;
    }
    // Any `Content-Length` but `0` (an unparsable one included) declares a body.
    headers
        .get_all(CONTENT_LENGTH)
        .iter()
        .any(|v| v.as_bytes().trim_ascii() != b"0")
}

/// What a body says of itself: `false` only when it is known to be empty (at its end, or
/// bounded by a size hint of 0).
fn may_have_data<B: Body>(body: &B) -> bool {
    !(body.is_end_stream() || body.size_hint().upper() == Some(0))
}

impl<I> Layer<I> for ContentTypeLayer {
    type Service = ContentTypeService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        ContentTypeService {
            inner,
            layer: *self,
        }
    }
}

/// The [`Service`] of a [`ContentTypeLayer`]: see there.
#[derive(Debug, Clone)]
pub struct ContentTypeService<I> {
    inner: I,
    layer: ContentTypeLayer,
}

impl<I, B, R> Service<Request<B>> for ContentTypeService<I>
where
    B: Body,
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
        let refusal = self
            .layer
            .refusal(req.method(), req.headers(), may_have_data(req.body()));
        refuse_or_call(&mut self.inner, req, refusal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        let json = ContentTypeLayer::json();
        assert!(json.accepts("application/json"));
        assert!(json.accepts("Application/JSON; charset=utf-8"));
        assert!(json.accepts("application/problem+json"));
        assert!(!json.accepts("application/x-www-form-urlencoded"));
        assert!(!json.accepts("text/json"));
        assert!(!json.accepts("application/jsonx"));
        assert!(!json.accepts(""));
        assert!(!json.accepts("json"));
        let form = ContentTypeLayer::form();
        assert!(form.accepts("application/x-www-form-urlencoded; charset=UTF-8"));
        assert!(!form.accepts("application/json"));
        assert!(ContentTypeLayer::json_or_form().accepts("application/json"));
    }
}
