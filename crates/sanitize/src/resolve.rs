//! DNS resolution whose every answer is checked (feature `dns`): connect to exactly the
//! addresses returned, so a second, different DNS answer (DNS rebinding) cannot be used.

use std::net::SocketAddr;

use crate::url::{BlockReason, CheckedUrl, UrlError, UrlPolicy, report_blocked};

/// Resolves a checked URL's host and checks every address of the answer against `policy`.
///
/// For an IP literal, returns that address (already checked) with the URL's port. For a name,
/// asks the system resolver (tokio's `lookup_host`, `getaddrinfo` on a blocking thread) and
/// refuses the URL if **any** address of the answer is in a refused range: an attacker's name
/// answering `[203.0.113.9, 127.0.0.1]` is refused whole, not filtered, so the client cannot
/// fall back to the internal address. Connect to the returned addresses only (not to the name
/// again: a second lookup may answer differently).
///
/// ```no_run
/// use palisade_sanitize::resolve::resolve_and_check;
/// use palisade_sanitize::url::UrlPolicy;
///
/// # async fn f() -> Result<(), palisade_sanitize::url::UrlError> {
/// let policy = UrlPolicy::new();
/// let url = policy.check("https://example.com/audio.mp3")?;
/// let addrs = resolve_and_check(&policy, &url).await?;
/// // connect to one of `addrs`, send `url.url()` with its `Host` header
/// # let _ = addrs; Ok(()) }
/// ```
///
/// # Errors
/// [`UrlError::Resolve`] when resolution fails, [`UrlError::NoAddresses`] for an empty answer,
/// [`UrlError::Blocked`] with [`BlockReason::ResolvesTo`] when an address is refused.
pub async fn resolve_and_check(
    policy: &UrlPolicy,
    url: &CheckedUrl,
) -> Result<Vec<SocketAddr>, UrlError> {
    if let Some(ip) = url.ip() {
        return Ok(vec![SocketAddr::new(ip, url.port())]);
    }
    let host = url.host_name().ok_or(BlockReason::NoHost)?;
    resolve_name(policy, host, url.port()).await
}

/// Resolves `host` (a name, as the `url` crate gives it) for `port`, checking the name
/// ([`UrlPolicy::check_name`]) and then every address of the answer.
///
/// # Errors
/// As [`resolve_and_check`], and [`UrlError::Blocked`] for a refused name.
pub async fn resolve_name(
    policy: &UrlPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, UrlError> {
    policy.check_name(host).inspect_err(report_blocked)?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| UrlError::Resolve {
            host: host.to_owned(),
            source,
        })?
        .collect();
    if addrs.is_empty() {
        return Err(UrlError::NoAddresses {
            host: host.to_owned(),
        });
    }
    for addr in &addrs {
        policy
            .check_addr(addr.ip())
            .map_err(|block| BlockReason::ResolvesTo {
                host: host.to_owned(),
                block,
            })
            .inspect_err(report_blocked)?;
    }
    Ok(addrs)
}
