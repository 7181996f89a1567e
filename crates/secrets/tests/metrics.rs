//! The key-age gauge and the reload counter, recorded by a local `metrics` recorder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder, SharedString,
    Unit,
};
use palisade_secrets::{
    DirectorySource, QUARTERLY, Reload, Rotation, Secret, SecretSet, SecretString, check_ages,
};

/// Every recorded value, as `name{label=value,…} value`.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

struct Handle {
    line: String,
    log: Log,
}

impl CounterFn for Handle {
    fn increment(&self, value: u64) {
        self.log
            .0
            .lock()
            .unwrap()
            .push(format!("{} +{value}", self.line));
    }
    fn absolute(&self, _: u64) {}
}

impl GaugeFn for Handle {
    fn increment(&self, _: f64) {}
    fn decrement(&self, _: f64) {}
    fn set(&self, value: f64) {
        self.log
            .0
            .lock()
            .unwrap()
            .push(format!("{} ={value}", self.line));
    }
}

fn line(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for Log {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Handle {
            line: line(key),
            log: self.clone(),
        }))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::new(Handle {
            line: line(key),
            log: self.clone(),
        }))
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[test]
fn age_gauge_in_seconds_for_secrets_of_known_age() {
    let log = Log::default();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let mut set = SecretSet::new();
    set.insert(
        "old",
        Secret::new(
            SecretString::from("x"),
            Some(now - QUARTERLY - Duration::from_secs(1)),
        ),
    );
    set.insert("unknown", Secret::new(SecretString::from("y"), None));
    let too_old = metrics::with_local_recorder(&log, || check_ages(&set, Some(QUARTERLY), now));
    assert_eq!(too_old, ["old"]);
    let lines = log.0.lock().unwrap().clone();
    assert_eq!(lines, ["palisade_secret_age_seconds{secret=old} =7776001"]);
}

#[test]
fn reloads_are_counted_by_outcome() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k"), "1").unwrap();
    let log = Log::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    metrics::with_local_recorder(&log, || {
        rt.block_on(async {
            let build = |set: &SecretSet| Ok::<_, String>(set.get("k").map(|s| s.created_at()));
            let rotation = Rotation::new(DirectorySource::new(dir.path()), &["k"], build)
                .await
                .unwrap();
            assert_eq!(rotation.reload().await.unwrap(), Reload::Unchanged);
            std::fs::write(dir.path().join("k"), "2").unwrap();
            assert_eq!(rotation.reload().await.unwrap(), Reload::Swapped);
            std::fs::remove_file(dir.path().join("k")).unwrap();
            assert!(rotation.reload().await.is_err());
        });
    });
    let lines = log.0.lock().unwrap().clone();
    // Each successful reload also sets the age gauge of `k` (its file's age).
    let gauges = lines
        .iter()
        .filter(|l| l.starts_with("palisade_secret_age_seconds{secret=k} ="))
        .count();
    assert_eq!(gauges, 2, "{lines:?}");
    let counters: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("palisade_secret_reloads_total"))
        .collect();
    assert_eq!(
        counters,
        [
            "palisade_secret_reloads_total{outcome=unchanged} +1",
            "palisade_secret_reloads_total{outcome=swapped} +1",
            "palisade_secret_reloads_total{outcome=failed} +1",
        ]
    );
}
