//! The penalty box of [`PostgresRateLimitStore`]: palisade-ratelimit's [`PenaltyBox`] (list
//! the keys blocked now, release one, take the blocks that ended), one statement each on the
//! `ratelimit_blocks` table of `migrations/0002_ratelimit.sql` (no new SQL objects).

use std::time::Duration;

use async_trait::async_trait;
use palisade_ratelimit::{
    BlockCursor, BlockEntry, BlockPage, Key, MAX_BLOCK_PAGE, PenaltyBox, RateLimitError,
};
use sqlx::AssertSqlSafe;

use crate::PostgresStoreError;
use crate::ratelimit::{PostgresRateLimitStore, unbits};

fn key_of(bytes: &[u8]) -> Result<Key, RateLimitError> {
    Key::from_encoded(bytes).ok_or_else(|| {
        PostgresStoreError::Unavailable {
            reason: "a malformed key in ratelimit_blocks".to_owned(),
        }
        .into()
    })
}

fn page_size(limit: usize) -> i64 {
    i64::try_from(limit.clamp(1, MAX_BLOCK_PAGE)).unwrap_or(1)
}

#[async_trait]
impl PenaltyBox for PostgresRateLimitStore {
    /// `SELECT key, until_ns - now FROM "<schema>".ratelimit_blocks WHERE key > $cursor AND
    /// until_ns > now ORDER BY key LIMIT n + 1` on the primary key's index: pages in the order
    /// of [`Key::encoded`], with the database clock's now.
    async fn blocks(
        &self,
        after: Option<&BlockCursor>,
        limit: usize,
    ) -> Result<BlockPage, RateLimitError> {
        let n = page_size(limit);
        let after = after.map_or(&[][..], BlockCursor::as_bytes);
        let query = sqlx::query_as::<_, (Vec<u8>, i64)>(AssertSqlSafe(
            self.statements().list_blocks.clone(),
        ))
        .bind(after)
        .bind(n + 1);
        let rows = self.calls().run(query.fetch_all(self.pool())).await?;
        let mut entries = rows
            .iter()
            .map(|(key, left)| {
                Ok(BlockEntry {
                    key: key_of(key)?,
                    remaining: Duration::from_nanos(unbits(*left).max(1)),
                })
            })
            .collect::<Result<Vec<_>, RateLimitError>>()?;
        let next = if entries.len() > usize::try_from(n).unwrap_or(usize::MAX) {
            entries.pop();
            entries
                .last()
                .map(|e| BlockCursor::from_bytes(e.key.encoded()))
        } else {
            None
        };
        Ok(BlockPage { entries, next })
    }

    /// `DELETE … WHERE key = $1 RETURNING until_ns`: `true` when the deleted block had not
    /// ended by the database clock.
    async fn release(&self, key: &Key) -> Result<bool, RateLimitError> {
        let query = sqlx::query_scalar::<_, bool>(AssertSqlSafe(self.statements().release.clone()))
            .bind(key.encoded());
        Ok(self.calls().run(query.fetch_one(self.pool())).await?)
    }

    /// `DELETE … WHERE key IN (SELECT key … WHERE until_ns <= now ORDER BY until_ns LIMIT $1
    /// FOR UPDATE SKIP LOCKED) AND until_ns <= now RETURNING key`: concurrent callers take
    /// disjoint rows, and a block extended meanwhile is not taken.
    async fn take_ended(&self, limit: usize) -> Result<Vec<Key>, RateLimitError> {
        let query =
            sqlx::query_scalar::<_, Vec<u8>>(AssertSqlSafe(self.statements().take_ended.clone()))
                .bind(page_size(limit));
        let rows = self.calls().run(query.fetch_all(self.pool())).await?;
        rows.iter().map(|k| key_of(k)).collect()
    }
}
