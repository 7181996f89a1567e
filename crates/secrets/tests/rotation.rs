//! Rotation without restart: swaps when the secrets change, keeps the old value when a reload
//! fails, readers never see a torn value under concurrent swaps, and key-age reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use palisade_secrets::{
    CachedSource, DirectorySource, ExposeSecret, QUARTERLY, Reload, Rotation, Secret, SecretSet,
    SecretString, SecretsError, check_ages,
};

/// Writes `value` to `dir/name` atomically (a temporary file renamed over it).
fn put(dir: &Path, name: &str, value: &str) {
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, value).unwrap();
    std::fs::rename(tmp, dir.join(name)).unwrap();
}

/// The built value: both secrets, which must always come from the same generation.
#[derive(Debug)]
struct Pair {
    a: String,
    b: String,
}

fn pair(set: &SecretSet) -> Result<Pair, String> {
    let get = |n: &str| set.get(n).unwrap().value().expose_secret().to_owned();
    let (a, b) = (get("a"), get("b"));
    if a == "refuse" {
        return Err("value refused by the builder".to_owned());
    }
    Ok(Pair { a, b })
}

#[tokio::test]
async fn swaps_on_change_and_keeps_the_old_value_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "a", "a1");
    put(dir.path(), "b", "b1");
    let rotation = Rotation::new(DirectorySource::new(dir.path()), &["a", "b"], pair)
        .await
        .unwrap();
    let handle = rotation.handle();
    let before = rotation.current();
    assert_eq!((before.a.as_str(), before.b.as_str()), ("a1", "b1"));
    assert_eq!(rotation.reload().await.unwrap(), Reload::Unchanged);
    assert!(Arc::ptr_eq(&before, &rotation.current()));

    put(dir.path(), "a", "a2");
    assert_eq!(rotation.reload().await.unwrap(), Reload::Swapped);
    assert_eq!(handle.load().a, "a2");
    // A reader that loaded the old value keeps it.
    assert_eq!(before.a, "a1");

    // A builder refusal and a missing secret keep the current value.
    put(dir.path(), "a", "refuse");
    assert!(matches!(
        rotation.reload().await,
        Err(SecretsError::Build { .. })
    ));
    assert_eq!(rotation.current().a, "a2");
    std::fs::remove_file(dir.path().join("b")).unwrap();
    assert_eq!(
        rotation.reload().await.unwrap_err(),
        SecretsError::Missing {
            names: vec!["b".into()]
        }
    );
    assert_eq!(rotation.current().a, "a2");
    // Fixed: swapped in.
    put(dir.path(), "a", "a3");
    put(dir.path(), "b", "b3");
    assert_eq!(rotation.reload().await.unwrap(), Reload::Swapped);
    assert_eq!(
        (handle.load().a.as_str(), handle.load().b.as_str()),
        ("a3", "b3")
    );
}

#[tokio::test]
async fn startup_fails_naming_the_missing_and_the_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Rotation::new(DirectorySource::new(dir.path()), &["a", "b"], pair)
        .await
        .unwrap_err();
    assert_eq!(
        missing,
        SecretsError::Missing {
            names: vec!["a".into(), "b".into()]
        }
    );
    put(dir.path(), "a", "refuse");
    put(dir.path(), "b", "x");
    let refused = Rotation::new(DirectorySource::new(dir.path()), &["a", "b"], pair)
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "could not build from the secrets: value refused by the builder"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_a_torn_value_under_concurrent_swaps() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "a", "0");
    put(dir.path(), "b", "0");
    let rotation = Arc::new(
        Rotation::new(DirectorySource::new(dir.path()), &["a", "b"], pair)
            .await
            .unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (handle, stop) = (rotation.handle(), Arc::clone(&stop));
        readers.push(tokio::spawn(async move {
            let mut seen = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let value = handle.load_full();
                assert_eq!(value.a, value.b, "a value built from two generations");
                seen += 1;
                tokio::task::yield_now().await;
            }
            seen
        }));
    }
    for generation in 1..=50 {
        // Both files change before the reload: a reload reads both.
        put(dir.path(), "a", &generation.to_string());
        put(dir.path(), "b", &generation.to_string());
        assert_eq!(rotation.reload().await.unwrap(), Reload::Swapped);
    }
    stop.store(true, Ordering::SeqCst);
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
    assert_eq!(rotation.current().a, "50");
}

#[tokio::test]
async fn watch_reloads_on_its_interval_through_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "a", "1");
    put(dir.path(), "b", "1");
    let source = CachedSource::new(DirectorySource::new(dir.path())).ttl(Duration::ZERO);
    let rotation = Arc::new(Rotation::new(source, &["a", "b"], pair).await.unwrap());
    let task = rotation.watch(Duration::from_millis(10));
    put(dir.path(), "a", "2");
    put(dir.path(), "b", "2");
    // Bounded wait for the watcher (not a timing assertion: it only has to happen).
    let mut swapped = false;
    for _ in 0..500 {
        if rotation.current().a == "2" {
            swapped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    assert!(swapped, "the watcher did not swap the new value in");
}

#[test]
fn key_age_reports_secrets_older_than_the_maximum() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000 * 24 * 3600);
    let day = Duration::from_secs(24 * 3600);
    let mut set = SecretSet::new();
    set.insert(
        "fresh",
        Secret::new(SecretString::from("x"), Some(now - 10 * day)),
    );
    set.insert(
        "stale",
        Secret::new(SecretString::from("y"), Some(now - 91 * day)),
    );
    set.insert("unknown", Secret::new(SecretString::from("z"), None));
    assert_eq!(check_ages(&set, Some(QUARTERLY), now), ["stale"]);
    assert!(check_ages(&set, None, now).is_empty());
    assert_eq!(set.get("stale").unwrap().age(now), Some(91 * day));
}
