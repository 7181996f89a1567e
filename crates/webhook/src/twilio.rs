//! Twilio: `X-Twilio-Signature`, the base64 HMAC-SHA1 (keyed with the auth token) of the full
//! URL followed by every POST parameter, sorted by name, each written as name then value.
//!
//! Source: <https://www.twilio.com/docs/usage/security#validating-requests> and Twilio's own
//! validators (`twilio-python`'s `RequestValidator`, `twilio-node`'s `validateRequest`):
//!
//! - form bodies (`application/x-www-form-urlencoded`): the decoded parameters are sorted by
//!   name, repeated names by value, and appended to the URL as `name` then `value`;
//! - other bodies (JSON): the URL carries `bodySHA256=<hex SHA-256 of the body>`, which is
//!   checked, and no parameter is appended;
//! - the URL is accepted as given, and also with the scheme's default port added when it has
//!   none, or with its port removed when it has one, because Twilio is inconsistent about
//!   which it signs;
//! - HMAC-SHA256 instead of SHA-1 when `X-Twilio-Webhooks-Signature-Settings` carries
//!   `algorithm=HMAC_SHA256`;
//! - a non-empty body that is neither form-encoded nor bound by `bodySHA256` is not covered
//!   by the signature, so it is refused ([`WebhookError::UnsignedBody`]) where Twilio's own
//!   validators would accept it.
//!
//! Repeated parameters are all kept, in sorted order (twilio-python drops exact duplicate
//! pairs, twilio-node keeps them; Twilio does not send exact duplicates). The scheme itself
//! concatenates names and values without separators, so `A=1` and `A1=` sign the same string:
//! a property of Twilio's design that a receiver can only mitigate by validating parameters.
//! The replay key uses the URL without its port, so every URL variant that verifies a request
//! yields the same key.
//!
//! The URL must be the public one that Twilio was configured with. Behind a proxy it comes from
//! configuration ([`PublicUrl::Configured`]); `X-Forwarded-Proto` / `X-Forwarded-Host` are
//! read only when the caller opts in ([`PublicUrl::Forwarded`]), since any client can send them.

use std::borrow::Cow;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::encoding::Encoding;
use crate::headers::{self, Headers, KnownHeader};
use crate::key::Key;
use crate::lazy::LazyVerified;
use crate::mac::Sink;
use crate::time::Tolerance;
use crate::verifier::{Message, Request, Scheme, SignedHeaders, first_match, sign_tag};
use crate::{Provider, ReplayKey, Verified, WebhookError};
use palisade_core::HmacAlgorithm;

static SIGNATURE: KnownHeader = KnownHeader::new("X-Twilio-Signature", "x-twilio-signature");
const SETTINGS: &str = "X-Twilio-Webhooks-Signature-Settings";
const FORM: &str = "application/x-www-form-urlencoded";

/// Twilio's request signature scheme.
///
/// ```
/// use palisade_webhook::{Key, Request, Twilio, Verifier};
///
/// // Twilio's documented example. Its auth token, `12345`, is shorter than the 16 bytes
/// // `Verifier::new` asks for (real tokens are 32 hex digits), so it goes in as a raw key.
/// let v = Verifier::from_keys(Twilio::default(), [Key::hmac(b"12345")])?;
/// let body = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
/// let headers = [
///     ("Content-Type", "application/x-www-form-urlencoded"),
///     ("X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
/// ];
/// let req = Request::new(&headers, body).with_url("https://mycompany.com/myapp.php?foo=1&bar=2");
/// v.verify(&req)?;
/// # Ok::<(), palisade_webhook::WebhookError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Twilio {
    sign_with: HmacAlgorithm,
}

impl Default for Twilio {
    /// Verifies SHA-1 and SHA-256 signatures; signs with SHA-1, as Twilio does by default.
    fn default() -> Self {
        Self {
            sign_with: HmacAlgorithm::Sha1,
        }
    }
}

impl Twilio {
    /// Signs with HMAC-SHA256 and announces it in `X-Twilio-Webhooks-Signature-Settings`.
    /// Verification is the same as [`Twilio::default`].
    pub const fn signing_sha256() -> Self {
        Self {
            sign_with: HmacAlgorithm::Sha256,
        }
    }
}

/// The request's form parameters, sorted, or none when the body is bound by `bodySHA256`.
struct Params<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Params<'a> {
    fn from_form(body: &'a [u8]) -> Self {
        let mut v: Vec<_> = form_urlencoded::parse(body).collect();
        v.sort_unstable();
        Self(v)
    }

    fn feed(&self, sink: &mut dyn Sink) {
        for (k, v) in &self.0 {
            sink.put(k.as_bytes());
            sink.put(v.as_bytes());
        }
    }
}

/// Checks that `url` is an absolute http(s) URL and returns its `bodySHA256` parameter.
fn inspect_url(url: &str) -> Result<Option<String>, WebhookError> {
    // The `url` crate silently strips leading and trailing spaces and control characters and
    // removes tabs and newlines; the string that is signed is the one given, so refuse
    // anything it would have normalized away.
    if !url.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(WebhookError::InvalidUrl {
            reason: "contains spaces, control characters or non-ASCII",
        });
    }
    let parsed = url::Url::parse(url).map_err(|_| WebhookError::InvalidUrl {
        reason: "not an absolute URL",
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(WebhookError::InvalidUrl {
            reason: "not an http or https URL with a host",
        });
    }
    Ok(parsed
        .query_pairs()
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.into_owned()))
}

fn body_hash_matches(expected_hex: &str, body: &[u8]) -> bool {
    let actual = hex::encode(Sha256::digest(body));
    let expected = expected_hex.to_ascii_lowercase();
    actual.len() == expected.len() && bool::from(actual.as_bytes().ct_eq(expected.as_bytes()))
}

fn is_form(headers: &dyn Headers) -> bool {
    matches!(headers::optional(headers, "Content-Type"), Ok(Some(ct))
        if ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case(FORM)))
}

/// The algorithm announced by `X-Twilio-Webhooks-Signature-Settings` (SHA-1 when absent).
fn announced_algorithm(headers: &dyn Headers) -> Result<HmacAlgorithm, WebhookError> {
    let Some(value) = headers::optional(headers, SETTINGS)? else {
        return Ok(HmacAlgorithm::Sha1);
    };
    let mut algorithm = HmacAlgorithm::Sha1;
    for item in value.split([';', ',']) {
        if let Some((k, v)) = item.split_once('=')
            && k.trim().eq_ignore_ascii_case("algorithm")
        {
            algorithm = match v.trim().parse::<HmacAlgorithm>() {
                Ok(a @ (HmacAlgorithm::Sha1 | HmacAlgorithm::Sha256)) => a,
                _ => return Err(WebhookError::malformed(SETTINGS, "unknown algorithm")),
            };
        }
    }
    Ok(algorithm)
}

/// A URL split around its port: `scheme://userinfo@host` + `:port` + `/path?query#fragment`.
struct PortSplit<'a> {
    scheme: &'a str,
    head: &'a str,
    /// Whether the authority ends with a `:port` (between `head` and `tail`).
    has_port: bool,
    tail: &'a str,
}

fn split_port(url: &str) -> Option<PortSplit<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = authority.get(host_start..)?;
    // The port follows the last ':' unless that colon is inside an IPv6 literal.
    let port_colon = match host_port.rfind(':') {
        Some(i) if !host_port.get(i..)?.contains(']') => Some(i),
        _ => None,
    };
    let host_len = port_colon.unwrap_or(host_port.len());
    if host_len == 0 {
        return None;
    }
    let head_len = scheme.len() + 3 + host_start + host_len;
    Some(PortSplit {
        scheme,
        head: url.get(..head_len)?,
        has_port: port_colon.is_some(),
        tail,
    })
}

/// The URL with its port toggled: the default port added when there is none, or the port
/// removed when there is one. `None` when the URL has no `scheme://authority` form or its
/// scheme has no default port.
pub fn toggle_port(url: &str) -> Option<String> {
    let p = split_port(url)?;
    let port = match (p.has_port, p.scheme.to_ascii_lowercase().as_str()) {
        (true, _) => "",
        (false, "https") => ":443",
        (false, "http") => ":80",
        (false, _) => return None,
    };
    Some(format!("{}{port}{}", p.head, p.tail))
}

/// The URL without its port, borrowed when it has none: the one form shared by every URL
/// variant that verifies the same signature, so they share one replay key.
fn without_port(url: &str) -> Cow<'_, str> {
    match split_port(url) {
        Some(p) if p.has_port => Cow::Owned(format!("{}{}", p.head, p.tail)),
        _ => Cow::Borrowed(url),
    }
}

impl Scheme for Twilio {
    fn provider(&self) -> Provider {
        Provider::Twilio
    }

    fn verify_lazy<'a>(
        &'a self,
        keys: &[Key],
        request: &Request<'a>,
        _now: i64,
        _tolerance: &Tolerance,
    ) -> Result<LazyVerified<'a>, WebhookError> {
        let encoded = headers::required(request.headers, &SIGNATURE)?;
        let algorithm = announced_algorithm(request.headers)?;
        let mut buf = [0u8; 64];
        let signature = Encoding::Base64
            .decode(encoded, &mut buf)
            .ok_or_else(|| WebhookError::malformed(SIGNATURE.as_str(), "not valid base64"))?;
        if signature.len() != algorithm.tag_len() {
            return Err(WebhookError::malformed(
                SIGNATURE.as_str(),
                "signature length does not match the HMAC algorithm",
            ));
        }
        let url = request.url.ok_or(WebhookError::MissingUrl)?;
        let params = match inspect_url(url)? {
            Some(hash) if body_hash_matches(&hash, request.body) => Params(Vec::new()),
            Some(_) => return Err(WebhookError::BodyHashMismatch),
            None if is_form(request.headers) => Params::from_form(request.body),
            // Twilio's signature covers form parameters, or a body bound by `bodySHA256`;
            // any other body would be accepted unauthenticated, so it is refused.
            None if !request.body.is_empty() => return Err(WebhookError::UnsignedBody),
            None => Params(Vec::new()),
        };
        let toggled = toggle_port(url);
        let variants = std::iter::once(url).chain(toggled.as_deref());
        let secret_index = variants
            .into_iter()
            .find_map(|candidate| {
                let feed = |s: &mut dyn Sink| {
                    s.put(candidate.as_bytes());
                    params.feed(s);
                };
                first_match(keys, algorithm, &feed, |tag| {
                    tag.matches(signature).then_some(())
                })
            })
            .map(|(i, ())| i)
            .ok_or(WebhookError::NoMatchingSignature)?;
        // Every URL variant that verifies (with or without a port) shares one key.
        let replay_key = ReplayKey::derive(Provider::Twilio, &|s| {
            s.put(without_port(url).as_bytes());
            params.feed(s);
        });
        Ok(LazyVerified::from(Verified::body_signed(
            Provider::Twilio,
            None,
            replay_key,
            secret_index,
        )))
    }

    fn sign(
        &self,
        key: &Key,
        message: &Message<'_>,
        _now: i64,
    ) -> Result<SignedHeaders, WebhookError> {
        let url = message.url.ok_or(WebhookError::MissingUrl)?;
        let (params, form) = match inspect_url(url)? {
            Some(hash) if body_hash_matches(&hash, message.body) => (Params(Vec::new()), false),
            Some(_) => return Err(WebhookError::BodyHashMismatch),
            None => (Params::from_form(message.body), !message.body.is_empty()),
        };
        let tag = sign_tag(key, self.sign_with, &|s| {
            s.put(url.as_bytes());
            params.feed(s);
        })?;
        let mut out = SignedHeaders::default();
        if form {
            out.push("Content-Type", FORM);
        }
        if self.sign_with == HmacAlgorithm::Sha256 {
            out.push(SETTINGS, "algorithm=HMAC_SHA256");
        }
        out.push(SIGNATURE.as_str(), Encoding::Base64.encode(tag.as_bytes()));
        Ok(out)
    }
}

/// Where the public URL of a Twilio webhook comes from.
///
/// Twilio signs the URL it was configured with, which a service behind a TLS-terminating proxy
/// or load balancer does not see. The safe source is configuration; forwarded headers are
/// trustworthy only when a proxy you control always overwrites them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicUrl {
    /// `scheme://host[:port]` (and any path prefix the proxy strips), joined with the
    /// request's path and query.
    Configured(String),
    /// `X-Forwarded-Proto` and `X-Forwarded-Host` from a trusted proxy, falling back to the
    /// configured base for whichever is absent.
    Forwarded {
        /// Used when the forwarded headers are absent.
        fallback: String,
    },
}

impl PublicUrl {
    /// The full public URL for a request whose path and query are `path_and_query`
    /// (`/webhooks/twilio?x=1`).
    ///
    /// # Errors
    /// [`WebhookError::InvalidUrl`] when the configured base is not an absolute http(s) URL, or
    /// [`WebhookError::MalformedHeader`] when a forwarded header has an unusable value.
    pub fn resolve(
        &self,
        path_and_query: &str,
        headers: &dyn Headers,
    ) -> Result<String, WebhookError> {
        let (base, trust) = match self {
            Self::Configured(base) => (base, false),
            Self::Forwarded { fallback } => (fallback, true),
        };
        let base = base.trim_end_matches('/');
        let (mut scheme, rest) = base.split_once("://").ok_or(WebhookError::InvalidUrl {
            reason: "the configured public URL is not absolute",
        })?;
        let (mut host, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if trust {
            if let Some(p) = headers::optional(headers, "X-Forwarded-Proto")? {
                let p = p.split(',').next().unwrap_or_default().trim();
                if !matches!(p, "http" | "https") {
                    return Err(WebhookError::malformed(
                        "X-Forwarded-Proto",
                        "not http or https",
                    ));
                }
                scheme = p;
            }
            if let Some(h) = headers::optional(headers, "X-Forwarded-Host")? {
                let h = h.split(',').next().unwrap_or_default().trim();
                let valid = !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
                if !valid {
                    return Err(WebhookError::malformed(
                        "X-Forwarded-Host",
                        "not a host name",
                    ));
                }
                host = h;
            }
        }
        let path = if path_and_query.starts_with('/') || path_and_query.is_empty() {
            Cow::Borrowed(path_and_query)
        } else {
            Cow::Owned(format!("/{path_and_query}"))
        };
        let url = format!("{scheme}://{host}{prefix}{path}");
        inspect_url(&url)?;
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_toggle_as_twilio_validators_do() {
        assert_eq!(
            toggle_port("https://example.com/a?b=1").as_deref(),
            Some("https://example.com:443/a?b=1")
        );
        assert_eq!(
            toggle_port("https://example.com:8443/a").as_deref(),
            Some("https://example.com/a")
        );
        assert_eq!(
            toggle_port("http://user:pw@example.com").as_deref(),
            Some("http://user:pw@example.com:80")
        );
        assert_eq!(
            toggle_port("https://[::1]:9000/x").as_deref(),
            Some("https://[::1]/x")
        );
        assert_eq!(
            toggle_port("https://[::1]/x").as_deref(),
            Some("https://[::1]:443/x")
        );
        assert_eq!(toggle_port("ftp://example.com/"), None);
        assert_eq!(toggle_port("nonsense"), None);
        assert_eq!(toggle_port("https://:443/"), None);
        // Userinfo, empty or not, stays in the head; a host is still required after it.
        assert_eq!(
            toggle_port("https://@example.com/").as_deref(),
            Some("https://@example.com:443/")
        );
        assert_eq!(toggle_port("https://user@:443/"), None);
        assert_eq!(without_port("https://h:8443/a?b"), "https://h/a?b");
        assert_eq!(without_port("https://[::1]:1/"), "https://[::1]/");
        assert_eq!(without_port("https://h/a:b"), "https://h/a:b");
    }

    #[test]
    fn public_url_sources() {
        let h = [
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "hooks.example.com"),
        ];
        let configured = PublicUrl::Configured("https://public.example.com/".into());
        assert_eq!(
            configured.resolve("/twilio?x=1", &h).unwrap(),
            "https://public.example.com/twilio?x=1"
        );
        let forwarded = PublicUrl::Forwarded {
            fallback: "http://internal:8080/prefix".into(),
        };
        assert_eq!(
            forwarded.resolve("/twilio", &h).unwrap(),
            "https://hooks.example.com/prefix/twilio"
        );
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            forwarded.resolve("/twilio", &none).unwrap(),
            "http://internal:8080/prefix/twilio"
        );
        let evil = [("X-Forwarded-Host", "evil.com/path")];
        assert!(forwarded.resolve("/t", &evil).is_err());
    }

    #[test]
    fn settings_header() {
        let h = [(SETTINGS, "algorithm=HMAC_SHA256")];
        assert_eq!(announced_algorithm(&h).unwrap(), HmacAlgorithm::Sha256);
        let h = [(SETTINGS, "algorithm=MD5")];
        assert!(announced_algorithm(&h).is_err());
        let none: [(&str, &str); 0] = [];
        assert_eq!(announced_algorithm(&none).unwrap(), HmacAlgorithm::Sha1);
    }
}
