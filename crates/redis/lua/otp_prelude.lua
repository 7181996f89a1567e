-- palisade-redis one-time codes: the shared prelude (the server's clock).
--
-- Times are microseconds since the Unix epoch (about 1.8e15 today, with TTLs and cooldowns
-- capped at 100 years by the Rust side: below 2^53, so Lua's doubles keep them exact). Numbers
-- passed to redis.call are written as integers (Redis formats them with %.17g).
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

-- The millisecond at or after the instant `us` (an absolute PEXPIREAT).
local function at_ms(us)
  return math.floor(us / 1000) + 1
end
