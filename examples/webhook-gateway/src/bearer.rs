//! The bearer token of `GET /events` (RFC 6750 §2.1: `Authorization: Bearer <token>`).

use axum::response::{IntoResponse, Response};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The `WWW-Authenticate` challenge of a refusal (RFC 6750 §3).
const CHALLENGE: &str = "Bearer realm=\"webhook-gateway events\"";

/// Whether `headers` carry exactly one `Authorization: Bearer <token>` whose token is
/// `expected`.
///
/// The scheme is matched case-insensitively (RFC 9110 §11.1) and the token byte for byte. The
/// comparison is constant-time over the SHA-256 digests of both tokens, so it reveals neither
/// a prefix of the token nor its length. Several `Authorization` fields are refused.
pub(crate) fn authorized(expected: &SecretString, headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Some(presented) = bearer_token(value.as_bytes()) else {
        return false;
    };
    let presented = Sha256::digest(presented);
    let expected = Sha256::digest(expected.expose_secret().as_bytes());
    presented.as_slice().ct_eq(expected.as_slice()).into()
}

/// The token of a `Bearer` credential: the scheme, one or more spaces, the token (no space in
/// it; trailing spaces dropped).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let space = value.iter().position(|b| *b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty() && !token.contains(&b' ')).then_some(token)
}

/// 401 with the `WWW-Authenticate: Bearer` challenge.
pub(crate) fn unauthorized() -> Response {
    let mut res = (StatusCode::UNAUTHORIZED, "a bearer token is required").into_response();
    res.headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
    res
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn with(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn bearer_token_is_required_and_compared_exactly() {
        let token = SecretString::from("0123456789abcdef-token");
        assert!(authorized(
            &token,
            &with(&["Bearer 0123456789abcdef-token"])
        ));
        assert!(authorized(
            &token,
            &with(&["bearer  0123456789abcdef-token "])
        ));
        for refused in [
            &[][..],
            &["Bearer"],
            &["Bearer "],
            &["Basic 0123456789abcdef-token"],
            &["Bearer 0123456789abcdef-toke"],
            &["Bearer 0123456789abcdef-token2"],
            &["Bearer 0123456789ABCDEF-token"],
            &["Bearer 0123456789abcdef-token extra"],
            &["0123456789abcdef-token"],
            &[
                "Bearer 0123456789abcdef-token",
                "Bearer 0123456789abcdef-token",
            ],
        ] {
            assert!(!authorized(&token, &with(refused)), "{refused:?}");
        }
        let res = unauthorized();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.headers()[WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Bearer ")
        );
    }
}
