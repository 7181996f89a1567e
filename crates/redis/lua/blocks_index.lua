-- palisade-redis rate limiting: record a block in the penalty box's index.
--
-- KEYS[1]: the index (see blocks_list.lua). ARGV[1]: the block's end, ms since the epoch;
-- ARGV[2]: the key's hex; ARGV[3]: the retention of ended blocks, ms.
-- The end is raised, never lowered (ZADD GT). Entries whose block ended more than the
-- retention ago (never taken by take_ended) are dropped, and the index expires the retention
-- after its last block ends, so it stays bounded with no sweeper.
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local retention = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now_ms - retention))
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last == 2 then
  local ttl = tonumber(last[2]) - now_ms + retention
  if ttl < 1 then ttl = 1 end
  if redis.call('PTTL', KEYS[1]) < ttl then
    redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
  end
end
return 1
