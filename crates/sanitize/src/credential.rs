//! Credentials in a URL's query string (`?token=…`, `?api_key=…`): one detector for the
//! workspace (`palisade-tower`'s `QueryCredentialLayer` uses it).
//!
//! Tokens in URLs leak into access logs of proxies, load balancers and servers, browser
//! history and `Referer` headers; RFC 6750 §2.3 and §5.3 discourage `access_token` in the URI.

/// The parameter names treated as credentials by default: `token`, `access_token`, `api_key`.
pub const DEFAULT_CREDENTIAL_PARAMS: [&str; 3] = ["token", "access_token", "api_key"];

/// The first parameter of `query` (the part after `?`, without it) whose name is one of
/// `names`, returned as spelled in `names`.
///
/// Names are compared after `application/x-www-form-urlencoded` decoding (so `api%5Fkey` and
/// `api+key`-style spellings decode before comparing) and without regard to ASCII case
/// (`API_KEY` matches `api_key`). Values are never looked at.
///
/// ```
/// use palisade_sanitize::credential::{find_credential_param, DEFAULT_CREDENTIAL_PARAMS};
///
/// assert_eq!(find_credential_param("a=1&API%5FKEY=x", &DEFAULT_CREDENTIAL_PARAMS), Some("api_key"));
/// assert_eq!(find_credential_param("page=2&tokens=1", &DEFAULT_CREDENTIAL_PARAMS), None);
/// ```
pub fn find_credential_param<'n, N: AsRef<str>>(query: &str, names: &'n [N]) -> Option<&'n str> {
    form_urlencoded::parse(query.as_bytes()).find_map(|(name, _)| {
        names
            .iter()
            .map(AsRef::as_ref)
            .find(|n| n.eq_ignore_ascii_case(&name))
    })
}

/// The first credential parameter (of `names`) in `url`'s query string, if any.
///
/// ```
/// use palisade_sanitize::credential::{url_credential_param, DEFAULT_CREDENTIAL_PARAMS};
///
/// let url = url::Url::parse("https://api.example.com/v1?access_token=abc")?;
/// assert_eq!(url_credential_param(&url, &DEFAULT_CREDENTIAL_PARAMS), Some("access_token"));
/// # Ok::<(), url::ParseError>(())
/// ```
pub fn url_credential_param<'n, N: AsRef<str>>(url: &url::Url, names: &'n [N]) -> Option<&'n str> {
    url.query().and_then(|q| find_credential_param(q, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_and_case_insensitive() {
        let names = DEFAULT_CREDENTIAL_PARAMS;
        assert_eq!(find_credential_param("token=1", &names), Some("token"));
        assert_eq!(
            find_credential_param("x=1&Access_Token=2", &names),
            Some("access_token")
        );
        assert_eq!(
            find_credential_param("api%5fkey=3", &names),
            Some("api_key")
        );
        assert_eq!(find_credential_param("tok%65n=3", &names), Some("token"));
        assert_eq!(find_credential_param("x=token&tokenx=1", &names), None);
        assert_eq!(find_credential_param("", &names), None);
        let custom = vec!["key".to_owned()];
        assert_eq!(find_credential_param("KEY=1", &custom), Some("key"));
    }

    #[test]
    fn url_query_only() {
        let names = DEFAULT_CREDENTIAL_PARAMS;
        let url = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            url_credential_param(&url("https://a.example/?x=1&Token=2"), &names),
            Some("token")
        );
        assert_eq!(
            url_credential_param(&url("https://a.example/?x=1"), &names),
            None
        );
        assert_eq!(
            url_credential_param(&url("https://a.example/"), &names),
            None
        );
        // A credential-looking path segment or fragment is not a query parameter.
        assert_eq!(
            url_credential_param(&url("https://a.example/token=1#api_key=2"), &names),
            None
        );
    }
}
