//! Secrets from a `.env` file, for development only.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use secrecy::SecretString;

use crate::error::SecretsError;
use crate::secret::{Secret, SecretSet, check_name};
use crate::source::SecretSource;

/// The environment variable [`Environment::from_env`] reads: `production` (or `prod`, any
/// ASCII case) sets the production flag.
pub const ENVIRONMENT_VAR: &str = "PALISADE_ENV";

/// Whether the process runs in production, the flag that refuses `.env` files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Environment {
    /// A developer's machine, a test run.
    Development,
    /// Production (and anything shared: staging): `.env` files are refused.
    Production,
}

impl Environment {
    /// [`Production`](Self::Production) when the variable [`ENVIRONMENT_VAR`] is
    /// `production` or `prod` (any ASCII case), [`Development`](Self::Development)
    /// otherwise.
    pub fn from_env() -> Self {
        match std::env::var(ENVIRONMENT_VAR) {
            Ok(v) if v.eq_ignore_ascii_case("production") || v.eq_ignore_ascii_case("prod") => {
                Self::Production
            }
            _ => Self::Development,
        }
    }
}

/// Secrets from a `.env` file (`NAME=value` lines, `dotenvy`'s syntax: quotes, comments,
/// `${VAR}` substitution), read anew at every fetch, its modification time as every
/// secret's creation time. Nothing is written into the process environment.
///
/// For development only: [`new`](Self::new) refuses to open one in
/// [`Environment::Production`]. A `.env` file sits in the working tree, is copied into
/// images and backups, and is the first file an attacker with a path traversal reads.
#[derive(Debug, Clone)]
pub struct DotenvSource {
    path: PathBuf,
}

impl DotenvSource {
    /// A source reading `path`, unless `environment` is production.
    ///
    /// # Errors
    /// [`SecretsError::DotenvInProduction`].
    pub fn new(path: impl Into<PathBuf>, environment: Environment) -> Result<Self, SecretsError> {
        let path = path.into();
        if environment == Environment::Production {
            return Err(SecretsError::DotenvInProduction {
                path: path.display().to_string(),
            });
        }
        tracing::warn!(
            target: "palisade_secrets",
            path = %path.display(),
            "secrets read from a .env file: for development only"
        );
        Ok(Self { path })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file, parsed, on the blocking pool.
    async fn read(&self) -> Result<SecretSet, SecretsError> {
        let path = self.path.clone();
        let parsed = tokio::task::spawn_blocking(move || parse(&path)).await;
        parsed.map_err(|_| self.unavailable("the read was cancelled"))?
    }

    fn unavailable(&self, what: &str) -> SecretsError {
        SecretsError::Unavailable {
            source_name: "dotenv",
            what: format!("{} ({what})", self.path.display()),
        }
    }
}

fn parse(path: &Path) -> Result<SecretSet, SecretsError> {
    let unavailable = |what: String| SecretsError::Unavailable {
        source_name: "dotenv",
        what: format!("{} ({what})", path.display()),
    };
    let modified = std::fs::metadata(path)
        .map_err(|_| unavailable("cannot be read".to_owned()))?
        .modified()
        .ok();
    let iter =
        dotenvy::from_path_iter(path).map_err(|_| unavailable("cannot be read".to_owned()))?;
    let mut set = SecretSet::new();
    for item in iter {
        // dotenvy's parse error quotes the line, which may hold a value: only its index.
        let (name, value) = item.map_err(|e| match e {
            dotenvy::Error::LineParse(_, index) => {
                unavailable(format!("a line does not parse, at byte {index} of it"))
            }
            _ => unavailable("cannot be read".to_owned()),
        })?;
        set.insert(name, Secret::new(SecretString::from(value), modified));
    }
    Ok(set)
}

#[async_trait]
impl SecretSource for DotenvSource {
    async fn fetch(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        check_name(name)?;
        Ok(self.read().await?.get(name).cloned())
    }

    async fn fetch_many(&self, names: &[&str]) -> Result<SecretSet, SecretsError> {
        for name in names {
            check_name(name)?;
        }
        let all = self.read().await?;
        let mut set = SecretSet::new();
        for name in names {
            if let Some(secret) = all.get(name) {
                set.insert(*name, secret.clone());
            }
        }
        Ok(set)
    }

    async fn health(&self) -> Result<(), SecretsError> {
        self.read().await.map(drop)
    }
}
