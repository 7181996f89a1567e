-- The driver of coalesced decisions: several independent decisions in one script call, one
-- after the other, at one server instant (one TIME).
--
-- ARGV[1]: the number of decisions m. Decision j (1 … m) has KEYS[2j - 1] (its state) and
-- KEYS[2j] (its block), and its arguments (decide.lua) follow the previous decision's.
--
-- Reply: {now s, now us, then one array per decision: decide's reply}. Arguments are checked
-- for every decision before any is carried out, so bad arguments fail the call having written
-- nothing.
--
-- Redis commands: TIME once, then per decision MGET and SET … PX when admitted.
local m = tonumber(ARGV[1])
if m == nil or m < 1 or #KEYS ~= 2 * m then
  return redis.error_reply('script: bad arguments')
end
local a = 1
for j = 1, m do
  local n = tonumber(ARGV[a + 3])
  if tonumber(ARGV[a + 1]) == nil or n == nil or n < 1 then
    return redis.error_reply('script: bad arguments')
  end
  for i = 1, n do
    if ALGORITHMS[tonumber(ARGV[a + 3 + (i - 1) * 5 + 1])] == nil then
      return redis.error_reply('script: unknown algorithm')
    end
  end
  a = a + 3 + 5 * n
end
if a ~= #ARGV then return redis.error_reply('script: bad arguments') end

local out = {now_s, now_us}
a = 1
for j = 1, m do
  local sub = {}
  local last, err = decide(KEYS[2 * j - 1], KEYS[2 * j], a, sub, 0)
  if last == nil then return redis.error_reply(err) end
  out[j + 2] = sub
  a = last
end
return out
