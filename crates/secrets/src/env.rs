//! Secrets from environment variables.

use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;
use secrecy::SecretString;

use crate::error::SecretsError;
use crate::secret::{Secret, check_name};
use crate::source::SecretSource;

/// The suffix of the variable that holds a secret's creation time:
/// `STRIPE_WEBHOOK_SECRET_CREATED_AT=1764979200` (Unix time, in seconds).
pub const CREATED_AT_SUFFIX: &str = "_CREATED_AT";

/// Secrets from the process environment: the secret `NAME` is the variable `NAME` (or
/// `<prefix>NAME`, [`with_prefix`](Self::with_prefix)).
///
/// The variable `<NAME>_CREATED_AT`, when set to a Unix time in seconds, is the secret's
/// creation time (for the key-age check); otherwise it is unknown. The environment is read
/// at every fetch; a process's environment does not change from outside, so a rotation
/// through environment variables needs a restart (use a [`DirectorySource`](crate::DirectorySource)
/// to rotate without one).
#[derive(Debug, Clone, Default)]
pub struct EnvSource {
    prefix: String,
}

impl EnvSource {
    /// Variables named as the secrets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Variables named `<prefix><name>` (`APP_` + `STRIPE_SECRET`).
    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }
}

#[async_trait]
impl SecretSource for EnvSource {
    async fn fetch(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        check_name(name)?;
        let var = format!("{}{name}", self.prefix);
        let value = match std::env::var(&var) {
            Ok(value) => value,
            Err(std::env::VarError::NotPresent) => return Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(SecretsError::NotUtf8 {
                    name: name.to_owned(),
                });
            }
        };
        let created_at = std::env::var(format!("{var}{CREATED_AT_SUFFIX}"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs)));
        Ok(Some(Secret::new(SecretString::from(value), created_at)))
    }

    async fn health(&self) -> Result<(), SecretsError> {
        Ok(())
    }
}
