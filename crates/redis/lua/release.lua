-- palisade-redis: release a claimed delivery (RedisNonceStore::release).
-- KEYS[1]: the id's key. ARGV[1]: the claim's in-flight value, "p:" .. the token in hex.
-- Deletes the key only if it still holds ARGV[1]; returns 1 if it did, 0 otherwise (absent,
-- expired, completed, or claimed by another token).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
