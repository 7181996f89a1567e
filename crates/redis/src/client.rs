//! Connecting to Redis, per-call timeouts and error mapping, shared by every store here.

use std::future::Future;
use std::time::Duration;

use redis::AsyncConnectionConfig;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::RedisStoreError;

/// The default timeout of one store call (and of connecting), 1 second.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Milliseconds of a timeout, saturating, for error messages.
pub(crate) fn millis(timeout: Duration) -> u64 {
    u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)
}

/// Refuses a zero timeout (every call would time out).
pub(crate) fn check_timeout(timeout: Duration) -> Result<Duration, RedisStoreError> {
    if timeout.is_zero() {
        return Err(RedisStoreError::InvalidConfig {
            reason: "zero timeout",
        });
    }
    Ok(timeout)
}

fn config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
}

fn client(url: &str) -> Result<redis::Client, RedisStoreError> {
    // The parse error may quote the URL: never pass it on.
    redis::Client::open(url).map_err(|_| RedisStoreError::InvalidConfig {
        reason: "the Redis URL does not parse",
    })
}

/// Connects now: a [`ConnectionManager`] whose connection attempts and replies time out after
/// `timeout`, and which reconnects by itself after a failure.
pub(crate) async fn connect(
    url: &str,
    timeout: Duration,
) -> Result<ConnectionManager, RedisStoreError> {
    let timeout = check_timeout(timeout)?;
    let client = client(url)?;
    // One plain attempt first: the manager retries a failed connection with backoff until the
    // timeout, which would turn "refused" or "wrong password" into a bare timeout.
    let once = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout));
    let probe = client.get_multiplexed_async_connection_with_config(&once);
    match tokio::time::timeout(timeout, probe).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(map_error(&e, timeout, Some(url))),
        Err(_) => {
            return Err(RedisStoreError::Timeout {
                millis: millis(timeout),
            });
        }
    }
    let manager = ConnectionManager::new_with_config(client, config(timeout));
    match tokio::time::timeout(timeout, manager).await {
        Ok(Ok(manager)) => Ok(manager),
        Ok(Err(e)) => Err(map_error(&e, timeout, Some(url))),
        Err(_) => Err(RedisStoreError::Timeout {
            millis: millis(timeout),
        }),
    }
}

/// Connects on first use (must be called inside a tokio runtime).
pub(crate) fn connect_lazy(
    url: &str,
    timeout: Duration,
) -> Result<ConnectionManager, RedisStoreError> {
    let timeout = check_timeout(timeout)?;
    ConnectionManager::new_lazy_with_config(client(url)?, config(timeout))
        .map_err(|e| map_error(&e, timeout, Some(url)))
}

/// Runs one Redis call under `timeout`, mapping every failure to a [`RedisStoreError`].
pub(crate) async fn call<T>(
    timeout: Duration,
    fut: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, RedisStoreError> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(map_error(&e, timeout, None)),
        Err(_) => Err(RedisStoreError::Timeout {
            millis: millis(timeout),
        }),
    }
}

/// A redis error as a store error. The reason is the driver's message unless it contains
/// the URL or any part of its user info (raw or percent-decoded): then only the error's
/// kind is kept.
pub(crate) fn map_error(
    e: &redis::RedisError,
    timeout: Duration,
    url: Option<&str>,
) -> RedisStoreError {
    if e.is_timeout() {
        return RedisStoreError::Timeout {
            millis: millis(timeout),
        };
    }
    let message = e.to_string();
    let reason = if url.is_some_and(|url| leaks_credentials(&message, url)) {
        format!("{:?} (details withheld: they quoted the URL)", e.kind())
    } else {
        message
    };
    RedisStoreError::Unavailable { reason }
}

/// Whether `message` contains `url`, its user name or its password (raw or percent-decoded).
pub(crate) fn leaks_credentials(message: &str, url: &str) -> bool {
    if message.contains(url) {
        return true;
    }
    let Ok(parsed) = url::Url::parse(url) else {
        // Unparseable: compare with everything between "://" and the last '@'.
        return url
            .split_once("://")
            .and_then(|(_, rest)| rest.rsplit_once('@'))
            .is_some_and(|(userinfo, _)| contains_part(message, userinfo));
    };
    contains_part(message, parsed.username())
        || parsed
            .password()
            .is_some_and(|password| contains_part(message, password))
}

fn contains_part(message: &str, part: &str) -> bool {
    if part.is_empty() {
        return false;
    }
    let decoded = percent_encoding::percent_decode_str(part).decode_utf8_lossy();
    message.contains(part) || (!decoded.is_empty() && message.contains(decoded.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_detected_raw_and_decoded() {
        let url = "redis://alice:s%40cret@127.0.0.1:6379/0";
        assert!(leaks_credentials("auth failed for s@cret", url));
        assert!(leaks_credentials("auth failed for s%40cret", url));
        assert!(leaks_credentials("user alice refused", url));
        assert!(leaks_credentials(&format!("bad {url}"), url));
        assert!(!leaks_credentials("Connection refused (os error 111)", url));
        assert!(!leaks_credentials("anything", "redis://127.0.0.1:6379/"));
    }

    #[test]
    fn zero_timeout_is_refused() {
        assert!(matches!(
            check_timeout(Duration::ZERO),
            Err(RedisStoreError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn an_unparseable_url_is_refused_without_quoting_it() {
        let e = client("not a url with secret-password").err();
        assert!(matches!(e, Some(RedisStoreError::InvalidConfig { .. })));
        assert!(!format!("{e:?}").contains("secret-password"));
    }
}
