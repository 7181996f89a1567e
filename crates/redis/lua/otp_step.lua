-- palisade-redis: record the last accepted HOTP counter / TOTP step (accept_step).
-- KEYS[1]: the step's string key. ARGV: [1] the step, decimal without leading zeros (a u64:
-- compared as a string, by length then bytes, since a double cannot hold it), [2] TTL ms.
-- Returns 1 and stores the step when it is greater than the stored one (or none is), else 0.
local old = redis.call('GET', KEYS[1])
local new = ARGV[1]
if old and (#old > #new or (#old == #new and old >= new)) then
  return 0
end
redis.call('SET', KEYS[1], new, 'PX', ARGV[2])
return 1
