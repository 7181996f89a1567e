-- palisade-redis: claim a delivery (RedisNonceStore::claim).
-- KEYS[1]: the id's key. ARGV[1]: the in-flight value, "p:" .. the token in hex.
-- ARGV[2]: the lease in milliseconds.
-- Returns 0 (claimed: the key was absent or expired and now holds ARGV[1] for the lease),
-- 1 (in progress: another claim's value) or 2 (completed: any other value, such as the "1"
-- written by insert_if_absent and complete).
local old = redis.call('GET', KEYS[1])
if not old then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 0
end
if string.sub(old, 1, 2) == 'p:' then
  return 1
end
return 2
