//! Capturing the events a test emits (feature `testing`).
//!
//! ```
//! let log = palisade_telemetry::testing::CapturedEvents::during(|| {
//!     tracing::warn!(
//!         name: palisade_telemetry::URL_BLOCKED,
//!         event = palisade_telemetry::URL_BLOCKED,
//!         reason = "address"
//!     );
//! });
//! assert_eq!(log.count(palisade_telemetry::URL_BLOCKED), 1);
//! assert!(log.lines()[0].contains("reason=\"address\""));
//! ```

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// The events emitted while a closure ran (or while [`subscriber`](Self::subscriber) was the
/// default), one line each in `tracing-subscriber`'s plain format: `LEVEL target: field=value
/// …`, string fields quoted (`event="url.blocked"`), without ANSI colours.
#[derive(Clone, Default)]
pub struct CapturedEvents {
    buffer: Arc<Mutex<Vec<u8>>>,
}

/// The writer handed to the subscriber: appends to the shared buffer.
struct Writer(Arc<Mutex<Vec<u8>>>);

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedEvents {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `run` with a subscriber capturing every event (TRACE and up) on this thread.
    pub fn during(run: impl FnOnce()) -> Self {
        let captured = Self::new();
        tracing::subscriber::with_default(captured.subscriber(), run);
        captured
    }

    /// A subscriber writing into this capture: for async tests, install it with
    /// `tracing::subscriber::set_default` and keep the guard while the futures run.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        let buffer = Arc::clone(&self.buffer);
        tracing_subscriber::fmt()
            .with_writer(move || Writer(Arc::clone(&buffer)))
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .without_time()
            .finish()
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        let bytes = self
            .buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The captured lines, one event each.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// How many captured events carry `event="<name>"` (one of this crate's constants).
    pub fn count(&self, name: &str) -> usize {
        let field = format!("event=\"{name}\"");
        self.lines().iter().filter(|l| l.contains(&field)).count()
    }
}
