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
}

impl Headers for http::HeaderMap {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        let mut values = self.get_all(name).iter();
        match (values.next(), values.next()) {
            (None, _) => Lookup::Missing,
            (Some(v), None) => Lookup::One(v.as_bytes()),
            (Some(_), Some(_)) => Lookup::Repeated,
        }
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
}

/// A header name as schemes hold it: a `&'static str` (the fixed schemes) or a
/// `Cow<'static, str>` (configured ones). Looking it up borrows; only an error copies it.
pub(crate) trait HeaderName: AsRef<str> + Copy {
    fn to_cow(&self) -> Cow<'static, str>;
}

impl HeaderName for &'static str {
    fn to_cow(&self) -> Cow<'static, str> {
        Cow::Borrowed(self)
    }
}

impl HeaderName for &Cow<'static, str> {
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
    name: impl HeaderName,
) -> Result<Option<&str>, WebhookError> {
    match headers.lookup(name.as_ref()) {
        Lookup::Missing => Ok(None),
        Lookup::Repeated => Err(WebhookError::malformed(
            name.to_cow(),
            "header appears more than once",
        )),
        Lookup::One(raw) => {
            // RFC 9110 field values: visible ASCII, spaces and tabs. Signature material is
            // always ASCII, so anything else is refused before parsing.
            if !raw.iter().all(|b| matches!(b, b' ' | b'\t' | 0x21..=0x7e)) {
                return Err(WebhookError::malformed(name.to_cow(), "not visible ASCII"));
            }
            std::str::from_utf8(raw)
                .map(|s| Some(s.trim_matches([' ', '\t'])))
                .map_err(|_| WebhookError::malformed(name.to_cow(), "not visible ASCII"))
        }
    }
}

/// Like [`optional`], but an absent header is [`WebhookError::MissingHeader`].
pub(crate) fn required(headers: &dyn Headers, name: impl HeaderName) -> Result<&str, WebhookError> {
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
    fn non_ascii_values_are_malformed() {
        let h = [("x-sig", &b"caf\xc3\xa9"[..])];
        assert!(matches!(
            optional(&h, "x-sig"),
            Err(WebhookError::MalformedHeader { .. })
        ));
        let h = [("x-sig", &b"  ok \t"[..])];
        assert_eq!(optional(&h, "x-sig").unwrap(), Some("ok"));
    }
}
