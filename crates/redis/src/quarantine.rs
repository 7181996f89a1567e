//! The penalty box of [`RedisRateLimitStore`]: palisade-ratelimit's [`PenaltyBox`] (list the
//! keys blocked now, release one, take the blocks that ended) over an index of the blocks.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use palisade_ratelimit::{
    BlockCursor, BlockEntry, BlockPage, Key, MAX_BLOCK_PAGE, PenaltyBox, RateLimitError, Timestamp,
};
use redis::aio::ConnectionLike;
use redis::{Script, Value};

use crate::RedisStoreError;
use crate::client;
use crate::ratelimit::RedisRateLimitStore;

static LIST: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/blocks_list.lua")));
static INDEX: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/blocks_index.lua")));
static TAKE_ENDED: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/blocks_take_ended.lua")));

const NS_PER_MS: u64 = 1_000_000;

/// How long an ended block stays in the index of [`RedisRateLimitStore`] for
/// [`PenaltyBox::take_ended`] to report it: 24 hours. Blocks that ended earlier and were never
/// taken are dropped unreported, so the index stays bounded when nothing collects it.
pub const ENDED_BLOCK_RETENTION: Duration = Duration::from_secs(24 * 3600);

impl<C> RedisRateLimitStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// The Redis key of the index of blocks: `<prefix>blocks`, a sorted set of the blocked
    /// keys' hex ([`Key::to_hex`]) scored by the end of their block (ms since the epoch,
    /// rounded up).
    pub fn blocks_index_key(&self) -> String {
        format!("{}blocks", self.prefix())
    }

    /// Records in the index that `key` is blocked until `until` at least (`ZADD … GT`: an
    /// earlier end never replaces a later one), in one script on the index that also drops
    /// entries ended more than [`ENDED_BLOCK_RETENTION`] ago and keeps the index's TTL past
    /// its last block.
    pub(crate) async fn index_block(
        &self,
        key: &Key,
        until: Timestamp,
    ) -> Result<(), RateLimitError> {
        let ms = until.as_unix_nanos().div_ceil(NS_PER_MS);
        let mut inv = INDEX.prepare_invoke();
        inv.key(self.blocks_index_key())
            .arg(ms)
            .arg(key.to_hex())
            .arg(ENDED_BLOCK_RETENTION.as_millis().to_string());
        let mut conn = self.connection().clone();
        let _: i64 = client::call_script(self.timeout(), inv.invoke_async(&mut conn)).await?;
        Ok(())
    }
}

#[async_trait]
impl<C> PenaltyBox for RedisRateLimitStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Runs one script on the index (`ZRANGEBYSCORE` from the cursor, ends after the Redis
    /// `TIME`), ordered by the end of the block, then by key.
    async fn blocks(
        &self,
        after: Option<&BlockCursor>,
        limit: usize,
    ) -> Result<BlockPage, RateLimitError> {
        let limit = limit.clamp(1, MAX_BLOCK_PAGE);
        let (score, member) = match after.map(|c| parse_cursor(c.as_bytes())) {
            Some(Some((score, member))) => (score.to_string(), member),
            Some(None) | None => (String::new(), String::new()),
        };
        let mut inv = LIST.prepare_invoke();
        inv.key(self.blocks_index_key())
            .arg(score)
            .arg(member)
            .arg(limit);
        let mut conn = self.connection().clone();
        let reply: Value = client::call_script(self.timeout(), inv.invoke_async(&mut conn)).await?;
        let Value::Array(items) = reply else {
            return Err(unexpected());
        };
        let mut items = items.into_iter();
        let now = integer(items.next())?;
        let mut entries = Vec::with_capacity(limit + 1);
        let mut last = Vec::new();
        while let Some(member) = items.next() {
            let hex = string(member)?;
            let end = integer(items.next())?;
            let key = hex::decode(&hex)
                .ok()
                .and_then(|b| Key::from_encoded(&b))
                .ok_or_else(unexpected)?;
            if entries.len() == limit {
                // One more exists: the next page starts after the last one kept.
                return Ok(BlockPage {
                    entries,
                    next: Some(BlockCursor::from_bytes(last)),
                });
            }
            last = format!("{end} {hex}").into_bytes();
            entries.push(BlockEntry {
                key,
                remaining: Duration::from_millis(end.saturating_sub(now).max(1)),
            });
        }
        Ok(BlockPage {
            entries,
            next: None,
        })
    }

    /// `DEL` of the block, then `ZREM` from the index (two commands: they may live in two
    /// Redis Cluster slots); `true` when the block existed (Redis never returns a key past its
    /// TTL).
    async fn release(&self, key: &Key) -> Result<bool, RateLimitError> {
        let mut del = redis::cmd("DEL");
        del.arg(self.block_key(key));
        let mut conn = self.connection().clone();
        let removed: i64 = client::call(self.timeout(), del.query_async(&mut conn)).await?;
        let mut zrem = redis::cmd("ZREM");
        zrem.arg(self.blocks_index_key()).arg(key.to_hex());
        let _: i64 = client::call(self.timeout(), zrem.query_async(&mut conn)).await?;
        Ok(removed > 0)
    }

    /// One script on the index: the entries whose end is at or before the Redis `TIME`,
    /// removed as they are read.
    async fn take_ended(&self, limit: usize) -> Result<Vec<Key>, RateLimitError> {
        let mut inv = TAKE_ENDED.prepare_invoke();
        inv.key(self.blocks_index_key())
            .arg(limit.clamp(1, MAX_BLOCK_PAGE));
        let mut conn = self.connection().clone();
        let reply: Value = client::call_script(self.timeout(), inv.invoke_async(&mut conn)).await?;
        let Value::Array(items) = reply else {
            return Err(unexpected());
        };
        items
            .into_iter()
            .map(|m| {
                let hex = string(m)?;
                hex::decode(&hex)
                    .ok()
                    .and_then(|b| Key::from_encoded(&b))
                    .ok_or_else(unexpected)
            })
            .collect()
    }
}

/// A cursor's `<end ms> <key hex>`.
fn parse_cursor(bytes: &[u8]) -> Option<(u64, String)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let (score, member) = text.split_once(' ')?;
    Some((score.parse().ok()?, member.to_owned()))
}

fn integer(v: Option<Value>) -> Result<u64, RateLimitError> {
    match v {
        Some(Value::Int(i)) => u64::try_from(i).map_err(|_| unexpected()),
        _ => Err(unexpected()),
    }
}

fn string(v: Value) -> Result<String, RateLimitError> {
    match v {
        Value::BulkString(b) => String::from_utf8(b).map_err(|_| unexpected()),
        Value::SimpleString(s) => Ok(s),
        _ => Err(unexpected()),
    }
}

fn unexpected() -> RateLimitError {
    RedisStoreError::Script {
        reason: "unexpected reply".to_owned(),
    }
    .into()
}
