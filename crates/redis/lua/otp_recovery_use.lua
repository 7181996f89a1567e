-- palisade-redis: use a recovery code (consume_recovery_code).
-- KEYS[1]: the set. ARGV: candidate members (the 32-byte MAC then the pepper id), one per
-- pepper. Removes the first that is a member: returns {1, codes left}, or {0} when none is.
-- Set membership of keyed MACs: their timing reveals nothing usable (see otp_check.lua).
for i = 1, #ARGV do
  if redis.call('SREM', KEYS[1], ARGV[i]) == 1 then
    return {1, redis.call('SCARD', KEYS[1])}
  end
end
return {0}
