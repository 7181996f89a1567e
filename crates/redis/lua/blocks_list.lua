-- palisade-redis rate limiting: one page of the penalty box's index.
--
-- KEYS[1]: the index, a sorted set of blocked keys (member: the key's hex, score: the end of
-- its block in ms since the epoch, rounded up). ARGV[1]: the cursor's score ('' from the
-- start), ARGV[2]: the cursor's member, ARGV[3]: the page size n.
-- Reply: {now ms, member 1, end 1 ms, …}: up to n + 1 entries after the cursor, ordered by
-- (score, member), whose block has not ended (score > now). The caller keeps n and, when there
-- is one more, makes a cursor of the n-th.
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[3])
local cs = tonumber(ARGV[1])
local cm = ARGV[2]
if n == nil or n < 1 then return redis.error_reply('script: bad arguments') end
local lo = '(' .. string.format('%d', now_ms)
if cs ~= nil and cs > now_ms then lo = string.format('%d', cs) end
local out = {now_ms}
local found = 0
local offset = 0
while found <= n do
  local got = redis.call('ZRANGEBYSCORE', KEYS[1], lo, '+inf', 'WITHSCORES', 'LIMIT', offset, n + 1)
  if #got == 0 then break end
  for i = 1, #got, 2 do
    local member, score = got[i], tonumber(got[i + 1])
    if cs == nil or score > cs or member > cm then
      if found <= n then
        out[#out + 1] = member
        out[#out + 1] = score
        found = found + 1
      end
    end
  end
  offset = offset + #got / 2
end
return out
