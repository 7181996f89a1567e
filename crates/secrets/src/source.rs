//! The trait every secret source implements, and startup validation.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::SecretsError;
use crate::secret::{Secret, SecretSet};

/// A place named secrets are read from: environment variables
/// ([`EnvSource`](crate::EnvSource)), a directory of files
/// ([`DirectorySource`](crate::DirectorySource): Docker and Kubernetes secrets), a `.env`
/// file in development ([`DotenvSource`](crate::DotenvSource)), a cache over any of them
/// ([`CachedSource`](crate::CachedSource)), or a secrets manager of your own.
///
/// Sources read the current value on every call (so a rotated value is seen); wrap them in a
/// [`CachedSource`](crate::CachedSource) to bound the reads. Names are checked with
/// [`check_name`](crate::check_name) by the sources of this crate.
#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The secret `name`, or `None` when the source has no secret of that name.
    ///
    /// # Errors
    /// [`SecretsError::InvalidName`], or a failure of the source
    /// ([`SecretsError::Unavailable`], [`SecretsError::NotUtf8`], [`SecretsError::TooLarge`]).
    async fn fetch(&self, name: &str) -> Result<Option<Secret>, SecretsError>;

    /// The secrets of `names` the source has (absent ones are not in the set; see
    /// [`require`] to refuse them). The default fetches them one by one.
    ///
    /// # Errors
    /// As [`fetch`](Self::fetch), for the first name that fails.
    async fn fetch_many(&self, names: &[&str]) -> Result<SecretSet, SecretsError> {
        let mut set = SecretSet::new();
        for name in names {
            if let Some(secret) = self.fetch(name).await? {
                set.insert(*name, secret);
            }
        }
        Ok(set)
    }

    /// Whether the source can be read now (a directory that exists and can be listed, a file
    /// that opens); for a readiness probe.
    ///
    /// # Errors
    /// [`SecretsError::Unavailable`] saying what cannot be read.
    async fn health(&self) -> Result<(), SecretsError>;
}

#[async_trait]
impl<T: SecretSource + ?Sized> SecretSource for Arc<T> {
    async fn fetch(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        (**self).fetch(name).await
    }

    async fn fetch_many(&self, names: &[&str]) -> Result<SecretSet, SecretsError> {
        (**self).fetch_many(names).await
    }

    async fn health(&self) -> Result<(), SecretsError> {
        (**self).health().await
    }
}

/// Startup validation: fetches `names` in one batch and fails naming **every** missing one,
/// so an operator fixes the deployment once rather than once per restart.
///
/// # Errors
/// [`SecretsError::Missing`] with every absent name, in the order given; errors of the
/// source.
pub async fn require<S: SecretSource + ?Sized>(
    source: &S,
    names: &[&str],
) -> Result<SecretSet, SecretsError> {
    let set = source.fetch_many(names).await?;
    let missing = set.missing(names.iter().copied());
    if missing.is_empty() {
        Ok(set)
    } else {
        Err(SecretsError::Missing { names: missing })
    }
}
