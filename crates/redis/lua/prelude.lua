-- palisade-redis rate limiting: the shared prelude (helpers and the server's clock).
--
-- Lua numbers are doubles, exact for integers below 2^53. Absolute instants are kept at rest
-- as decimal strings of nanoseconds since the Unix epoch (the numbers of the Rust `State`
-- fields) and every computation is done relative to `now`, in nanoseconds, where values stay
-- below 2^53 (the Rust side refuses quotas whose parameters reach 2^52).
local E9 = 1000000000
local EXACT = 9007199254740992 -- 2^53
local U64_MAX_S, U64_MAX_N = 18446744073, 709551615
local MAX_TTL_MS = 3153600000000 -- 100 years

local clock = redis.call('TIME')
local now_s = tonumber(clock[1])
local now_us = tonumber(clock[2])
local now_n = now_us * 1000

local ALGORITHMS = {}

-- floor(a / b) for integers 0 <= a, 0 < b, a + b < 2^53.
local function fdiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

-- ceil(a / b), same bounds.
local function cdiv(a, b)
  local q = fdiv(a, b)
  if q * b < a then q = q + 1 end
  return q
end

-- A decimal string of ns since the epoch as (seconds, nanoseconds), or nil.
local function split(str)
  if type(str) ~= 'string' or not string.match(str, '^%d+$') then return nil end
  local len = #str
  if len <= 9 then return 0, tonumber(str) end
  return tonumber(string.sub(str, 1, len - 9)), tonumber(string.sub(str, len - 8))
end

-- An absolute instant (decimal ns string) relative to now, in ns (exact within 2^53 ns).
local function rel(str)
  local s, n = split(str)
  if s == nil then return nil end
  return (s - now_s) * E9 + (n - now_n)
end

-- now + r (an exact integer of ns) as a decimal ns string.
local function abs(r)
  local n = now_n + r
  local c = math.floor(n / E9)
  local m = n - c * E9
  if m < 0 then
    c = c - 1; m = m + E9
  elseif m >= E9 then
    c = c + 1; m = m - E9
  end
  local s = now_s + c
  if s <= 0 then return string.format('%d', math.max(m + s * E9, 0)) end
  return string.format('%d%09d', s, m)
end

-- An integer (below 2^63) as a decimal string. ('%d' formats Lua's double through a C long:
-- exact for integers, and much cheaper than '%.0f'.)
local function fmt(x)
  return string.format('%d', x)
end

-- Blocks `key` until now + `ns_str` (a decimal ns string), saturating at 2^64 - 1 ns since
-- the epoch, extending and never shortening a block in place. The value is the end of the
-- block (decimal ns since the epoch); the key expires then (PX, ms rounded up, >= 1).
local function set_block(key, ns_str)
  local bs, bn = split(ns_str)
  if bs == nil then return end
  local us, un = now_s + bs, now_n + bn
  if un >= E9 then un = un - E9; us = us + 1 end
  if us > U64_MAX_S or (us == U64_MAX_S and un > U64_MAX_N) then
    us, un = U64_MAX_S, U64_MAX_N
  end
  if us < now_s or (us == now_s and un <= now_n) then return end
  local old = redis.call('GET', key)
  if old then
    local os, on = split(old)
    if os and (os > us or (os == us and on >= un)) then return end
  end
  local ds, dn = us - now_s, un - now_n
  if dn < 0 then dn = dn + E9; ds = ds - 1 end
  local ms = ds * 1000 + cdiv(dn, 1000000)
  if ms > MAX_TTL_MS then ms = MAX_TTL_MS end
  if ms < 1 then ms = 1 end
  redis.call('SET', key, string.format('%d%09d', us, un), 'PX', fmt(ms))
end
