//! The handlers, one module per resource.

pub(crate) mod admin;
pub(crate) mod assistants;
pub(crate) mod bookings;
pub(crate) mod calls;
pub(crate) mod signin;
pub(crate) mod webhook;

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
