//! A preset of security response headers, on `tower-http`'s [`SetResponseHeaderLayer`].

use http::HeaderValue;
use http::header::{
    CONTENT_SECURITY_POLICY, HeaderName, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use tower::Layer;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

/// The default `Content-Security-Policy` of [`SecurityHeaders`]: an API answers no document
/// that loads anything, and none may be framed.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The default `Strict-Transport-Security` of [`SecurityHeaders`]: one year (31 536 000
/// seconds), subdomains included, no `preload` (see [`SecurityHeaders::hsts_preload`]).
pub const DEFAULT_HSTS: &str = "max-age=31536000; includeSubDomains";

/// The default `Permissions-Policy` of [`SecurityHeaders`]: the powerful browser features an
/// API's answers never need, turned off for every origin.
pub const DEFAULT_PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), \
     gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

/// `Permissions-Policy` (not among `http`'s named headers).
const PERMISSIONS_POLICY: HeaderName = HeaderName::from_static("permissions-policy");

/// Why a header value given to [`SecurityHeaders`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityHeaderError {
    /// The value is not a valid header value (a control character such as CR or LF, which
    /// would split the response head), or is empty.
    #[error("invalid value for the `{header}` header")]
    InvalidValue {
        /// The header's name.
        header: &'static str,
    },
}

/// A preset of security response headers, each set with `tower-http`'s
/// [`SetResponseHeaderLayer::if_not_present`]: a header the handler set itself is kept.
///
/// | header | default | change with |
/// |---|---|---|
/// | `Content-Security-Policy` | [`DEFAULT_CSP`] (`default-src 'none'; frame-ancestors 'none'`) | [`content_security_policy`](Self::content_security_policy) |
/// | `X-Frame-Options` | `DENY` | |
/// | `X-Content-Type-Options` | `nosniff` | |
/// | `Referrer-Policy` | `strict-origin-when-cross-origin` | [`referrer_policy`](Self::referrer_policy) |
/// | `Strict-Transport-Security` | [`DEFAULT_HSTS`] (`max-age=31536000; includeSubDomains`) | [`hsts_preload`](Self::hsts_preload), [`strict_transport_security`](Self::strict_transport_security) |
/// | `Permissions-Policy` | [`DEFAULT_PERMISSIONS_POLICY`] | [`permissions_policy`](Self::permissions_policy) |
///
/// The defaults suit a JSON API. A service that answers HTML pages sets its own CSP. Browsers
/// ignore `Strict-Transport-Security` on plain-HTTP answers (RFC 6797 §8.1), so it is safe on
/// a development server; `preload` is opt-in because a preloaded domain cannot go back to
/// HTTP for months.
///
/// ```
/// use palisade_tower::SecurityHeaders;
///
/// let headers = SecurityHeaders::new()
///     .content_security_policy("default-src 'self'")?
///     .hsts_preload();
/// # let _ = headers;
/// # Ok::<(), palisade_tower::SecurityHeaderError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SecurityHeaders {
    csp: HeaderValue,
    referrer_policy: HeaderValue,
    hsts: HeaderValue,
    permissions_policy: HeaderValue,
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        Self::new()
    }
}

/// The service of a [`SecurityHeaders`] layer: six `tower-http` [`SetResponseHeader`]s, the
/// outermost setting `Content-Security-Policy`.
pub type SecurityHeadersService<S> = SetResponseHeader<
    SetResponseHeader<
        SetResponseHeader<
            SetResponseHeader<
                SetResponseHeader<SetResponseHeader<S, HeaderValue>, HeaderValue>,
                HeaderValue,
            >,
            HeaderValue,
        >,
        HeaderValue,
    >,
    HeaderValue,
>;

impl SecurityHeaders {
    /// The preset with the defaults of the table above.
    pub fn new() -> Self {
        Self {
            csp: HeaderValue::from_static(DEFAULT_CSP),
            referrer_policy: HeaderValue::from_static("strict-origin-when-cross-origin"),
            hsts: HeaderValue::from_static(DEFAULT_HSTS),
            permissions_policy: HeaderValue::from_static(DEFAULT_PERMISSIONS_POLICY),
        }
    }

    /// The `Content-Security-Policy` (W3C CSP Level 3) value.
    ///
    /// # Errors
    /// [`SecurityHeaderError::InvalidValue`] for an empty value or one with control characters.
    pub fn content_security_policy(mut self, policy: &str) -> Result<Self, SecurityHeaderError> {
        self.csp = value("content-security-policy", policy)?;
        Ok(self)
    }

    /// The `Referrer-Policy` value (`no-referrer`, `same-origin`, …).
    ///
    /// # Errors
    /// As [`content_security_policy`](Self::content_security_policy).
    pub fn referrer_policy(mut self, policy: &str) -> Result<Self, SecurityHeaderError> {
        self.referrer_policy = value("referrer-policy", policy)?;
        Ok(self)
    }

    /// The whole `Strict-Transport-Security` value (RFC 6797), such as `max-age=63072000`.
    ///
    /// # Errors
    /// As [`content_security_policy`](Self::content_security_policy).
    pub fn strict_transport_security(mut self, policy: &str) -> Result<Self, SecurityHeaderError> {
        self.hsts = value("strict-transport-security", policy)?;
        Ok(self)
    }

    /// Adds `preload` to the default HSTS value: `max-age=31536000; includeSubDomains;
    /// preload`, as the browsers' preload list requires. Submit the domain to the list only
    /// when every subdomain serves HTTPS.
    #[must_use]
    pub fn hsts_preload(mut self) -> Self {
        self.hsts = HeaderValue::from_static("max-age=31536000; includeSubDomains; preload");
        self
    }

    /// The `Permissions-Policy` value (W3C Permissions Policy), such as `camera=(self)`.
    ///
    /// # Errors
    /// As [`content_security_policy`](Self::content_security_policy).
    pub fn permissions_policy(mut self, policy: &str) -> Result<Self, SecurityHeaderError> {
        self.permissions_policy = value("permissions-policy", policy)?;
        Ok(self)
    }

    /// The six headers, in the order of the table, as `(name, value)`.
    pub fn headers(&self) -> [(HeaderName, HeaderValue); 6] {
        [
            (CONTENT_SECURITY_POLICY, self.csp.clone()),
            (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (REFERRER_POLICY, self.referrer_policy.clone()),
            (STRICT_TRANSPORT_SECURITY, self.hsts.clone()),
            (PERMISSIONS_POLICY, self.permissions_policy.clone()),
        ]
    }

    /// The six `tower-http` layers, in the order of the table, each
    /// [`SetResponseHeaderLayer::if_not_present`].
    pub fn layers(&self) -> [SetResponseHeaderLayer<HeaderValue>; 6] {
        self.headers()
            .map(|(name, value)| SetResponseHeaderLayer::if_not_present(name, value))
    }
}

fn value(header: &'static str, text: &str) -> Result<HeaderValue, SecurityHeaderError> {
    if text.trim().is_empty() {
        return Err(SecurityHeaderError::InvalidValue { header });
    }
    HeaderValue::from_str(text).map_err(|_| SecurityHeaderError::InvalidValue { header })
}

impl<S> Layer<S> for SecurityHeaders {
    type Service = SecurityHeadersService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let [csp, frame, sniff, referrer, hsts, permissions] = self.layers();
        csp.layer(frame.layer(sniff.layer(referrer.layer(hsts.layer(permissions.layer(inner))))))
    }
}

#[cfg(test)]
mod tests {
    use super::{SecurityHeaderError, SecurityHeaders};

    #[test]
    fn values_that_would_split_the_head_are_refused() {
        assert_eq!(
            SecurityHeaders::new()
                .content_security_policy("default-src 'none'\r\nSet-Cookie: a=b")
                .err(),
            Some(SecurityHeaderError::InvalidValue {
                header: "content-security-policy"
            })
        );
        assert!(SecurityHeaders::new().permissions_policy(" ").is_err());
    }

    #[test]
    fn preload_is_opt_in() {
        let default = SecurityHeaders::new().headers();
        assert_eq!(default[4].1, "max-age=31536000; includeSubDomains");
        let preload = SecurityHeaders::new().hsts_preload().headers();
        assert_eq!(preload[4].1, "max-age=31536000; includeSubDomains; preload");
    }
}
