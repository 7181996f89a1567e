-- palisade-redis: read a challenge (RedisChallengeStore::get).
-- KEYS[1]: the challenge's hash. Returns {} when absent, else {id, issued_at µs,
-- expires_at µs, attempts used, max attempts, state, now µs}; state is p(ending),
-- c(onsumed), l(ocked) or e(xpired), a pending challenge past its expiry reading e.
local h = redis.call('HMGET', KEYS[1], 'id', 'iat', 'exp', 'att', 'max', 'st')
if not h[6] then return {} end
local st = h[6]
local exp = tonumber(h[3])
if st == 'p' and now >= exp then st = 'e' end
return {h[1], tonumber(h[2]), exp, tonumber(h[4]), tonumber(h[5]), st, now}
