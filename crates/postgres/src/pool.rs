//! [`pool_options`]: the sqlx pool settings the stores are measured with.

use sqlx::postgres::PgPoolOptions;

/// sqlx's [`PgPoolOptions`] for the stores of this crate: `PgPoolOptions::new()` with
/// [`test_before_acquire(false)`](PgPoolOptions::test_before_acquire). Set
/// `max_connections`, `acquire_timeout` and the rest as usual, then `connect`.
///
/// By default sqlx pings every idle connection it hands out (`Connection::ping`: one more
/// round trip to the server) before each statement. Every store here runs one statement per
/// call, so the ping doubles the round trips of each decision, append or lookup:
/// `docs/benchmarks.md` measures the rate-limit store at 16 connections going from 0.7–0.8
/// to about 0.9 of pgbench's decisions per second running the same statement without it.
///
/// What the ping bought, and what happens without it: a connection the server closed while
/// it was idle (a server restart, an idle-session timeout, a proxy dropping it) is found by
/// the next statement on it instead of by the ping, so that one call fails as a store failure
/// (`Unavailable`, which a `FallbackStore` handles as you chose) and sqlx opens a new
/// connection for the calls after it; with the ping, sqlx would have opened the new
/// connection before the call. Keep the default (plain `PgPoolOptions::new()`) when one
/// failed call after a server restart matters more to you than a round trip per call.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use palisade_postgres::pool_options;
///
/// let pool = pool_options()
///     .max_connections(16)
///     .acquire_timeout(Duration::from_secs(2))
///     .connect("postgres://postgres@127.0.0.1:5432/test")
///     .await?;
/// # let _ = pool;
/// # Ok(())
/// # }
/// ```
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new().test_before_acquire(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_connections_are_not_pinged() {
        assert!(!pool_options().get_test_before_acquire());
        assert!(PgPoolOptions::new().get_test_before_acquire());
    }
}
