//! JWKS: a key set fetched through a [`JwksSource`] and refreshed on an interval, or early
//! for a `kid` it does not hold (key rotation at the issuer).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::error::AuthError;
use crate::key::{KeySet, MAX_JWKS_LEN};

/// Where a JWKS document comes from. This crate has no HTTP client: implement this trait
/// over yours (reqwest, hyper) to read an issuer's `jwks_uri`, or use [`FileJwks`].
#[async_trait]
pub trait JwksSource: Send + Sync {
    /// The current JWKS document (RFC 7517 §5), as JSON text.
    ///
    /// # Errors
    ///
    /// [`AuthError::JwksSource`] with a reason that names no secret.
    async fn fetch(&self) -> Result<String, AuthError>;
}

/// A JWKS read from a local file on every fetch (a mounted secret, a file a sidecar keeps
/// current). The read is a small blocking `std::fs` read of at most 1 MiB.
#[derive(Debug, Clone)]
pub struct FileJwks {
    path: PathBuf,
}

impl FileJwks {
    /// The JWKS in the file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[async_trait]
impl JwksSource for FileJwks {
    async fn fetch(&self) -> Result<String, AuthError> {
        let meta = std::fs::metadata(&self.path)
            .map_err(|e| AuthError::JwksSource(format!("cannot read the JWKS file: {e}")))?;
        if meta.len() > MAX_JWKS_LEN as u64 {
            return Err(AuthError::JwksSource("JWKS file larger than 1 MiB".into()));
        }
        std::fs::read_to_string(&self.path)
            .map_err(|e| AuthError::JwksSource(format!("cannot read the JWKS file: {e}")))
    }
}

/// The default refresh interval of a [`Jwks`] (5 minutes).
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(300);
/// The default shortest time between two refreshes caused by unknown `kid`s (30 s): a flood
/// of tokens with invented `kid`s costs one fetch per 30 s.
pub const DEFAULT_UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(30);

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    /// Unix seconds of the last successful fetch.
    fetched_at: u64,
    /// Unix seconds of the last attempt (successful or not).
    attempted_at: Option<u64>,
}

/// A cached key set over a [`JwksSource`]: fetched on first use, again once
/// `refresh_interval` has passed, and early (at most once per `unknown_kid_cooldown`) when a
/// token names a `kid` the set lacks. When a refresh fails the previous set is kept; with no
/// set at all the error is returned.
pub struct Jwks {
    source: Box<dyn JwksSource>,
    refresh_interval: Duration,
    unknown_kid_cooldown: Duration,
    state: Mutex<State>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("refresh_interval", &self.refresh_interval)
            .field("unknown_kid_cooldown", &self.unknown_kid_cooldown)
            .finish_non_exhaustive()
    }
}

impl Jwks {
    /// A cache over `source` with [`DEFAULT_REFRESH_INTERVAL`] and
    /// [`DEFAULT_UNKNOWN_KID_COOLDOWN`].
    pub fn new(source: impl JwksSource + 'static) -> Self {
        Self {
            source: Box::new(source),
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
            unknown_kid_cooldown: DEFAULT_UNKNOWN_KID_COOLDOWN,
            state: Mutex::new(State::default()),
        }
    }

    /// Sets the refresh interval (whole seconds; at least 1 s).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an interval under one second.
    pub fn refresh_interval(mut self, interval: Duration) -> Result<Self, AuthError> {
        if interval < Duration::from_secs(1) {
            return Err(AuthError::InvalidConfig("JWKS refresh interval under 1 s"));
        }
        self.refresh_interval = interval;
        Ok(self)
    }

    /// Sets the shortest time between refreshes caused by unknown `kid`s.
    #[must_use]
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.unknown_kid_cooldown = cooldown;
        self
    }

    /// The cached set, its fetch time and the last attempt's time.
    #[allow(clippy::type_complexity)]
    fn snapshot(&self) -> Result<(Option<Arc<KeySet>>, u64, Option<u64>), AuthError> {
        let s = self
            .state
            .lock()
            .map_err(|_| AuthError::JwksSource("JWKS cache mutex poisoned".into()))?;
        Ok((s.keys.clone(), s.fetched_at, s.attempted_at))
    }

    /// Fetches and parses the JWKS now (at `now`, Unix seconds), replacing the cached set.
    ///
    /// # Errors
    ///
    /// The source's error, or [`AuthError::InvalidKey`] for a document with no usable key;
    /// the previous set is kept either way.
    pub async fn refresh(&self, now: u64) -> Result<Arc<KeySet>, AuthError> {
        if let Ok(mut s) = self.state.lock() {
            s.attempted_at = Some(now);
        }
        let text = self.source.fetch().await?;
        let keys = Arc::new(KeySet::from_jwks_json(&text)?);
        let mut s = self
            .state
            .lock()
            .map_err(|_| AuthError::JwksSource("JWKS cache mutex poisoned".into()))?;
        s.keys = Some(keys.clone());
        s.fetched_at = now;
        Ok(keys)
    }

    /// The key set to verify a token naming `kid` at `now` (Unix seconds), refreshed first
    /// when due (see the type's docs).
    ///
    /// # Errors
    ///
    /// As [`refresh`](Self::refresh), only when no set was ever fetched.
    pub async fn key_set(&self, kid: Option<&str>, now: u64) -> Result<Arc<KeySet>, AuthError> {
        let (keys, fetched_at, attempted_at) = self.snapshot()?;
        let since = |t: u64| Duration::from_secs(now.saturating_sub(t));
        let Some(keys) = keys else {
            return self.refresh(now).await;
        };
        let stale = since(fetched_at) >= self.refresh_interval;
        let unknown = kid.is_some_and(|k| !keys.contains_kid(k));
        let cooled = attempted_at.is_none_or(|t| since(t) >= self.unknown_kid_cooldown);
        if (stale && attempted_at.is_none_or(|t| since(t) >= Duration::from_secs(1)))
            || (unknown && cooled)
        {
            // A failed refresh keeps serving the previous set.
            return Ok(self.refresh(now).await.unwrap_or(keys));
        }
        Ok(keys)
    }
}
