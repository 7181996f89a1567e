//! A caching wrapper with a TTL over any source.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::error::SecretsError;
use crate::secret::{Secret, SecretSet};
use crate::source::SecretSource;

/// The default TTL of a [`CachedSource`]: 5 minutes.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5 * 60);

type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// A cache over a [`SecretSource`]: each name's answer (a secret, or its absence) is kept for
/// a TTL ([`DEFAULT_TTL`], 5 minutes), so a remote or file source is read at most once per
/// name per TTL. Errors are not cached: the next fetch asks the source again.
///
/// [`invalidate`](Self::invalidate) forgets everything (on `SIGHUP`, before a reload), and a
/// [`Rotation`](crate::Rotation) over the cache sees a rotated value at most one TTL late.
/// [`health`](SecretSource::health) asks the source itself.
pub struct CachedSource<S> {
    inner: S,
    ttl: Duration,
    clock: Clock,
    entries: Mutex<HashMap<String, (Instant, Option<Secret>)>>,
}

impl<S> fmt::Debug for CachedSource<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedSource")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl<S: SecretSource> CachedSource<S> {
    /// A cache over `inner` with the [`DEFAULT_TTL`].
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            ttl: DEFAULT_TTL,
            clock: Arc::new(Instant::now),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps answers for `ttl` (zero: no caching).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Reads the time from `clock` instead of [`Instant::now`] (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Forgets every cached answer: the next fetches read the source.
    pub fn invalidate(&self) {
        self.lock().clear();
    }

    /// The source under the cache.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<Secret>)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached answer for `name`, when fresh at `now`.
    fn cached(&self, name: &str, now: Instant) -> Option<Option<Secret>> {
        let entries = self.lock();
        let (at, secret) = entries.get(name)?;
        (now.saturating_duration_since(*at) < self.ttl).then(|| secret.clone())
    }
}

#[async_trait]
impl<S: SecretSource> SecretSource for CachedSource<S> {
    async fn fetch(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        let now = (self.clock)();
        if let Some(answer) = self.cached(name, now) {
            return Ok(answer);
        }
        let answer = self.inner.fetch(name).await?;
        self.lock().insert(name.to_owned(), (now, answer.clone()));
        Ok(answer)
    }

    async fn fetch_many(&self, names: &[&str]) -> Result<SecretSet, SecretsError> {
        let now = (self.clock)();
        let mut set = SecretSet::new();
        let mut stale: Vec<&str> = Vec::new();
        for name in names {
            match self.cached(name, now) {
                Some(Some(secret)) => set.insert(*name, secret),
                Some(None) => {}
                None => stale.push(name),
            }
        }
        if !stale.is_empty() {
            let fetched = self.inner.fetch_many(&stale).await?;
            let mut entries = self.lock();
            for name in stale {
                let secret = fetched.get(name).cloned();
                if let Some(secret) = &secret {
                    set.insert(name, secret.clone());
                }
                entries.insert(name.to_owned(), (now, secret));
            }
        }
        Ok(set)
    }

    async fn health(&self) -> Result<(), SecretsError> {
        self.inner.health().await
    }
}
