//! Secrets from a directory of files: Docker secrets (`/run/secrets`) and Kubernetes secret
//! volumes.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use secrecy::SecretString;
use zeroize::Zeroize;

use crate::error::SecretsError;
use crate::secret::{MAX_SECRET_LEN, Secret, check_name};
use crate::source::SecretSource;

/// Secrets from a directory: the secret `name` is the file `<dir>/<name>`, its
/// modification time the secret's creation time.
///
/// This is how Docker (`/run/secrets/<name>`) and Kubernetes secret volumes
/// (`<mountPath>/<key>`) hand secrets to a container. Kubernetes updates a mounted secret by
/// swapping a symbolic link to a new directory, atomically: symbolic links are followed, and
/// each fetch reads the file anew, so a rotated value is seen on the next fetch (through a
/// [`CachedSource`](crate::CachedSource): once its TTL has passed or it is invalidated).
///
/// - The value is the file's content, UTF-8, with **one** trailing line ending (`\n` or
///   `\r\n`) removed (what `echo secret > file` adds); files above
///   [`MAX_SECRET_LEN`] bytes are refused.
/// - A missing file is an absent secret (`None`); a name is never a path
///   ([`check_name`]: no `/`, no leading `.`), so `../etc/passwd` cannot be asked for.
/// - Write rotated files atomically (write a temporary file in the same directory, then
///   rename it over the old one) so a fetch never reads half a value.
#[derive(Debug, Clone)]
pub struct DirectorySource {
    dir: PathBuf,
}

impl DirectorySource {
    /// Secrets from the files of `dir` (`/run/secrets`).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn unavailable(&self, what: &str) -> SecretsError {
        SecretsError::Unavailable {
            source_name: "directory",
            what: format!("{} ({what})", self.dir.display()),
        }
    }
}

/// Removes one trailing `\n` or `\r\n`.
pub(crate) fn trim_line_ending(mut value: String) -> String {
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    value
}

#[async_trait]
impl SecretSource for DirectorySource {
    async fn fetch(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        check_name(name)?;
        let path = self.dir.join(name);
        let metadata = match tokio::fs::metadata(&path).await {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(_) => return Err(self.unavailable(&format!("`{name}` cannot be read"))),
        };
        if !metadata.is_file() {
            return Err(self.unavailable(&format!("`{name}` is not a file")));
        }
        if metadata.len() > MAX_SECRET_LEN as u64 {
            return Err(SecretsError::TooLarge {
                name: name.to_owned(),
                max: MAX_SECRET_LEN,
            });
        }
        let mut bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            // Removed between the two calls: absent.
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(_) => return Err(self.unavailable(&format!("`{name}` cannot be read"))),
        };
        if bytes.len() > MAX_SECRET_LEN {
            bytes.zeroize();
            return Err(SecretsError::TooLarge {
                name: name.to_owned(),
                max: MAX_SECRET_LEN,
            });
        }
        let value = String::from_utf8(bytes).map_err(|e| {
            e.into_bytes().zeroize();
            SecretsError::NotUtf8 {
                name: name.to_owned(),
            }
        })?;
        Ok(Some(Secret::new(
            SecretString::from(trim_line_ending(value)),
            metadata.modified().ok(),
        )))
    }

    async fn health(&self) -> Result<(), SecretsError> {
        match tokio::fs::read_dir(&self.dir).await {
            Ok(_) => Ok(()),
            Err(_) => Err(self.unavailable("the directory cannot be listed")),
        }
    }
}
