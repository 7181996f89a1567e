-- palisade-redis: replace the recovery codes of a key (replace_recovery_codes).
-- KEYS[1]: the set. ARGV: [1] TTL ms, [2..] members (the 32-byte MAC then the pepper id).
redis.call('DEL', KEYS[1])
for i = 2, #ARGV do
  redis.call('SADD', KEYS[1], ARGV[i])
end
if #ARGV > 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 1
