-- palisade-redis rate limiting: take the blocks that have ended from the penalty box's index.
--
-- KEYS[1]: the index (see blocks_list.lua). ARGV[1]: at most this many.
-- Reply: the members (key hex) whose block ended (score <= now ms), removed from the index in
-- the same script, so each is taken once.
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local got = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now_ms), 'LIMIT', 0, tonumber(ARGV[1]))
if #got > 0 then redis.call('ZREM', KEYS[1], unpack(got)) end
return got
