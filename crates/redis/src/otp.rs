//! [`RedisChallengeStore`]: palisade-otp's [`ChallengeStore`] on Redis, one Lua script per
//! operation.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use palisade_otp::{
    Challenge, ChallengeState, ChallengeStore, CheckOutcome, CodeHash, NewChallenge, OtpError,
    RecoveryOutcome, SubjectKey,
};
use palisade_ratelimit::Timestamp;
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Script, Value};

use crate::RedisStoreError;
use crate::client::{self, DEFAULT_TIMEOUT};

/// The default key prefix of [`RedisChallengeStore`].
pub const DEFAULT_OTP_PREFIX: &str = "palisade:otp:";

/// How long a challenge's hash is kept after both its expiry and its resend cooldown have
/// passed (1 hour), so that a late answer reads [`CheckOutcome::Expired`] rather than
/// [`CheckOutcome::NotFound`].
pub const EXPIRED_CHALLENGE_RETENTION: Duration = Duration::from_secs(3_600);

/// The default TTL of last accepted steps and recovery-code sets (10 years), renewed by every
/// write: long enough that an HOTP counter or a recovery set is never forgotten in practice,
/// while no key lives forever.
pub const DEFAULT_OTP_RETENTION: Duration = Duration::from_secs(10 * 365 * 86_400);

/// The longest TTL, cooldown or retention used (100 years): longer ones are shortened to it,
/// which keeps every instant in the scripts below 2⁵³ µs.
const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The Lua sources: the prelude (`TIME`), then the operation.
macro_rules! otp_lua {
    ($file:literal) => {
        concat!(
            include_str!("../lua/otp_prelude.lua"),
            "\n",
            include_str!(concat!("../lua/", $file))
        )
    };
}

/// The scripts, built (and hashed) once per process.
struct Scripts {
    issue: Script,
    check: Script,
    get: Script,
    step: Script,
    recovery_replace: Script,
    recovery_use: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    issue: Script::new(otp_lua!("otp_issue.lua")),
    check: Script::new(otp_lua!("otp_check.lua")),
    get: Script::new(otp_lua!("otp_get.lua")),
    step: Script::new(include_str!("../lua/otp_step.lua")),
    recovery_replace: Script::new(include_str!("../lua/otp_recovery_replace.lua")),
    recovery_use: Script::new(include_str!("../lua/otp_recovery_use.lua")),
});

/// A [`ChallengeStore`] on Redis (or a server speaking its protocol and its Lua: Valkey,
/// KeyDB), deciding with the server's clock (`TIME`), one script call per operation.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use palisade_otp::{ChallengeStore, CheckOutcome, NewChallenge, Pepper, Peppers, SubjectKey};
/// use palisade_redis::{DEFAULT_TIMEOUT, RedisChallengeStore};
///
/// // Needs a Redis server: `redis-server --port 6379`.
/// let store = RedisChallengeStore::connect("redis://127.0.0.1:6379/", DEFAULT_TIMEOUT).await?;
/// let peppers = Peppers::new(Pepper::generate("2026-01")?);
/// let key = SubjectKey::new("tenant-1", "login", "+15550100");
/// let hash = peppers.hash(&key, b"493817");
/// let ttl = Duration::from_secs(30 * 60);
/// store.issue(NewChallenge::new(key.clone(), hash, ttl, 3)?, Duration::from_secs(60)).await?;
/// let outcome = store.check_and_count(&key, &peppers.candidates(&key, b"493817")).await?;
/// assert_eq!(outcome, CheckOutcome::Verified);
/// # Ok(())
/// # }
/// ```
///
/// # Keys
///
/// With `<k>` the lowercase hex of the [`SubjectKey`]'s tenant, purpose and subject, each
/// preceded by its length in bytes (u32, big-endian), so that no two keys collide:
///
/// - `<prefix>{<k>}:c`: a hash, the challenge: `id`, `pid` (pepper id), `mac` (32 bytes),
///   `iat` and `exp` (issued at, expires at), `cd` (end of the resend cooldown), `att`
///   (attempts used), `max`, `st` (`p`ending, `c`onsumed, `l`ocked, `e`xpired); instants in µs
///   since the epoch on the server's clock. Its TTL (`PEXPIREAT`) is the later of the expiry
///   and the cooldown's end, plus [`EXPIRED_CHALLENGE_RETENTION`].
/// - `<prefix>{<k>}:s`: a string, the last accepted HOTP counter / TOTP step (decimal).
/// - `<prefix>{<k>}:r`: a set, the unused recovery codes, each the 32-byte MAC followed by
///   its pepper id.
///
/// Steps and recovery sets carry a TTL of the store's retention
/// ([`DEFAULT_OTP_RETENTION`], 10 years, unless [`with_retention`](Self::with_retention) says
/// otherwise), set by each write. The subject is only hex-encoded, not hidden: a phone number
/// used as a subject is readable by whoever can list the keys.
///
/// The three keys of a subject share the hash tag `{<k>}`, and each script touches one key,
/// so the store works unchanged on a `redis::cluster_async::ClusterConnection`. The prefix
/// (default [`DEFAULT_OTP_PREFIX`]) may not contain `{` or `}`.
///
/// # One round trip per operation
///
/// The scripts are in the crate's `lua/` directory, each a Redis script (atomic), called by
/// SHA (`EVALSHA`) and sent again (`EVAL`, which loads it) when the server answers
/// `NOSCRIPT`, after a restart or a `SCRIPT FLUSH`:
///
/// - [`issue`](ChallengeStore::issue): `otp_issue.lua`: `TIME`, `HGET cd` (refused within
///   the cooldown), `HSET` of every field, `PEXPIREAT`.
/// - [`check_and_count`](ChallengeStore::check_and_count): `otp_check.lua`: `TIME`, `HMGET`;
///   refuses an unknown, consumed, locked or expired challenge without comparing; counts the
///   attempt, compares, and writes the count and state in one `HSET`.
/// - [`get`](ChallengeStore::get): `otp_get.lua`: `TIME`, `HMGET`.
/// - [`accept_step`](ChallengeStore::accept_step): `otp_step.lua`: `GET`, then `SET … PX`
///   when the step is greater (compared as decimal strings: a u64 does not fit a double).
/// - [`last_step`](ChallengeStore::last_step): a plain `GET` of the step key (no script: a
///   read decides nothing).
/// - [`replace_recovery_codes`](ChallengeStore::replace_recovery_codes):
///   `otp_recovery_replace.lua`: `DEL`, `SADD` of each code, `PEXPIRE`.
/// - [`consume_recovery_code`](ChallengeStore::consume_recovery_code):
///   `otp_recovery_use.lua`: `SREM` of each candidate until one is removed, `SCARD`.
///
/// # Comparisons
///
/// Lua has no constant-time comparison: the scripts compare with string equality (and set
/// membership). The values compared are 32-byte HMAC-SHA256 outputs under a pepper the
/// server never sees, so the time an equality test takes on them reveals nothing useful to
/// an attacker: learning a prefix of a keyed MAC does not help forge one for a chosen code.
///
/// # Timeouts and errors
///
/// Each call runs under the store's timeout ([`DEFAULT_TIMEOUT`], 1 s, unless
/// [`with_timeout`](Self::with_timeout) says otherwise). Every failure (connection, server,
/// timeout, a script failing or answering an unexpected shape) is
/// [`OtpError::StoreUnavailable`] with a reason beginning `redis:`, never a verdict: a caller
/// refuses the code. A call that timed out may still have been carried out (an attempt
/// counted). No error quotes a key, a URL or credentials.
#[derive(Clone)]
pub struct RedisChallengeStore<C = ConnectionManager> {
    conn: C,
    prefix: String,
    timeout: Duration,
    retention: Duration,
}

impl<C> fmt::Debug for RedisChallengeStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisChallengeStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl RedisChallengeStore<ConnectionManager> {
    /// Connects to the Redis at `url` now (`redis://[user:password@]host:port/db`), with
    /// `timeout` as the timeout of connecting and of each call ([`DEFAULT_TIMEOUT`] is a
    /// sensible value).
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] for a URL that does not parse or a zero timeout;
    /// [`RedisStoreError::Unavailable`] when the server refuses the connection or the
    /// credentials; [`RedisStoreError::Timeout`] when it does not answer in time. No error
    /// quotes the URL or its credentials.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, RedisStoreError> {
        let conn = client::connect(url, timeout).await?;
        Self::new(conn).with_timeout(timeout)
    }

    /// As [`connect`](Self::connect), but connects on the first call instead of now. Must be
    /// called inside a tokio runtime.
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] for a URL that does not parse or a zero timeout.
    pub fn connect_lazy(url: &str, timeout: Duration) -> Result<Self, RedisStoreError> {
        let conn = client::connect_lazy(url, timeout)?;
        Self::new(conn).with_timeout(timeout)
    }
}

impl<C> RedisChallengeStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// A store on a connection you built (a [`ConnectionManager`], a `MultiplexedConnection`,
    /// a `ClusterConnection`, …), with [`DEFAULT_OTP_PREFIX`], [`DEFAULT_TIMEOUT`] and
    /// [`DEFAULT_OTP_RETENTION`].
    pub fn new(conn: C) -> Self {
        Self {
            conn,
            prefix: DEFAULT_OTP_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            retention: DEFAULT_OTP_RETENTION,
        }
    }

    /// Uses `prefix` before every key instead of [`DEFAULT_OTP_PREFIX`].
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] when `prefix` contains `{` or `}`: it would become
    /// the Redis Cluster hash tag of every key.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Result<Self, RedisStoreError> {
        self.prefix = client::check_prefix(prefix.into())?;
        Ok(self)
    }

    /// Sets the timeout of each call (default [`DEFAULT_TIMEOUT`], 1 s).
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] for a zero timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, RedisStoreError> {
        self.timeout = client::check_timeout(timeout)?;
        Ok(self)
    }

    /// Sets the TTL of last accepted steps and recovery-code sets, renewed by each write
    /// (default [`DEFAULT_OTP_RETENTION`], at most 100 years). Past it an HOTP counter is
    /// forgotten (old codes would be accepted again) and recovery codes are lost: keep it far
    /// longer than any account stays idle.
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidConfig`] for a retention shorter than 1 second.
    pub fn with_retention(mut self, retention: Duration) -> Result<Self, RedisStoreError> {
        if retention < Duration::from_secs(1) {
            return Err(RedisStoreError::InvalidConfig {
                reason: "retention shorter than 1 second",
            });
        }
        self.retention = retention.min(MAX_DURATION);
        Ok(self)
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The timeout of each call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connection the store uses.
    pub fn connection(&self) -> &C {
        &self.conn
    }

    /// The Redis key of `key`'s challenge: `<prefix>{<k>}:c` (see the type's docs).
    pub fn challenge_key(&self, key: &SubjectKey) -> String {
        self.redis_key(key, 'c')
    }

    /// The Redis key of `key`'s last accepted step: `<prefix>{<k>}:s`.
    pub fn step_key(&self, key: &SubjectKey) -> String {
        self.redis_key(key, 's')
    }

    /// The Redis key of `key`'s recovery codes: `<prefix>{<k>}:r`.
    pub fn recovery_key(&self, key: &SubjectKey) -> String {
        self.redis_key(key, 'r')
    }

    fn redis_key(&self, key: &SubjectKey, kind: char) -> String {
        let mut k = String::with_capacity(self.prefix.len() + 32);
        k.push_str(&self.prefix);
        k.push('{');
        for part in [key.tenant(), key.purpose(), key.subject()] {
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            k.push_str(&hex::encode(len.to_be_bytes()));
            k.push_str(&hex::encode(part.as_bytes()));
        }
        k.push_str("}:");
        k.push(kind);
        k
    }

    async fn invoke(&self, inv: redis::ScriptInvocation<'_>) -> Result<Value, OtpError> {
        let mut conn = self.conn.clone();
        Ok(client::call_script(self.timeout, inv.invoke_async(&mut conn)).await?)
    }
}

#[async_trait]
impl<C> ChallengeStore for RedisChallengeStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn issue(
        &self,
        challenge: NewChallenge,
        cooldown: Duration,
    ) -> Result<Challenge, OtpError> {
        let mut inv = SCRIPTS.issue.prepare_invoke();
        inv.key(self.challenge_key(&challenge.key))
            .arg(&challenge.id)
            .arg(challenge.hash.pepper_id())
            .arg(&challenge.hash.mac()[..])
            .arg(micros(challenge.ttl))
            .arg(micros(cooldown))
            .arg(challenge.max_attempts)
            .arg(micros(EXPIRED_CHALLENGE_RETENTION));
        match integers(self.invoke(inv).await?)?.as_slice() {
            [1, issued, expires] => Ok(Challenge {
                id: challenge.id,
                key: challenge.key,
                issued_at: instant(*issued)?,
                expires_at: instant(*expires)?,
                attempts_used: 0,
                max_attempts: challenge.max_attempts,
                state: ChallengeState::Pending,
            }),
            [0, left] => Err(OtpError::Cooldown {
                retry_after: Duration::from_micros(unsigned(*left)?),
            }),
            _ => Err(unexpected()),
        }
    }

    async fn check_and_count(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<CheckOutcome, OtpError> {
        let mut inv = SCRIPTS.check.prepare_invoke();
        inv.key(self.challenge_key(key));
        for c in candidates {
            inv.arg(c.pepper_id()).arg(&c.mac()[..]);
        }
        match integers(self.invoke(inv).await?)?.as_slice() {
            [0] => Ok(CheckOutcome::Verified),
            [1, left] => Ok(CheckOutcome::Wrong {
                attempts_left: u32::try_from(*left).map_err(|_| unexpected())?,
            }),
            [2] => Ok(CheckOutcome::Locked),
            [3] => Ok(CheckOutcome::Expired),
            [4] => Ok(CheckOutcome::Consumed),
            [5] => Ok(CheckOutcome::NotFound),
            _ => Err(unexpected()),
        }
    }

    async fn get(&self, key: &SubjectKey) -> Result<Option<Challenge>, OtpError> {
        let mut inv = SCRIPTS.get.prepare_invoke();
        inv.key(self.challenge_key(key));
        let Value::Array(items) = self.invoke(inv).await? else {
            return Err(unexpected());
        };
        let [id, issued, expires, used, max, state, _now] = items.as_slice() else {
            return if items.is_empty() {
                Ok(None)
            } else {
                Err(unexpected())
            };
        };
        let state = match text(state)?.as_str() {
            "p" => ChallengeState::Pending,
            "c" => ChallengeState::Consumed,
            "l" => ChallengeState::Locked,
            "e" => ChallengeState::Expired,
            _ => return Err(unexpected()),
        };
        Ok(Some(Challenge {
            id: text(id)?,
            key: key.clone(),
            issued_at: instant(int(issued)?)?,
            expires_at: instant(int(expires)?)?,
            attempts_used: u32::try_from(int(used)?).map_err(|_| unexpected())?,
            max_attempts: u32::try_from(int(max)?).map_err(|_| unexpected())?,
            state,
        }))
    }

    async fn accept_step(&self, key: &SubjectKey, step: u64) -> Result<bool, OtpError> {
        let mut inv = SCRIPTS.step.prepare_invoke();
        inv.key(self.step_key(key))
            .arg(step.to_string())
            .arg(millis(self.retention));
        match integers_or_int(self.invoke(inv).await?)? {
            1 => Ok(true),
            0 => Ok(false),
            _ => Err(unexpected()),
        }
    }

    async fn last_step(&self, key: &SubjectKey) -> Result<Option<u64>, OtpError> {
        let mut conn = self.conn.clone();
        let mut get = redis::cmd("GET");
        get.arg(self.step_key(key));
        let reply = get.query_async::<Option<String>>(&mut conn);
        match client::call(self.timeout, reply).await? {
            None => Ok(None),
            Some(step) => step.parse().map(Some).map_err(|_| unexpected()),
        }
    }

    async fn replace_recovery_codes(
        &self,
        key: &SubjectKey,
        hashes: Vec<CodeHash>,
    ) -> Result<(), OtpError> {
        let mut inv = SCRIPTS.recovery_replace.prepare_invoke();
        inv.key(self.recovery_key(key)).arg(millis(self.retention));
        for h in &hashes {
            inv.arg(member(h));
        }
        match integers_or_int(self.invoke(inv).await?)? {
            1 => Ok(()),
            _ => Err(unexpected()),
        }
    }

    async fn consume_recovery_code(
        &self,
        key: &SubjectKey,
        candidates: &[CodeHash],
    ) -> Result<RecoveryOutcome, OtpError> {
        let mut inv = SCRIPTS.recovery_use.prepare_invoke();
        inv.key(self.recovery_key(key));
        for c in candidates {
            inv.arg(member(c));
        }
        match integers(self.invoke(inv).await?)?.as_slice() {
            [1, left] => Ok(RecoveryOutcome::Consumed {
                remaining: usize::try_from(*left).map_err(|_| unexpected())?,
            }),
            [0] => Ok(RecoveryOutcome::NoMatch),
            _ => Err(unexpected()),
        }
    }
}

/// The set member of a recovery code: its 32-byte MAC, then its pepper id (the MAC's fixed
/// length keeps the two apart).
fn member(h: &CodeHash) -> Vec<u8> {
    let mut m = Vec::with_capacity(32 + h.pepper_id().len());
    m.extend_from_slice(h.mac());
    m.extend_from_slice(h.pepper_id().as_bytes());
    m
}

/// `d` in whole µs (rounded up), at most 100 years.
fn micros(d: Duration) -> u64 {
    let d = d.min(MAX_DURATION);
    u64::try_from(d.as_nanos().div_ceil(1_000)).unwrap_or(u64::MAX)
}

/// `d` in whole ms (rounded up, at least 1), at most 100 years.
fn millis(d: Duration) -> u64 {
    let d = d.min(MAX_DURATION);
    u64::try_from(d.as_nanos().div_ceil(1_000_000))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// An instant of the scripts (µs since the epoch) as a timestamp.
fn instant(us: i64) -> Result<Timestamp, OtpError> {
    let us = unsigned(us)?;
    us.checked_mul(1_000)
        .map(Timestamp::from_unix_nanos)
        .ok_or_else(unexpected)
}

fn unsigned(x: i64) -> Result<u64, OtpError> {
    u64::try_from(x).map_err(|_| unexpected())
}

fn int(v: &Value) -> Result<i64, OtpError> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => Err(unexpected()),
    }
}

fn text(v: &Value) -> Result<String, OtpError> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).map_err(|_| unexpected()),
        Value::SimpleString(s) => Ok(s.clone()),
        _ => Err(unexpected()),
    }
}

/// The reply as integers.
fn integers(reply: Value) -> Result<Vec<i64>, OtpError> {
    let Value::Array(items) = reply else {
        return Err(unexpected());
    };
    items.iter().map(int).collect()
}

/// A reply that is one integer.
fn integers_or_int(reply: Value) -> Result<i64, OtpError> {
    int(&reply)
}

fn unexpected() -> OtpError {
    RedisStoreError::Script {
        reason: "unexpected reply".to_owned(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_distinct() {
        let s = &*SCRIPTS;
        let all = [
            &s.issue,
            &s.check,
            &s.get,
            &s.step,
            &s.recovery_replace,
            &s.recovery_use,
        ];
        let hashes: std::collections::HashSet<_> = all.iter().map(|s| s.get_hash()).collect();
        assert_eq!(hashes.len(), all.len());
    }

    #[test]
    fn durations_are_rounded_up_and_capped() {
        assert_eq!(micros(Duration::from_nanos(1)), 1);
        assert_eq!(micros(Duration::from_secs(2)), 2_000_000);
        assert_eq!(micros(Duration::MAX), micros(MAX_DURATION));
        // Now (≈ 1.8e15 µs) plus the longest TTL and retention stays exact in a double.
        assert!(2_000_000_000_000_000 + 2 * micros(MAX_DURATION) < 1 << 53);
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(1_500)), 2);
    }
}
