//! A configurable HMAC scheme for any sender: header, algorithm, encoding, prefix, and a
//! message template. GitHub, Meta, Slack, Shopify and Vapi's HMAC credential are instances.

use std::borrow::Cow;

use crate::encoding::Encoding;
use crate::error::SecretError;
use crate::headers::{self, Headers, KnownHeader, Lookup, NameRef};
use crate::key::Key;
use crate::lazy::{KeySource, LazyVerified};
use crate::mac::Sink;
use crate::time::{Tolerance, parse_unix_secs};
use crate::verifier::{
    MIN_SECRET_LEN, Message, Request, Scheme, SignedHeaders, first_match, sign_tag,
};
use crate::{Provider, ReplayKey, WebhookError};
use palisade_core::HmacAlgorithm;

/// One piece of a signed-message template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Literal(Cow<'static, str>),
    Body,
    Timestamp,
    Id,
    Method,
    Url,
}

impl Part {
    /// The placeholder's name, or `None` for a literal.
    fn placeholder(&self) -> Option<&'static str> {
        match self {
            Self::Literal(_) => None,
            Self::Body => Some("body"),
            Self::Timestamp => Some("timestamp"),
            Self::Id => Some("id"),
            Self::Method => Some("method"),
            Self::Url => Some("url"),
        }
    }
}

/// A header name in a scheme: fixed by this crate, or configured by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Name {
    Known(&'static KnownHeader),
    Configured(Cow<'static, str>),
}

impl Name {
    fn as_str(&self) -> &str {
        match self {
            Self::Known(k) => k.as_str(),
            Self::Configured(c) => c,
        }
    }
}

impl NameRef for &Name {
    fn find<'h>(&self, headers: &'h dyn Headers) -> Lookup<'h> {
        match self {
            Name::Known(k) => headers.lookup_known(k),
            Name::Configured(c) => headers.lookup(c),
        }
    }

    fn to_cow(&self) -> Cow<'static, str> {
        match self {
            Name::Known(k) => Cow::Borrowed(k.as_str()),
            Name::Configured(c) => c.clone(),
        }
    }
}

/// The unit of a timestamp header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TimestampUnit {
    /// Whole seconds since the Unix epoch (Slack, Stripe, Standard Webhooks).
    #[default]
    Seconds,
    /// Whole milliseconds since the Unix epoch.
    Milliseconds,
}

/// A configurable HMAC signature scheme.
///
/// The signed message is a template over the request: `{body}` (raw bytes), `{timestamp}`
/// (the timestamp header's exact text), `{id}` (the message-id header's text; `{svix-id}` is
/// accepted as a synonym, as in Vapi's configuration), `{method}` and `{url}` (from the
/// [`Request`]); any other text is literal, and `{{` / `}}` write a brace. Two placeholders
/// must be separated by a literal, so that the signed bytes say where one value ends. The
/// timestamp header must be canonical decimal: digits only, no sign, no leading zero. The signature
/// header holds an optional prefix followed by the MAC in hex or base64. When the template
/// contains `{timestamp}`, the timestamp is checked against the verifier's tolerance.
///
/// This is the form of Vapi's HMAC credential (`algorithm`, `signatureHeader`,
/// `timestampHeader`, `signaturePrefix`, `payloadFormat`, `signatureEncoding`,
/// `secretIsBase64`) and of most home-grown schemes (Cal.com, internal services).
///
/// ```
/// use palisade_webhook::{HmacAlgorithm, Encoding, HmacScheme, Message, Request, Verifier};
/// use secrecy::SecretString;
///
/// // Cal.com: `X-Cal-Signature-256: <hex HMAC-SHA256 of the body>`.
/// let cal = HmacScheme::builder("X-Cal-Signature-256", HmacAlgorithm::Sha256, Encoding::Hex).build()?;
/// // A scheme that also signs a timestamp header.
/// let internal = HmacScheme::builder("X-Signature", HmacAlgorithm::Sha512, Encoding::Base64)
///     .prefix("v1=")
///     .timestamp_header("X-Timestamp")
///     .template("{timestamp}.{method}.{body}")
///     .build()?;
/// let v = Verifier::new(internal, [SecretString::from("an-internal-s3cret-of-32-bytes!!")])?;
/// let headers = v.sign(&Message::new(b"{}").method("POST"))?;
/// v.verify(&Request::new(&headers, b"{}").with_method("POST"))?;
/// # let _ = cal;
/// # Ok::<(), palisade_webhook::WebhookError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacScheme {
    provider: Provider,
    algorithm: HmacAlgorithm,
    encoding: Encoding,
    signature_header: Name,
    prefix: Cow<'static, str>,
    template: Cow<'static, [Part]>,
    timestamp_header: Option<Name>,
    timestamp_unit: TimestampUnit,
    id_header: Option<Name>,
    secret_is_base64: bool,
}

/// Builds an [`HmacScheme`]; see [`HmacScheme::builder`].
#[derive(Debug, Clone)]
pub struct HmacSchemeBuilder {
    scheme: HmacScheme,
    template: Option<String>,
}

const BODY_ONLY: &[Part] = &[Part::Body];

impl HmacScheme {
    /// Starts a scheme whose signature is in `signature_header`, computed with `algorithm` and
    /// written in `encoding`. Defaults: no prefix, template `{body}`, no timestamp or id.
    pub fn builder(
        signature_header: impl Into<Cow<'static, str>>,
        algorithm: HmacAlgorithm,
        encoding: Encoding,
    ) -> HmacSchemeBuilder {
        HmacSchemeBuilder {
            scheme: Self {
                provider: Provider::Hmac,
                algorithm,
                encoding,
                signature_header: Name::Configured(signature_header.into()),
                prefix: Cow::Borrowed(""),
                template: Cow::Borrowed(BODY_ONLY),
                timestamp_header: None,
                timestamp_unit: TimestampUnit::Seconds,
                id_header: None,
                secret_is_base64: false,
            },
            template: None,
        }
    }

    /// A fixed scheme of this crate (GitHub, Meta, Slack, Shopify).
    pub(crate) const fn fixed(
        provider: Provider,
        signature_header: &'static KnownHeader,
        prefix: &'static str,
        encoding: Encoding,
        algorithm: HmacAlgorithm,
        template: &'static [Part],
        timestamp_header: Option<&'static KnownHeader>,
    ) -> Self {
        Self {
            provider,
            algorithm,
            encoding,
            signature_header: Name::Known(signature_header),
            prefix: Cow::Borrowed(prefix),
            template: Cow::Borrowed(template),
            timestamp_header: match timestamp_header {
                Some(h) => Some(Name::Known(h)),
                None => None,
            },
            timestamp_unit: TimestampUnit::Seconds,
            id_header: None,
            secret_is_base64: false,
        }
    }

    /// The HMAC algorithm.
    pub fn algorithm(&self) -> HmacAlgorithm {
        self.algorithm
    }

    /// The signature header's name, as configured.
    pub fn signature_header(&self) -> &str {
        self.signature_header.as_str()
    }

    fn uses(&self, part: &Part) -> bool {
        self.template.contains(part)
    }

    /// Writes the signed message.
    pub(crate) fn feed(
        &self,
        sink: &mut dyn Sink,
        body: &[u8],
        timestamp: &str,
        id: &str,
        method: &str,
        url: &str,
    ) {
        for part in self.template.iter() {
            sink.put(match part {
                Part::Literal(s) => s.as_bytes(),
                Part::Body => body,
                Part::Timestamp => timestamp.as_bytes(),
                Part::Id => id.as_bytes(),
                Part::Method => method.as_bytes(),
                Part::Url => url.as_bytes(),
            });
        }
    }

    fn timestamp_secs(&self, raw: i64) -> i64 {
        match self.timestamp_unit {
            TimestampUnit::Seconds => raw,
            TimestampUnit::Milliseconds => raw.div_euclid(1000),
        }
    }
}

impl HmacSchemeBuilder {
    /// Text before the encoded MAC in the header, such as `sha256=` (compared without regard
    /// to ASCII case).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.scheme.prefix = prefix.into();
        self
    }

    /// The signed-message template (default `{body}`); see [`HmacScheme`].
    #[must_use]
    pub fn template(mut self, template: impl Into<String>) -> Self {
        self.template = Some(template.into());
        self
    }

    /// The header carrying the timestamp that `{timestamp}` refers to.
    #[must_use]
    pub fn timestamp_header(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.scheme.timestamp_header = Some(Name::Configured(name.into()));
        self
    }

    /// The unit of the timestamp header (default seconds).
    #[must_use]
    pub fn timestamp_unit(mut self, unit: TimestampUnit) -> Self {
        self.scheme.timestamp_unit = unit;
        self
    }

    /// The header carrying the message id that `{id}` refers to.
    #[must_use]
    pub fn id_header(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.scheme.id_header = Some(Name::Configured(name.into()));
        self
    }

    /// Secrets are base64 and are decoded to get the HMAC key (Vapi's `secretIsBase64`).
    #[must_use]
    pub fn secret_is_base64(mut self, yes: bool) -> Self {
        self.scheme.secret_is_base64 = yes;
        self
    }

    pub(crate) fn provider(mut self, provider: Provider) -> Self {
        self.scheme.provider = provider;
        self
    }

    /// Checks the configuration and returns the scheme.
    ///
    /// # Errors
    /// [`WebhookError::InvalidConfig`] for an empty or invalid header name, an unknown
    /// placeholder or unbalanced brace in the template, two placeholders with no literal
    /// between them (`{timestamp}{body}`: the boundary between the values would not be
    /// signed), or a `{timestamp}` / `{id}` placeholder without its header (or such a header
    /// without its placeholder).
    pub fn build(mut self) -> Result<HmacScheme, WebhookError> {
        if let Some(t) = self.template.take() {
            self.scheme.template = Cow::Owned(parse_template(&t)?);
        }
        let s = self.scheme;
        for name in [
            Some(&s.signature_header),
            s.timestamp_header.as_ref(),
            s.id_header.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if http::HeaderName::from_bytes(name.as_str().as_bytes()).is_err() {
                return Err(WebhookError::config(format!(
                    "`{}` is not a valid HTTP header name",
                    name.as_str()
                )));
            }
        }
        if s.uses(&Part::Timestamp) != s.timestamp_header.is_some() {
            return Err(WebhookError::config(
                "`{timestamp}` in the template and a timestamp header go together",
            ));
        }
        if s.uses(&Part::Id) != s.id_header.is_some() {
            return Err(WebhookError::config(
                "`{id}` in the template and a message-id header go together",
            ));
        }
        if !s.uses(&Part::Body) {
            return Err(WebhookError::config(
                "the template must contain `{body}`: a signature that does not cover the body authenticates nothing",
            ));
        }
        Ok(s)
    }
}

fn parse_template(t: &str) -> Result<Vec<Part>, WebhookError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("{{") {
            literal.push('{');
            rest = r;
        } else if let Some(r) = rest.strip_prefix("}}") {
            literal.push('}');
            rest = r;
        } else if c == '{' {
            let end = rest
                .find('}')
                .ok_or_else(|| WebhookError::config("unclosed `{` in the template"))?;
            let name = rest.get(1..end).unwrap_or_default();
            let part = match name {
                "body" => Part::Body,
                "timestamp" => Part::Timestamp,
                "id" | "svix-id" => Part::Id,
                "method" => Part::Method,
                "url" => Part::Url,
                other => {
                    return Err(WebhookError::config(format!(
                        "unknown placeholder `{{{other}}}` (expected body, timestamp, id, method or url)"
                    )));
                }
            };
            if !literal.is_empty() {
                parts.push(Part::Literal(Cow::Owned(std::mem::take(&mut literal))));
            } else if let Some(previous) = parts.last().and_then(Part::placeholder) {
                // `{timestamp}{body}`: the boundary between the two values is not signed, so
                // `1700000000` + `1{…}` and `17000000001` + `{…}` sign the same bytes, and a
                // captured signature verifies under a different timestamp or id.
                return Err(WebhookError::config(format!(
                    "placeholders `{{{previous}}}` and `{{{name}}}` are adjacent: put a literal separator between them (such as `.`), otherwise the boundary between the two values is not signed and one signature fits several requests"
                )));
            }
            parts.push(part);
            rest = rest.get(end + 1..).unwrap_or_default();
        } else if c == '}' {
            return Err(WebhookError::config("unmatched `}` in the template"));
        } else {
            literal.push(c);
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(Cow::Owned(literal)));
    }
    Ok(parts)
}

impl Scheme for HmacScheme {
    fn provider(&self) -> Provider {
        self.provider
    }

    /// The secret's bytes (base64-decoded when so configured), at least
    /// [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN) of them.
    fn parse_secret(&self, secret: &str) -> Result<Key, SecretError> {
        if self.secret_is_base64 {
            let bytes = crate::encoding::decode_base64_secret(secret).ok_or("not valid base64")?;
            SecretError::check_len(bytes.len(), MIN_SECRET_LEN)?;
            return Ok(Key::hmac(&bytes));
        }
        SecretError::check_len(secret.len(), MIN_SECRET_LEN)?;
        Ok(Key::hmac(secret.as_bytes()))
    }

    fn verify_lazy<'a>(
        &'a self,
        keys: &[Key],
        request: &Request<'a>,
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<LazyVerified<'a>, WebhookError> {
        let raw = headers::required(request.headers, &self.signature_header)?;
        let encoded = strip_prefix_ignore_case(raw, &self.prefix).ok_or_else(|| {
            WebhookError::malformed(
                (&self.signature_header).to_cow(),
                "signature prefix missing",
            )
        })?;
        let mut buf = [0u8; 64];
        let signature = self.encoding.decode(encoded, &mut buf).ok_or_else(|| {
            WebhookError::malformed(
                (&self.signature_header).to_cow(),
                match self.encoding {
                    Encoding::Hex => "signature is not valid hex",
                    Encoding::Base64 => "signature is not valid base64",
                },
            )
        })?;
        if signature.len() != self.algorithm.tag_len() {
            return Err(WebhookError::malformed(
                (&self.signature_header).to_cow(),
                "signature length does not match the HMAC algorithm",
            ));
        }

        // `build` pairs each header with its placeholder: a configured timestamp or id header
        // is one the template signs.
        let (timestamp_text, timestamp) = match &self.timestamp_header {
            Some(h) => {
                let text = headers::required(request.headers, h)?;
                let raw = parse_unix_secs(text).ok_or_else(|| {
                    WebhookError::malformed(
                        h.to_cow(),
                        "timestamp is not canonical decimal (digits only, no sign, no leading zero)",
                    )
                })?;
                let secs = self.timestamp_secs(raw);
                tolerance.check(secs, now)?;
                (text, Some(secs))
            }
            None => ("", None),
        };
        let id = match &self.id_header {
            Some(h) => Some(headers::required(request.headers, h)?),
            None => None,
        };
        let url = if self.uses(&Part::Url) {
            request.url.ok_or(WebhookError::MissingUrl)?
        } else {
            ""
        };
        let method = if self.uses(&Part::Method) {
            request.method.ok_or(WebhookError::MissingMethod)?
        } else {
            ""
        };
        let id_text = id.unwrap_or("");
        let feed = |s: &mut dyn Sink| {
            self.feed(s, request.body, timestamp_text, id_text, method, url);
        };
        let (secret_index, ()) = first_match(keys, self.algorithm, &feed, |tag| {
            tag.matches(signature).then_some(())
        })
        .ok_or(WebhookError::NoMatchingSignature)?;

        // The signed message id when there is one, otherwise a hash of the signed content
        // (deferred until asked for): never the signature, which depends on the secret that
        // matched.
        let key = match id {
            Some(id) => KeySource::Ready(ReplayKey::from_id(self.provider, id)),
            None => KeySource::Template {
                scheme: self,
                body: request.body,
                timestamp: timestamp_text,
                method,
                url,
            },
        };
        Ok(LazyVerified::of_signed_body(
            self.provider,
            timestamp,
            secret_index,
            key,
        ))
    }

    fn sign(
        &self,
        key: &Key,
        message: &Message<'_>,
        now: i64,
    ) -> Result<SignedHeaders, WebhookError> {
        let secs = message.timestamp.unwrap_or(now);
        let timestamp = match self.timestamp_unit {
            TimestampUnit::Seconds => secs.to_string(),
            TimestampUnit::Milliseconds => secs.saturating_mul(1000).to_string(),
        };
        let generated;
        let id = match message.id {
            Some(id) => id,
            None => {
                generated = crate::verifier::random_id()?;
                &generated
            }
        };
        let url = if self.uses(&Part::Url) {
            message.url.ok_or(WebhookError::MissingUrl)?
        } else {
            ""
        };
        let method = if self.uses(&Part::Method) {
            message.method.ok_or(WebhookError::MissingMethod)?
        } else {
            ""
        };
        let tag = sign_tag(key, self.algorithm, &|s| {
            self.feed(s, message.body, &timestamp, id, method, url);
        })?;
        let mut out = SignedHeaders::default();
        // As in `verify_lazy`: a configured header is one the template signs.
        if let Some(h) = &self.timestamp_header {
            out.push(h.as_str(), timestamp.clone());
        }
        if let Some(h) = &self.id_header {
            out.push(h.as_str(), id);
        }
        out.push(
            self.signature_header.as_str(),
            format!("{}{}", self.prefix, self.encoding.encode(tag.as_bytes())),
        );
        Ok(out)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Declares a unit struct whose [`Scheme`] is a fixed [`HmacScheme`] constant.
macro_rules! fixed_hmac_scheme {
    ($(#[$doc:meta])* $name:ident = $scheme:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl $name {
            fn scheme() -> &'static $crate::HmacScheme {
                static SCHEME: $crate::HmacScheme = $scheme;
                &SCHEME
            }
        }

        impl $crate::Scheme for $name {
            fn provider(&self) -> $crate::Provider {
                $crate::Scheme::provider(Self::scheme())
            }

            fn verify_lazy<'a>(
                &'a self,
                keys: &[$crate::Key],
                request: &$crate::Request<'a>,
                now: i64,
                tolerance: &$crate::Tolerance,
            ) -> Result<$crate::LazyVerified<'a>, $crate::WebhookError> {
                $crate::Scheme::verify_lazy(Self::scheme(), keys, request, now, tolerance)
            }

            fn sign(
                &self,
                key: &$crate::Key,
                message: &$crate::Message<'_>,
                now: i64,
            ) -> Result<$crate::SignedHeaders, $crate::WebhookError> {
                $crate::Scheme::sign(Self::scheme(), key, message, now)
            }
        }
    };
}
pub(crate) use fixed_hmac_scheme;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        assert_eq!(
            parse_template("{timestamp}.{body}").unwrap(),
            vec![Part::Timestamp, Part::Literal(".".into()), Part::Body]
        );
        assert_eq!(
            parse_template("{{x}}{svix-id}").unwrap(),
            vec![Part::Literal("{x}".into()), Part::Id]
        );
        for bad in ["{nope}", "{body", "body}", "{}"] {
            assert!(parse_template(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn build_checks_consistency() {
        let b = || HmacScheme::builder("x-sig", HmacAlgorithm::Sha256, Encoding::Hex);
        assert!(b().template("{timestamp}.{body}").build().is_err());
        assert!(b().timestamp_header("x-ts").build().is_err());
        assert!(
            b().template("{timestamp}")
                .timestamp_header("x-ts")
                .build()
                .is_err()
        );
        assert!(
            b().template("{id}:{body}")
                .id_header("x-id")
                .build()
                .is_ok()
        );
        assert!(
            HmacScheme::builder("bad header", HmacAlgorithm::Sha256, Encoding::Hex)
                .build()
                .is_err()
        );
    }
}
