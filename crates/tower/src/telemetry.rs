//! Stable event and metric names.
//!
//! Every refusal and every verified webhook emits one `tracing` event whose *name* (the
//! `name:` of the event, visible to subscribers as `Metadata::name`) and whose `event` field
//! are one of the constants below (re-exported from `palisade-telemetry`, the workspace's one list of names), with target `palisade_tower`. Subscribers and log
//! pipelines can match either. Events never carry a body, a secret, a signature or a query
//! value: only provider names, outcomes, status codes, parameter *names* and the `Display` of
//! error types that are documented as secret-free.
//!
//! Counters go through the [`metrics`] facade: install any recorder
//! (`metrics-exporter-prometheus`, …) to collect them; without one they cost an atomic load.

pub use palisade_telemetry::*;

/// Emits one event named `$name` (also in its `event` field) with target `palisade_tower`.
macro_rules! emit {
    ($level:expr, $name:expr, $($fields:tt)+) => {
        ::tracing::event!(name: $name, target: "palisade_tower", $level, event = $name, $($fields)+)
    };
}
pub(crate) use emit;
