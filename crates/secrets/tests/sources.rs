//! The sources (environment, directory, `.env`), the cache and startup validation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use palisade_secrets::{
    CachedSource, DEFAULT_TTL, DirectorySource, DotenvSource, EnvSource, Environment, ExposeSecret,
    MAX_SECRET_LEN, Secret, SecretSource, SecretString, SecretsError, check_name, require,
};
use proptest::prelude::*;

#[tokio::test]
async fn environment_variables() {
    // Cargo sets CARGO_PKG_NAME for the test process.
    let env = EnvSource::new();
    let secret = env.fetch("CARGO_PKG_NAME").await.unwrap().unwrap();
    assert_eq!(secret.value().expose_secret(), "palisade-secrets");
    assert_eq!(secret.created_at(), None);
    assert!(
        env.fetch("PALISADE_SURELY_UNSET_VAR")
            .await
            .unwrap()
            .is_none()
    );
    let prefixed = EnvSource::with_prefix("CARGO_PKG_");
    assert!(prefixed.fetch("NAME").await.unwrap().is_some());
    assert!(matches!(
        env.fetch("A=B").await,
        Err(SecretsError::InvalidName { .. })
    ));
    env.health().await.unwrap();
}

#[tokio::test]
async fn directory_of_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stripe"), "whsec_abc\n").unwrap();
    std::fs::write(dir.path().join("crlf"), "value\r\n").unwrap();
    std::fs::write(dir.path().join("two-lines"), "new\nold\n\n").unwrap();
    std::fs::write(dir.path().join("binary"), [0xff, 0xfe]).unwrap();
    std::fs::write(dir.path().join("huge"), vec![b'a'; MAX_SECRET_LEN + 1]).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let source = DirectorySource::new(dir.path());

    let stripe = source.fetch("stripe").await.unwrap().unwrap();
    assert_eq!(stripe.value().expose_secret(), "whsec_abc");
    let mtime = std::fs::metadata(dir.path().join("stripe"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(stripe.created_at(), Some(mtime));
    let crlf = source.fetch("crlf").await.unwrap().unwrap();
    assert_eq!(crlf.value().expose_secret(), "value");
    let lines: Vec<String> = source
        .fetch("two-lines")
        .await
        .unwrap()
        .unwrap()
        .lines()
        .map(|l| l.expose_secret().to_owned())
        .collect();
    assert_eq!(lines, ["new", "old"]);

    assert!(source.fetch("absent").await.unwrap().is_none());
    assert_eq!(
        source.fetch("binary").await.unwrap_err(),
        SecretsError::NotUtf8 {
            name: "binary".into()
        }
    );
    assert!(matches!(
        source.fetch("huge").await,
        Err(SecretsError::TooLarge { .. })
    ));
    assert!(matches!(
        source.fetch("sub").await,
        Err(SecretsError::Unavailable { .. })
    ));
    for name in ["../etc/passwd", "sub/x", ".hidden", "..data", ""] {
        assert!(
            matches!(
                source.fetch(name).await,
                Err(SecretsError::InvalidName { .. })
            ),
            "{name}"
        );
    }
    source.health().await.unwrap();
    let gone = DirectorySource::new(dir.path().join("nope"));
    assert!(matches!(
        gone.health().await,
        Err(SecretsError::Unavailable { .. })
    ));
}

#[cfg(unix)]
#[tokio::test]
async fn kubernetes_symlinked_secret_volume() {
    // Kubernetes mounts `<key> -> ..data/<key>`, `..data -> ..<timestamp>`, and updates by
    // swapping `..data`.
    let dir = tempfile::tempdir().unwrap();
    let v1 = dir.path().join("..2026_12_05_v1");
    let v2 = dir.path().join("..2026_12_05_v2");
    std::fs::create_dir(&v1).unwrap();
    std::fs::create_dir(&v2).unwrap();
    std::fs::write(v1.join("token"), "first").unwrap();
    std::fs::write(v2.join("token"), "second").unwrap();
    std::os::unix::fs::symlink(&v1, dir.path().join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/token", dir.path().join("token")).unwrap();
    let source = DirectorySource::new(dir.path());
    let read = || async {
        source
            .fetch("token")
            .await
            .unwrap()
            .unwrap()
            .value()
            .expose_secret()
            .to_owned()
    };
    assert_eq!(read().await, "first");
    std::os::unix::fs::symlink(&v2, dir.path().join("..data_tmp")).unwrap();
    std::fs::rename(dir.path().join("..data_tmp"), dir.path().join("..data")).unwrap();
    assert_eq!(read().await, "second");
}

#[tokio::test]
async fn dotenv_files_in_development_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(
        &path,
        "# development secrets\nSTRIPE=whsec_dev\nQUOTED=\"a b\"\nexport GITHUB=gh_dev\n",
    )
    .unwrap();
    assert_eq!(
        DotenvSource::new(&path, Environment::Production).unwrap_err(),
        SecretsError::DotenvInProduction {
            path: path.display().to_string()
        }
    );
    let source = DotenvSource::new(&path, Environment::Development).unwrap();
    let set = require(&source, &["STRIPE", "QUOTED", "GITHUB"])
        .await
        .unwrap();
    assert_eq!(
        set.get("STRIPE").unwrap().value().expose_secret(),
        "whsec_dev"
    );
    assert_eq!(set.get("QUOTED").unwrap().value().expose_secret(), "a b");
    assert_eq!(set.get("GITHUB").unwrap().value().expose_secret(), "gh_dev");
    assert!(set.get("STRIPE").unwrap().created_at().is_some());
    assert!(source.fetch("ABSENT").await.unwrap().is_none());
    source.health().await.unwrap();

    // A line that does not parse: the error does not quote it (it may hold a value).
    std::fs::write(&path, "GOOD=1\nBAD LINE supersecretvalue\n").unwrap();
    let error = source.fetch("GOOD").await.unwrap_err().to_string();
    assert!(!error.contains("supersecretvalue"), "{error}");
    assert!(source.health().await.is_err());
}

#[tokio::test]
async fn startup_validation_names_every_missing_secret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b"), "1").unwrap();
    let source = DirectorySource::new(dir.path());
    let error = require(&source, &["a", "b", "c"]).await.unwrap_err();
    assert_eq!(
        error,
        SecretsError::Missing {
            names: vec!["a".into(), "c".into()]
        }
    );
    assert_eq!(error.to_string(), "missing required secrets: a, c");
    let set = require(&source, &["b"]).await.unwrap();
    assert_eq!(set.len(), 1);
}

/// A source that counts its reads and answers from a map.
#[derive(Default)]
struct Counting {
    reads: AtomicUsize,
    values: Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl SecretSource for Counting {
    async fn fetch(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let values = self.values.lock().unwrap();
        Ok(values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| Secret::new(SecretString::from(v.clone()), None)))
    }

    async fn health(&self) -> Result<(), SecretsError> {
        Ok(())
    }
}

#[tokio::test]
async fn the_cache_keeps_answers_for_its_ttl() {
    assert_eq!(DEFAULT_TTL, Duration::from_secs(300));
    let inner = Arc::new(Counting::default());
    inner.values.lock().unwrap().push(("k".into(), "v1".into()));
    let start = Instant::now();
    let elapsed = Arc::new(AtomicU64::new(0));
    let clock = {
        let elapsed = Arc::clone(&elapsed);
        move || start + Duration::from_secs(elapsed.load(Ordering::SeqCst))
    };
    let cache = CachedSource::new(Arc::clone(&inner)).with_clock(clock);
    let value = |s: Option<Secret>| s.unwrap().value().expose_secret().to_owned();

    assert_eq!(value(cache.fetch("k").await.unwrap()), "v1");
    assert!(cache.fetch("absent").await.unwrap().is_none());
    inner.values.lock().unwrap()[0].1 = "v2".into();
    elapsed.store(299, Ordering::SeqCst);
    // Within the TTL: the cached value, and the cached absence, without a read.
    assert_eq!(value(cache.fetch("k").await.unwrap()), "v1");
    assert!(cache.fetch("absent").await.unwrap().is_none());
    assert_eq!(cache.fetch_many(&["k", "absent"]).await.unwrap().len(), 1);
    assert_eq!(inner.reads.load(Ordering::SeqCst), 2);
    // Past it: read again.
    elapsed.store(300, Ordering::SeqCst);
    assert_eq!(value(cache.fetch("k").await.unwrap()), "v2");
    assert_eq!(inner.reads.load(Ordering::SeqCst), 3);
    // Invalidated: read again at once.
    inner.values.lock().unwrap()[0].1 = "v3".into();
    cache.invalidate();
    let many = cache.fetch_many(&["k"]).await.unwrap();
    assert_eq!(many.get("k").unwrap().value().expose_secret(), "v3");
    cache.health().await.unwrap();
}

#[test]
fn debug_never_shows_a_value() {
    let secret = Secret::new(
        SecretString::from("hunter2-value"),
        Some(SystemTime::UNIX_EPOCH),
    );
    let shown = format!("{secret:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("REDACTED"));
}

proptest! {
    /// No name that could reach outside the directory is accepted, and checking never panics.
    #[test]
    fn accepted_names_are_never_paths(name in "\\PC{0,140}") {
        if check_name(&name).is_ok() {
            prop_assert!(!name.contains('/') && !name.contains('\\'));
            prop_assert!(!name.starts_with('.'));
            prop_assert!(!name.is_empty() && name.len() <= 128);
        }
    }
}
