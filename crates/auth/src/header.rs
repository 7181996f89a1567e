//! The `Authorization: Bearer <token>` header (RFC 6750 §2.1) and raw credential headers.

use crate::error::AuthError;
use crate::jwt::MAX_TOKEN_LEN;

/// The longest header value read, in bytes: the longest token plus room for the scheme.
pub const MAX_HEADER_LEN: usize = MAX_TOKEN_LEN + 64;

/// The token of an `Authorization` header value `Bearer <b64token>`: the scheme compared
/// without regard to ASCII case (RFC 9110 §11.1), one or more spaces, then a token of RFC
/// 6750's `b64token` syntax (`[A-Za-z0-9-._~+/]+` then `=`*), nothing after it.
///
/// # Errors
///
/// [`AuthError::MalformedHeader`] for another scheme, an empty or ill-formed token, or a
/// value longer than [`MAX_HEADER_LEN`].
pub fn parse_bearer(value: &[u8]) -> Result<&str, AuthError> {
    if value.len() > MAX_HEADER_LEN {
        return Err(AuthError::MalformedHeader);
    }
    let scheme_end = value
        .iter()
        .position(|&b| b == b' ')
        .ok_or(AuthError::MalformedHeader)?;
    let (scheme, rest) = value.split_at(scheme_end);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(AuthError::MalformedHeader);
    }
    // `rest` starts with the space(s) after the scheme: `parse_credential` trims them.
    parse_credential(rest)
}

/// A credential sent alone in a configured header (`X-API-Key: <key>`): the same
/// `b64token` syntax as a bearer token, surrounding spaces and tabs trimmed.
///
/// # Errors
///
/// [`AuthError::MalformedHeader`] for an empty or ill-formed value, or one longer than
/// [`MAX_HEADER_LEN`].
pub fn parse_credential(value: &[u8]) -> Result<&str, AuthError> {
    if value.len() > MAX_HEADER_LEN {
        return Err(AuthError::MalformedHeader);
    }
    let value = value.trim_ascii();
    let body_len = value
        .iter()
        .position(|&b| !is_b64token_byte(b))
        .unwrap_or(value.len());
    if body_len == 0 || !value.iter().skip(body_len).all(|&b| b == b'=') {
        return Err(AuthError::MalformedHeader);
    }
    // Only ASCII was accepted above.
    std::str::from_utf8(value).map_err(|_| AuthError::MalformedHeader)
}

fn is_b64token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        assert_eq!(parse_bearer(b"Bearer abc.def-_~+/=="), Ok("abc.def-_~+/=="));
        assert_eq!(parse_bearer(b"bearer   x"), Ok("x"));
        assert_eq!(parse_bearer(b"BEARER x"), Ok("x"));
        for bad in [
            &b""[..],
            b"Bearer",
            b"Bearer ",
            b"Basic dXNlcjpwYXNz",
            b"Bearer a b",
            b"Bearer a=b",
            b"Bearer =",
            b"Bearer\tx",
            b"Bearer \xff",
            b"Bearerx y",
        ] {
            assert_eq!(
                parse_bearer(bad),
                Err(AuthError::MalformedHeader),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn raw_credentials() {
        assert_eq!(parse_credential(b" pal_x_y \t"), Ok("pal_x_y"));
        assert_eq!(parse_credential(b""), Err(AuthError::MalformedHeader));
        assert_eq!(parse_credential(b"a,b"), Err(AuthError::MalformedHeader));
    }

    /// A header of exactly `MAX_HEADER_LEN` bytes is read (the longest token fits with its
    /// scheme); one byte more is refused before anything else, whatever it holds.
    #[test]
    fn header_length_limit() {
        assert_eq!(MAX_HEADER_LEN, MAX_TOKEN_LEN + 64);
        let longest_token = "a".repeat(MAX_TOKEN_LEN);
        assert!(parse_bearer(format!("Bearer {longest_token}").as_bytes()).is_ok());
        let padded = |len: usize| format!("Bearer{}abcde", " ".repeat(len - 11));
        assert_eq!(parse_bearer(padded(MAX_HEADER_LEN).as_bytes()), Ok("abcde"));
        assert_eq!(
            parse_bearer(padded(MAX_HEADER_LEN + 1).as_bytes()),
            Err(AuthError::MalformedHeader)
        );
        let spaced = |len: usize| format!("{}abcde", " ".repeat(len - 5));
        assert_eq!(
            parse_credential(spaced(MAX_HEADER_LEN).as_bytes()),
            Ok("abcde")
        );
        assert_eq!(
            parse_credential(spaced(MAX_HEADER_LEN + 1).as_bytes()),
            Err(AuthError::MalformedHeader)
        );
    }
}
