-- The driver: one decision for a policy on a key.
--
-- KEYS[1]: the key's state hash for the policy (field i: the state of limit i, 1-based);
-- KEYS[2]: the key's block (decimal ns since the epoch of its end).
-- ARGV[1]: cost; ARGV[2]: penalty block, decimal ns ('0' for none); ARGV[3]: number of limits
-- n; then per limit 5 values: algorithm code (1 gcra, 2 token bucket, 3 leaky bucket,
-- 4 fixed window, 5 sliding log, 6 sliding counter) and 4 integer parameters.
--
-- Reply: {now s, now us, 1, block left s, block left ns} when the key is blocked, else
-- {now s, now us, 0, then per limit: allowed (1/0), remaining, reset_after ns, retry_after ns}.
-- States are written only when every limit admits (all charged, TTL = when the newest
-- becomes new again); a refusal writes nothing but the penalty block.
local cost = tonumber(ARGV[1])
local n = tonumber(ARGV[3])
if cost == nil or n == nil or n < 1 then
  return redis.error_reply('script: bad arguments')
end

local until_s, until_n = split(redis.call('GET', KEYS[2]))
if until_s and (until_s > now_s or (until_s == now_s and until_n > now_n)) then
  local ds, dn = until_s - now_s, until_n - now_n
  if dn < 0 then dn = dn + E9; ds = ds - 1 end
  return {now_s, now_us, 1, ds, dn}
end

local fields = {}
for i = 1, n do fields[i] = tostring(i) end
local raw = redis.call('HMGET', KEYS[1], unpack(fields))
local results = {}
local all = true
for i = 1, n do
  local base = 3 + (i - 1) * 5
  local alg = ALGORITHMS[tonumber(ARGV[base + 1])]
  if alg == nil then return redis.error_reply('script: unknown algorithm') end
  local lp = {tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]),
    tonumber(ARGV[base + 4]), tonumber(ARGV[base + 5])}
  local v = raw[i]
  if v == false then v = nil end
  local r = alg(v, lp, cost)
  results[i] = r
  if not r[1] then all = false end
end

if all then
  local hset = {}
  local ttl = 1
  for i = 1, n do
    hset[#hset + 1] = fields[i]
    hset[#hset + 1] = results[i][5]
    local ms = cdiv(math.max(results[i][6], 0), 1000000)
    if ms > ttl then ttl = ms end
  end
  redis.call('HSET', KEYS[1], unpack(hset))
  redis.call('PEXPIRE', KEYS[1], fmt(ttl))
elseif ARGV[2] ~= '0' then
  set_block(KEYS[2], ARGV[2])
end

local out = {now_s, now_us, 0}
for i = 1, n do
  local r = results[i]
  out[#out + 1] = r[1] and 1 or 0
  out[#out + 1] = r[2]
  out[#out + 1] = r[3]
  out[#out + 1] = r[4]
end
return out
