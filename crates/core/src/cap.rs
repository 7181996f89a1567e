//! What a bounded table does when it is at its cap.

/// What a bounded in-memory table (a rate-limit store's keys, a nonce store's ids, a shield's
/// entries) does when it is at its cap and a new entry arrives, after its expired entries
/// have been dropped.
///
/// The choice is between forgetting live entries and refusing the newcomer, and which is
/// safe depends on what the table remembers; so each store names its own default and says
/// what forgetting costs there (a rate-limit key's spent quota, a replay id's protection).
/// There is deliberately no `Default` here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CapPolicy {
    /// Forget the live entries closest to expiry to make room, then insert: those are the
    /// entries whose loss matters least soonest. A flood of new entries evicts other new
    /// entries first. How many are forgotten at a time is the store's choice (it says so).
    EvictSoonestExpiring,
    /// Refuse the new entry with the store's "full" error; entries already held are kept
    /// untouched.
    Refuse,
}
