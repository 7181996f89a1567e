//! Case-insensitive header lookup over [`http::HeaderMap`] and plain name/value pairs.

use std::borrow::Cow;

use crate::WebhookError;

/// What a header lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// No header of that name.
    Missing,
    /// Exactly one header of that name, with its raw value bytes.
    One(&'a [u8]),
    /// The header appears more than once. Signature headers must appear once: a repeated
    /// one is refused as malformed rather than guessing which copy the sender meant.
    Repeated,
}

/// A set of request headers, looked up by name with ASCII case-insensitive comparison
/// (RFC 9110 §5.1).
///
/// Implemented for [`http::HeaderMap`] and for slices, arrays and vectors of `(name, value)`
/// pairs whose parts are `AsRef<str>` / `AsRef<[u8]>`, so a framework-neutral caller can pass
/// `&[("Stripe-Signature", "t=…,v1=…")]`.
pub trait Headers {
    /// Looks `name` up. Implementations compare names without regard to ASCII case.
    fn lookup(&self, name: &str) -> Lookup<'_>;

    /// Looks up a header name fixed at build time. The default is
    /// [`lookup`](Headers::lookup) of its text; [`http::HeaderMap`] uses the pre-parsed name
    /// and so skips parsing and lowercasing it on every request.
    fn lookup_known(&self, name: &KnownHeader) -> Lookup<'_> {
        self.lookup(name.as_str())
    }
}

/// A header name fixed at build time: the name as providers write it, and its parsed
/// [`http::HeaderName`].
///
/// ```
/// use palisade_webhook::KnownHeader;
///
/// static SIGNATURE: KnownHeader = KnownHeader::new("X-Signature", "x-signature");
/// assert_eq!(SIGNATURE.as_str(), "X-Signature");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHeader {
    display: &'static str,
    parsed: http::HeaderName,
}

impl KnownHeader {
    /// `display` as the provider writes it (`Stripe-Signature`), `lowercase` the same name in
    /// lowercase (`stripe-signature`).
    ///
    /// Evaluated in a `const` or `static`, a `lowercase` that is not a valid lowercase header
    /// name ([`http::HeaderName::from_static`]), or that differs from `display` other than in
    /// case, fails the build; do not call it at run time with untrusted names, where it would
    /// panic.
    pub const fn new(display: &'static str, lowercase: &'static str) -> Self {
        assert!(
            same_name(display, lowercase),
            "KnownHeader: the two spellings differ other than in case"
        );
        Self {
            display,
            parsed: http::HeaderName::from_static(lowercase),
        }
    }

    /// The name as providers write it.
    pub const fn as_str(&self) -> &'static str {
        self.display
    }

    /// The parsed (lowercase) name.
    pub fn header_name(&self) -> &http::HeaderName {
        &self.parsed
    }
}

/// Whether `lowercase` is `display` in lowercase (a compile-time check for [`KnownHeader`]).
#[allow(clippy::indexing_slicing)] // bounds checked by the loop condition; const context
const fn same_name(display: &str, lowercase: &str) -> bool {
    let (a, b) = (display.as_bytes(), lowercase.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i].to_ascii_lowercase() != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

fn lookup_map<K: http::header::AsHeaderName>(map: &http::HeaderMap, key: K) -> Lookup<'_> {
    let mut values = map.get_all(key).iter();
    match (values.next(), values.next()) {
        (None, _) => Lookup::Missing,
        (Some(v), None) => Lookup::One(v.as_bytes()),
        (Some(_), Some(_)) => Lookup::Repeated,
    }
}

impl Headers for http::HeaderMap {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        lookup_map(self, name)
    }

    fn lookup_known(&self, name: &KnownHeader) -> Lookup<'_> {
        lookup_map(self, &name.parsed)
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> Headers for [(K, V)] {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        let mut found = Lookup::Missing;
        for (k, v) in self {
            if k.as_ref().trim().eq_ignore_ascii_case(name) {
                if found != Lookup::Missing {
                    return Lookup::Repeated;
                }
                found = Lookup::One(v.as_ref());
            }
        }
        found
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>, const N: usize> Headers for [(K, V); N] {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        self.as_slice().lookup(name)
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(K, V)> {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        self.as_slice().lookup(name)
    }
}

impl<H: Headers + ?Sized> Headers for &H {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        (**self).lookup(name)
    }

    fn lookup_known(&self, name: &KnownHeader) -> Lookup<'_> {
        (**self).lookup_known(name)
    }
}

/// A header name as schemes hold it: a [`KnownHeader`] (the fixed schemes), a
/// `Cow<'static, str>` (configured ones) or a `&'static str`. Looking it up borrows; only an
/// error copies it.
pub(crate) trait NameRef: Copy {
    fn find<'h>(&self, headers: &'h dyn Headers) -> Lookup<'h>;
    fn to_cow(&self) -> Cow<'static, str>;
}

impl NameRef for &'static str {
    fn find<'h>(&self, headers: &'h dyn Headers) -> Lookup<'h> {
        headers.lookup(self)
    }

    fn to_cow(&self) -> Cow<'static, str> {
        Cow::Borrowed(self)
    }
}

impl NameRef for &'static KnownHeader {
    fn find<'h>(&self, headers: &'h dyn Headers) -> Lookup<'h> {
        headers.lookup_known(self)
    }

    fn to_cow(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.display)
    }
}

impl NameRef for &Cow<'static, str> {
    fn find<'h>(&self, headers: &'h dyn Headers) -> Lookup<'h> {
        headers.lookup(self)
    }

    fn to_cow(&self) -> Cow<'static, str> {
        (*self).clone()
    }
}

/// Returns the header as trimmed visible ASCII, or `None` when it is absent.
///
/// # Errors
/// [`WebhookError::MalformedHeader`] when it is repeated or not visible ASCII.
pub(crate) fn optional(
    headers: &dyn Headers,
    name: impl NameRef,
) -> Result<Option<&str>, WebhookError> {
    match name.find(headers) {
        Lookup::Missing => Ok(None),
        Lookup::Repeated => Err(WebhookError::malformed(
            name.to_cow(),
            "header appears more than once",
        )),
        Lookup::One(raw) => {
            // RFC 9110 field values: visible ASCII, spaces and tabs. Signature material is
            // always ASCII, so anything else is refused before parsing.
            // A fold without early exit, so the check vectorizes.
            let visible = raw
                .iter()
                .fold(true, |ok, b| ok & matches!(b, b' ' | b'\t' | 0x21..=0x7e));
            if !visible {
                return Err(WebhookError::malformed(name.to_cow(), "not visible ASCII"));
            }
            std::str::from_utf8(raw)
                .map(|s| Some(s.trim_matches([' ', '\t'])))
                .map_err(|_| WebhookError::malformed(name.to_cow(), "not visible ASCII"))
        }
    }
}

/// Like [`optional`], but an absent header is [`WebhookError::MissingHeader`].
pub(crate) fn required(headers: &dyn Headers, name: impl NameRef) -> Result<&str, WebhookError> {
    match optional(headers, name)? {
        Some(v) => Ok(v),
        None => Err(WebhookError::missing(name.to_cow())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_case_insensitive_and_repeats_are_flagged() {
        let h = [
            ("Stripe-Signature", "a"),
            ("X-Other", "b"),
            ("x-other", "c"),
        ];
        assert_eq!(h.lookup("stripe-signature"), Lookup::One(b"a"));
        assert_eq!(h.lookup("x-other"), Lookup::Repeated);
        assert_eq!(h.lookup("absent"), Lookup::Missing);
    }

    #[test]
    fn header_map_lookup() {
        let mut h = http::HeaderMap::new();
        h.insert("Stripe-Signature", http::HeaderValue::from_static("a"));
        assert_eq!(h.lookup("STRIPE-SIGNATURE"), Lookup::One(b"a"));
        h.append("stripe-signature", http::HeaderValue::from_static("b"));
        assert_eq!(h.lookup("stripe-signature"), Lookup::Repeated);
        assert_eq!(h.lookup("bad name with spaces"), Lookup::Missing);
    }

    #[test]
    fn known_headers_are_found_in_maps_and_pairs() {
        static SIG: KnownHeader = KnownHeader::new("Stripe-Signature", "stripe-signature");
        let mut h = http::HeaderMap::new();
        h.insert("Stripe-Signature", http::HeaderValue::from_static("a"));
        assert_eq!(h.lookup_known(&SIG), Lookup::One(b"a"));
        let pairs = [("STRIPE-SIGNATURE", "b")];
        assert_eq!(pairs.lookup_known(&SIG), Lookup::One(b"b"));
        assert_eq!(optional(&pairs, &SIG).unwrap(), Some("b"));
        assert!(
            SIG.as_str()
                .eq_ignore_ascii_case(SIG.header_name().as_str())
        );
    }

    #[test]
    fn non_ascii_values_are_malformed() {
        let h = [("x-sig", &b"caf\xc3\xa9"[..])];
        assert!(matches!(
            optional(&h, "x-sig"),
            Err(WebhookError::MalformedHeader { .. })
        ));
        let h = [("x-sig", &b"  ok \t"[..])];
        assert_eq!(optional(&h, "x-sig").unwrap(), Some("ok"));
    }

    #[test]
    fn two_spellings_of_a_known_header_may_differ_in_case_only() {
        assert!(same_name("Webhook-Id", "webhook-id"));
        assert!(!same_name("Webhook-Id", "webhook-ix"));
        assert!(!same_name("Webhook-Id", "webhook-i"));
        assert!(!same_name("Webhook-I", "webhook-id"));
    }

    /// Errors name the header as the scheme holds it, whatever the kind of name.
    #[test]
    fn errors_name_the_header() {
        let repeated = [("X-Sig", "a"), ("x-sig", "b")];
        let configured: Cow<'static, str> = Cow::Owned("X-Sig".to_owned());
        for err in [
            optional(&repeated, "X-Sig").unwrap_err(),
            optional(&repeated, &configured).unwrap_err(),
        ] {
            assert!(
                matches!(&err, WebhookError::MalformedHeader { name, .. } if name == "X-Sig"),
                "{err:?}"
            );
        }
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            required(&none, &configured).unwrap_err(),
            WebhookError::MissingHeader {
                name: Cow::Borrowed("X-Sig")
            }
        );
        assert_eq!(
            required(&none, "X-Sig").unwrap_err(),
            WebhookError::MissingHeader {
                name: Cow::Borrowed("X-Sig")
            }
        );
    }
}
