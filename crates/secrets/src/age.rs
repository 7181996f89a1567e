//! Key age: secrets older than a maximum age are reported (a rotation is due).

use std::time::{Duration, SystemTime};

use palisade_telemetry::{METRIC_SECRET_AGE, SECRET_TOO_OLD};
use tracing::Level;

use crate::secret::SecretSet;

/// 90 days (7 776 000 seconds): a quarterly rotation policy, as many compliance regimes ask
/// of signing secrets and encryption keys.
pub const QUARTERLY: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// Reports the age of every secret of `set` whose creation time is known, at `now`: sets the
/// gauge [`palisade_secret_age_seconds{secret}`](palisade_telemetry::METRIC_SECRET_AGE) (in
/// seconds), and, for each secret older than `max_age`, emits the `tracing` warning
/// `secrets.too_old` (fields `secret`, `age_secs`, `max_age_secs`; never the value). Returns
/// the names of those too old.
///
/// Secrets of unknown creation time are skipped (no gauge, no warning): give environment
/// variables a `<NAME>_CREATED_AT`.
pub fn check_ages(set: &SecretSet, max_age: Option<Duration>, now: SystemTime) -> Vec<String> {
    let mut too_old = Vec::new();
    for (name, secret) in set.iter() {
        let Some(age) = secret.age(now) else {
            continue;
        };
        metrics::gauge!(METRIC_SECRET_AGE, "secret" => name.to_owned()).set(age.as_secs_f64());
        if let Some(max) = max_age.filter(|max| age > *max) {
            emit!(
                Level::WARN,
                SECRET_TOO_OLD,
                secret = name,
                age_secs = age.as_secs(),
                max_age_secs = max.as_secs(),
                "secret older than its maximum age: rotate it"
            );
            too_old.push(name.to_owned());
        }
    }
    too_old
}
