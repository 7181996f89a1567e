//! Rotation without restart: values built from secrets, held behind `arc-swap`, rebuilt and
//! swapped when the secrets change.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use palisade_telemetry::{METRIC_SECRET_RELOADS, SECRETS_RELOAD_FAILED, SECRETS_ROTATED};
use tracing::Level;

use crate::age::check_ages;
use crate::error::SecretsError;
use crate::secret::SecretSet;
use crate::source::{SecretSource, require};

/// What a [`Rotation::reload`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reload {
    /// The secrets were the same: nothing was rebuilt.
    Unchanged,
    /// The secrets changed: the value was rebuilt and swapped in.
    Swapped,
}

type Build<T> = dyn Fn(&SecretSet) -> Result<T, String> + Send + Sync;

/// A value of type `T` built from named secrets (a webhook [`Verifier`], a pii `Keyring`, a
/// map of them), held in an [`ArcSwap`] and rebuilt when the secrets change.
///
/// - **Start**: [`new`](Self::new) fetches every name (all required: one error names every
///   missing one) and builds the first value; a failure stops the startup.
/// - **Reload** ([`reload`](Self::reload)): re-reads the names from the source; when a value
///   or a creation time differs (values compared in constant time), builds a new `T` and
///   stores it, atomically. Readers that loaded the old value (a request being verified)
///   finish with it; the next loads see the new one. If the source fails, a secret is
///   missing or the builder refuses the new secrets, the old value **stays** (event
///   `secrets.reload_failed`, counter `palisade_secret_reloads_total{outcome="failed"}`):
///   a bad rotation never takes a working service down. Reloads are serialized.
/// - **When**: on a signal (`SIGHUP`, after [`CachedSource::invalidate`](crate::CachedSource::invalidate)),
///   and/or every interval ([`watch`](Self::watch)).
/// - **Key age** ([`with_max_age`](Self::with_max_age)): at start and at each reload, secrets
///   older than the maximum age are reported ([`check_ages`]).
///
/// Readers take the value with [`current`](Self::current) or hold the
/// [`handle`](Self::handle) (`palisade_tower::WebhookLayer::rotating` takes it).
///
/// [`Verifier`]: https://docs.rs/palisade-webhook
pub struct Rotation<T> {
    source: Arc<dyn SecretSource>,
    names: Vec<String>,
    build: Box<Build<T>>,
    current: Arc<ArcSwap<T>>,
    last: Mutex<SecretSet>,
    max_age: Option<Duration>,
    reloading: tokio::sync::Mutex<()>,
}

impl<T> fmt::Debug for Rotation<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rotation")
            .field("names", &self.names)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Rotation<T> {
    /// Fetches `names` from `source` and builds the first value with `build`.
    ///
    /// `build` gets the secrets of `names` (all present) and returns the value, or an error
    /// whose `Display` must not quote a secret (it is logged and returned).
    ///
    /// # Errors
    /// [`SecretsError::Missing`] naming every absent secret, errors of the source, and
    /// [`SecretsError::Build`] when `build` fails.
    pub async fn new<S, F, E>(source: S, names: &[&str], build: F) -> Result<Self, SecretsError>
    where
        S: SecretSource + 'static,
        F: Fn(&SecretSet) -> Result<T, E> + Send + Sync + 'static,
        E: fmt::Display,
    {
        let build: Box<Build<T>> = Box::new(move |set| build(set).map_err(|e| e.to_string()));
        let set = require(&source, names).await?;
        let value = build(&set).map_err(|reason| SecretsError::Build { reason })?;
        Ok(Self {
            source: Arc::new(source),
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            build,
            current: Arc::new(ArcSwap::from_pointee(value)),
            last: Mutex::new(set),
            max_age: None,
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// Reports secrets older than `max_age` ([`QUARTERLY`](crate::QUARTERLY) for a
    /// 90-day policy) now and at each reload.
    #[must_use]
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        check_ages(&last, self.max_age, SystemTime::now());
        drop(last);
        self
    }

    /// The current value.
    pub fn current(&self) -> Arc<T> {
        self.current.load_full()
    }

    /// The [`ArcSwap`] the value is stored in, for readers that load it themselves.
    pub fn handle(&self) -> Arc<ArcSwap<T>> {
        Arc::clone(&self.current)
    }

    /// The secret names this rotation reads.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Re-reads the secrets and swaps in a new value when they changed (see the type's docs).
    ///
    /// # Errors
    /// As [`new`](Self::new); the previous value stays in use.
    pub async fn reload(&self) -> Result<Reload, SecretsError> {
        let _serial = self.reloading.lock().await;
        let result = self.try_reload().await;
        let outcome = match &result {
            Ok(Reload::Unchanged) => "unchanged",
            Ok(Reload::Swapped) => {
                emit!(
                    Level::INFO,
                    SECRETS_ROTATED,
                    secrets = ?self.names,
                    "secrets changed: new value swapped in"
                );
                "swapped"
            }
            Err(error) => {
                emit!(
                    Level::ERROR,
                    SECRETS_RELOAD_FAILED,
                    secrets = ?self.names,
                    error = %error,
                    "secrets reload failed: the previous value stays in use"
                );
                "failed"
            }
        };
        metrics::counter!(METRIC_SECRET_RELOADS, "outcome" => outcome).increment(1);
        result
    }

    async fn try_reload(&self) -> Result<Reload, SecretsError> {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        let set = require(&self.source, &names).await?;
        let unchanged = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .same_as(&set);
        check_ages(&set, self.max_age, SystemTime::now());
        if unchanged {
            return Ok(Reload::Unchanged);
        }
        let value = (self.build)(&set).map_err(|reason| SecretsError::Build { reason })?;
        self.current.store(Arc::new(value));
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = set;
        Ok(Reload::Swapped)
    }

    /// Spawns a task on the current tokio runtime that calls [`reload`](Self::reload) every
    /// `every` (the first after `every`); failures are logged by `reload` and the task goes
    /// on. Abort the returned handle to stop it.
    pub fn watch(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let rotation = Arc::clone(self);
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + every;
            let mut interval = tokio::time::interval_at(start, every.max(Duration::from_millis(1)));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                // Logged and counted by `reload`.
                let _ = rotation.reload().await;
            }
        })
    }
}
