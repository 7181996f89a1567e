//! Connecting to Redis, per-call timeouts and error mapping, shared by every store here.

use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, IntoConnectionInfo};

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

/// Refuses a key prefix with `{` or `}`: it would become the Redis Cluster hash tag of every
/// key.
pub(crate) fn check_prefix(prefix: String) -> Result<String, RedisStoreError> {
    if prefix.contains(['{', '}']) {
        return Err(RedisStoreError::InvalidConfig {
            reason: "the key prefix may not contain '{' or '}'",
        });
    }
    Ok(prefix)
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

/// A Redis Cluster client seeded with `urls`, whose connection attempts and replies (including
/// the retries and redirections of one call) time out after `timeout`.
pub(crate) fn cluster_client(
    urls: &[&str],
    timeout: Duration,
) -> Result<ClusterClient, RedisStoreError> {
    let timeout = check_timeout(timeout)?;
    if urls.is_empty() {
        return Err(RedisStoreError::InvalidConfig {
            reason: "no Redis Cluster node URL",
        });
    }
    // Parse errors may quote the URL: never pass them on.
    let nodes = urls
        .iter()
        .map(|url| url.into_connection_info())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| RedisStoreError::InvalidConfig {
            reason: "a Redis Cluster node URL does not parse",
        })?;
    ClusterClientBuilder::new(nodes)
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .build()
        .map_err(|_| RedisStoreError::InvalidConfig {
            reason: "the Redis Cluster node URLs disagree on credentials, database or TLS",
        })
}

/// Connects to the Redis Cluster that the nodes at `urls` belong to, for any store of this
/// crate: `RedisNonceStore::new(connect_cluster(..).await?)`, and the same for every other
/// store.
///
/// `urls` are seed nodes (`redis://[user:password@]host:port/`, all with the same credentials;
/// one reachable node is enough, more survive one being down): the connection reads the slot
/// map from them (`CLUSTER SLOTS`), then keeps one multiplexed connection per master, follows
/// `MOVED`/`ASK` redirections and reconnects after failures by itself. `timeout` bounds
/// connecting (the whole call, slot map included) and each reply, retries and redirections of
/// one call included; [`DEFAULT_TIMEOUT`] (1 s) is a sensible value. Give the stores the same
/// timeout with their `with_timeout`.
///
/// Every key that the stores here write carries a `{…}` hash tag (the namespace, or the
/// rate-limit key), so each command or script of one decision touches a single slot, as
/// Redis Cluster requires, while different namespaces and keys spread over all masters.
///
/// ```no_run
/// # #[cfg(feature = "replay")]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use palisade_redis::{DEFAULT_TIMEOUT, RedisNonceStore, connect_cluster};
/// use palisade_replay::{Freshness, NonceStore};
///
/// // Needs a Redis Cluster, for example the 3 masters that `.ci/services` starts.
/// let seeds = ["redis://127.0.0.1:7001/", "redis://127.0.0.1:7002/"];
/// let conn = connect_cluster(&seeds, DEFAULT_TIMEOUT).await?;
/// let store = RedisNonceStore::new(conn).with_timeout(DEFAULT_TIMEOUT)?;
/// let ttl = Duration::from_secs(300);
/// assert_eq!(store.insert_if_absent("stripe", b"evt_1", ttl).await?, Freshness::Fresh);
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`RedisStoreError::InvalidConfig`] for an empty list, a URL that does not parse, URLs that
/// disagree on credentials, database or TLS, or a zero timeout;
/// [`RedisStoreError::Unavailable`] when no node accepts the connection or the credentials, or
/// a node is not in cluster mode; [`RedisStoreError::Timeout`] when the cluster does not answer
/// within `timeout`. No error quotes a URL or its credentials.
pub async fn connect_cluster(
    urls: &[&str],
    timeout: Duration,
) -> Result<ClusterConnection, RedisStoreError> {
    let client = cluster_client(urls, timeout)?;
    match tokio::time::timeout(timeout, client.get_async_connection()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(map_error_for(&e, timeout, urls)),
        Err(_) => Err(RedisStoreError::Timeout {
            millis: millis(timeout),
        }),
    }
}

/// Runs one Redis call under `timeout`, mapping every failure to a [`RedisStoreError`].
#[cfg_attr(
    not(any(feature = "replay", feature = "ratelimit", feature = "otp")),
    allow(dead_code, reason = "used by the stores only")
)]
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

/// Runs one script call (`EVALSHA`, `EVAL` after `NOSCRIPT`) under `timeout`: server errors
/// raised by the script and replies of the wrong shape are [`RedisStoreError::Script`], other
/// failures as in [`call`].
#[cfg(any(feature = "ratelimit", feature = "otp"))]
pub(crate) async fn call_script<T>(
    timeout: Duration,
    fut: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, RedisStoreError> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) if is_script_error(&e) => Err(RedisStoreError::Script {
            reason: e.to_string(),
        }),
        Ok(Err(e)) => Err(map_error(&e, timeout, None)),
        Err(_) => Err(RedisStoreError::Timeout {
            millis: millis(timeout),
        }),
    }
}

/// Errors raised by the server while running a script (Lua errors, a key of the wrong type)
/// and replies of the wrong shape.
#[cfg(any(feature = "ratelimit", feature = "otp"))]
fn is_script_error(e: &redis::RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    matches!(
        e.kind(),
        ErrorKind::Server(ServerErrorKind::ResponseError)
            | ErrorKind::Extension
            | ErrorKind::UnexpectedReturnType
            | ErrorKind::Parse
    )
}

/// A redis error as a store error. The reason is the driver's message unless it contains
/// the URL or any part of its user info (raw or percent-decoded): then only the error's
/// kind is kept.
pub(crate) fn map_error(
    e: &redis::RedisError,
    timeout: Duration,
    url: Option<&str>,
) -> RedisStoreError {
    map_error_for(e, timeout, url.as_slice())
}

/// [`map_error`] checking the message against each of `urls`.
pub(crate) fn map_error_for(
    e: &redis::RedisError,
    timeout: Duration,
    urls: &[&str],
) -> RedisStoreError {
    if e.is_timeout() {
        return RedisStoreError::Timeout {
            millis: millis(timeout),
        };
    }
    let message = e.to_string();
    let reason = if urls.iter().any(|url| leaks_credentials(&message, url)) {
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
    fn cluster_configuration_mistakes_are_refused_without_quoting_urls() {
        let timeout = DEFAULT_TIMEOUT;
        let invalid = |r: Result<ClusterClient, RedisStoreError>| match r {
            Err(e @ RedisStoreError::InvalidConfig { .. }) => e,
            Err(e) => panic!("expected InvalidConfig, got {e:?}"),
            Ok(_) => panic!("expected InvalidConfig, got a client"),
        };
        invalid(cluster_client(&[], timeout));
        invalid(cluster_client(&["redis://127.0.0.1:7001/"], Duration::ZERO));
        let e = invalid(cluster_client(
            &["redis://127.0.0.1:7001/", "not a url with secret-password"],
            timeout,
        ));
        assert!(!format!("{e} {e:?}").contains("secret-password"));
        let e = invalid(cluster_client(
            &[
                "redis://alice:first-s3cret@127.0.0.1:7001/",
                "redis://bob:second-s3cret@127.0.0.1:7002/",
            ],
            timeout,
        ));
        let shown = format!("{e} {e:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("alice") && !shown.contains("bob"),
            "{shown}"
        );
        // Same credentials everywhere: a client, and no connection yet.
        assert!(
            cluster_client(
                &[
                    "redis://alice:s3cret@127.0.0.1:7001/",
                    "redis://alice:s3cret@127.0.0.1:7002/",
                ],
                timeout,
            )
            .is_ok()
        );
    }

    #[test]
    fn cluster_errors_are_checked_against_every_url() {
        let e = redis::RedisError::from((
            redis::ErrorKind::Io,
            "failed",
            "node redis://bob:b0b-pass@10.0.0.2:7002/ refused".to_owned(),
        ));
        let urls = [
            "redis://alice:a-pass@10.0.0.1:7001/",
            "redis://bob:b0b-pass@10.0.0.2:7002/",
        ];
        match map_error_for(&e, DEFAULT_TIMEOUT, &urls) {
            RedisStoreError::Unavailable { reason } => {
                assert!(!reason.contains("b0b-pass"), "{reason}");
                assert!(reason.contains("withheld"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unreachable_cluster_gives_a_typed_error_quickly() {
        // Port 1 on loopback: nothing listens, the connection is refused.
        let started = std::time::Instant::now();
        let e = connect_cluster(
            &["redis://alice:hunter2@127.0.0.1:1/"],
            Duration::from_millis(500),
        )
        .await
        .err();
        assert!(
            matches!(e, Some(RedisStoreError::Unavailable { .. })),
            "{e:?}"
        );
        let shown = format!("{e:?}");
        eprintln!("unreachable cluster: {shown} after {:?}", started.elapsed());
        assert!(
            !shown.contains("hunter2") && !shown.contains("alice"),
            "{shown}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn an_unparseable_url_is_refused_without_quoting_it() {
        let e = client("not a url with secret-password").err();
        assert!(matches!(e, Some(RedisStoreError::InvalidConfig { .. })));
        assert!(!format!("{e:?}").contains("secret-password"));
    }
}
