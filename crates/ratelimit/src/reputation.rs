//! IP reputation: an abuse score per address from a service you choose, cached, whose bad
//! verdicts feed the penalty box.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ipnet::IpNet;

use crate::table::{Expiring, Table};
use crate::time::duration_nanos;
use crate::{CapPolicy, Clock, Key, SystemClock};

/// Default [`CachedReputation::threshold`]: an address whose score is **above 75** is bad
/// (AbuseIPDB's "confidence of abuse" is 0–100; 75 is the threshold its own docs suggest for
/// blocking).
pub const DEFAULT_REPUTATION_THRESHOLD: u8 = 75;
/// Default time a bad verdict is cached (and the address blocked): 24 hours.
pub const DEFAULT_BAD_TTL: Duration = Duration::from_secs(24 * 3600);
/// Default time a clean verdict is cached: 1 hour.
pub const DEFAULT_CLEAN_TTL: Duration = Duration::from_secs(3600);
/// Default bound of the verdict cache: 100,000 addresses.
pub const DEFAULT_REPUTATION_CACHE: usize = 100_000;

/// Why a reputation lookup failed. The message must never carry the service's API key or the
/// address looked up: implementations write a fixed reason or a status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReputationError {
    /// The service could not be reached, refused, or answered something unreadable.
    #[error("reputation lookup failed: {reason}")]
    Lookup {
        /// What went wrong, without the address or credentials.
        reason: String,
    },
    /// The service did not answer within [`CachedReputation::with_timeout`].
    #[error("reputation lookup timed out after {} ms", after.as_millis())]
    Timeout {
        /// How long the caller waited.
        after: Duration,
    },
    /// A reputation list (see [`StaticReputation::parse`]) does not parse.
    #[error("reputation list line {line}: {reason}")]
    InvalidList {
        /// The 1-based line.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Where abuse scores come from: a reputation service (AbuseIPDB, Spamhaus, your own
/// database), a list ([`StaticReputation`]) or a closure ([`ReputationFn`]).
///
/// `score` returns the abuse score of `ip` from **0** (no reports) to **100** (certainly
/// abusive); values above 100 count as 100. An address the service does not know is 0. It is
/// called through a [`CachedReputation`], once per address per TTL, never per request.
///
/// No vendor client ships here: the crate docs' recipe shows AbuseIPDB's `check` endpoint
/// behind this trait.
#[async_trait]
pub trait Reputation: Send + Sync {
    /// The abuse score of `ip`, 0–100.
    ///
    /// # Errors
    ///
    /// [`ReputationError::Lookup`] when the service fails; the cache then fails open or closed
    /// as configured ([`ReputationFailure`]).
    async fn score(&self, ip: IpAddr) -> Result<u8, ReputationError>;
}

#[async_trait]
impl<R: Reputation + ?Sized> Reputation for Arc<R> {
    async fn score(&self, ip: IpAddr) -> Result<u8, ReputationError> {
        (**self).score(ip).await
    }
}

/// A [`Reputation`] from an async closure: `ReputationFn::new(|ip| async move { … })`.
pub struct ReputationFn<F>(F);

impl<F> ReputationFn<F> {
    /// The closure as a reputation source.
    pub const fn new(f: F) -> Self {
        Self(f)
    }
}

impl<F> fmt::Debug for ReputationFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReputationFn")
    }
}

#[async_trait]
impl<F, Fut> Reputation for ReputationFn<F>
where
    F: Fn(IpAddr) -> Fut + Send + Sync,
    Fut: Future<Output = Result<u8, ReputationError>> + Send,
{
    async fn score(&self, ip: IpAddr) -> Result<u8, ReputationError> {
        (self.0)(ip).await
    }
}

/// Scores from a list: addresses and networks (CIDR) with a score each; the most specific
/// network containing an address wins, an address on no line scores 0.
///
/// ```
/// use palisade_ratelimit::{Reputation, StaticReputation};
///
/// let list = StaticReputation::parse("
///     203.0.113.7     100   # address or network, then a score 0-100
///     198.51.100.0/24  80
///     198.51.100.9      0
///     2001:db8::/32    90
/// ")?;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(list.score("203.0.113.7".parse()?).await?, 100);
/// assert_eq!(list.score("198.51.100.1".parse()?).await?, 80);
/// assert_eq!(list.score("198.51.100.9".parse()?).await?, 0);
/// assert_eq!(list.score("::ffff:198.51.100.1".parse()?).await?, 80);
/// assert_eq!(list.score("192.0.2.1".parse()?).await?, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticReputation {
    /// Score per network, grouped by prefix length, longest first.
    by_prefix: Vec<(u16, HashMap<IpNet, u8>)>,
}

impl StaticReputation {
    /// Parses a list: one `<address or network> <score>` per line (whitespace between),
    /// blank lines and `#` comments ignored; a score above 100 is refused. A file of such lines
    /// is read with `std::fs::read_to_string` first.
    ///
    /// # Errors
    ///
    /// [`ReputationError::InvalidList`] naming the first bad line.
    pub fn parse(text: &str) -> Result<Self, ReputationError> {
        let mut list = Self::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let bad = |reason| ReputationError::InvalidList {
                line: i + 1,
                reason,
            };
            let mut parts = line.split_whitespace();
            let (Some(net), Some(score), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad("expected `<address or network> <score>`"));
            };
            let net: IpNet = match net.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => net
                    .parse::<IpAddr>()
                    .map(IpNet::from)
                    .map_err(|_| bad("not an IP address or network"))?,
            };
            let score: u8 = score
                .parse()
                .ok()
                .filter(|s| *s <= 100)
                .ok_or(bad("the score must be 0 to 100"))?;
            list.insert(net, score);
        }
        Ok(list)
    }

    /// Adds (or replaces) the score of `net`.
    pub fn insert(&mut self, net: IpNet, score: u8) {
        let net = canonical_net(net.trunc());
        let len = prefix_key(&net);
        match self.by_prefix.iter_mut().find(|(l, _)| *l == len) {
            Some((_, map)) => {
                map.insert(net, score.min(100));
            }
            None => {
                self.by_prefix
                    .push((len, HashMap::from([(net, score.min(100))])));
                self.by_prefix.sort_by_key(|e| std::cmp::Reverse(e.0));
            }
        }
    }

    fn lookup(&self, ip: IpAddr) -> u8 {
        let ip = canonical_ip(ip);
        for (len, map) in &self.by_prefix {
            let prefix = match ip {
                IpAddr::V4(_) if *len >= 128 => continue,
                IpAddr::V4(_) => *len,
                IpAddr::V6(_) if *len < 128 => continue,
                IpAddr::V6(_) => *len - 128,
            };
            let Ok(prefix) = u8::try_from(prefix) else {
                continue;
            };
            if let Ok(net) = IpNet::new(ip, prefix)
                && let Some(score) = map.get(&net.trunc())
            {
                return *score;
            }
        }
        0
    }
}

/// A prefix length that keeps IPv4 (0–32) and IPv6 (128–256) networks apart.
fn prefix_key(net: &IpNet) -> u16 {
    match net {
        IpNet::V4(n) => u16::from(n.prefix_len()),
        IpNet::V6(n) => u16::from(n.prefix_len()) + 128,
    }
}

fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// An IPv4-mapped IPv6 network (`::ffff:a.b.c.d/n`, n ≥ 96) as its IPv4 network.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(n) if n.prefix_len() >= 96 => match n.network().to_ipv4_mapped() {
            Some(v4) => IpNet::new(IpAddr::V4(v4), n.prefix_len() - 96).unwrap_or(net),
            None => net,
        },
        other => other,
    }
}

#[async_trait]
impl Reputation for StaticReputation {
    async fn score(&self, ip: IpAddr) -> Result<u8, ReputationError> {
        Ok(self.lookup(ip))
    }
}

/// What a [`CachedReputation`] answers when its service fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReputationFailure {
    /// Let the request through ([`ReputationVerdict::FailedOpen`]): an outage of the
    /// reputation service does not become yours. The default.
    #[default]
    FailOpen,
    /// Refuse the request ([`ReputationVerdict::FailedClosed`]): for endpoints where an
    /// unscreened address must not get in (signup, SMS sending).
    FailClosed,
}

/// What [`CachedReputation::check`] says about an address.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReputationVerdict {
    /// Score at or below the threshold.
    Clean {
        /// The score, 0–100.
        score: u8,
    },
    /// Score above the threshold: block the address for `remaining` (the rest of the cached
    /// bad verdict) with [`RateLimitStore::block`](crate::RateLimitStore::block).
    Bad {
        /// The score, 0–100.
        score: u8,
        /// How long the bad verdict is still cached (at least 1 ns).
        remaining: Duration,
    },
    /// The lookup failed and the cache fails open: admit, uncached.
    FailedOpen(ReputationError),
    /// The lookup failed and the cache fails closed: refuse, uncached.
    FailedClosed(ReputationError),
}

impl ReputationVerdict {
    /// `true` for [`Clean`](Self::Clean) and [`FailedOpen`](Self::FailedOpen).
    pub const fn is_allowed(&self) -> bool {
        matches!(self, Self::Clean { .. } | Self::FailedOpen(_))
    }
}

/// A cached verdict: the score, until when (ns since the epoch).
struct Cached {
    score: u8,
    until: u64,
}

impl Expiring for Cached {
    fn expires_at(&self) -> u64 {
        self.until
    }
}

/// A [`Reputation`] source behind a bounded cache, with separate lifetimes for bad and clean
/// verdicts and a chosen behaviour when the source fails.
///
/// - **Threshold**: an address whose score is *above* the threshold is bad
///   ([`DEFAULT_REPUTATION_THRESHOLD`], 75: the seed systems block scores above 75).
/// - **TTLs**: a bad verdict is cached for [`DEFAULT_BAD_TTL`] (24 h), a clean one for
///   [`DEFAULT_CLEAN_TTL`] (1 h); failures are not cached (the next request asks again).
/// - **Bounded cache** ([`DEFAULT_REPUTATION_CACHE`] addresses): the same sharded table as the
///   memory store's, keyed by the address (IPv4-mapped IPv6 folded to IPv4), hashed with
///   SipHash-1-3 under a random key. **Eviction**: when a shard is full, its expired verdicts
///   go first, then the eighth of it *closest to expiry*. Clean verdicts live 24 times shorter
///   than bad ones, so a flood of new, clean addresses evicts clean verdicts before bad ones:
///   it cannot make the cache forget the addresses it has judged bad (in the penalty box they
///   are blocked anyway). Eviction only costs a new lookup.
/// - **Failures**: [`ReputationFailure::FailOpen`] (default) or `FailClosed`; with feature
///   `tokio`, [`with_timeout`](Self::with_timeout) turns a lookup that hangs into a failure.
///
/// Concurrent first requests from one address may each look it up; put the rate limit
/// before the reputation check (as palisade-tower's `RateLimitLayer::reputation` does) so a
/// flood costs at most one lookup per admitted request until the first answer is cached.
///
/// Bad verdicts feed the **penalty box**: the caller blocks the client's rate-limit key for
/// [`ReputationVerdict::Bad`]'s `remaining` (`RateLimitStore::block`), so every instance
/// sharing the store refuses it without a lookup of its own, and it shows in
/// [`PenaltyBox::blocks`](crate::PenaltyBox::blocks).
///
/// ```
/// use palisade_ratelimit::{CachedReputation, ReputationFn, ReputationVerdict};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let lookups = Arc::new(AtomicUsize::new(0));
/// let counter = lookups.clone();
/// let reputation = CachedReputation::new(ReputationFn::new(move |ip: std::net::IpAddr| {
///     counter.fetch_add(1, Ordering::Relaxed);
///     async move { Ok(if ip.to_string() == "203.0.113.7" { 90 } else { 3 }) }
/// }));
/// let bad = "203.0.113.7".parse()?;
/// assert!(matches!(reputation.check(bad).await, ReputationVerdict::Bad { score: 90, .. }));
/// assert!(!reputation.check(bad).await.is_allowed()); // cached: no second lookup
/// assert_eq!(reputation.check("192.0.2.1".parse()?).await, ReputationVerdict::Clean { score: 3 });
/// assert_eq!(lookups.load(Ordering::Relaxed), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CachedReputation {
    source: Arc<dyn Reputation>,
    cache: Table<Cached>,
    clock: Arc<dyn Clock>,
    threshold: u8,
    bad_ttl: Duration,
    clean_ttl: Duration,
    on_failure: ReputationFailure,
    #[cfg(feature = "tokio")]
    timeout: Option<Duration>,
}

impl fmt::Debug for CachedReputation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedReputation")
            .field("cached", &self.cache.len())
            .field("threshold", &self.threshold)
            .field("bad_ttl", &self.bad_ttl)
            .field("clean_ttl", &self.clean_ttl)
            .field("on_failure", &self.on_failure)
            .finish_non_exhaustive()
    }
}

fn shards() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 4)
}

impl CachedReputation {
    /// `source` behind a cache of [`DEFAULT_REPUTATION_CACHE`] addresses, with the default
    /// threshold and TTLs, failing open, on the system clock.
    pub fn new(source: impl Reputation + 'static) -> Self {
        Self {
            source: Arc::new(source),
            cache: Table::new(
                shards(),
                DEFAULT_REPUTATION_CACHE,
                CapPolicy::EvictSoonestExpiring,
            ),
            clock: Arc::new(SystemClock),
            threshold: DEFAULT_REPUTATION_THRESHOLD,
            bad_ttl: DEFAULT_BAD_TTL,
            clean_ttl: DEFAULT_CLEAN_TTL,
            on_failure: ReputationFailure::FailOpen,
            #[cfg(feature = "tokio")]
            timeout: None,
        }
    }

    /// Scores above `threshold` (0–100) are bad.
    #[must_use]
    pub fn threshold(mut self, threshold: u8) -> Self {
        self.threshold = threshold;
        self
    }

    /// How long bad and clean verdicts are cached.
    #[must_use]
    pub fn ttls(mut self, bad: Duration, clean: Duration) -> Self {
        self.bad_ttl = bad;
        self.clean_ttl = clean;
        self
    }

    /// At most about `cap` cached addresses (the cache is emptied).
    #[must_use]
    pub fn capacity(mut self, cap: usize) -> Self {
        self.cache = Table::new(shards(), cap, CapPolicy::EvictSoonestExpiring);
        self
    }

    /// What to answer when the source fails (default [`ReputationFailure::FailOpen`]).
    #[must_use]
    pub fn on_failure(mut self, on_failure: ReputationFailure) -> Self {
        self.on_failure = on_failure;
        self
    }

    /// Reads `clock` for the TTLs (tests: a [`ManualClock`](crate::ManualClock)).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A lookup taking longer than `timeout` fails with [`ReputationError::Timeout`] (feature
    /// `tokio`; needs a tokio runtime with timers).
    #[cfg(feature = "tokio")]
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Number of cached verdicts, expired or not.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// The verdict on `ip`: from the cache while it lasts, otherwise from the source (then
    /// cached). Never an error: failures become [`ReputationVerdict::FailedOpen`] or
    /// [`FailedClosed`](ReputationVerdict::FailedClosed).
    pub async fn check(&self, ip: IpAddr) -> ReputationVerdict {
        let key = Key::from(ip);
        let now = self.clock.now().as_unix_nanos();
        if let Some((score, until)) = self.cache.get(0, &key, |c| (c.score, c.until))
            && until > now
        {
            return self.verdict(score, until - now);
        }
        let score = match self.lookup(canonical_ip(ip)).await {
            Ok(score) => score.min(100),
            Err(e) => {
                return match self.on_failure {
                    ReputationFailure::FailOpen => ReputationVerdict::FailedOpen(e),
                    ReputationFailure::FailClosed => ReputationVerdict::FailedClosed(e),
                };
            }
        };
        let ttl = duration_nanos(if score > self.threshold {
            self.bad_ttl
        } else {
            self.clean_ttl
        });
        let now = self.clock.now().as_unix_nanos();
        let until = now.saturating_add(ttl);
        // A full shard evicts (never refuses): an insertion error cannot happen; if it did,
        // the verdict is still answered, uncached.
        let _ = self.cache.upsert(0, &key, now, |_| Cached { score, until });
        self.verdict(score, ttl)
    }

    fn verdict(&self, score: u8, remaining_ns: u64) -> ReputationVerdict {
        if score > self.threshold {
            ReputationVerdict::Bad {
                score,
                remaining: Duration::from_nanos(remaining_ns.max(1)),
            }
        } else {
            ReputationVerdict::Clean { score }
        }
    }

    async fn lookup(&self, ip: IpAddr) -> Result<u8, ReputationError> {
        #[cfg(feature = "tokio")]
        if let Some(after) = self.timeout {
            return match tokio::time::timeout(after, self.source.score(ip)).await {
                Ok(r) => r,
                Err(_) => Err(ReputationError::Timeout { after }),
            };
        }
        self.source.score(ip).await
    }
}
