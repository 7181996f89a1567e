-- palisade-redis: issue a challenge (RedisChallengeStore::issue).
-- KEYS[1]: the challenge's hash. ARGV: [1] id, [2] pepper id, [3] the 32-byte MAC, [4] TTL µs,
-- [5] cooldown µs, [6] max attempts, [7] how long an expired challenge is kept, µs.
-- Returns {1, issued_at µs, expires_at µs}, or {0, cooldown left µs} (nothing written) when
-- the previous challenge, whatever its state, was issued less than its cooldown ago.
local cd = tonumber(redis.call('HGET', KEYS[1], 'cd'))
if cd and now < cd then
  return {0, cd - now}
end
local exp = now + tonumber(ARGV[4])
local cd_new = now + tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'pid', ARGV[2], 'mac', ARGV[3], 'iat', now,
  'exp', exp, 'cd', cd_new, 'att', 0, 'max', tonumber(ARGV[6]), 'st', 'p')
redis.call('PEXPIREAT', KEYS[1], at_ms(math.max(exp, cd_new) + tonumber(ARGV[7])))
return {1, now, exp}
