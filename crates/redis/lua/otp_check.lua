-- palisade-redis: check-and-count (RedisChallengeStore::check_and_count).
-- KEYS[1]: the challenge's hash. ARGV: candidate pairs (pepper id, 32-byte MAC), ...
-- Returns {0} verified (now consumed), {1, attempts left} wrong (locked at 0), {2} locked,
-- {3} expired, {4} consumed, {5} not found. Expiry, state and the attempt count are checked
-- and the attempt is counted before the comparison, all in this one script (atomic).
-- The comparison is Lua string equality, not constant-time: the values are HMAC-SHA256
-- outputs under a pepper Redis never sees, so their timing reveals nothing usable.
local h = redis.call('HMGET', KEYS[1], 'st', 'exp', 'att', 'max', 'pid', 'mac')
local st = h[1]
if not st then return {5} end
if st == 'c' then return {4} end
if st == 'l' then return {2} end
if st == 'e' then return {3} end
if now >= tonumber(h[2]) then
  redis.call('HSET', KEYS[1], 'st', 'e')
  return {3}
end
local att, max = tonumber(h[3]), tonumber(h[4])
if att >= max then
  redis.call('HSET', KEYS[1], 'st', 'l')
  return {2}
end
att = att + 1
local ok = false
for i = 1, #ARGV - 1, 2 do
  if ARGV[i] == h[5] and ARGV[i + 1] == h[6] then ok = true end
end
if ok then
  redis.call('HSET', KEYS[1], 'att', att, 'st', 'c')
  return {0}
end
local left = max - att
if left <= 0 then
  redis.call('HSET', KEYS[1], 'att', att, 'st', 'l')
  return {1, 0}
end
redis.call('HSET', KEYS[1], 'att', att)
return {1, left}
